"""An entry made under a standard version this node does not know is quarantined as `unknown_standard`,
not refused for good: once the node knows the version (an upgrade), it is applied. And peers' announced
standards: kept from their anti-entropy answers, compared in `sync status` and the status API
(docs/standards/versions.md)."""

import copy
import dataclasses
import io
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from core.exceptions import ValidationFailed
from federation import replica, unknown_standards
from federation.apply import apply_page
from federation.models import Entry, Peer, QuarantinedEntry, SyncState
from federation.peers import peer_add
from federation.repair import anti_entropy_check
from federation.selectors import digests, sync_status
from products.models import Product
from standards import versions
from tests.loopback import serve
from tests.test_federation_apply import ORIGIN, _public_b64, code, item, product, samples
from tests.test_federation_http import as_bjidx  # noqa: F401 - the signed-request fixture

pytestmark = pytest.mark.django_db


@contextmanager
def node_knows(**known: tuple[str, ...]):
    """This node as if it ran older code: it knows only the given versions of these standards."""
    original = versions.STANDARDS
    versions.STANDARDS = tuple(
        dataclasses.replace(s, version=known[s.code][-1], known=known[s.code]) if s.code in known else s
        for s in original
    )
    versions.standards_forget()
    try:
        yield
    finally:
        versions.STANDARDS = original
        versions.standards_forget()


@pytest.fixture
def bjidx_key():
    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    return key


def descriptor_11(seed: int = 7) -> dict:
    """A descriptor of standard 1.1 (a 1.0 one declaring the newer version, which allows all it has)."""
    descriptor = copy.deepcopy(samples(1, seed=seed)[0])
    descriptor["descriptor_version"] = "1.1"
    return descriptor


def test_an_entry_under_an_unknown_version_is_quarantined_with_its_own_reason_and_applied_after_upgrade(
    bjidx_key,
):
    newer = item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11()))
    older = item(bjidx_key, seq=2, gid=code(2), payload=product(2, samples(1, seed=8)[0]))
    with node_knows(descriptor=("1.0",)):
        assert apply_page(origin=ORIGIN, items=[newer, older], source=ORIGIN, after=0) == (1, 2)
        row = QuarantinedEntry.objects.get()
        assert (row.seq, row.gid, row.record_type) == (1, code(1), "product")
        assert row.reason == (
            "unknown_standard: descriptor 1.1 is a version of the standard this node does not know "
            "(it knows 1.0)"
        )
        assert not Product.objects.filter(code=code(1)).exists()
        assert Product.objects.filter(code=code(2)).exists()  # the entry after it applies
        # Still unknown: the retry leaves it waiting.
        assert unknown_standards.unknown_standards_retry() == {"retried": 0, "held": 0, "waiting": 1}
        assert QuarantinedEntry.objects.count() == 1
    # The node upgraded: it knows 1.1 now.
    assert unknown_standards.unknown_standards_retry() == {"retried": 1, "held": 0, "waiting": 0}
    applied = Product.objects.get(code=code(1))
    assert applied.descriptor["descriptor_version"] == "1.1" and applied.version == 1
    assert Entry.objects.get(origin=ORIGIN, gid=code(1)).seq == 1  # kept for relaying, as signed
    assert not QuarantinedEntry.objects.exists()
    assert SyncState.objects.get(origin=ORIGIN).cursor == 2  # the cursor never moved back


def test_a_version_superseded_while_it_waited_is_not_applied_over_the_newer_one(bjidx_key):
    with node_knows(descriptor=("1.0",)):
        apply_page(
            origin=ORIGIN,
            items=[item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11()))],
            source=ORIGIN,
            after=0,
        )
        again = samples(1, seed=7)[0]  # version 2 of the record, under 1.0
        apply_page(
            origin=ORIGIN,
            items=[item(bjidx_key, seq=2, gid=code(1), version=2, payload=product(1, again))],
            source=ORIGIN,
            after=1,
        )
    assert unknown_standards.unknown_standards_retry()["retried"] == 1
    held = Product.objects.get(code=code(1))
    assert (held.version, held.descriptor["descriptor_version"]) == (2, "1.0")
    assert not QuarantinedEntry.objects.exists()


