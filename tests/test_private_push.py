# ruff: noqa: F811 - the fixtures of tests/test_deal_replication.py are imported and taken as arguments
"""Private records pushed with the wake-up (federation.private_push, docs/federation.md *Private records*):
the origin's wake-up to a peer of the audience that announces `private_push` carries the full entries it
published since the last push; the peer verifies and applies them while it answers, so the stub that comes
with the next pull finds the record held and fetches nothing. Only the origin's own entries, signed by it,
whose audience names the receiver, are taken; the rest is left to the fetch."""

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from deals.models import DealStep
from federation import keys, replica
from federation.models import Peer, PrivateEntry, PrivateFetch, Wakeup
from federation.outbox import Change, publish
from federation.peers import peer_add
from federation.private_push import PUSH_MAX
from federation.stubs import SEALED, sealed_stub
from federation.wakeups import wakeups_deliver, wakeups_enqueue
from tests.loopback import serve
from tests.test_deal_replication import _accept_payload, deal  # noqa: F401
from tests.test_federation_apply import bjidx_key, item  # noqa: F401 - fixture
from tests.test_private_batch import _signed_post

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
WAKE = "/federation/v1/wake/"


def _wake(body: dict, code: str = "BJIDX"):
    """POST `body` to this node's wake endpoint, signed as peer `code` (with this node's own key pair)."""
    return _signed_post(body, code, path=WAKE)


@pytest.fixture
def bjidx_is_us(deal):
    """The deal of tests/test_deal_replication.py, with BJIDX's key this node's own: its requests and its
    entries are signed here as BJIDX's would be there."""
    Peer.objects.filter(exchange_id="BJIDX").update(public_key=keys.public_key_b64())
    return deal


def _accept(deal, *, seq=5, key=None, audience=None):
    """The buyer's accept as BJIDX pushes it: its signed entry and the audience of its stub."""
    gid, payload = _accept_payload(deal, signer=keys.private_key())
    entry = item(key or keys.private_key(), seq=seq, gid=gid, record_type="deal_step", payload=payload)
    return gid, {**entry, "audience": audience or deal.audience}


def _stub_apply(gid, deal):
    stub_gid, stub = sealed_stub("deal_step", gid, deal.audience)
    with transaction.atomic():
        assert replica.get(SEALED).apply_batch("BJIDX", [(stub_gid, 1, stub)]) == {}


def test_a_pushed_step_is_applied_with_the_wake_up_and_its_stub_then_fetches_nothing(bjidx_is_us):
    deal = bjidx_is_us
    gid, pushed = _accept(deal)
    answer = _wake({"origin": "BJIDX", "seq": 5, "private": [pushed]})
    assert answer.status_code == 202
    assert answer.json()["applied"] == 1 and answer.json()["scheduled"] is True
    step = DealStep.objects.get(gid=gid)
    assert step.kind == "accept"
    held = PrivateEntry.objects.get(origin="BJIDX", gid=gid)
    assert (held.version, held.audience, held.signature) == (1, deal.audience, pushed["signature"])
    _stub_apply(gid, deal)  # the next pull brings the stub: held, so no fetch
    assert not PrivateFetch.objects.filter(gid=gid).exists()
    again = _wake({"origin": "BJIDX", "seq": 5, "private": [pushed]})  # pushed twice: nothing more
    assert again.status_code == 202 and again.json()["applied"] == 0
    assert DealStep.objects.filter(gid=gid).count() == 1


def test_a_stub_that_came_first_leaves_a_fetch_the_push_makes_done(bjidx_is_us):
    deal = bjidx_is_us
    gid, pushed = _accept(deal)
    _stub_apply(gid, deal)
    assert PrivateFetch.objects.get(gid=gid).state == "pending"
    assert _wake({"origin": "BJIDX", "seq": 5, "private": [pushed]}).json()["applied"] == 1
    assert PrivateFetch.objects.get(gid=gid).state == "done"
    assert DealStep.objects.filter(gid=gid).exists()


