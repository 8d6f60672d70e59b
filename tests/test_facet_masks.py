"""The facets' bit mask columns (products/columns.py) and the facet counts read from them: every write path
keeps the masks, the migration fills them for products held before it, and the counts and filters of every
facet equal what the descriptors and the region rows say (the counts as they were computed before the masks:
the descriptor's list unnested, the region rows grouped by province), on SQLite and on PostgreSQL alike."""

import importlib
import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.apps import apps

from federation.apply import apply_page
from federation.peers import peer_add
from interop.ckan_actions import package_search
from products import services
from products.columns import (
    DELIVERY_BITS,
    PROVINCE_BITS,
    delivery_mask,
    mask_codes,
    province_bit,
    province_mask,
)
from products.facets import FACETS, price_band, product_facets
from products.importing import import_stream
from products.models import Product, ProductRegion, ProductStatus
from products.sample_data import descriptors
from standards.regions import NATIONWIDE, region_get, regions_all
from standards.vocabularies import vocabulary_codes
from tests.factories import make_product, random_descriptor, register_provider
from tests.test_federation_apply import ORIGIN, _public_b64, code, item
from tests.test_federation_apply import product as payload

pytestmark = pytest.mark.django_db

COVERAGES = [
    ["310000"],
    ["310115", "320100"],
    ["100000"],
    ["440300", "440100", "110000"],
    ["650000", "820000"],
]
METHODS = [["api"], ["file"], ["api", "sandbox"], ["offline", "file", "api"], ["sandbox"]]


def _covering(descriptor: dict, methods: list[str], coverage: list[str]) -> dict:
    """`descriptor` with these delivery methods and this coverage, its name without the region it began with
    (the naming rule refuses a name whose region the coverage does not match)."""
    region = region_get(descriptor["spatial_coverage"][0]).name_zh
    name = descriptor["name"].removeprefix(region)
    return {**descriptor, "name": name, "delivery_methods": methods, "spatial_coverage": coverage}


def _varied() -> list[dict]:
    """Descriptors, each with the delivery methods and coverage of its place in METHODS and COVERAGES."""
    pairs = zip(METHODS, COVERAGES, strict=True)
    return [_covering(random_descriptor(), m, c) for m, c in pairs]


def test_every_code_has_one_bit_and_the_bits_never_moved():
    assert set(DELIVERY_BITS) == vocabulary_codes("delivery_method")
    provinces = {region.code[:2] + "0000" for region in regions_all() if region.code != NATIONWIDE}
    assert provinces | {NATIONWIDE} == set(PROVINCE_BITS)
    assert (
        len(set(PROVINCE_BITS)) == len(PROVINCE_BITS) == 35 and len(PROVINCE_BITS) < 63
    )  # a BIGINT holds it
    # Stored in every row: the first positions stay what they were when the columns were added.
    assert DELIVERY_BITS[:4] == ("api", "file", "sandbox", "offline")
    assert PROVINCE_BITS[:3] == ("100000", "110000", "120000") and PROVINCE_BITS[-1] == "820000"
    assert province_mask(["310115", "320100", "310000"]) == (1 << 9) | (1 << 10)
    assert mask_codes(province_mask(["100000", "440300"]), PROVINCE_BITS) == ["100000", "440000"]
    assert delivery_mask(["sandbox", "api", "api"]) == 0b101
    assert province_bit("310115") is None and province_bit("310000") == 1 << 9


def _masks(product):
    product.refresh_from_db()
    return mask_codes(product.delivery_mask, DELIVERY_BITS), mask_codes(product.province_mask, PROVINCE_BITS)


def test_the_services_keep_the_masks_on_create_and_update(alice):
    product = make_product(
        actor=alice, descriptor=_covering(random_descriptor(), ["file", "api"], ["310115"])
    )
    assert _masks(product) == (["api", "file"], ["310000"])
    changed = _covering(random_descriptor(), ["sandbox"], ["100000", "440300"])
    changed["provider"] = product.descriptor["provider"]
    services.product_update(actor=alice, product=product, descriptor=changed)
    assert _masks(product) == (["sandbox"], ["100000", "440000"])


def test_the_importer_writes_the_masks():
    docs = _varied()
    for d in docs:
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
    lines = (json.dumps(d, ensure_ascii=False) for d in docs)
    results = [r for _, batch in import_stream(lines, actor_id=None, status="listed") for r in batch]
    assert all(r.accepted for r in results), results
    for d in docs:
        product = Product.objects.get(name=d["name"], provider_uscc=d["provider"]["uscc"])
        assert product.delivery_mask == delivery_mask(d["delivery_methods"])
        assert product.province_mask == province_mask(d["spatial_coverage"])


def test_a_replica_gets_its_masks_from_the_payload_and_a_newer_version_rewrites_them():
    bjidx_key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(bjidx_key))
    first, second = _varied()[:2]
    second["provider"] = first["provider"]
    page = [item(bjidx_key, seq=1, gid=code(1), payload=payload(1, first))]
    assert apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0)[0] == 1
    replica = Product.objects.get(code=code(1))
    assert _masks(replica) == (["api"], ["310000"])
    page = [item(bjidx_key, seq=2, gid=code(1), payload=payload(1, second), version=2)]
    assert apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=1)[0] == 1
    assert _masks(replica) == (["file"], ["310000", "320000"])


