"""Adding a record type costs a declaration, not another apply (docs/architecture.md, "Adding a record type"):
a test-only type, declared the way the guide shows, is published, replicated, checked, quarantined, compared
and reacted to by the unchanged mechanism."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import uuid

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, models, transaction
from django.test.utils import isolate_apps
from django.utils import timezone

from core.exceptions import ValidationFailed
from federation import replica, wire
from federation.applied import AppliedBatch, receiver
from federation.apply import apply_page
from federation.models import Entry, QuarantinedEntry
from federation.payloads import payload_error
from federation.replica import ReplicaType, register
from federation.selectors import digests
from standards.quality_profile import profile_compute
from tests.test_federation_apply import ORIGIN, bjidx_key, item  # noqa: F401 - fixture

# A table made for a test needs a transaction of its own on SQLite (no schema change inside one).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.no_example_provider]


@pytest.fixture
def notice():
    """A `Notice` model (its table made for the test) and its declared type, as an app would write them in
    `models.py` and `replicas.py`; the type is unregistered afterwards."""
    with isolate_apps("federation"):

        class Notice(models.Model):
            gid = models.CharField(max_length=48, unique=True)
            origin = models.CharField(max_length=8)
            version = models.PositiveIntegerField(default=1)
            title = models.CharField(max_length=80)
            body = models.TextField(blank=True)
            posted_at = models.DateTimeField()
            updated_at = models.DateTimeField(auto_now=True)

            class Meta:
                app_label = "federation"

            def __str__(self) -> str:
                return self.title

    # --- replicas.py of the app: the whole declaration ----------------------------------------------------
    class NoticeReplica(ReplicaType):
        name = "notice"
        what = "a notice payload"
        model = Notice
        key = "gid"
        fields = (
            wire.value("id", column="gid"),
            wire.text("title", 80, required=True),
            wire.text("body", 2000),
            wire.time("posted_at", required=True),
        )

        def clean(self, origin, gid, payload, values):
            if payload["id"] != gid or not gid.startswith(origin + "-"):
                raise payload_error("id", "format", "id must be <origin>-<hex> and match the entry's gid")
            values["gid"] = gid

    notices = register(NoticeReplica())
    # --- receivers.py of the app --------------------------------------------------------------------------
    arrived: list[AppliedBatch] = []

    @receiver(notices)
    def notices_arrived(batch: AppliedBatch) -> None:
        arrived.append(batch)

    # A transactional test's database is emptied after it, the member exchanges a data migration made too.
    importlib.import_module("exchanges.migrations.0002_seed_members").seed(django_apps, None)
    with connection.schema_editor() as editor:
        editor.create_model(Notice)
    try:
        yield Notice, notices, arrived
    finally:
        replica.unregister("notice")
        with connection.schema_editor() as editor:
            editor.delete_model(Notice)


def _payload(gid: str, title: str, **changes) -> dict:
    return {"id": gid, "title": title, "body": "正文", "posted_at": "2026-12-01T08:00:00+00:00", **changes}


def test_a_declared_type_is_published_by_its_declaration(notice):
    Notice, notices, _ = notice
    with transaction.atomic():
        row = Notice.objects.create(
            gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
            origin=settings.NODE_CODE,
            title="数据交易所公告",
            posted_at=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC),
        )
        notices.publish([row])
    entry = Entry.objects.get(record_type="notice")
    assert (entry.origin, entry.gid, entry.version) == (settings.NODE_CODE, row.gid, 1)
    assert json.loads(entry.body)["payload"] == {
        "id": row.gid,
        "title": "数据交易所公告",
        "body": "",
        "posted_at": "2026-12-01T08:00:00+00:00",
    }


def test_a_declared_type_replicates_checks_and_reacts(notice, bjidx_key):  # noqa: F811
    Notice, _, arrived = notice
    one, two = (f"{ORIGIN}-{uuid.uuid4().hex}" for _ in range(2))
    page = [
        item(bjidx_key, seq=1, record_type="notice", gid=one, payload=_payload(one, "第一条公告")),
        item(bjidx_key, seq=2, record_type="notice", gid=two, payload=_payload(two, "x" * 81)),
    ]
    assert apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0) == (1, 2)
    held = Notice.objects.get(gid=one)
    assert (held.origin, held.version, held.title, held.posted_at) == (
        ORIGIN,
        1,
        "第一条公告",
        dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC),
    )
    assert QuarantinedEntry.objects.get().reason == "invalid payload: title: type"  # named by its rule
    assert [(r.gid, r.created) for b in arrived for r in b.records] == [(one, True)]

    newer = item(
        bjidx_key, seq=3, record_type="notice", gid=one, version=2, payload=_payload(one, "更正公告")
    )
    assert apply_page(origin=ORIGIN, items=[newer], source=ORIGIN, after=2) == (1, 3)
    assert Notice.objects.get(gid=one).title == "更正公告"
    assert arrived[-1].records[0].changed == frozenset({"title"})
    assert digests(origin=ORIGIN, fresh=True)["notice"]["count"] == 1

    older = item(bjidx_key, seq=4, record_type="notice", gid=one, version=1, payload=_payload(one, "旧的"))
    apply_page(origin=ORIGIN, items=[older], source=ORIGIN, after=3)
    assert Notice.objects.get(gid=one).title == "更正公告" and len(arrived) == 2


def test_a_declared_type_refuses_what_breaks_its_declaration(notice):
    _, notices, _ = notice
    gid = f"{ORIGIN}-{uuid.uuid4().hex}"
    for payload, field in (
        ({**_payload(gid, "公告"), "extra": 1}, ""),
        (_payload(gid, ""), "title"),
        (_payload(gid, "公告", posted_at="yesterday"), "posted_at"),
        (_payload(f"GYBDX-{uuid.uuid4().hex}", "公告"), "id"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            notices.prepare(ORIGIN, gid, payload)
        assert refused.value.errors[0].field == field
    assert notices.prepare(ORIGIN, gid, _payload(gid, "公告"))[0]["posted_at"] < timezone.now()


def _verbatim_samples() -> dict[str, tuple[str, dict]]:
    from standards.product_code import product_code_build

    product = product_code_build(origin=ORIGIN, year=2026, serial=7)
    uscc = "91110000R8A676TY72"
    return {
        "recognition": (
            f"{product}@{ORIGIN}",
            {
                "product": product,
                "exchange": ORIGIN,
                "status": "refused",
                "reasons": ["naming.form_word: …"],
                "product_version": 3,
                "decided_by": "auto",
                "policy": "1.0",
            },
        ),
        "participant_recognition": (
            f"{uscc}@{ORIGIN}",
            {"participant": uscc, "home": "SHDEX", "exchange": ORIGIN, "status": "recognised", "reasons": []},
        ),
        "product_profile": (product, {"product": product, "profile": _profile()}),
    }


def _profile() -> dict:
    fields = [{"name": "day", "label": "日期", "type": "date"}]
    return profile_compute([{"day": "2026-12-01"}], fields, "daily", now=dt.datetime.now(dt.UTC))


def test_a_type_declared_verbatim_takes_its_columns_from_its_payload_as_they_are():
    """`verbatim = True` lets the feed-check helper send no values back for a type: the applier takes them
    from the payload. Every type that says so is checked here with a payload of its own."""
    samples = _verbatim_samples()
    declared = {name for name in replica.names(private=None) if replica.get(name).verbatim}
    assert declared == set(samples)
    for name, (gid, payload) in samples.items():
        replica_type = replica.get(name)
        values, extras = replica_type.prepare(ORIGIN, gid, payload)
        assert values == replica_type.expanded(replica.Same, payload) and extras == {}
