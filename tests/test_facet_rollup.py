"""The facet rollup (products/facet_rollup.py): on PostgreSQL the facets of a selection by status alone are
summed from a table the database's triggers keep in every writer's transaction, and after every kind of write
(a service's, a bulk import, plain SQL, a delete, a price on a band's bound) they equal the counts over the
products, including inside the writer's own transaction; the next API and package_search response after a
change has the new counts; folding the rows keeps every count. Any other selection, and SQLite, count the
products."""

import copy
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction

from interop.ckan_actions import package_search
from products import facets as facets_module
from products import services
from products.facet_rollup import rollup_compact, rollup_statuses
from products.facets import FACETS, product_facets
from products.importing import import_stream
from products.models import FacetRollup, Product, ProductStatus
from products.selectors import product_visible
from tests.factories import make_product, random_descriptor, register_provider

pytestmark = pytest.mark.django_db
postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is kept on PostgreSQL")

NAMES = list(FACETS)
PRODUCTS = "/api/v1/products/"


def _listed():
    return Product.objects.filter(status=ProductStatus.LISTED)


def _counts(queryset) -> dict:
    return {
        name: {v.value: v.count for v in values}
        for name, values in product_facets(queryset, names=NAMES).items()
    }


def _rolled() -> dict:
    assert rollup_statuses(_listed()) == {ProductStatus.LISTED}
    return _counts(_listed())


def _scanned() -> dict:
    """Counted from the products: a condition beside the status."""
    queryset = _listed().filter(pk__gt=0)
    assert rollup_statuses(queryset) is None
    return _counts(queryset)


@pytest.fixture
def rows_read(monkeypatch):
    """The selections summed from the rollup."""
    calls = []
    original = facets_module.rollup_rows

    def reading(queryset, statuses, facets):
        calls.append(statuses)
        return original(queryset, statuses, facets)

    monkeypatch.setattr(facets_module, "rollup_rows", reading)
    return calls


@pytest.fixture
def shelf(alice):
    prices = [0, 999.99, 1000, 2e6]
    products = []
    for industry, price in zip(("D", "D", "L", "M"), prices, strict=True):
        descriptor = random_descriptor(industry=industry)
        descriptor["pricing"] = {**descriptor["pricing"], "min": price, "max": 3e6}
        products.append(make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED))
    make_product(actor=alice, descriptor=random_descriptor(industry="B"))  # a draft: another status
    return products


def test_only_a_selection_by_status_alone_is_summed_from_the_rollup():
    if connection.vendor != "postgresql":
        assert rollup_statuses(_listed()) is None
        return
    anonymous = product_visible(user=AnonymousUser()).filter(status=ProductStatus.LISTED)
    assert rollup_statuses(anonymous) == {ProductStatus.LISTED}  # the API's list: public, then listed
    assert rollup_statuses(product_visible(user=AnonymousUser())) == {"listed", "suspended", "delisted"}
    assert (
        rollup_statuses(Product.objects.filter(status__in=["listed", "draft"]).exclude(status="draft"))
        is None
    )
    for other in (
        _listed().filter(industry="D"),
        _listed().filter(exchange__name_zh="上海数据交易所"),
        _listed().filter(pk__in=[1, 2]),
        _listed()[:10],
        _listed().distinct(),
        Product.objects.all(),
    ):
        assert rollup_statuses(other) is None, str(other.query)


@postgresql
def test_every_write_is_in_the_rollup_exactly(alice, shelf, rows_read):
    assert _rolled() == _scanned()
    assert _rolled()["price"] == {"free": 1, "lt_1k": 1, "1k_10k": 1, "ge_1m": 1}
    assert len(rows_read) == 2
    descriptor = copy.deepcopy(shelf[2].descriptor)
    descriptor["industry"] = "D"
    descriptor["pricing"]["min"] = 0.01  # a band's lower bound
    services.product_update(actor=alice, product=shelf[2], descriptor=descriptor)
    assert _rolled()["industry"] == {"D": 3, "M": 1}
    assert _rolled() == _scanned()
    services.product_delist(actor=alice, product=Product.objects.get(pk=shelf[0].pk), reasons=["下架"])
    assert _rolled()["industry"] == {"D": 2, "M": 1} and _rolled() == _scanned()
    Product.objects.filter(pk=shelf[1].pk).update(quality_grade="B", delivery_mask=0)  # plain SQL
    assert _rolled()["quality_grade"] == {"B": 1} and _rolled() == _scanned()
    with connection.cursor() as cursor:  # outside the ORM altogether
        cursor.execute("UPDATE products_product SET province_mask = 1 WHERE id = %s", [shelf[3].pk])
    assert _rolled() == _scanned()
    Product.objects.filter(pk=shelf[0].pk).delete()  # delisted: no listed count changes
    Product.objects.filter(pk=shelf[3].pk).delete()
    assert _rolled()["industry"] == {"D": 2} and _rolled() == _scanned()
    docs = [random_descriptor(industry="Q") for _ in range(3)]
    for d in docs:
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
    lines = (json.dumps(d, ensure_ascii=False) for d in docs)
    results = [r for _, batch in import_stream(lines, actor_id=None, status="listed") for r in batch]
    assert all(r.accepted for r in results), results
    assert _rolled()["industry"] == {"D": 2, "Q": 3} and _rolled() == _scanned()
    drafts = Product.objects.filter(status=ProductStatus.DRAFT)
    assert _counts(drafts)["industry"] == {"B": 1} == _counts(drafts.filter(pk__gt=0))["industry"]


