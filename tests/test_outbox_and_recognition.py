"""The change log written with every public change, and recognitions (互认) through the API."""

import json

import pytest
import rfc8785

from federation import keys
from federation.models import Entry, OriginCounter
from products.models import ProductStatus, Recognition
from tests.factories import make_foreign_product, make_product, random_descriptor, register_provider

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


PRODUCT_TYPES = ("product", "recognition")


def _envelopes():
    return [json.loads(e.body) for e in Entry.objects.filter(record_type__in=PRODUCT_TYPES).order_by("seq")]


class TestOutbox:
    def test_drafts_and_reviews_write_no_entry_listing_does(self, alice):
        product = make_product(actor=alice, status=ProductStatus.SUBMITTED)
        assert Entry.objects.filter(record_type__in=PRODUCT_TYPES).count() == 0
        make_product(actor=alice, status=ProductStatus.LISTED)
        types = [e["type"] for e in _envelopes()]
        assert types == ["product", "recognition"]  # the product and its home exchange's recognition
        assert product.code not in {e["gid"] for e in _envelopes()}

    def test_every_entry_is_signed_by_this_node_over_its_canonical_body(self, alice):
        make_product(actor=alice, status=ProductStatus.LISTED)
        for entry in Entry.objects.all():
            envelope = json.loads(entry.body)
            assert rfc8785.dumps(envelope).decode() == entry.body
            assert keys.verify(keys.public_key_b64(), entry.body.encode(), entry.signature)
            assert envelope["origin"] == "SHDEX"

    def test_sequence_numbers_are_contiguous_and_the_log_is_compacted(self, alice, alice_api):
        d = random_descriptor()
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
        base = OriginCounter.objects.get(origin="SHDEX").last_seq
        product = make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED)
        for summary in ("第一次修改后的摘要内容。", "第二次修改后的摘要内容。"):
            alice_api.patch(f"{URL}{product.code}/", {"descriptor": {"summary": summary}}, format="json")
        seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
        # product v3, recognition, v4, v5
        assert OriginCounter.objects.get(origin="SHDEX").last_seq == base + 4
        product_entries = Entry.objects.filter(record_type="product", gid=product.code)
        assert product_entries.count() == 1  # only the latest entry of a record is kept
        assert product_entries.get().version == 5 and max(seqs) == base + 4
        assert len(seqs) == len(set(seqs))

    def test_public_payload_carries_no_private_fields(self, alice):
        make_product(actor=alice, status=ProductStatus.LISTED)
        payload = next(e["payload"] for e in _envelopes() if e["type"] == "product")
        assert set(payload) == {"code", "status", "descriptor", "listed_at", "delisted_at", "status_reasons"}
        assert "findings" not in json.dumps(payload) and "alice" not in json.dumps(payload)

    def test_a_failed_write_leaves_no_entry(self, alice, alice_api):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        before = Entry.objects.count()
        bad = {"descriptor": {"compliance": {"source_legality": {"status": "failed", "evidence_ref": "X"}}}}
        assert alice_api.patch(f"{URL}{product.code}/", bad, format="json").status_code == 400
        assert Entry.objects.count() == before


@pytest.mark.parametrize("threads", [2, 0])
def test_a_large_publish_signs_every_entry_over_its_own_body(settings, monkeypatch, threads):
    """publish() signs in chunks on the signature pool (or inline): across chunk edges, with private entries
    and their sealed stubs interleaved, every row carries the signature of its own body."""
    from django.db import transaction

    from federation import envelope
    from federation.models import PrivateEntry
    from federation.outbox import Change, publish

    monkeypatch.setitem(settings.FEDERATION, "VERIFY_THREADS", threads)
    size = 2 * envelope.VERIFY_CHUNK + 9
    changes = [
        Change("demand_response", f"SHDEX-r{i}", 1, {"n": i}, audience=("BJIDX", "SHDEX"))
        if i % 7 == 3
        else Change("product", f"SHDEX-p{i}", 1, {"n": i})
        for i in range(size)
    ]
    before = max(Entry.objects.values_list("seq", flat=True), default=0)
    with transaction.atomic():
        publish(changes)
    rows = [*Entry.objects.filter(origin="SHDEX", seq__gt=before), *PrivateEntry.objects.all()]
    assert len(rows) == size + sum(1 for c in changes if c.audience)
    public_key = keys.public_key_b64()
    assert len({r.signature for r in rows}) == len(rows)
    for row in rows:
        assert keys.verify(public_key, row.body.encode(), row.signature), (row.record_type, row.gid)
    payloads = {json.loads(r.body)["gid"]: json.loads(r.body)["payload"] for r in PrivateEntry.objects.all()}
    assert payloads["SHDEX-r3"] == {"n": 3}


