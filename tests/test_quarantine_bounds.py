"""Quarantine is bounded per source peer: what a peer sends is untrusted, and refused entries used to be
stored in full each time (junk with fresh sequence numbers: +41 MB in 40 s).

A refused entry is recorded with a digest of what was refused (the item without its `seq` and signature, and
the reason): the same junk again, at any seq, raises the row's `count` and `last_seen`. Per source, at most
FEDERATION["QUARANTINE_MAX_ROWS"] rows and FEDERATION["QUARANTINE_MAX_BYTES"] bytes of raw entries; beyond
them an entry's raw body is not kept, it is counted in the source's overflow, an ERROR is logged once per
source and interval, and `sync_status()` shows it. A bad entry still never stops the entries after it.
"""

import copy
import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import DatabaseError

from federation.apply import apply_page
from federation.models import QuarantinedEntry, QuarantineOverflow
from federation.peers import peer_add
from federation.selectors import sync_status
from products.models import Product
from tests.test_federation_apply import ORIGIN, _public_b64, code, item, product, samples

pytestmark = pytest.mark.django_db
RELAY = "GYBDX"


@pytest.fixture
def bjidx_key():
    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    peer_add(code=RELAY, base_url="http://127.0.0.1:9", public_key=_public_b64(Ed25519PrivateKey.generate()))
    return key


@pytest.fixture
def bounds(settings):
    def set_bounds(rows: int = 10_000, size: int = 32 * 1024 * 1024, interval: int = 300) -> None:
        settings.FEDERATION = {
            **settings.FEDERATION,
            "QUARANTINE_MAX_ROWS": rows,
            "QUARANTINE_MAX_BYTES": size,
            "QUARANTINE_ALERT_INTERVAL": interval,
        }

    return set_bounds


FORGER = Ed25519PrivateKey.generate()


def junk(seq: int, n: int = 0, *, summary: str = "伪造的条目") -> dict:
    """An entry of BJIDX signed by someone else: refused as `signature does not verify` at any seq. `n`
    makes it different junk."""
    descriptor = copy.deepcopy(samples(1, seed=51)[0])
    descriptor["summary"] = f"{summary} {n}"
    return item(FORGER, seq=seq, gid=code(1000 + n), payload=product(1000 + n, descriptor))


def _peer(code: str) -> dict:
    return next(p for p in sync_status()["peers"] if p["code"] == code)


def test_the_same_junk_again_at_fresh_seqs_is_one_row_with_a_count(bjidx_key):
    for seq in range(10, 15):  # a relay serving the same forged entry under a new seq on every pull
        assert apply_page(origin=ORIGIN, items=[junk(seq)], source=RELAY, after=0) == (0, 0)
    row = QuarantinedEntry.objects.get()
    assert (row.seq, row.source, row.count) == (10, RELAY, 5)  # first seen at 10, seen five times
    assert row.last_seen > row.created_at
    assert len(row.digest) == 64 and json.loads(row.raw)["entry"]["seq"] == 10
    # From another source it is a case of its own; different junk is another row.
    apply_page(origin=ORIGIN, items=[junk(20)], source=ORIGIN, after=0)
    apply_page(origin=ORIGIN, items=[junk(21, n=1), junk(22, n=1)], source=RELAY, after=0)
    counts = set(QuarantinedEntry.objects.values_list("source", "seq", "count"))
    assert counts == {(RELAY, 10, 5), (RELAY, 21, 2), (ORIGIN, 20, 1)}


def test_a_signed_invalid_entry_published_again_under_a_new_seq_is_a_repeat(bjidx_key):
    """The origin's own entry (valid signature, payload refused) at seq 1 and again at seq 2: one case."""
    broken = copy.deepcopy(samples(1, seed=52)[0])
    del broken["provider"]
    for seq in (1, 2):
        bad = item(bjidx_key, seq=seq, gid=code(1), payload=product(1, broken))
        assert apply_page(origin=ORIGIN, items=[bad], source=ORIGIN, after=seq - 1) == (0, seq)
    row = QuarantinedEntry.objects.get()
    assert (row.seq, row.count, row.gid, row.record_type) == (1, 2, code(1), "product")
    assert row.reason.startswith("invalid payload")


