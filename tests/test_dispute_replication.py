# ruff: noqa: F811 - the fixtures of tests/test_deal_replication.py are imported and taken as arguments
"""Disputes between nodes: a buyer registered at BJIDX disputes a deal for a product SHDEX lists (SHDEX
coordinates, BJIDX co-coordinates). Each step is written at the node that owns it; a peer's step arrives as a
private record, checked by the dispute standard (a bad body, a filing that is not its own dispute, an
exchange's step naming another exchange, a bad signature: refused); a step whose role its node does not own is
held but never applied; a dispute reaches only the deal's audience (sealed stubs elsewhere, the private
endpoint answers 404 to others, digests leave it out)."""

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from core.exceptions import Forbidden
from deals.dispute_followups import deal_disputes_followup
from deals.dispute_selectors import dispute_roles, dispute_state, dispute_steps
from deals.dispute_services import dispute_take
from deals.models import Dispute, DisputeStep
from deals.replicas import DISPUTE_STEP, STEP
from deals.services import deal_step_take
from federation import keys
from federation.models import Entry, Peer, PrivateEntry, PrivateFetch
from federation.payloads import time_text
from federation.peers import peer_add
from federation.private import private_fetch_due
from tests.loopback import serve
from tests.test_deal_replication import BUYER, _accept_payload, _principal, deal  # noqa: F401
from tests.test_federation_apply import ORIGIN, _public_b64, bjidx_key, item  # noqa: F401 - fixture
from tests.test_private_records import _signed_get

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
FILING = {"category": "no_delivery", "description": "合同约定 10 日内交付，至今未交付", "evidence": []}


@pytest.fixture
def agreed(deal, bjidx_key):
    """The buyer's accept arrives from BJIDX, the provider accepts here: the deal has a contract."""
    gid, payload = _accept_payload(deal, signer=bjidx_key)
    with transaction.atomic():
        assert STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    deal_step_take(actor=deal.provider, deal=deal, kind="accept")
    deal.refresh_from_db()
    assert deal.state == "agreed"
    return deal


def _filing(deal, **change):
    gid = f"BJIDX-{uuid.uuid4().hex}"
    payload = {
        "id": gid,
        "deal": deal.gid,
        "dispute": gid,
        "audience": deal.audience,
        "action": "file",
        "role": "buyer",
        "actor": BUYER,
        "at": time_text(timezone.now()),
        "body": dict(FILING),
    }
    return gid, {**payload, **change}


def _apply(gid, payload):
    with transaction.atomic():
        return DISPUTE_STEP.apply_batch("BJIDX", [(gid, 1, payload)])


@pytest.fixture
def filed(agreed):
    gid, payload = _filing(agreed)
    assert _apply(gid, payload) == {}
    return gid


def test_a_peers_filing_applies_and_the_coordinator_accepts_here(agreed, filed, alice):
    dispute = Dispute.objects.get(gid=filed)
    assert (dispute.state, dispute.coordinator, dispute.co_coordinator) == ("filed", "SHDEX", "BJIDX")
    assert dispute_roles(alice, agreed) == {"coordinator"}
    step = dispute_take(actor=alice, deal=agreed, action="accept", data={}, dispute_gid=filed)
    assert (step.origin, step.role, step.actor_id, step.audience) == (
        "SHDEX",
        "coordinator",
        "SHDEX",
        agreed.audience,
    )
    assert Dispute.objects.get(gid=filed).state == "accepted"
    # Private: a sealed stub in the public log, the content only in the private entry for the audience.
    stub = Entry.objects.get(record_type="sealed", gid=f"dispute_step:{step.gid}")
    assert json.loads(stub.body)["payload"]["audience"] == ["BJIDX", "SHDEX"]
    assert "coordinator" not in stub.body and "accept" not in json.loads(stub.body)["payload"].values()
    assert PrivateEntry.objects.get(gid=step.gid).audience == ["BJIDX", "SHDEX"]
    assert list(DISPUTE_STEP.live("SHDEX")) == []  # never in the digests
    assert DISPUTE_STEP.digest_when_empty is False