def test_a_row_without_its_raw_entry_waits_until_the_record_arrives_otherwise(bjidx_key):
    entry = item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11()))
    with node_knows(descriptor=("1.0",)):
        apply_page(origin=ORIGIN, items=[entry], source=ORIGIN, after=0)
    QuarantinedEntry.objects.update(raw="", raw_bytes=0)  # beyond the quarantine's byte bound
    assert unknown_standards.unknown_standards_retry() == {"retried": 0, "held": 0, "waiting": 1}
    apply_page(origin=ORIGIN, items=[entry], source=ORIGIN, after=0, repair=True)  # anti-entropy's re-pull
    assert unknown_standards.unknown_standards_retry() == {"retried": 0, "held": 1, "waiting": 0}
    assert not QuarantinedEntry.objects.exists()


def test_other_refusals_are_not_retried(bjidx_key):
    bad = product(1, samples(1)[0]) | {"status": "draft"}
    apply_page(
        origin=ORIGIN, items=[item(bjidx_key, seq=1, gid=code(1), payload=bad)], source=ORIGIN, after=0
    )
    assert QuarantinedEntry.objects.get().reason.startswith("invalid payload")
    assert unknown_standards.unknown_standards_retry() == {"retried": 0, "held": 0, "waiting": 0}
    assert QuarantinedEntry.objects.count() == 1


def test_the_first_sync_tick_of_a_process_retries(bjidx_key, monkeypatch):
    calls = []
    monkeypatch.setattr(unknown_standards, "_retried_in_this_process", False)
    monkeypatch.setattr(unknown_standards, "unknown_standards_retry", lambda: calls.append(1))
    from federation.tasks import sync_tick

    sync_tick()
    sync_tick()
    assert calls == [1]


def test_the_sync_retry_command_applies_what_waited(bjidx_key):
    with node_knows(descriptor=("1.0",)):
        entry = item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11()))
        apply_page(origin=ORIGIN, items=[entry], source=ORIGIN, after=0)
    out = io.StringIO()
    call_command("sync", "retry", stdout=out)
    assert out.getvalue().strip() == "applied again 1, arrived otherwise 0, waiting 0"
    assert Product.objects.filter(code=code(1)).exists()


def test_a_private_record_under_an_unknown_usage_policy_version_is_refused_as_unknown_standard():
    """A deal is fetched, not quarantined: the fetch records the error and tries again later (backoff),
    so it applies once the node knows the version."""
    deal = replica.get("deal")
    payload = {"request": {"usage_policy": {"version": "2.0"}}}
    assert deal.standards(payload) == {"usage_policy": "2.0"}
    with pytest.raises(ValidationFailed) as refused:
        deal.prepare(ORIGIN, f"{ORIGIN}-{'0' * 32}", payload)
    assert refused.value.code == "unknown_standard"
    assert refused.value.errors[0].field == "standards.usage_policy"
    # A version that is not a version string is no claim: the field checks refuse it as usual.
    with pytest.raises(ValidationFailed) as refused:
        deal.prepare(ORIGIN, f"{ORIGIN}-{'0' * 32}", {"request": {"usage_policy": {"version": ["x"]}}})
    assert refused.value.code != "unknown_standard"


# --- peers' announcements ---------------------------------------------------------------------------------
class _Peer:
    """A peer on loopback answering with this node's own digests (read before: the test's database is not
    for the server's thread) and the standards it is told to announce."""

    answer_digests: dict = {}
    answer_standards: object = None

    @classmethod
    def answer(cls, full_path: str) -> tuple[int, dict]:
        body = {"digests": cls.answer_digests}
        if cls.answer_standards is not None:
            body["standards"] = cls.answer_standards
        return 200, body


