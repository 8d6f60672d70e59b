"""Participant recognition protocol 2 (docs/federation.md, "Recognitions at national size"): an exchange's
recognition of a participant is `recognition_decide` of the registration standing there, which every node
computes from the replicated registrations. Once every peer a node knows announces 2, the node publishes only
the recognitions its peers cannot compute (none of its own automatic ones), reads compute its peers' verdicts,
and the `participant_recognition` digest under 2 counts only the exceptions, so a node that published every
recognition under 1 and one that never received them agree."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from federation import selectors
from federation.models import Entry, Peer
from federation.peers import peer_add
from federation.protocols import protocol_everywhere
from federation.selectors import digests
from participants.models import ParticipantRecognition
from participants.replicas import PARTICIPANT_RECOGNITION
from tests.test_federation_apply import _public_b64
from tests.test_participants import URL, _apply_replica, _body, _uscc

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
TWO = {"participant_recognition": 2, "recognition": 2}
PEERS = ("BJIDX", "GYBDX")
UNDER_2 = {"participant_recognition": 2}


@pytest.fixture
def peers(db):
    for code in PEERS:
        key = _public_b64(Ed25519PrivateKey.generate())
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=key)


def _announce(protocols, *codes: str) -> None:
    Peer.objects.filter(exchange_id__in=codes or PEERS).update(protocols=protocols)


def _own_entries(pid: str) -> list[str]:
    return list(
        Entry.objects.filter(
            record_type="participant_recognition", origin="SHDEX", gid=f"{pid}@SHDEX"
        ).values_list("body", flat=True)
    )


def _own(pid: str) -> ParticipantRecognition:
    return ParticipantRecognition.objects.get(participant_id=pid, exchange_id="SHDEX")


def _register(api, seed: int) -> str:
    body = _body(uscc=_uscc("310000", seed))
    body["account"] = {**body["account"], "username": f"user-{seed}"}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _verify(api, pid: str) -> None:
    response = api.post(f"{URL}{pid}/verification/", {"status": "verified"}, format="json")
    assert response.status_code == 200, response.content


def _peer_record(pid: str, exchange: str, status: str, *, home="BJIDX", version=1) -> None:
    """A recognition of `exchange` as its node published it (under protocol 1, or an exception)."""
    reasons = [] if status == "recognised" else [f"registration at {home} is pending"]
    payload = {"participant": pid, "exchange": exchange, "home": home, "status": status, "reasons": reasons}
    with transaction.atomic():
        assert PARTICIPANT_RECOGNITION.apply_batch(exchange, [(f"{pid}@{exchange}", version, payload)]) == {}


class TestPublishing:
    def test_until_every_peer_announces_2_every_decision_is_published(self, alice_api, peers):
        assert not protocol_everywhere("participant_recognition", 2)  # no peer announced anything
        first = _register(alice_api, 1)
        assert len(_own_entries(first)) == 1 and _own(first).published
        _announce(TWO, "BJIDX")  # GYBDX not yet
        _announce({"recognition": 2}, "GYBDX")  # older code: no participant_recognition, counts as 1
        second = _register(alice_api, 2)
        assert len(_own_entries(second)) == 1

    def test_with_every_peer_on_2_no_automatic_decision_is_published(self, alice_api, peers):
        _announce(TWO)
        assert protocol_everywhere("participant_recognition", 2)
        pid = _register(alice_api, 3)
        assert _own(pid).status == "not_recognised" and not _own(pid).published
        _verify(alice_api, pid)
        own = _own(pid)
        assert (own.status, own.version, own.published) == ("recognised", 2, False)  # written here only
        assert _own_entries(pid) == []

    def test_a_peer_forced_back_to_1_makes_it_publish_again(self, alice_api, peers):
        _announce(TWO)
        pid = _register(alice_api, 4)
        assert _own_entries(pid) == []
        _announce({"participant_recognition": 1, "recognition": 2}, "GYBDX")
        _verify(alice_api, pid)
        assert _own(pid).published and len(_own_entries(pid)) == 1

    def test_this_node_forced_to_1_publishes_every_decision(self, alice_api, peers, settings):
        _announce(TWO)
        settings.FEDERATION = {**settings.FEDERATION, "PARTICIPANT_RECOGNITION_PROTOCOL": 1}
        assert not protocol_everywhere("participant_recognition", 2)
        pid = _register(alice_api, 5)
        assert len(_own_entries(pid)) == 1

    def test_a_recognition_once_published_stays_published(self, alice_api, peers):
        pid = _register(alice_api, 6)  # under 1: published
        _announce(TWO)
        _verify(alice_api, pid)  # an automatic decision under 2, but its peers hold version 1
        (entry,) = _own_entries(pid)  # the log keeps a record's latest entry
        assert _own(pid).published and '"version":2' in entry and '"status":"recognised"' in entry


class TestReads:
    def _trust(self, client, pid: str) -> dict:
        response = client.get(f"{URL}{pid}/trust/")
        assert response.status_code == 200, response.content
        return response.json()

    def test_enabled_peers_verdicts_are_computed_from_the_standing_registration(self, client, peers):
        pid = _uscc("110000", 7)
        _apply_replica(pid, home="BJIDX", status="verified")
        trust = self._trust(client, pid)
        assert trust["recognised_by"] == ["BJIDX", "GYBDX", "SHDEX"]
        by_exchange = {r["exchange"]: r for r in trust["recognitions"]}
        assert by_exchange["SHDEX"]["version"] == 1  # this node's own row
        for code in PEERS:  # computed: version 0, the registration's last change here
            assert {k: by_exchange[code][k] for k in ("status", "reasons", "home", "version")} == {
                "status": "recognised",
                "reasons": [],
                "home": "BJIDX",
                "version": 0,
            }
            assert by_exchange[code]["updated_at"]

    def test_a_suspended_registration_is_recognised_nowhere(self, client, peers):
        pid = _uscc("110000", 8)
        _apply_replica(pid, home="BJIDX", status="suspended")
        trust = self._trust(client, pid)
        assert trust["recognised_by"] == []
        assert {(r["exchange"], r["status"], tuple(r["reasons"])) for r in trust["recognitions"]} == {
            (code, "not_recognised", ("registration at BJIDX is suspended",)) for code in (*PEERS, "SHDEX")
        }

    def test_a_held_record_wins_and_a_disabled_peer_is_not_computed(self, client, peers):
        pid = _uscc("110000", 9)
        _apply_replica(pid, home="BJIDX", status="verified")
        _peer_record(pid, "GYBDX", "not_recognised")  # an exception: differs from the registration's verdict
        Peer.objects.filter(exchange_id="BJIDX").update(enabled=False)
        trust = self._trust(client, pid)
        assert trust["recognised_by"] == ["SHDEX"]
        assert [(r["exchange"], r["status"], r["version"]) for r in trust["recognitions"]] == [
            ("GYBDX", "not_recognised", 1),
            ("SHDEX", "recognised", 1),
        ]


class TestDigestsPerPair:
    def _digest(self, origin: str, agreed: dict) -> dict:
        selectors._digest_cache.clear()
        return digests(origin=origin, agreed=agreed, fresh=True).get("participant_recognition")

    def test_a_peer_that_published_under_1_and_one_that_did_not_compare_equal_under_2(self, peers):
        verified, pending = _uscc("110000", 10), _uscc("110000", 11)
        _apply_replica(verified, home="BJIDX", status="verified")
        _apply_replica(pending, home="BJIDX", status="pending")
        _announce(TWO)
        exception = _uscc("110000", 12)
        _apply_replica(exception, home="BJIDX", status="verified")
        _peer_record(exception, "GYBDX", "not_recognised")  # differs from the verdict: every node holds it
        without = (self._digest("GYBDX", UNDER_2), self._digest("GYBDX", {}))
        _peer_record(verified, "GYBDX", "recognised")  # GYBDX's automatic verdicts, published under 1
        _peer_record(pending, "GYBDX", "not_recognised")
        with_them = (self._digest("GYBDX", UNDER_2), self._digest("GYBDX", {}))
        assert with_them[0] == without[0] and with_them[0]["count"] == 1  # under 2: the exception only
        assert with_them[1] != without[1] and with_them[1]["count"] == 3  # under 1: every published one

    def test_this_node_that_published_under_1_and_one_that_did_not_compare_equal_under_2(
        self, alice_api, peers
    ):
        _register(alice_api, 13)  # under 1: both published
        _verify(alice_api, _register(alice_api, 14))
        published = (self._digest("SHDEX", UNDER_2), self._digest("SHDEX", {}))
        ParticipantRecognition.objects.filter(exchange_id="SHDEX").update(published=False)  # never published
        unpublished = (self._digest("SHDEX", UNDER_2), self._digest("SHDEX", {}))
        assert unpublished[0] == published[0] and published[0]["count"] == 0
        assert published[1]["count"] == 2 and unpublished[1]["count"] == 0
