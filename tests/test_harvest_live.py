"""`manage.py harvest` from this project's own CKAN Action API on a live node (pytest-django's live_server):
what the CKAN package dict carries of a descriptor comes back into the harvested draft."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from interop.models import HarvestRecord
from products.models import Product, ProductStatus
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_product, random_descriptor, register_provider

# A live server reads what the test wrote, so the test commits (tests/test_ckan_api.py: why transactional).
pytestmark = pytest.mark.django_db(transaction=True)

OTHER = {"name": "上海测试数据服务有限公司", "uscc": "91310115AY4CL12T2E"}
FIELDS = (
    "name",
    "summary",
    "keywords",
    "product_form",
    "industry",
    "spatial_coverage",
    "temporal_coverage",
    "update_frequency",
    "delivery_methods",
    "pricing",
    "usage_restrictions",
)


def test_harvest_from_a_live_node_keeps_what_ckan_carries(live_server, alice, tmp_path):
    register_provider(OTHER["uscc"], OTHER["name"])
    listed = [
        make_product(actor=alice, descriptor=random_descriptor(provider=OTHER), status=ProductStatus.LISTED)
        for _ in range(3)
    ]
    make_product(actor=alice, descriptor=random_descriptor(provider=OTHER))  # a draft: not in CKAN's API
    mapping = tmp_path / "providers.json"
    # The node's packages say their provider's USCC (extra provider_uscc): mapped to the example provider.
    mapping.write_text(json.dumps({OTHER["uscc"]: EXAMPLE_DESCRIPTOR["provider"]["uscc"]}), encoding="utf-8")
    out = StringIO()
    call_command(
        "harvest",
        live_server.url,
        "--exchange",
        "SHDEX",
        "--provider-map",
        str(mapping),
        "--no-progress",
        stdout=out,
    )
    text = out.getvalue()
    assert "source: ckan" in text and "records: 3" in text and "incomplete: 3" in text
    for product in listed:
        stored = HarvestRecord.objects.get(identifier=product.code)
        for field in FIELDS:
            if field in product.descriptor:
                assert stored.descriptor[field] == product.descriptor[field], field
        assert stored.descriptor["provider"]["uscc"] == EXAMPLE_DESCRIPTOR["provider"]["uscc"]
        # What CKAN has no place for is what the operator is told to complete.
        assert {e["field"] for e in stored.errors} == {"descriptor.compliance", "descriptor.data_source"}
    assert Product.objects.count() == 4  # nothing made from an incomplete record