@pytest.fixture
def loopback_peer():
    _Peer.answer_digests = {o: digests(origin=o, fresh=True) for o in ("BJIDX", "SHDEX")}
    with serve(_Peer.answer) as url:
        yield peer_add(code="BJIDX", base_url=url, public_key=_public_b64(Ed25519PrivateKey.generate()))


def _status_of(code: str) -> dict:
    return next(p for p in sync_status()["peers"] if p["code"] == code)


def test_a_peers_standards_are_kept_from_its_digests_answer_and_compared(loopback_peer, alice_api):
    _Peer.answer_standards = None  # a node on older code announces none
    anti_entropy_check(peer=loopback_peer)
    assert _status_of("BJIDX")["standards_status"] == "unknown"
    mine = versions.standards_announcement()
    _Peer.answer_standards = mine
    anti_entropy_check(peer=loopback_peer)
    peer = _status_of("BJIDX")
    assert (peer["standards"], peer["standards_status"], peer["standards_differences"]) == (mine, "same", [])
    assert peer["standards_at"] is not None and sync_status()["peers_standards_differ"] == []
    newer = {"versions": {**mine["versions"], "descriptor": "1.2"}, "sha256": "a" * 64}
    _Peer.answer_standards = newer
    anti_entropy_check(peer=loopback_peer)
    status = sync_status()
    assert status["standards"] == mine and status["peers_standards_differ"] == ["BJIDX"]
    assert _status_of("BJIDX")["standards_differences"] == [
        {"code": "descriptor", "mine": mine["versions"]["descriptor"], "theirs": "1.2"}
    ]
    # The status API says the same.
    answer = alice_api.get("/federation/v1/status/").json()
    assert answer["peers_standards_differ"] == ["BJIDX"]
    # `sync status`: the JSON on stdout, the differing peer named on stderr.
    out, err = io.StringIO(), io.StringIO()
    call_command("sync", "status", stdout=out, stderr=err)
    assert '"peers_standards_differ": [\n    "BJIDX"\n  ]' in out.getvalue()
    assert "standards differ at BJIDX: descriptor 1.1 here, 1.2 there" in err.getvalue()
    # Junk announced is not kept: the last valid announcement stays.
    _Peer.answer_standards = {"versions": "junk", "sha256": "x"}
    anti_entropy_check(peer=loopback_peer)
    assert Peer.objects.get(pk="BJIDX").standards == newer


def test_the_digests_answer_carries_this_nodes_standards(as_bjidx):  # noqa: F811
    body = as_bjidx("GET", "/federation/v1/digests/?origins=SHDEX").json()
    assert body["standards"] == versions.standards_announcement()
    assert set(body) == {"digests", "agreed", "standards", "protocols"}  # protocols: docs/federation.md


def test_anti_entropy_does_not_pull_again_for_entries_waiting_for_a_standard(bjidx_key):
    """The peer holds a record this node quarantined for an unknown version: the digests differ, but a
    re-pull of the whole feed would only quarantine it again, every round. Once known, it applies."""
    with node_knows(descriptor=("1.0",)):
        entry = item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11()))
        apply_page(origin=ORIGIN, items=[entry], source=ORIGIN, after=0)
        theirs = {"product": {"count": 1, "digest": "ab" * 32}}  # what a node holding it answers
        seen = []
        _Peer.answer_digests = {"BJIDX": theirs, "SHDEX": digests(origin="SHDEX", fresh=True)}
        _Peer.answer_standards = None
        with serve(_Peer.answer, seen) as url:
            peer = peer_add(code=ORIGIN, base_url=url, public_key=_public_b64(bjidx_key))
            report = {r["origin"]: r for r in anti_entropy_check(peer=peer)}
        assert report["BJIDX"] == {
            "peer": "BJIDX",
            "origin": "BJIDX",
            "status": "waiting_for_standard",
            "entries": 1,
        }
        assert [path for path, _ in seen if "/feed/" in path] == []  # no re-pull
    assert unknown_standards.unknown_standards_waiting(ORIGIN) == 0  # known now
    assert unknown_standards.unknown_standards_retry()["retried"] == 1