def test_the_private_endpoint_serves_a_dispute_step_to_the_audience_only(agreed, filed, alice):
    step = dispute_take(
        actor=alice, deal=agreed, action="message", data={"text": "请补充合同"}, dispute_gid=filed
    )
    peer_add(code="GYBDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    Peer.objects.filter(exchange_id="BJIDX").update(public_key=keys.public_key_b64())
    path = f"/federation/v1/private/SHDEX/dispute_step/{step.gid}/"
    served = _signed_get(path, "BJIDX")
    assert served.status_code == 200
    assert json.loads(served.content)["entry"]["payload"]["body"] == {"text": "请补充合同"}
    assert _signed_get(path, "GYBDX").status_code == 404


def test_a_party_takes_its_steps_at_its_home_node_only(agreed, filed):
    buyer = _principal(BUYER, "BJIDX", ["demander"])
    with pytest.raises(Forbidden) as exc:
        dispute_take(actor=buyer, deal=agreed, action="withdraw", data={}, dispute_gid=filed)
    assert exc.value.code == "not_owner" and exc.value.extra == {"node": "BJIDX"}


def test_the_co_coordinator_messages_at_its_node_and_may_not_resolve(agreed, filed, bob, settings):
    settings.NODE_CODE = "BJIDX"
    assert dispute_roles(bob, agreed) == {"co_coordinator"}
    step = dispute_take(
        actor=bob, deal=agreed, action="message", data={"text": "已通知买方"}, dispute_gid=filed
    )
    assert (step.origin, step.role, step.actor_id) == ("BJIDX", "co_coordinator", "BJIDX")
    outcome = {"outcome": {"kind": "dismissed", "summary": "x"}}
    with pytest.raises(Forbidden) as exc:
        dispute_take(actor=bob, deal=agreed, action="resolve", data=outcome, dispute_gid=filed)
    assert exc.value.code == "dispute.wrong_role"
    settings.NODE_CODE = "SHDEX"
    assert dispute_state(agreed, filed, dispute_steps(filed))["messages"] == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"body": {**FILING, "category": "boredom"}}, "body.category", "invalid_choice"),
        ({"body": {**FILING, "claim_amount": "-5"}}, "body.claim_amount", "amount"),
        ({"body": {**FILING, "description": "\u3000"}}, "body.description", "length"),
        ({"body": "file"}, "body", "type"),
        ({"action": "sue"}, "action", "invalid_choice"),
        ({"role": "judge"}, "role", "invalid_choice"),
        ({"dispute": f"BJIDX-{'0' * 32}"}, "dispute", "mismatch"),
        ({"audience": ["SHDEX"]}, "audience", "format"),
        ({"role": "coordinator", "actor": "SHDEX"}, "actor", "mismatch"),
        ({"actor": "91110000R8A676TY7X"}, "actor", None),
        ({"at": "yesterday"}, "at", None),
    ],
)
def test_a_peers_bad_step_is_refused_naming_the_rule(agreed, change, field, code):
    gid, payload = _filing(agreed, **change)
    errors = _apply(gid, payload)
    found = [(e.field, e.code) for e in errors[gid].errors]
    assert any(f == field and (code is None or c == code) for f, c in found), found
    assert not DisputeStep.objects.exists() and not Dispute.objects.exists()


def test_a_step_its_node_does_not_own_is_held_but_never_applied(agreed, filed):
    # BJIDX signs a "coordinator" resolution naming itself: well formed, but the coordinator is SHDEX.
    gid = f"BJIDX-{uuid.uuid4().hex}"
    outcome = {"kind": "full_refund", "refund_amount": "20000.00", "summary": "自行裁决"}
    payload = {
        **_filing(agreed)[1],
        "id": gid,
        "dispute": filed,
        "action": "resolve",
        "role": "coordinator",
        "actor": "BJIDX",
        "body": {"outcome": outcome},
    }
    assert _apply(gid, payload) == {}
    derived = dispute_state(agreed, filed, dispute_steps(filed))
    assert derived["state"] == "filed" and derived["ignored"] == [gid]
    assert Dispute.objects.get(gid=filed).state == "filed"