def test_quarantine_is_bounded_in_rows_per_source_and_the_overflow_alerts(bjidx_key, bounds, caplog):
    bounds(rows=3)
    real = item(bjidx_key, seq=1, gid=code(1), payload=product(1, samples(1, seed=53)[0]))
    page = [junk(100 + n, n) for n in range(6)]
    with caplog.at_level(logging.WARNING, logger="federation.quarantine"):
        assert apply_page(origin=ORIGIN, items=[*page, real], source=RELAY, after=0) == (1, 1)
        apply_page(origin=ORIGIN, items=[junk(200 + n, 10 + n) for n in range(4)], source=RELAY, after=1)
    assert Product.objects.filter(code=code(1)).exists()  # the junk did not stop the entry after it
    assert sorted(QuarantinedEntry.objects.values_list("seq", flat=True)) == [100, 101, 102]
    overflow = QuarantineOverflow.objects.get(source=RELAY)
    assert overflow.entries == 3 + 4 and overflow.last_at >= overflow.first_at
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and RELAY in errors[0].getMessage()  # once per source and interval
    # Repeats of held rows are still counted; the bound is per source: the origin's own rows still fit.
    apply_page(origin=ORIGIN, items=[junk(300, 0)], source=RELAY, after=1)
    assert QuarantinedEntry.objects.get(seq=100).count == 2
    assert QuarantineOverflow.objects.get(source=RELAY).entries == 7
    apply_page(origin=ORIGIN, items=[junk(301, 1)], source=ORIGIN, after=1)
    assert QuarantinedEntry.objects.filter(source=ORIGIN).count() == 1
    # The operator sees it: per peer and in total.
    status = sync_status()
    peer = _peer(RELAY)
    assert (peer["quarantined"], peer["quarantine_overflow"]) == (3, 7)
    assert peer["quarantined_bytes"] > 0 and peer["quarantine_overflow_last_at"] is not None
    assert _peer(ORIGIN)["quarantine_overflow"] == 0
    assert status["quarantine_overflow"] == {RELAY: 7} and status["quarantine_overflow_total"] == 7


def test_the_alert_is_logged_again_after_the_interval(bjidx_key, bounds, caplog):
    bounds(rows=0, interval=1)
    with caplog.at_level(logging.ERROR, logger="federation.quarantine"):
        apply_page(origin=ORIGIN, items=[junk(1)], source=RELAY, after=0)
        apply_page(origin=ORIGIN, items=[junk(2, 1)], source=RELAY, after=0)
        assert len(caplog.records) == 1
        QuarantineOverflow.objects.update(
            logged_at=QuarantineOverflow.objects.get().logged_at.replace(year=2000)
        )
        apply_page(origin=ORIGIN, items=[junk(3, 2)], source=RELAY, after=0)
    assert len(caplog.records) == 2 and not QuarantinedEntry.objects.exists()