def test_a_record_whose_fetch_is_under_way_is_left_to_it(bjidx_is_us):
    deal = bjidx_is_us
    gid, pushed = _accept(deal)
    _stub_apply(gid, deal)
    PrivateFetch.objects.filter(gid=gid).update(state="running")  # claimed by a fetch: it applies the step
    assert _wake({"origin": "BJIDX", "seq": 5, "private": [pushed]}).json()["applied"] == 0
    assert not DealStep.objects.filter(gid=gid).exists()


def test_only_the_origins_own_signed_entries_for_this_node_are_taken(bjidx_is_us):
    deal = bjidx_is_us
    peer_add(code="GYBDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    good_gid, good = _accept(deal, seq=5)
    forged_gid, forged = _accept(deal, seq=6, key=Ed25519PrivateKey.generate())
    elsewhere_gid, elsewhere = _accept(deal, seq=7, audience=["BJIDX", "GYBDX"])
    relayed_gid, relayed = _accept(deal, seq=8)
    malformed = [
        {"entry": "not an entry"},
        {"entry": {**good["entry"], "gid": 7}, "signature": "x"},
        {**good, "audience": ["SHDEX", "BJIDX"]},  # not as a stub carries it (sorted): refused
        {**good, "audience": "SHDEX"},
    ]
    answer = _wake({"origin": "BJIDX", "seq": 8, "private": [forged, elsewhere, *malformed, good]})
    assert answer.status_code == 202 and answer.json()["applied"] == 1
    by_gybdx = _wake({"origin": "GYBDX", "seq": 8, "private": [relayed]}, code="GYBDX")
    assert by_gybdx.status_code == 202 and by_gybdx.json()["applied"] == 0  # not its own entry
    assert list(DealStep.objects.filter(kind="accept").values_list("gid", flat=True)) == [good_gid]
    assert not PrivateEntry.objects.filter(gid__in=[forged_gid, elsewhere_gid, relayed_gid]).exists()


def test_a_wake_up_with_too_many_or_malformed_pushes_is_400(bjidx_is_us):
    _, pushed = _accept(bjidx_is_us)
    too_many = _wake({"origin": "BJIDX", "seq": 5, "private": [pushed] * (PUSH_MAX + 1)})
    assert too_many.status_code == 400 and "private" in too_many.content.decode()
    not_a_list = _wake({"origin": "BJIDX", "seq": 5, "private": "x"})
    assert not_a_list.status_code == 400 and "private" in not_a_list.content.decode()


def test_a_node_with_push_off_neither_announces_nor_takes_it(bjidx_is_us, settings):
    settings.FEDERATION = {**settings.FEDERATION, "PRIVATE_PUSH": 0}
    gid, pushed = _accept(bjidx_is_us)
    answer = _wake({"origin": "BJIDX", "seq": 5, "private": [pushed]})
    assert answer.status_code == 202 and answer.json()["applied"] == 0
    assert "private_push" not in answer.json()["protocols"]
    assert not DealStep.objects.filter(gid=gid).exists()


def _network(*codes_pushing):
    """BJIDX and GYBDX as peers; those in `codes_pushing` announce private_push."""
    for code in ("BJIDX", "GYBDX"):
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
        protocols = {"recognition": 2, **({"private_push": 1} if code in codes_pushing else {})}
        Peer.objects.filter(exchange_id=code).update(protocols=protocols)


def _publish(audience, n=1):
    gids = [f"SHDEX-{uuid.uuid4().hex}" for _ in range(n)]
    with transaction.atomic():
        last = publish([Change("demand_response", g, 1, {"secret": g}, audience=audience) for g in gids])
    return gids, last


def _deliver(bodies: dict):
    """Deliver the due wake-ups to a loopback server per peer; collect what each received."""
    speaks = dict(Peer.objects.values_list("exchange_id", "protocols"))  # each answers what it speaks
    with (
        serve(lambda path: (500, {}), post=lambda path, body: _got(bodies, "BJIDX", body, speaks)) as bj,
        serve(lambda path: (500, {}), post=lambda path, body: _got(bodies, "GYBDX", body, speaks)) as gy,
    ):
        Peer.objects.filter(exchange_id="BJIDX").update(base_url=bj)
        Peer.objects.filter(exchange_id="GYBDX").update(base_url=gy)
        return wakeups_deliver()


def _got(bodies, code, body, speaks):
    """A peer's answer: what it speaks, as `_network` set it (the origin keeps what the answer says)."""
    bodies.setdefault(code, []).append(body)
    return 202, {"scheduled": True, "applied": len(body.get("private", [])), "protocols": speaks[code]}


def test_the_wake_up_carries_to_each_peer_what_it_may_hold_once(settings):
    _network("BJIDX")
    theirs, _ = _publish(("BJIDX", "SHDEX"), n=2)
    _publish(("GYBDX", "SHDEX"))  # GYBDX's: it does not take pushes
    _, last = _publish(("BJIDX", "GYBDX", "SHDEX"))
    wakeups_enqueue(origin="SHDEX", seq=last)
    bodies: dict = {}
    assert _deliver(bodies) == 2
    (to_bj,), (to_gy,) = bodies["BJIDX"], bodies["GYBDX"]
    assert "private" not in to_gy and to_gy["seq"] == last
    pushed = to_bj["private"]
    assert [p["entry"]["gid"] for p in pushed][:2] == theirs and len(pushed) == 3  # oldest first
    assert [p["audience"] for p in pushed] == [["BJIDX", "SHDEX"]] * 2 + [["BJIDX", "GYBDX", "SHDEX"]]
    for p in pushed:  # exactly as served by the private endpoints: the origin's signed entry
        held = PrivateEntry.objects.get(origin="SHDEX", gid=p["entry"]["gid"])
        assert p["signature"] == held.signature and json.loads(held.body) == p["entry"]
    assert Wakeup.objects.get(peer_id="BJIDX").pushed_seq == last
    later, seq = _publish(("BJIDX", "SHDEX"))
    wakeups_enqueue(origin="SHDEX", seq=seq)
    bodies.clear()
    _deliver(bodies)
    assert [p["entry"]["gid"] for p in bodies["BJIDX"][0]["private"]] == later  # only what is new


def test_a_push_is_bounded_and_a_failed_wake_up_pushes_again(settings):
    _network("BJIDX")
    gids, last = _publish(("BJIDX", "SHDEX"), n=PUSH_MAX + 5)
    wakeups_enqueue(origin="SHDEX", seq=last)
    Peer.objects.filter(exchange_id="GYBDX").update(enabled=False)
    with serve(lambda path: (500, {}), post=lambda path, body: (503, {"code": "busy"})) as url:
        Peer.objects.filter(exchange_id="BJIDX").update(base_url=url)
        assert wakeups_deliver() == 0
    assert Wakeup.objects.get(peer_id="BJIDX").pushed_seq == 0  # not taken: pushed again
    Wakeup.objects.update(next_attempt_at=timezone.now())
    Peer.objects.update(backoff_until=None)
    bodies: dict = {}
    assert _deliver(bodies) == 1
    pushed = bodies["BJIDX"][0]["private"]
    assert [p["entry"]["gid"] for p in pushed] == gids[-PUSH_MAX:]  # the newest; the rest is fetched
    assert Wakeup.objects.get(peer_id="BJIDX").pushed_seq == last


def test_with_push_off_no_wake_up_carries_entries(settings):
    settings.FEDERATION = {**settings.FEDERATION, "PRIVATE_PUSH": 0}
    _network("BJIDX")
    _, last = _publish(("BJIDX", "SHDEX"))
    wakeups_enqueue(origin="SHDEX", seq=last)
    bodies: dict = {}
    _deliver(bodies)
    assert "private" not in bodies["BJIDX"][0]