def test_a_step_before_its_filing_waits_for_it(agreed):
    filing_gid, filing = _filing(agreed)
    withdraw_gid = f"BJIDX-{uuid.uuid4().hex}"
    withdrawal = {**filing, "id": withdraw_gid, "action": "withdraw", "body": {"reason": "和解"}}
    assert _apply(withdraw_gid, withdrawal) == {}
    assert not Dispute.objects.exists()
    withdrawal_at = DisputeStep.objects.get(gid=withdraw_gid).at
    assert _apply(filing_gid, {**filing, "at": time_text(withdrawal_at)}) == {}
    # Same time: the filing's id decides the order; either way the dispute is derived when the filing comes.
    assert Dispute.objects.get(gid=filing_gid).state in {"filed", "withdrawn"}


def _fetch(gid):
    return PrivateFetch.objects.create(
        origin=ORIGIN,
        record_type="dispute_step",
        gid=gid,
        version=1,
        audience=["BJIDX", "SHDEX"],
        next_attempt_at=timezone.now(),
    )


def test_a_fetched_step_with_a_bad_signature_or_body_is_not_kept(agreed, bjidx_key):
    forged_gid, forged = _filing(agreed)
    bad_gid, bad = _filing(agreed, body={**FILING, "category": "boredom"})
    good_gid, good = _filing(agreed)
    forger = Ed25519PrivateKey.generate()
    served = {
        forged_gid: item(forger, seq=1, gid=forged_gid, record_type="dispute_step", payload=forged),
        bad_gid: item(bjidx_key, seq=2, gid=bad_gid, record_type="dispute_step", payload=bad),
        good_gid: item(bjidx_key, seq=3, gid=good_gid, record_type="dispute_step", payload=good),
    }
    with serve(lambda path: (200, served[path.rstrip("/").rsplit("/", 1)[-1]])) as url:
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=url)
        for gid in (forged_gid, bad_gid, good_gid):
            _fetch(gid)
        assert private_fetch_due() == 1
    fetches = {f.gid: f for f in PrivateFetch.objects.all()}
    assert "signature" in fetches[forged_gid].last_error and fetches[forged_gid].state == "pending"
    assert "category: invalid_choice" in fetches[bad_gid].last_error
    assert fetches[good_gid].state == "done"
    assert list(DisputeStep.objects.values_list("gid", flat=True)) == [good_gid]
    assert Dispute.objects.get(gid=good_gid).state == "filed"


def test_a_deal_arriving_after_its_dispute_derives_it(agreed, filed):
    Dispute.objects.all().delete()
    deal_disputes_followup([agreed.gid])  # what the deal's receiver does when the deal arrives
    assert Dispute.objects.get(gid=filed).state == "filed"


def test_a_withdrawal_crossing_a_resolution_is_held_and_shown_refused(agreed, filed, alice):
    dispute_take(actor=alice, deal=agreed, action="accept", data={}, dispute_gid=filed)
    outcome = {"outcome": {"kind": "dismissed", "summary": "证据不足"}}
    dispute_take(actor=alice, deal=agreed, action="resolve", data=outcome, dispute_gid=filed)
    # The buyer withdrew at BJIDX before the resolution arrived there; here it comes after it.
    gid = f"BJIDX-{uuid.uuid4().hex}"
    payload = {**_filing(agreed)[1], "id": gid, "dispute": filed, "action": "withdraw", "body": {}}
    assert _apply(gid, payload) == {}
    derived = dispute_state(agreed, filed, dispute_steps(filed))
    assert derived["state"] == "resolved"
    assert [(r["step"], r["code"]) for r in derived["rejected"]] == [(gid, "dispute.wrong_state")]
    assert Dispute.objects.get(gid=filed).state == "resolved"
