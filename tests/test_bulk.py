"""core/bulk.py: COPY-based bulk writes store exactly what bulk_create / bulk_update store (on SQLite they are
bulk_create / bulk_update)."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.bulk import COPY_THRESHOLD, copy_insert, copy_rows, copy_update
from federation.models import Entry
from products.models import ProductVersion
from tests.factories import make_product

pytestmark = pytest.mark.django_db

MANY = COPY_THRESHOLD * 3  # above the threshold: the COPY path on PostgreSQL


def _entries(n: int, *, first: int = 1, origin: str = "BJIDX") -> list[Entry]:
    return [
        Entry(
            origin=origin,
            seq=first + i,
            record_type="product",
            gid=f"G{first + i}",
            version=1,
            # tabs, newlines, backslashes, quotes and CJK: COPY's text format must escape them all
            body=f'{{"k":"值\\t{i}\\n\\\\ \\"x\\""}}\t\n\\N',
            signature="c2ln",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("count", [3, MANY])
def test_copy_insert_stores_every_value_as_given(count):
    before = datetime.now(UTC)
    objs = _entries(count)
    copy_insert(Entry, objs)
    stored = list(Entry.objects.filter(origin="BJIDX", gid__startswith="G").order_by("seq"))
    assert [(e.seq, e.gid, e.body, e.signature) for e in stored] == [
        (o.seq, o.gid, o.body, o.signature) for o in objs
    ]
    assert all(e.recorded_at >= before for e in stored)  # auto_now applied as bulk_create applies it
    assert stored[0].body.endswith("\t\n\\N")  # not read back as NULL


def test_copy_insert_of_json_foreign_keys_and_ignored_conflicts(example_descriptor):
    product = make_product()
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    descriptor = {**example_descriptor, "summary": "含\t制表符、换行\n与反斜杠\\的摘要"}

    def versions(numbers):
        return [
            ProductVersion(
                product_id=product.pk,
                version=n,
                change=ProductVersion.Change.REPLICATED,
                actor_kind=ProductVersion.ActorKind.REPLICATED,
                status="listed",
                descriptor=descriptor,
                reasons=[f"理由 {n}", None, 1],
                created_at=now,
            )
            for n in numbers
        ]

    copy_insert(ProductVersion, versions(range(100, 100 + MANY)))
    # Half of these are there already: skipped, not an error, the rest inserted.
    copy_insert(ProductVersion, versions(range(100 + MANY // 2, 100 + MANY * 2)), ignore_conflicts=True)
    stored = ProductVersion.objects.filter(product=product, version__gte=100).order_by("version")
    assert [v.version for v in stored] == list(range(100, 100 + MANY * 2))
    first = stored[0]
    assert first.descriptor == descriptor
    assert first.reasons == ["理由 100", None, 1]
    assert first.created_at == now


def test_copy_insert_conflict_without_ignore_fails_and_writes_nothing():
    copy_insert(Entry, _entries(MANY))
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_insert(Entry, _entries(MANY, first=MANY))  # seq MANY is held already
    assert Entry.objects.filter(origin="BJIDX", gid__startswith="G").count() == MANY


def test_copy_insert_refuses_a_mix_of_new_and_saved_objects():
    objs = _entries(MANY)
    objs[3].pk = 12345
    with pytest.raises(ValueError, match="every object"):
        copy_insert(Entry, objs)


@pytest.mark.parametrize("count", [3, MANY])
def test_copy_update_writes_only_the_named_fields(count):
    copy_insert(Entry, _entries(count))
    rows = list(Entry.objects.filter(origin="BJIDX", gid__startswith="G").order_by("seq"))
    for row in rows:
        row.version = row.seq * 10
        row.body = f"new\t{row.seq}"
        row.signature = "not written"
    copy_update(Entry, rows, ["version", "body"])
    stored = list(Entry.objects.filter(origin="BJIDX", gid__startswith="G").order_by("seq"))
    assert [(e.version, e.body, e.signature) for e in stored] == [
        (e.seq * 10, f"new\t{e.seq}", "c2ln") for e in stored
    ]


def test_the_copy_path_is_the_one_taken_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's; other databases use bulk_create")
    objs = _entries(MANY * 20)
    with CaptureQueriesContext(connection) as captured:
        copy_insert(Entry, objs)
    # bulk_create would show as INSERT statements; COPY goes past Django's statement log.
    assert not [q["sql"] for q in captured.captured_queries if "INSERT" in q["sql"]]
    assert Entry.objects.filter(origin="BJIDX", gid__startswith="G").count() == MANY * 20


@pytest.mark.parametrize("count", [3, MANY])
def test_deleting_by_any_removes_exactly_the_named_rows(count):
    """How the change log replaces entries (`__any`, core/lookups.py): one DELETE with an array parameter."""
    copy_insert(Entry, _entries(count * 3))
    copy_insert(Entry, _entries(count * 3, origin="GYBDX"))  # same gids and seqs, another origin
    bjidx = Entry.objects.filter(origin="BJIDX")
    with CaptureQueriesContext(connection) as captured:
        bjidx.filter(record_type="product", gid__any=[f"G{i}" for i in range(1, count + 1)]).delete()
    assert len([q for q in captured.captured_queries if q["sql"].startswith("DELETE")]) == 1
    bjidx.filter(seq__any=list(range(2 * count + 1, 3 * count + 1))).delete()
    bjidx.filter(record_type="recognition", gid__any=["G1"]).delete()  # other type: kept
    left = set(bjidx.filter(gid__startswith="G").values_list("seq", flat=True))
    assert left == set(range(count + 1, 2 * count + 1))
    assert Entry.objects.filter(origin="GYBDX", gid__startswith="G").count() == count * 3


@pytest.mark.parametrize("count", [3, MANY])
def test_a_value_that_is_not_plain_in_a_plain_column_is_prepared_by_its_field(count):
    """Plain columns are written as they are only when every one holds a str, int, bool or None; anything
    else (here a lazy translation and a choices member) goes through the field's preparation."""
    from django.utils.functional import lazy

    from products.models import ProductStatus

    objs = _entries(count)
    objs[0].gid = lazy(lambda: "惰性", str)()  # psycopg cannot write a Promise itself
    objs[-1].record_type = ProductStatus.LISTED
    copy_insert(Entry, objs)
    stored = list(Entry.objects.filter(origin="BJIDX").order_by("seq"))
    assert stored[0].gid == "惰性"
    assert stored[-1].record_type == "listed"
    assert [e.seq for e in stored] == [o.seq for o in objs]
    for row in stored:
        row.gid = lazy(lambda seq=row.seq: f"已更新{seq}", str)()
    copy_update(Entry, stored, ["gid"])
    assert list(Entry.objects.filter(origin="BJIDX").order_by("seq").values_list("gid", flat=True)) == [
        f"已更新{o.seq}" for o in objs
    ]


