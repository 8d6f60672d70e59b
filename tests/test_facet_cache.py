"""Facet counts kept in the shared cache (products/facet_cache.py): served without counting while the
catalogue is unchanged, and after every kind of change (a local write, a status change, a bulk import, a
peer's applied change, a quality grade that expires) equal to a fresh count; a count during which the
catalogue changed is not stored; counts over more than the listed products (an operator's drafts) are never
stored; the API, CKAN's package_search and the portal's catalog all read it. On SQLite and on PostgreSQL
alike."""

import copy
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from federation.apply import apply_page
from federation.generation import generation, generation_bump
from federation.peers import peer_add
from interop.ckan_actions import package_search, tag_list
from products import facets as facets_module
from products import services
from products.facets import FACETS, keyword_counts, product_facets
from products.importing import import_stream
from products.models import Product, ProductStatus
from quality.services import reports_expire
from tests.factories import make_product, random_descriptor, register_provider
from tests.quality_world import body
from tests.test_federation_apply import ORIGIN, _public_b64, code, item
from tests.test_federation_apply import product as payload

pytestmark = pytest.mark.django_db

NAMES = list(FACETS)
PRODUCTS = "/api/v1/products/"


@pytest.fixture
def counted(monkeypatch):
    """How many times the facets were counted by the database (the cache missed)."""
    calls = []
    original = facets_module._count_together

    def counting(queryset, facets):
        calls.append([facet.name for facet in facets])
        return original(queryset, facets)

    monkeypatch.setattr(facets_module, "_count_together", counting)
    return calls


@pytest.fixture
def shelf(alice):
    return [
        make_product(
            actor=alice, descriptor=random_descriptor(industry=industry), status=ProductStatus.LISTED
        )
        for industry in ("D", "D", "L", "M")
    ]


def _listed():
    return Product.objects.filter(status=ProductStatus.LISTED)


def _stored() -> int:
    """Facet entries in the shared cache (local memory, or Redis on the PostgreSQL leg)."""
    reads = caches["reads"]
    if hasattr(reads._cache, "get_client"):
        return sum(1 for _ in reads._cache.get_client().scan_iter(match=reads.make_key("*:facets:*")))
    return sum(1 for key in reads._cache if ":facets:" in key)


def _shared():
    return product_facets(_listed(), names=NAMES, shared=True)


def _fresh():
    """Counted from the products (a condition beside the status: never summed from the rollup)."""
    return product_facets(_listed().filter(pk__gt=0), names=NAMES)


def _as_counts(found) -> dict:
    return {name: {v.value: v.count for v in values} for name, values in found.items()}


def test_an_unchanged_catalogue_is_counted_once_and_served_equal(shelf, counted, django_assert_num_queries):
    first = _shared()
    assert len(counted) == 1 and _stored() == 1
    assert _as_counts(first)["industry"] == {"D": 2, "L": 1, "M": 1}
    with django_assert_num_queries(2):  # the generation, the exchanges' labels: no count
        assert _shared() == first
    assert len(counted) == 1
    subset = product_facets(_listed(), names=["industry", "form"], shared=True)
    assert len(counted) == 2 and _stored() == 2  # another set of facets is an entry of its own
    with django_assert_num_queries(1):  # the generation (these facets' labels read no table)
        assert product_facets(_listed(), names=["industry", "form"], shared=True) == subset
    assert len(counted) == 2 and subset["industry"] == first["industry"]
    assert _shared() == _fresh()


def test_a_local_write_a_status_change_and_a_new_listing_are_counted_afresh(alice, shelf, counted):
    before = _as_counts(_shared())
    descriptor = copy.deepcopy(shelf[2].descriptor)
    descriptor["industry"] = "D"
    services.product_update(actor=alice, product=shelf[2], descriptor=descriptor)
    after_write = _as_counts(_shared())
    assert after_write["industry"] == {"D": 3, "M": 1} != before["industry"]
    assert after_write == _as_counts(_fresh())
    services.product_suspend(actor=alice, product=Product.objects.get(pk=shelf[0].pk), reasons=["核查中"])
    assert _as_counts(_shared())["industry"] == {"D": 2, "M": 1} == _as_counts(_fresh())["industry"]
    make_product(actor=alice, descriptor=random_descriptor(industry="A"), status=ProductStatus.LISTED)
    assert _as_counts(_shared())["industry"] == {"A": 1, "D": 2, "M": 1} == _as_counts(_fresh())["industry"]
    assert len(counted) == 4 + 3  # each change counted once for the cache, and the three fresh counts


def test_a_bulk_import_is_counted_afresh(shelf):
    _shared()
    docs = [random_descriptor(industry="Q") for _ in range(3)]
    for d in docs:
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
    lines = (json.dumps(d, ensure_ascii=False) for d in docs)
    results = [r for _, batch in import_stream(lines, actor_id=None, status="listed") for r in batch]
    assert all(r.accepted for r in results), results
    assert _as_counts(_shared())["industry"]["Q"] == 3
    assert _shared() == _fresh()


def test_a_peers_applied_change_is_counted_afresh(shelf):
    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    d = random_descriptor(industry="K")
    first = [item(key, seq=1, gid=code(1), payload=payload(1, d))]
    assert apply_page(origin=ORIGIN, items=first, source=ORIGIN, after=0)[0] == 1
    assert _as_counts(_shared())["exchange"] == {"SHDEX": 4, ORIGIN: 1}
    assert _as_counts(_shared())["industry"]["K"] == 1
    changed = [item(key, seq=2, gid=code(1), version=2, payload=payload(1, {**d, "industry": "L"}))]
    assert apply_page(origin=ORIGIN, items=changed, source=ORIGIN, after=1)[0] == 1
    after = _as_counts(_shared())
    assert "K" not in after["industry"] and after["industry"]["L"] == 2
    assert after == _as_counts(_fresh())


