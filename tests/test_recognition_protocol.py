"""Recognitions at national size, step 2 (docs/federation.md): recognition protocol 2. Once every peer a node
knows announces it, the node publishes only the recognitions its peers cannot compute (operators' decisions,
verdicts its own conditions hold), keeps the others to itself, and its `recognition` digest counts what it
published; until then it publishes every one. Anti-entropy compares two nodes' digests under the versions
the two of them announce (TestDigestsPerPair), never under what either has learned of third nodes."""

import pytest
from django.conf import settings as conf
from django.test import Client

from federation import keys, selectors
from federation.models import Entry, Peer, Wakeup
from federation.peers import peer_add
from federation.protocols import (
    peer_protocols_record,
    protocol_everywhere,
    protocols_agreed,
    protocols_parse,
    protocols_valid,
)
from federation.repair import anti_entropy_check
from federation.selectors import digests
from federation.signatures import sign_request
from federation.wakeups import wakeups_deliver, wakeups_enqueue
from products.models import Product, ProductStatus, Recognition
from products.recognition import recognition_review
from quality.services import recognitions_redecide_all
from tests.factories import make_product, random_descriptor, register_provider
from tests.loopback import serve
from tests.quality_world import peer_assessor, peer_payload
from tests.test_federation_apply import ORIGIN, bjidx_key  # noqa: F401
from tests.test_recognition_computed import Network, _by_verdict

pytestmark = pytest.mark.django_db
TWO = {"recognition": 2}


@pytest.fixture
def network(bjidx_key):  # noqa: F811
    return Network(bjidx_key)


def _announce(*codes: str, protocols=TWO) -> None:
    Peer.objects.filter(exchange_id__in=codes).update(protocols=protocols)


def _own_entries(code: str) -> list[str]:
    return list(
        Entry.objects.filter(record_type="recognition", origin="SHDEX", gid=f"{code}@SHDEX").values_list(
            "body", flat=True
        )
    )


def _own(code: str) -> Recognition:
    return Recognition.objects.get(product_code=code, exchange_id="SHDEX")


class TestPublishing:
    def test_until_every_peer_announces_2_every_verdict_is_published(self, network):
        recognisable = _by_verdict()["recognised"]
        _announce(ORIGIN)  # GYBDX announced nothing yet: protocol 1
        assert not protocol_everywhere("recognition", 2)
        listed = network.list(1, recognisable, recognitions=False)
        assert _own(listed).status == "recognised" and _own(listed).published
        assert len(_own_entries(listed)) == 1

    def test_with_every_peer_on_2_only_exceptions_are_published(self, network, alice):
        by_verdict = _by_verdict()
        _announce(ORIGIN, "GYBDX")
        assert protocol_everywhere("recognition", 2)
        recognised = network.list(1, by_verdict["recognised"], recognitions=False)
        pending = network.list(2, by_verdict["pending"], recognitions=False)
        for code in (recognised, pending):  # decided and kept here, equal to the automatic check: unpublished
            assert _own(code).decided_by == "auto" and not _own(code).published
            assert _own_entries(code) == []
        assert digests(origin="SHDEX", fresh=True)["recognition"]["count"] == 0  # none published
        recognition_review(actor=alice, product=_product(pending), status="recognised", reasons=[])
        assert _own(pending).published and len(_own_entries(pending)) == 1
        assert digests(origin="SHDEX", fresh=True)["recognition"]["count"] == 1
        # A home listing's recognition is implicit (every node reads the product's exchange).
        d = random_descriptor()
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
        home = make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED)
        assert _own(home.code).decided_by == "home" and not _own(home.code).published
        assert Entry.objects.filter(record_type="product", gid=home.code).count() == 1
        assert _own_entries(home.code) == []

    def test_a_verdict_held_by_this_exchanges_policy_is_published_and_then_its_latest(
        self, network, alice_api, django_capture_on_commit_callbacks
    ):
        _announce(ORIGIN, "GYBDX")
        with django_capture_on_commit_callbacks(execute=False):
            response = alice_api.put(
                "/api/v1/exchanges/SHDEX/recognition-policy/",
                {"quality_report_required": True},
                format="json",
            )
        assert response.status_code == 200
        listed = network.list(1, _by_verdict()["recognised"], recognitions=False)
        assert _own(listed).status == "pending" and _own(listed).published  # others cannot know which
        gid, payload = peer_payload(ORIGIN, listed, peer_assessor(ORIGIN))  # reports count here
        assert network.send(ORIGIN, "quality_report", gid, payload) == 1
        recognitions_redecide_all()
        row = _own(listed)
        assert (row.status, row.published, row.version) == ("recognised", True, 2)
        assert '"status":"recognised"' in _own_entries(listed)[0]  # the peers hold its latest

    def test_a_peer_forced_back_to_1_makes_this_node_publish_every_verdict_again(self, network):
        by_verdict = _by_verdict()
        _announce(ORIGIN, "GYBDX")
        first = network.list(1, by_verdict["recognised"], recognitions=False)
        assert _own_entries(first) == []
        _announce("GYBDX", protocols={"recognition": 1})
        second = network.list(2, by_verdict["recognised"], recognitions=False)
        assert len(_own_entries(second)) == 1