@pytest.mark.parametrize("count", [3, MANY])
def test_copy_rows_stores_plain_values_as_copy_insert_stores_objects(count, example_descriptor):
    """`copy_rows` (no model instance per row) writes what `copy_insert` writes for the same values: text
    that COPY must escape, JSON, a foreign key by its attribute name, a time."""
    from federation.models import ENTRY_COLUMNS

    now = datetime.now(UTC)
    objs = _entries(count)
    copy_rows(
        Entry,
        ENTRY_COLUMNS,
        [(o.origin, o.seq, o.record_type, o.gid, o.version, o.body, o.signature, now) for o in objs],
    )
    stored = list(Entry.objects.filter(origin="BJIDX").order_by("seq"))
    assert [(e.seq, e.gid, e.body, e.signature) for e in stored] == [
        (o.seq, o.gid, o.body, o.signature) for o in objs
    ]
    assert all(e.recorded_at >= now for e in stored)  # the time given (bulk_create's auto_now: a later one)
    product = make_product()
    columns = (
        "product_id",
        "version",
        "change",
        "status",
        "descriptor",
        "reasons",
        "actor_id",
        "actor_kind",
        "created_at",
    )
    copy_rows(
        ProductVersion,
        columns,
        [
            (
                product.pk,
                100 + i,
                "replicated",
                "listed",
                example_descriptor,
                ["理由"],
                None,
                "replicated",
                now,
            )
            for i in range(count)
        ],
    )
    rows = ProductVersion.objects.filter(product=product, version__gte=100)
    assert rows.count() == count
    assert all(r.descriptor == example_descriptor and r.reasons == ["理由"] for r in rows)


def test_copy_rows_refuses_a_missing_column():
    with pytest.raises(ValueError, match=r"no value for signature"):
        copy_rows(Entry, ("origin", "seq", "record_type", "gid", "version", "body", "recorded_at"), [])
    with pytest.raises(ValueError, match=r"no value for signature"):
        copy_rows(
            Entry, ("origin", "seq", "record_type", "gid", "version", "body", "recorded_at"), [("x",) * 7]
        )


def test_the_descriptor_columns_a_new_replica_is_written_with_are_those_a_descriptor_gives(
    example_descriptor,
):
    """products.bulk.DESCRIPTOR_COLUMNS lists by hand the columns `descriptor_columns` derives; a column
    added there and not here would leave new replicas without it."""
    from products.bulk import DESCRIPTOR_COLUMNS
    from products.columns import descriptor_columns
    from products.replicas import PRODUCT

    assert set(descriptor_columns(example_descriptor)) == {"descriptor", *DESCRIPTOR_COLUMNS}
    assert set(DESCRIPTOR_COLUMNS) < set(PRODUCT.update_columns)