def test_the_migration_fills_the_masks_of_products_held_before_it(alice):
    made = [make_product(actor=alice, descriptor=d) for d in _varied()]
    expected = {p.pk: (p.delivery_mask, p.province_mask) for p in made}
    assert all(delivery and province for delivery, province in expected.values())
    Product.objects.update(delivery_mask=0, province_mask=0)
    migration = importlib.import_module("products.migrations.0012_product_facet_columns")
    migration.masks_fill(apps, None)
    assert {p.pk: (p.delivery_mask, p.province_mask) for p in Product.objects.all()} == expected


@pytest.fixture
def catalogue(alice):
    """Twenty-four listed products over every facet's values, a few graded and levelled, and a draft."""
    rng = random.Random(7)
    made = []
    for i, d in enumerate(descriptors(24, seed=11)):
        d = _covering(d, rng.choice(METHODS), rng.choice(COVERAGES))
        d["pricing"] = {**d["pricing"], "min": [0, 0.01, 999.99, 1000, 5e4, 2e6][i % 6], "max": 3e6}
        made.append(make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED))
    Product.objects.filter(pk__in=[p.pk for p in made[::3]]).update(quality_grade="B", data_level="general")
    Product.objects.filter(pk__in=[p.pk for p in made[1::5]]).update(quality_grade="A")
    make_product(actor=alice, descriptor=random_descriptor(delivery_methods=["offline"]))
    return made


def _reference(queryset) -> dict[str, dict[str, int]]:
    """Each facet counted in Python from the products' own columns, descriptors and region rows."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}

    def add(name, value):
        if value:
            counts[name][value] = counts[name].get(value, 0) + 1

    rows = list(queryset.order_by())
    provinces = {}
    for pk, region in ProductRegion.objects.filter(product__in=rows).values_list("product_id", "code"):
        provinces.setdefault(pk, set()).add(region[:2] + "0000")
    for p in rows:
        for name, value in (
            ("industry", p.industry),
            ("form", p.product_form),
            ("data_level", p.data_level),
            ("update_frequency", p.update_frequency),
            ("exchange", p.exchange_id),
            ("quality_grade", p.quality_grade),
            ("price", price_band(p.price_min)),
        ):
            add(name, value)
        for method in set(p.descriptor["delivery_methods"]):
            add("delivery_method", method)
        for province in provinces.get(p.pk, ()):
            add("region", province)
    return counts


def _counted(queryset, names=tuple(FACETS), *, shared=False) -> dict[str, dict[str, int]]:
    return {
        name: {v.value: v.count for v in values}
        for name, values in product_facets(queryset, names=list(names), shared=shared).items()
    }


@pytest.mark.parametrize(
    "narrow",
    [
        lambda qs: qs,
        lambda qs: qs.filter(industry__in=["D", "I"]),
        lambda qs: FACETS["delivery_method"].filter(qs, "sandbox"),
        lambda qs: FACETS["region"].filter(qs, "440000"),
        lambda qs: FACETS["price"].filter(FACETS["region"].filter(qs, "100000"), "free"),
        lambda qs: qs.none(),
    ],
    ids=["everything", "industry", "delivery", "province", "province+price", "nothing"],
)
def test_every_facet_counts_what_the_descriptors_and_region_rows_say(catalogue, narrow):
    queryset = narrow(Product.objects.filter(status=ProductStatus.LISTED))
    counted = _counted(queryset)
    assert counted == _reference(queryset)
    # counted for the shared cache, then read from it (products/facet_cache.py): the same counts
    assert _counted(queryset, shared=True) == _counted(queryset, shared=True) == counted
    # one facet asked alone counts as it does among all of them
    assert {name: _counted(queryset, [name])[name] for name in FACETS} == counted
    # and each value's filter selects exactly the products it counts
    for name, values in counted.items():
        for value, n in values.items():
            assert FACETS[name].filter(queryset, value).count() == n, (name, value)


def test_the_catalogue_covers_every_kind_of_value(catalogue):
    counted = _counted(Product.objects.filter(status=ProductStatus.LISTED))
    assert set(counted["delivery_method"]) == set(DELIVERY_BITS)
    assert {"100000", "310000", "320000", "440000", "650000", "820000", "110000"} <= set(counted["region"])
    assert set(counted["price"]) == {"free", "lt_1k", "1k_10k", "10k_100k", "ge_1m"}
    assert set(counted["quality_grade"]) == {"A", "B"} and counted["data_level"] == {"general": 8}


def test_a_facet_filter_value_without_a_bit_selects_nothing(catalogue):
    listed = Product.objects.filter(status=ProductStatus.LISTED)
    assert FACETS["region"].filter(listed, "310115").count() == 0  # a district, not a province-level unit
    assert FACETS["delivery_method"].filter(listed, "pigeon").count() == 0
    result = package_search({"fq": 'region:"999999"', "facet.field": '["region"]'})
    assert result["count"] == 0 and result["facets"] == {"region": {}}