class TestAnnouncement:
    def test_the_node_document_and_the_digests_announce_the_protocol(self, client, settings):
        both = {"participant_recognition": 2, "private_push": 1, "recognition": 2}  # the others: their tests
        assert client.get("/federation/v1/node/").json()["protocols"] == both
        settings.FEDERATION = {**settings.FEDERATION, "RECOGNITION_PROTOCOL": 1}
        assert client.get("/federation/v1/node/").json()["protocols"] == {**both, "recognition": 1}

    def test_a_node_forced_to_1_publishes_every_verdict(self, network, settings):
        _announce(ORIGIN, "GYBDX")
        settings.FEDERATION = {**settings.FEDERATION, "RECOGNITION_PROTOCOL": 1}
        assert not protocol_everywhere("recognition", 2)

    def test_a_node_that_knows_no_peer_publishes_every_verdict(self):
        assert not Peer.objects.exists() and not protocol_everywhere("recognition", 2)

    @pytest.mark.parametrize(
        "announced",
        [None, [], "2", {"recognition": "2"}, {"recognition": 0}, {"recognition": True}, {"x" * 33: 2}],
    )
    def test_a_malformed_announcement_is_not_kept(self, network, announced):
        peer = Peer.objects.get(exchange_id="GYBDX")
        assert not protocols_valid(announced)
        assert not peer_protocols_record(peer, announced)
        assert Peer.objects.get(exchange_id="GYBDX").protocols is None
        assert peer_protocols_record(peer, TWO) and Peer.objects.get(exchange_id="GYBDX").protocols == TWO


class TestLearnedFromWakeUps:
    """An origin learns what each peer speaks from the answers to its own wake-ups (docs/federation.md,
    `POST wake/`), not only from anti-entropy, whose first round comes 300 s after a node starts."""

    def _deliver(self, answers: dict[str, object]) -> None:
        def post(path, body):
            return 202, answers[path]

        with serve(lambda path: (404, {}), post=post) as base:
            for code in ("GYBDX", "SZDEX", "TJNBD"):
                peer_add(code=code, base_url=f"{base}/{code}", public_key=keys.public_key_b64())
            Peer.objects.update(protocols=None, protocols_at=None)
            answers = {f"/{code}/federation/v1/wake/": answer for code, answer in answers.items()}
            assert wakeups_enqueue(origin=conf.NODE_CODE, seq=Wakeup.objects.count() + 1) == 3
            assert wakeups_deliver() == 3

    def test_every_peer_answering_2_lets_this_origin_publish_only_exceptions(self, db):
        assert not protocol_everywhere("recognition", 2)
        self._deliver({code: {"scheduled": True, "protocols": TWO} for code in ("GYBDX", "SZDEX", "TJNBD")})
        learned = dict(Peer.objects.values_list("exchange_id", "protocols"))
        assert learned == {"GYBDX": TWO, "SZDEX": TWO, "TJNBD": TWO}
        assert not Peer.objects.filter(protocols_at__isnull=True).exists()
        assert protocol_everywhere("recognition", 2)

    def test_an_answer_of_older_code_or_of_another_shape_changes_nothing(self, db):
        self._deliver(
            {
                "GYBDX": {"scheduled": True, "protocols": TWO},
                "SZDEX": {"scheduled": True},  # older code: no protocols
                "TJNBD": {"scheduled": True, "protocols": {"recognition": "2"}},
            }
        )
        learned = dict(Peer.objects.values_list("exchange_id", "protocols"))
        assert learned == {"GYBDX": TWO, "SZDEX": None, "TJNBD": None}
        assert not protocol_everywhere("recognition", 2)

    def test_a_peer_answering_1_after_2_makes_this_origin_publish_every_verdict_again(self, db):
        self._deliver({code: {"scheduled": True, "protocols": TWO} for code in ("GYBDX", "SZDEX", "TJNBD")})
        assert protocol_everywhere("recognition", 2)
        one = {"scheduled": True, "protocols": {"recognition": 1}}  # e.g. a peer forced back to 1
        self._deliver({"GYBDX": one, "SZDEX": {"scheduled": True, "protocols": TWO}, "TJNBD": one})
        assert Peer.objects.get(exchange_id="GYBDX").protocols == {"recognition": 1}
        assert not protocol_everywhere("recognition", 2)