class TestRecognitionApi:
    def test_listing_records_the_home_exchanges_recognition(self, alice, anon):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        rows = anon.get(f"{URL}{product.code}/").json()["recognitions"]
        decided = [(r["exchange"], r["status"], r["decided_by"]) for r in rows]
        assert decided == [("SHDEX", "recognised", "home")]

    def test_operator_reviews_a_product_from_another_exchange(self, alice_api, anon):
        foreign = make_foreign_product(exchange_id="BJIDX")
        response = alice_api.post(
            f"{URL}{foreign.code}/recognition/",
            {"status": "refused", "reasons": ["缺少数据来源证明"]},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["decided_by"] == "operator"
        recognition = Recognition.objects.get(product_code=foreign.code, exchange_id="SHDEX")
        assert recognition.status == "refused"
        entry = Entry.objects.get(record_type="recognition", gid=f"{foreign.code}@SHDEX")
        assert json.loads(entry.body)["payload"]["reasons"] == ["缺少数据来源证明"]
        assert [p["code"] for p in anon.get(URL, {"recognised_by": "SHDEX"}).json()["results"]] == []

    def test_refusal_needs_reasons_and_other_exchanges_cannot_decide_here(self, alice_api, bob_api):
        foreign = make_foreign_product(exchange_id="BJIDX")
        assert (
            alice_api.post(
                f"{URL}{foreign.code}/recognition/", {"status": "refused"}, format="json"
            ).status_code
            == 400
        )
        assert (
            bob_api.post(
                f"{URL}{foreign.code}/recognition/", {"status": "recognised"}, format="json"
            ).status_code
            == 403
        )

    def test_filter_by_recognising_exchange(self, alice, anon):
        own = make_product(actor=alice, status=ProductStatus.LISTED)
        make_foreign_product(exchange_id="GYBDX")
        assert [p["code"] for p in anon.get(URL, {"recognised_by": "SHDEX"}).json()["results"]] == [own.code]


class TestWakeUps:
    """One wake-up task waits on the queue at a time; it announces the head as it is when it runs."""

    @staticmethod
    def _publish(gid: str) -> int:
        from django.db import transaction

        from federation.outbox import Change, publish

        with transaction.atomic():
            return publish([Change("widget", gid, 1, {"n": gid})])

    def test_commits_while_a_wake_up_waits_queue_no_other(self, db, django_capture_on_commit_callbacks):
        from federation.outbox import wake_started

        wake_started("SHDEX")  # the fixtures' own publications queued one: it has started
        with django_capture_on_commit_callbacks() as first:
            self._publish("a")
        with django_capture_on_commit_callbacks() as second:
            last = self._publish("b")
        assert len(first) == 1 and second == []  # b is announced by the task a queued
        assert OriginCounter.objects.get().wake_queued_at is not None
        assert wake_started("SHDEX") == last  # the task starts: it announces b's sequence number
        assert OriginCounter.objects.get().wake_queued_at is None
        with django_capture_on_commit_callbacks() as third:
            self._publish("c")
        assert len(third) == 1  # after the task started, the next commit queues another

    def test_a_wake_up_lost_on_the_queue_is_queued_again_later(self, db, django_capture_on_commit_callbacks):
        from datetime import timedelta

        from django.utils import timezone

        from federation.outbox import WAKE_QUEUE_STALE

        self._publish("a")
        OriginCounter.objects.update(wake_queued_at=timezone.now() - WAKE_QUEUE_STALE - timedelta(seconds=1))
        with django_capture_on_commit_callbacks() as again:
            self._publish("b")
        assert len(again) == 1
