"""core/lookups.py: `__any` selects exactly what `__in` selects; on PostgreSQL as one array parameter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from federation.models import Entry
from products.models import ProductRegion
from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    return Entry.objects.bulk_create(
        Entry(origin="BJIDX", seq=i, record_type="product", gid=f"G'{i}", version=1, body="{}", signature="s")
        for i in range(1, 41)
    )


@pytest.mark.parametrize(
    "values",
    [["G'1", "G'7", "missing"], {"G'2", "G'40"}, [f"G'{i}" for i in range(1, 41, 2)], ["G'3", None], []],
)
def test_text_keys_select_what_in_selects(entries, values):
    as_in = set(Entry.objects.filter(gid__in=values).values_list("seq", flat=True))
    with CaptureQueriesContext(connection) as queries:
        as_any = set(Entry.objects.filter(gid__any=values).values_list("seq", flat=True))
    assert as_any == as_in
    if connection.vendor == "postgresql" and [v for v in values if v is not None]:
        (query,) = queries.captured_queries
        assert "= ANY(" in query["sql"] and " IN (" not in query["sql"]


def test_integer_and_foreign_keys_and_exclusion(entries, alice):
    seqs = [3, 5, 8, 13]
    ours = Entry.objects.filter(origin="BJIDX")
    assert set(ours.filter(seq__any=seqs).values_list("seq", flat=True)) == set(seqs)
    assert ours.exclude(seq__any=seqs).count() == 40 - len(seqs)
    product = make_product(actor=alice)
    regions = ProductRegion.objects.filter(product_id__any=[product.pk, 10**12])
    assert list(regions) == list(ProductRegion.objects.filter(product_id__in=[product.pk]))
    assert regions.exists()