def _product(code: str) -> Product:
    return Product.objects.get(code=code)


ASKER = "SZDEX"  # a peer that asks this node for digests (signed with this test node's own key)
ORIGINS = ("GYBDX", ORIGIN, "SHDEX")
URL = "/federation/v1/digests/"


def _ask(path: str):
    """A signed digests request from ASKER, as the view answers it."""
    if not Peer.objects.filter(exchange_id=ASKER).exists():
        peer_add(code=ASKER, base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
        Peer.objects.filter(exchange_id=ASKER).update(protocols=TWO)
    conf.NODE_CODE, original = ASKER, conf.NODE_CODE  # signed as ASKER, for the signature only
    try:
        signed = sign_request("GET", "http://testserver" + path, {"Content-Type": "application/json"}, None)
    finally:
        conf.NODE_CODE = original
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if k.lower() != "content-type"
    }
    return Client().generic("GET", path, b"", content_type="application/json", **extra)


def _recognitions_of_every_verdict(network) -> list[str]:
    """Products of each automatic verdict, their recognitions published under protocol 1 by BJIDX and
    GYBDX (every verdict a record), and one operator's decision of GYBDX (an exception under either)."""
    codes = [network.list(n, d) for n, d in enumerate(_by_verdict().values(), start=1)]
    network.decide("GYBDX", 3, "recognised", [], "operator", version=2)
    return codes


def _knowing(everywhere: bool) -> None:
    """What this node has learned of its peers: every one announces 2, or none has announced anything."""
    Peer.objects.exclude(exchange_id=ASKER).update(protocols=TWO if everywhere else None)
    selectors._digest_cache.clear()
    assert protocol_everywhere("recognition", 2) is everywhere