@postgresql
def test_a_writer_reads_its_own_uncommitted_writes_and_a_rollback_leaves_none(alice, shelf):
    before = _rolled()
    with transaction.atomic():
        Product.objects.filter(pk=shelf[0].pk).update(industry="Z")
        assert _rolled()["industry"] == {"D": 1, "L": 1, "M": 1, "Z": 1} and _rolled() == _scanned()
        transaction.set_rollback(True)
    assert _rolled() == before == _scanned()


@postgresql
def test_folding_keeps_every_count_and_leaves_one_row_per_combination(alice, shelf):
    before = _rolled()
    assert rollup_compact() > 0  # the shelf's writes, folded
    rows = FacetRollup.objects.count()
    assert _rolled() == before == _scanned()
    for product in shelf:  # writes that change nothing the facets read add no rows
        Product.objects.filter(pk=product.pk).update(name=product.name + "·")
    assert FacetRollup.objects.count() == rows
    Product.objects.filter(pk=shelf[0].pk).update(industry="Z")
    Product.objects.filter(pk=shelf[0].pk).update(industry="D")
    assert FacetRollup.objects.count() == rows + 2 + 2  # the group of industry: −1 and +1, twice
    before = _rolled()
    assert rollup_compact() == 4
    assert FacetRollup.objects.count() == rows and _rolled() == before == _scanned()
    assert rollup_compact() == 0  # nothing to fold
    Product.objects.all().delete()
    rollup_compact()
    assert FacetRollup.objects.count() == 0 and _rolled() == {name: {} for name in NAMES}


@postgresql
def test_the_next_response_after_a_change_has_the_new_counts(alice, shelf, anon, settings, rows_read):
    settings.READ_CACHE_SECONDS = 0
    first = anon.get(PRODUCTS, {"facets": ",".join(NAMES)}).json()["facets"]
    assert {v["value"]: v["count"] for v in first["industry"]} == {"D": 2, "L": 1, "M": 1}
    fields = json.dumps(["organization", "industry"])
    assert package_search({"facet.field": fields})["facets"]["industry"] == {"D": 2, "L": 1, "M": 1}
    make_product(actor=alice, descriptor=random_descriptor(industry="A"), status=ProductStatus.LISTED)
    after = anon.get(PRODUCTS, {"facets": ",".join(NAMES)}).json()["facets"]
    assert {v["value"]: v["count"] for v in after["industry"]} == {"A": 1, "D": 2, "L": 1, "M": 1}
    assert package_search({"facet.field": fields})["facets"]["industry"] == {"A": 1, "D": 2, "L": 1, "M": 1}
    assert len(rows_read) == 4  # each one summed from the rollup, none counted over the products


@postgresql
def test_a_rollup_wrong_after_bypassed_triggers_is_found_and_rebuilt(alice, shelf):
    """A data-only restore with `--disable-triggers` (here: the session replica role) leaves the rollup wrong:
    `manage.py facet_rollup` finds it and changes nothing; `--rebuild` counts it again from the products."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("facet_rollup", stdout=out)
    assert "agrees" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers do not fire
        try:
            cursor.execute("UPDATE products_product SET industry = 'Z' WHERE id = %s", [shelf[0].pk])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    assert _rolled() != _scanned()
    rows = FacetRollup.objects.count()
    with pytest.raises(CommandError, match="differs from the products in 2 combinations"):
        call_command("facet_rollup")
    assert FacetRollup.objects.count() == rows and _rolled() != _scanned()  # the check changed nothing
    out = StringIO()
    call_command("facet_rollup", "--rebuild", stdout=out)
    assert "2 of them were wrong or missing" in out.getvalue()
    assert _rolled() == _scanned()
    out = StringIO()
    call_command("facet_rollup", stdout=out)
    assert "agrees" in out.getvalue()
