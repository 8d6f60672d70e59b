"""The round trip of issue 22: a node's catalog exported as DCAT-AP 3 (Turtle, then parsed back as text), read
by the harvester into draft products, compared field by field: nothing that both models hold is lost."""

import copy
import json
from pathlib import Path

import pytest
from rdflib import Graph

from interop.dcat import catalog_graph
from interop.harvest import harvest_run
from interop.harvest_dcat import dcat_records
from interop.models import HarvestRecord, HarvestSource
from products.models import Product, ProductStatus
from standards.usage_policy import policy_from_descriptor
from tests.factories import make_product, random_descriptor

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = json.loads((ROOT / "tests/data/harvest/defaults.json").read_text("utf-8"))
EXAMPLE = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
# What a DCAT-AP 3 dataset and a descriptor can both hold (docs/interop.md, the two mapping tables).
BOTH_HOLD = (
    "name",
    "summary",
    "keywords",
    "spatial_coverage",
    "temporal_coverage",
    "update_frequency",
    "delivery_methods",
    "industry",
    "product_form",
    "usage_restrictions",
)


def _catalog(alice) -> dict:
    """Listed products of this node: the example descriptor and varied sample descriptors (every delivery
    method, frequency and coverage the sample generator draws), by product code."""
    made = [make_product(actor=alice, descriptor=copy.deepcopy(EXAMPLE), status=ProductStatus.LISTED)]
    for _ in range(8):
        descriptor = random_descriptor()
        descriptor["provider"] = copy.deepcopy(EXAMPLE["provider"])
        made.append(make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED))
    return {product.code: product.descriptor for product in made}


def _stated(descriptor: dict, name: str):
    value = descriptor.get(name)
    if name in ("keywords", "spatial_coverage", "delivery_methods") and value is not None:
        return sorted(value)
    if name == "temporal_coverage" and value:
        return {k: v for k, v in value.items() if v}
    return value


def test_export_then_harvest_keeps_every_field_both_models_hold(alice):
    originals = _catalog(alice)
    turtle = catalog_graph("catalog").serialize(format="turtle")
    records = dcat_records(Graph().parse(data=turtle, format="turtle"))
    assert sorted(r["identifier"] for r in records) == sorted(originals)
    # Harvested into a fresh node: the exported products are not there (the naming rule would refuse a
    # provider's second product of the same name).
    Product.objects.filter(code__in=originals).delete()

    uscc = EXAMPLE["provider"]["uscc"]
    source = HarvestSource(url="file:///catalog.ttl", format="dcat", exchange_id="SHDEX")
    reports = harvest_run(records, source=source, mapping={uscc: uscc}, defaults=DEFAULTS)
    assert {r.action for r in reports} == {"created"}, [(r.identifier, r.errors) for r in reports]

    lost = []
    for record in HarvestRecord.objects.filter(source=source).select_related("product"):
        original, harvested = originals[record.identifier], record.product.descriptor
        assert record.product.status == ProductStatus.DRAFT
        for name in BOTH_HOLD:
            if _stated(original, name) != _stated(harvested, name):
                lost.append((record.identifier, name, original.get(name), harvested.get(name)))
        # The usage policy the product offered (its ODRL offer), read back whole: kept with the record, as
        # a descriptor holds no policy.
        if record.usage_policy != policy_from_descriptor(original):
            lost.append(
                (record.identifier, "usage_policy", policy_from_descriptor(original), record.usage_policy)
            )
    assert not lost, "\n".join(map(str, lost))