class TestDigestsPerPair:
    """The fault that reverted recognition protocol 2 the first time: a node that had learned that every
    peer announces 2 digested only exceptions while its peer, which had not learned it yet, digested every
    published recognition; `sync verify` then said `differs` and repaired. Now both digest under the versions
    the pair agrees on, so what each has learned of third nodes does not matter."""

    def test_the_answer_digests_under_the_versions_both_announce_whatever_it_has_learned(self, network):
        _recognitions_of_every_verdict(network)
        answers = {}
        for everywhere in (False, True):
            _knowing(everywhere)
            response = _ask(f"{URL}?origins={','.join(ORIGINS)}&protocols=recognition:2")
            assert response.status_code == 200, response.content
            answers[everywhere] = response.json()
            assert answers[everywhere]["agreed"]["recognition"] == 2
        assert answers[False]["digests"] == answers[True]["digests"]
        theirs = answers[True]["digests"]["GYBDX"]["recognition"]
        assert theirs["count"] == 1  # only the operator's decision: the others every node computes
        assert digests(origin="GYBDX", agreed=TWO)["recognition"] == theirs
        assert digests(origin="GYBDX")["recognition"]["count"] == 3  # under 1: every published one

    @pytest.mark.parametrize("asker_knows_everywhere", [True, False])
    def test_two_nodes_that_learned_different_things_agree(self, network, asker_knows_everywhere):
        """The peer answers as it would knowing the opposite of this node; the round finds every origin
        equal and repairs nothing."""
        _recognitions_of_every_verdict(network)
        _knowing(not asker_knows_everywhere)  # the peer's knowledge: its answer, through the real view
        body = _ask(f"{URL}?origins={','.join(sorted({*ORIGINS, ASKER}))}&protocols=recognition:2").json()
        _knowing(asker_knows_everywhere)  # this node's
        held = Entry.objects.count()
        seen: list = []
        with serve(lambda path: (200, body), seen) as url:
            Peer.objects.filter(exchange_id="GYBDX").update(base_url=url)
            report = anti_entropy_check(peer=Peer.objects.get(exchange_id="GYBDX"))
        assert {r["origin"]: r["status"] for r in report} == dict.fromkeys(sorted({*ORIGINS, ASKER}), "equal")
        stated = "protocols=participant_recognition%3A2%2Cprivate_push%3A1%2Crecognition%3A2"  # this node's
        assert len(seen) == 1 and stated in seen[0][0]
        assert Entry.objects.count() == held  # nothing pulled again

    def test_a_node_on_1_is_answered_and_compared_under_1(self, network, settings):
        _recognitions_of_every_verdict(network)
        _knowing(True)
        one = _ask(f"{URL}?origins=GYBDX&protocols=recognition:1").json()
        assert one["agreed"]["recognition"] == 1
        assert one["digests"]["GYBDX"]["recognition"]["count"] == 3
        settings.FEDERATION = {**settings.FEDERATION, "RECOGNITION_PROTOCOL": 1}  # this node forced to 1
        assert _ask(f"{URL}?origins=GYBDX&protocols=recognition:2").json()["agreed"]["recognition"] == 1

    def test_an_older_requester_that_states_nothing_is_answered_under_1(self, network):
        _recognitions_of_every_verdict(network)
        _knowing(True)
        batch = _ask(f"{URL}?origins=GYBDX").json()
        single = _ask(f"{URL}GYBDX/").json()
        assert (
            batch["agreed"]
            == single["agreed"]
            == {
                "participant_recognition": 1,
                "private_push": 1,
                "recognition": 1,
            }
        )
        assert batch["digests"]["GYBDX"] == single["digests"] == digests(origin="GYBDX", agreed={})
        assert single["digests"]["recognition"]["count"] == 3
        stated = _ask(f"{URL}GYBDX/?protocols=recognition:2").json()  # the single-origin view, stated
        assert stated["agreed"]["recognition"] == 2 and stated["digests"]["recognition"]["count"] == 1

    def test_an_older_peer_that_refuses_the_parameter_is_asked_again_without_it(self, network):
        _recognitions_of_every_verdict(network)
        _knowing(True)
        old = {origin: digests(origin=origin, agreed={}) for origin in sorted({*ORIGINS})}

        def answer(path: str):  # older code: a strict query, no `agreed` in its answer
            if "protocols=" in path:
                return 400, {"error": {"code": "invalid", "errors": [{"field": "protocols"}]}}
            return 200, {"digests": old}

        seen: list = []
        with serve(answer, seen) as url:
            Peer.objects.filter(exchange_id="GYBDX").update(base_url=url)
            report = anti_entropy_check(peer=Peer.objects.get(exchange_id="GYBDX"))
        assert {r["origin"]: r["status"] for r in report} == dict.fromkeys(ORIGINS, "equal")
        assert ["protocols=" in path for path, _ in seen] == [True, False]

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "recognition",
            "recognition:0",
            "recognition:x",
            "recognition:2,recognition:1",
            "Recognition:2",
            "recognition:1000",
            ",".join(f"p{n}:1" for n in range(17)),
            "recognition:2;",
            "recognition: 2",
        ],
    )
    def test_a_malformed_statement_is_refused_naming_the_parameter(self, network, value):
        for path in (f"{URL}?origins=GYBDX&protocols={value}", f"{URL}GYBDX/?protocols={value}"):
            response = _ask(path.replace(" ", "%20").replace(";", "%3B"))
            assert response.status_code == 400, (value, response.content)
            assert [e["field"] for e in response.json()["error"]["errors"]] == ["protocols"]

    def test_the_helpers(self):
        assert protocols_parse("recognition:2,zeta:7") == {"recognition": 2, "zeta": 7}
        assert protocols_agreed({"recognition": 2}, {"recognition": 1}) == {"recognition": 1}
        assert protocols_agreed({"recognition": 1}, {"recognition": 2}) == {"recognition": 1}
        assert protocols_agreed({"recognition": 2}, {"recognition": 5, "other": 3}) == {"recognition": 2}
        assert protocols_agreed({"recognition": 2}, None) == {"recognition": 1}
