# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py are imported and taken as arguments
"""How a dispute that is not resolved by the coordinator ends for its deal (dispute rules and deal flow 1.2),
through the API at one node (SHDEX holds every role; alice is the coordinating exchange's operator): a
rejection's dispute withdrawn by the buyer → the delivery counts as accepted and settles in full (the
coordinator's `outcome` step of kind `withdrawn`), also when the rejection reaches the coordinator after the
withdrawal; escalated → the deal stays rejected until alice records the ruling, which moves it like a
resolution; a dispute the provider files is answered against the buyer (upheld, compensation), and moves no
deal; an outcome of the other party's kind is 400 naming `outcome.kind`."""

from decimal import Decimal

import pytest

from deals.dispute_followups import deal_disputes_followup
from deals.models import DealStep
from participants.models import Evaluation
from tests.test_deal_dispute_outcomes import OUTCOMES, _deal, _reject
from tests.test_deal_disputes import BUYER, FILING, _act
from tests.test_deals import (  # noqa: F401 - fixtures
    _error,
    _post,
    agreed,
    buyer,
    delivered,
    ordered,
    provider,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
RULING = {"outcome": OUTCOMES["partial_refund"], "reference": "（2026）沪仲字第0815号"}


def test_a_withdrawn_rejection_counts_as_accepted_and_settles_in_full(delivered, buyer, alice_api):
    dispute = _reject(buyer, delivered)
    withdrawn = _act(buyer, delivered, dispute, "withdraw", {"reason": "已与卖方和解"})
    assert withdrawn.status_code == 201 and withdrawn.json()["state"] == "withdrawn"
    deal = _deal(alice_api, delivered)
    assert deal["state"] == "accepted" and "settlement" in deal["actions"]
    outcome = next(s for s in deal["steps"] if s["kind"] == "outcome")
    assert (outcome["role"], outcome["origin"], outcome["applied"]) == ("coordinator", "SHDEX", True)
    assert outcome["body"] == {
        "dispute": dispute["id"],
        "kind": "withdrawn",
        "refund_amount": "0.00",
        "redeliver_within_days": None,
    }
    deal_disputes_followup([delivered["id"]])  # derived again: no second outcome
    assert DealStep.objects.filter(deal_gid=delivered["id"], kind="outcome").count() == 1
    settled = _post(alice_api, delivered, "settlement")
    assert settled.status_code == 201
    assert (
        next(s for s in settled.json()["steps"] if s["kind"] == "settlement")["body"]["amount"] == "20000.00"
    )


def test_a_rejection_arriving_after_the_withdrawal_still_accepts_the_deal(delivered, buyer, alice_api):
    """At the coordinator's node the withdrawal may come first: the outcome is written when the rejection
    arrives (here: the outcome undone, as if the rejection had just been applied)."""
    dispute = _reject(buyer, delivered)
    _act(buyer, delivered, dispute, "withdraw", {})
    DealStep.objects.filter(deal_gid=delivered["id"], kind="outcome").delete()
    assert _deal(alice_api, delivered)["state"] == "rejected"
    deal_disputes_followup([delivered["id"]])  # what the rejection's arrival runs (deals.receivers)
    assert _deal(alice_api, delivered)["state"] == "accepted"


def test_a_dispute_withdrawn_before_a_later_rejection_does_not_answer_it(delivered, buyer, alice_api):
    early = buyer.post(f"/api/v1/deals/{delivered['id']}/disputes/", FILING, format="json").json()
    assert _act(buyer, delivered, early, "withdraw", {}).json()["state"] == "withdrawn"
    _reject(buyer, delivered)  # files a dispute of its own: none is open
    listed = buyer.get(f"/api/v1/deals/{delivered['id']}/disputes/").json()
    dispute = next(d for d in listed if d["id"] != early["id"])
    assert dispute["state"] == "filed"
    deal_disputes_followup([delivered["id"]])
    assert _deal(alice_api, delivered)["state"] == "rejected"
    assert not DealStep.objects.filter(deal_gid=delivered["id"], kind="outcome").exists()
    _act(buyer, delivered, dispute, "withdraw", {})
    assert _deal(alice_api, delivered)["state"] == "accepted"


def test_an_escalated_dispute_keeps_the_deal_rejected_until_its_ruling_is_recorded(
    delivered, buyer, alice_api
):
    dispute = _reject(buyer, delivered)
    escalated = _act(alice_api, delivered, dispute, "escalate", {"venue": "arbitration"})
    assert escalated.status_code == 201 and escalated.json()["state"] == "escalated"
    assert _deal(alice_api, delivered)["state"] == "rejected"
    by_buyer = _act(buyer, delivered, dispute, "ruling", RULING)
    assert by_buyer.status_code == 403 and _error(by_buyer)[0] == "dispute.wrong_role"
    unnamed = _act(alice_api, delivered, dispute, "ruling", {"outcome": RULING["outcome"]})
    assert unnamed.status_code == 400 and ("reference", "required") in _error(unnamed)[1]
    recorded = _act(alice_api, delivered, dispute, "ruling", RULING)
    assert recorded.status_code == 201, recorded.content
    body = recorded.json()
    assert body["state"] == "resolved" and body["escalation"]["ruling"] == RULING["reference"]
    assert body["outcome"]["kind"] == "partial_refund"
    deal = _deal(alice_api, delivered)
    assert deal["state"] == "accepted"
    settled = _post(alice_api, delivered, "settlement").json()
    assert next(s for s in settled["steps"] if s["kind"] == "settlement")["body"]["amount"] == "15000.00"
    again = _act(alice_api, delivered, dispute, "ruling", RULING)
    assert again.status_code == 409 and _error(again)[0] == "dispute.wrong_state"


def test_a_ruling_needs_an_escalated_dispute(delivered, buyer, alice_api):
    dispute = _reject(buyer, delivered)
    _act(alice_api, delivered, dispute, "accept")
    refused = _act(alice_api, delivered, dispute, "ruling", RULING)
    assert refused.status_code == 409 and _error(refused)[0] == "dispute.wrong_state"


def test_the_providers_dispute_is_answered_against_the_buyer_and_moves_no_deal(
    delivered, buyer, provider, alice_api
):
    filed = provider.post(
        f"/api/v1/deals/{delivered['id']}/disputes/", {**FILING, "category": "usage_violation"}, format="json"
    )
    assert filed.status_code == 201, filed.content
    dispute = filed.json()
    assert _act(alice_api, delivered, dispute, "accept").status_code == 201
    refund = _act(alice_api, delivered, dispute, "resolve", {"outcome": OUTCOMES["partial_refund"]})
    assert refund.status_code == 400
    assert _error(refund) == (
        "validation_error",
        {("outcome.kind", "dispute.outcome_not_for_filer")},
    )
    outcome = {"kind": "compensation", "compensation_amount": "8000.00", "summary": "超出约定用途使用，赔偿"}
    resolved = _act(alice_api, delivered, dispute, "resolve", {"outcome": outcome})
    assert resolved.status_code == 201, resolved.content
    body = resolved.json()
    assert Decimal(str(body["outcome"]["compensation_amount"])) == Decimal("8000.00")
    assert body["outcome"]["against"] == "buyer" and body["evaluation"]["of"] == "buyer"
    evaluation = Evaluation.objects.get(gid=body["evaluation"]["id"])
    assert (evaluation.subject_id, evaluation.dimension, evaluation.score) == (BUYER, "compliance", 30)
    assert _deal(alice_api, delivered)["state"] == "delivered"  # the deal goes on where it was
    assert not DealStep.objects.filter(deal_gid=delivered["id"], kind="outcome").exists()


def test_a_compensation_beyond_the_deal_is_400_naming_the_field(delivered, provider, alice_api):
    dispute = provider.post(
        f"/api/v1/deals/{delivered['id']}/disputes/", {**FILING, "category": "payment"}, format="json"
    ).json()
    _act(alice_api, delivered, dispute, "accept")
    outcome = {"kind": "compensation", "compensation_amount": "20000.01", "summary": "赔偿"}
    refused = _act(alice_api, delivered, dispute, "resolve", {"outcome": outcome})
    assert refused.status_code == 400
    assert ("outcome.compensation_amount", "range") in _error(refused)[1]