def test_beyond_the_byte_bound_no_raw_body_is_kept(bjidx_key, bounds):
    one = len(json.dumps(junk(1), ensure_ascii=False, separators=(",", ":")).encode())
    bounds(size=one + one // 2)  # room for one raw body
    apply_page(origin=ORIGIN, items=[junk(1, n) for n in range(3)], source=RELAY, after=0)
    rows = list(QuarantinedEntry.objects.order_by("id"))
    assert [bool(r.raw) for r in rows] == [True, False, False]
    assert rows[0].raw_bytes == one and [r.raw_bytes for r in rows[1:]] == [0, 0]
    for row in rows[1:]:  # only what identifies the case
        assert (row.origin, row.source, row.record_type) == (ORIGIN, RELAY, "product")  # as it claims
        assert row.gid.startswith(ORIGIN) and row.seq == 1
        assert row.reason.startswith("signature does not verify") and len(row.digest) == 64
    assert QuarantineOverflow.objects.get(source=RELAY).entries == 2
    assert _peer(RELAY)["quarantined_bytes"] == one


def test_text_no_database_stores_is_recorded_and_repeats_are_recognised(bjidx_key):
    """NUL and lone surrogates in what a peer sends, in the entry and in its type and gid: stored as U+FFFD
    (raw keeps a surrogate as its JSON escape), the digest computed all the same, on SQLite and PostgreSQL."""
    odd = junk(5)
    odd["entry"]["payload"]["descriptor"]["summary"] = "\ud800 and \x00"
    odd["entry"]["type"] = "prod\x00uct\udfff"
    odd["entry"]["gid"] = "gid\ud800"
    for seq in (5, 7):
        page = [{**odd, "entry": {**odd["entry"], "seq": seq}}, {"entry": "\x00", "signature": "\ud800"}]
        apply_page(origin=ORIGIN, items=page, source=RELAY, after=0)
    rows = list(QuarantinedEntry.objects.order_by("id"))
    assert [r.count for r in rows] == [2, 2]
    assert (rows[0].record_type, rows[0].gid) == ("prod\ufffduct\ufffd", "gid\ufffd")  # as the entry claims
    assert "\\ud800" in rows[0].raw and "\x00" not in rows[0].reason + rows[0].raw
    assert all(len(r.digest) == 64 for r in rows)


def test_a_quarantine_the_database_refuses_does_not_stop_the_page(bjidx_key, monkeypatch, caplog):
    from federation import quarantine

    def refusing(*args, **kwargs):
        raise DatabaseError("simulated: disk full")

    monkeypatch.setattr(quarantine, "_record", refusing)
    real = item(bjidx_key, seq=2, gid=code(2), payload=product(2, samples(1, seed=54)[0]))
    with caplog.at_level(logging.ERROR, logger="federation.quarantine"):
        assert apply_page(origin=ORIGIN, items=[junk(1), real], source=RELAY, after=0) == (1, 2)
    assert Product.objects.filter(code=code(2)).exists() and not QuarantinedEntry.objects.exists()
    assert "could not be recorded" in caplog.text


def test_sync_status_command_shows_the_overflow(bjidx_key, bounds, capsys):
    bounds(rows=1)
    apply_page(origin=ORIGIN, items=[junk(1), junk(2, 1), junk(3, 2)], source=RELAY, after=0)
    call_command("sync", "status")
    status = json.loads(capsys.readouterr().out)
    assert status["quarantine_overflow"] == {RELAY: 2}
    assert next(p for p in status["peers"] if p["code"] == RELAY)["quarantine_overflow"] == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.no_example_provider  # a transactional test: no exchange directory after an earlier one's flush
def test_the_migration_keeps_rows_quarantined_before_each_its_own_case():
    """Rows written before digests get `legacy:<id>`, last_seen = created_at and raw_bytes from raw, so a
    node already filled by a peer is over that peer's bound at once; then the unique constraint holds."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("federation", "0005_origincounter_wake_queued_at")]
    executor = MigrationExecutor(connection)
    after = executor.loader.graph.leaf_nodes("federation")
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("federation", "QuarantinedEntry")
        for seq in (1, 2):  # the same case twice: the old code keyed rows by (origin, seq, source, reason)
            old.objects.create(
                origin=ORIGIN, seq=seq, source=RELAY, reason="signature does not verify", raw="[1, 2]"
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    rows = list(QuarantinedEntry.objects.order_by("id"))
    assert [r.digest for r in rows] == [f"legacy:{r.id}" for r in rows]
    assert [(r.count, r.raw_bytes, r.last_seen) for r in rows] == [(1, 6, r.created_at) for r in rows]