def test_a_quality_grade_that_expires_is_counted_afresh(alice_api, shelf):
    today = timezone.localdate()
    soon = (today + dt.timedelta(days=2)).isoformat()
    issued = alice_api.post(
        f"{PRODUCTS}{shelf[0].code}/quality-reports/", body(score=92, valid_until=soon), format="json"
    )
    assert issued.status_code == 201, issued.content
    assert _as_counts(_shared())["quality_grade"] == {"A": 1} == _as_counts(_fresh())["quality_grade"]
    assert reports_expire(today=today + dt.timedelta(days=3)) == [shelf[0].code]
    assert _as_counts(_shared())["quality_grade"] == {} == _as_counts(_fresh())["quality_grade"]


def test_a_count_during_which_the_catalogue_changed_is_not_stored(shelf, monkeypatch):
    original = facets_module._count_together

    def changed_meanwhile(queryset, facets):
        found = original(queryset, facets)
        generation_bump()  # a change commits while the count runs
        return found

    monkeypatch.setattr(facets_module, "_count_together", changed_meanwhile)
    start = generation()
    assert _shared() == _fresh()
    assert generation() == start + 2 and _stored() == 0


def test_a_count_inside_the_callers_transaction_is_neither_read_nor_stored(shelf, counted):
    _shared()
    with transaction.atomic():
        generation_bump()  # uncommitted: the generation it names may come back after a rollback
        _shared()
        assert _stored() == 1
        transaction.set_rollback(True)
    assert len(counted) == 2


def test_the_cache_off_counts_every_time(shelf, counted, settings):
    settings.FACET_CACHE_SECONDS = 0
    assert _shared() == _shared() == _fresh()
    assert len(counted) == 3 and _stored() == 0


def test_what_an_operator_sees_beyond_the_listed_products_is_never_stored(alice, alice_api, shelf, counted):
    make_product(actor=alice, descriptor=random_descriptor(industry="B"))  # a draft
    for _ in range(2):
        drafts = alice_api.get(PRODUCTS, {"status": "draft", "facets": "industry"}).json()
        assert drafts["facets"]["industry"][0]["value"] == "B" and drafts["count"] == 1
    assert len(counted) == 2 and _stored() == 0


def test_the_api_ckan_and_the_portal_read_the_cache(alice, shelf, counted, anon, client, settings):
    settings.READ_CACHE_SECONDS = 0  # the page cache off: the view runs every time
    api = [anon.get(PRODUCTS, {"facets": ",".join(NAMES), "page_size": n}).json() for n in (1, 2)]
    assert api[0]["facets"] == api[1]["facets"] and len(counted) == 1
    assert {v["value"]: v["count"] for v in api[0]["facets"]["industry"]} == {"D": 2, "L": 1, "M": 1}
    fields = json.dumps(["organization", "exchange", "industry", "tags"])
    ckan = [package_search({"fq": "industry:D", "facet.field": fields, "rows": r}) for r in (1, 2)]
    assert ckan[0]["facets"] == ckan[1]["facets"] and len(counted) == 2
    assert ckan[0]["facets"]["industry"] == {"D": 2} and ckan[0]["facets"]["organization"] == {"shdex": 2}
    assert ckan[0]["facets"]["exchange"] == {"SHDEX": 2}  # the same facet under both names, counted once
    pages = [client.get("/catalog/", {"industry": "D", "sort": sort}) for sort in ("newest", "name")]
    assert all(page.status_code == 200 for page in pages) and len(counted) == 3
    tags = keyword_counts(_listed(), shared=True)
    assert sorted(tags) == sorted(keyword_counts(_listed())) and sorted(name for name, _ in tags) == tag_list(
        {}
    )
    services.product_update(
        actor=alice,
        product=shelf[2],
        descriptor={
            **shelf[2].descriptor,
            "industry": "D",
            "keywords": [*shelf[2].descriptor["keywords"], "新词"],
        },
    )
    fresh = package_search({"fq": "industry:D", "facet.field": fields})
    assert fresh["facets"]["industry"] == {"D": 3} and fresh["facets"]["tags"]["新词"] == 1
    assert "新词" in tag_list({}) and len(counted) == 4


def test_the_key_names_every_parameter_whole_and_refuses_a_parameter_it_cannot():
    from products.facet_cache import _exact, _key

    assert _key("k", _listed().filter(industry="D"), 7) == _key("k", _listed().filter(industry="D"), 7)
    assert _key("k", _listed().filter(industry="D"), 7) != _key("k", _listed().filter(industry="L"), 7)
    assert _key("k", _listed(), 7) != _key("k", _listed(), 8) != _key("j", _listed(), 8)
    assert _key("k", _listed().filter(pk__in=[]), 7) is None  # selects nothing: nothing to keep

    class Shortened:  # a driver's wrapper whose repr() leaves part of the value out
        def __repr__(self):
            return "Jsonb({'a': 'xxx ... (109 chars))"

    assert _exact(["D", 1, True, None, 2.5]) and not _exact(["D", Shortened()])
