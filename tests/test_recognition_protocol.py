"""Recognitions at national size, step 2 (docs/federation.md): recognition protocol 2. Once every peer a node
knows announces it, the node publishes only the recognitions its peers cannot compute (operators' decisions,
verdicts its own conditions hold), keeps the others to itself, and its `recognition` digest counts what it
published; until then it publishes every one."""

import pytest

from federation.models import Entry, Peer
from federation.protocols import peer_protocols_record, protocol_everywhere, protocols_valid
from federation.selectors import digests
from products.models import Product, ProductStatus, Recognition
from products.recognition import recognition_review
from quality.services import recognitions_redecide_all
from tests.factories import make_product, random_descriptor, register_provider
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
        assert client.get("/federation/v1/node/").json()["protocols"] == {"recognition": 2}
        settings.FEDERATION = {**settings.FEDERATION, "RECOGNITION_PROTOCOL": 1}
        assert client.get("/federation/v1/node/").json()["protocols"] == {"recognition": 1}

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


def _product(code: str) -> Product:
    return Product.objects.get(code=code)
