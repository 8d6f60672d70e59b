# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py are imported and taken as arguments
"""A dispute's resolution moves a rejected deal on, through the API at one node (SHDEX holds every role; alice
is the coordinating exchange's operator): dismissed → accepted and settled in full, partial_refund → accepted
and settled net of the refund, full_refund → terminated with nothing to settle, redelivery → cleared with a
new delivery deadline, then delivery and acceptance again; the outcome is the coordinator's deal step; a
dispute of a deal that is not rejected moves nothing; the stats count each deal where it ends."""

import datetime as dt

import pytest

from deals.models import DealStep
from deals.stats import deal_stats
from demands.models import Notification
from tests.deal_world import FILES
from tests.test_deal_disputes import SELLER, _act, _url
from tests.test_deals import (  # noqa: F401 - fixtures
    URL,
    _error,
    _login,
    _post,
    agreed,
    buyer,
    delivered,
    ordered,
    provider,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
OUTCOMES = {
    "dismissed": {"kind": "dismissed", "summary": "交付与合同一致，驳回"},
    "partial_refund": {"kind": "partial_refund", "refund_amount": "5000.00", "summary": "部分缺失，退款"},
    "full_refund": {"kind": "full_refund", "summary": "数据不可用，全额退款"},
    "redelivery": {"kind": "redelivery", "redeliver_within_days": 5, "summary": "重新交付完整文件"},
}


def _reject(buyer, deal):
    response = _post(buyer, deal, "acceptance", {"result": "rejected", "reason": "文件校验值不符"})
    assert response.status_code == 201 and response.json()["state"] == "rejected"
    return buyer.get(_url(deal)).json()[0]


def _resolve(alice_api, deal, dispute, outcome):
    assert _act(alice_api, deal, dispute, "accept").status_code == 201
    response = _act(alice_api, deal, dispute, "resolve", {"outcome": outcome})
    assert response.status_code == 201, response.content
    return response.json()


def _deal(client, deal):
    return client.get(f"{URL}{deal['id']}/").json()


@pytest.mark.parametrize(
    ("kind", "state", "amount"),
    [("dismissed", "accepted", "20000.00"), ("partial_refund", "accepted", "15000.00")],
)
def test_an_outcome_that_upholds_the_delivery_accepts_the_deal_and_it_settles(
    delivered, buyer, alice_api, kind, state, amount
):
    dispute = _reject(buyer, delivered)
    _resolve(alice_api, delivered, dispute, OUTCOMES[kind])
    deal = _deal(alice_api, delivered)
    assert deal["state"] == state and "settlement" in deal["actions"] and "outcome" not in deal["actions"]
    outcome = next(s for s in deal["steps"] if s["kind"] == "outcome")
    assert (outcome["role"], outcome["origin"], outcome["actor_id"], outcome["applied"]) == (
        "coordinator",
        "SHDEX",
        "SHDEX",
        True,
    )
    assert outcome["body"]["dispute"] == dispute["id"] and outcome["body"]["kind"] == kind
    settled = _post(alice_api, delivered, "settlement")
    assert settled.status_code == 201 and settled.json()["state"] == "settled"
    settlement = next(s for s in settled.json()["steps"] if s["kind"] == "settlement")["body"]
    assert settlement["amount"] == amount


def test_a_full_refund_ends_the_deal_with_nothing_to_settle(delivered, buyer, alice_api):
    dispute = _reject(buyer, delivered)
    _resolve(alice_api, delivered, dispute, OUTCOMES["full_refund"])
    deal = _deal(buyer, delivered)
    assert deal["state"] == "terminated" and deal["actions"] == []
    refused = _post(alice_api, delivered, "settlement")
    assert refused.status_code == 409 and _error(refused)[0] == "not_allowed_now"
    figures = deal_stats()
    assert figures["by_state"]["terminated"] == 1 and figures["value"] == {}
    assert (figures["delivered"], figures["accepted"]) == (1, 0)


def test_a_redelivery_opens_the_delivery_again_with_a_new_deadline(delivered, buyer, provider, alice_api):
    dispute = _reject(buyer, delivered)
    resolved = _resolve(alice_api, delivered, dispute, OUTCOMES["redelivery"])
    assert resolved["outcome"]["redeliver_within_days"] == 5
    deal = _deal(provider, delivered)
    outcome = DealStep.objects.get(deal_gid=delivered["id"], kind="outcome")
    assert deal["state"] == "cleared" and deal["actions"] == ["delivery"]
    due = dt.datetime.fromisoformat(deal["deadlines"]["delivery_by"])
    assert due == outcome.at + dt.timedelta(days=5) and deal["deadlines"]["acceptance_by"] is None
    assert deal_stats()["by_state"]["cleared"] == 1
    # The provider is told it must deliver again (deals.followups, as for every step it is waited for):
    # once after the compliance check, once after the outcome.
    told = Notification.objects.filter(participant_id=SELLER, kind="deal", demand_gid=delivered["id"])
    cleared = [n.payload for n in told.order_by("id") if n.payload["state"] == "cleared"]
    assert [p["actions"] for p in cleared] == [["delivery"], ["delivery"]]
    again = _post(provider, delivered, "deliveries", {"method": "file", "files": FILES})
    assert again.status_code == 201 and again.json()["state"] == "delivered"
    accepted = _post(buyer, delivered, "acceptance", {"result": "accepted"})
    assert accepted.status_code == 201 and accepted.json()["state"] == "accepted"
    settled = _post(alice_api, delivered, "settlement").json()
    assert next(s for s in settled["steps"] if s["kind"] == "settlement")["body"]["amount"] == "20000.00"
    figures = deal_stats()
    assert (figures["by_state"]["settled"], figures["accepted"], figures["value"]) == (
        1,
        1,
        {"CNY": "20000.00"},
    )


def test_a_rejected_redelivery_files_a_second_dispute(delivered, buyer, provider, alice_api):
    first = _reject(buyer, delivered)
    _resolve(alice_api, delivered, first, OUTCOMES["redelivery"])
    assert _post(provider, delivered, "deliveries", {"method": "file", "files": FILES}).status_code == 201
    _post(buyer, delivered, "acceptance", {"result": "rejected", "reason": "仍不完整"})
    disputes = buyer.get(_url(delivered)).json()
    second = next(d for d in disputes if d["id"] != first["id"])
    assert second["state"] == "filed"
    _resolve(alice_api, delivered, second, OUTCOMES["full_refund"])
    assert _deal(buyer, delivered)["state"] == "terminated"


@pytest.mark.parametrize(
    ("days", "code"), [(0, "range"), (91, "range"), ("5", "invalid_type"), (True, "invalid_type")]
)
def test_a_bad_redelivery_deadline_is_400_naming_the_field(delivered, buyer, alice_api, days, code):
    dispute = _reject(buyer, delivered)
    assert _act(alice_api, delivered, dispute, "accept").status_code == 201
    outcome = {**OUTCOMES["redelivery"], "redeliver_within_days": days}
    response = _act(alice_api, delivered, dispute, "resolve", {"outcome": outcome})
    assert response.status_code == 400
    assert _error(response) == ("validation_error", {("outcome.redeliver_within_days", code)})
    assert _deal(buyer, delivered)["state"] == "rejected"


def test_a_redelivery_deadline_on_another_outcome_is_400(delivered, buyer, alice_api):
    dispute = _reject(buyer, delivered)
    assert _act(alice_api, delivered, dispute, "accept").status_code == 201
    outcome = {**OUTCOMES["dismissed"], "redeliver_within_days": 3}
    response = _act(alice_api, delivered, dispute, "resolve", {"outcome": outcome})
    assert response.status_code == 400
    assert ("outcome.redeliver_within_days", "not_allowed") in _error(response)[1]


def test_a_dispute_of_an_accepted_deal_moves_nothing(delivered, buyer, alice_api):
    assert _post(buyer, delivered, "acceptance", {"result": "accepted"}).status_code == 201
    dispute = buyer.post(
        _url(delivered), {"category": "quality", "description": "缺三天数据"}, format="json"
    ).json()
    _resolve(alice_api, delivered, dispute, OUTCOMES["partial_refund"])
    assert _deal(buyer, delivered)["state"] == "accepted"
    assert not DealStep.objects.filter(deal_gid=delivered["id"], kind="outcome").exists()


def test_a_resolution_waits_for_the_rejection_that_filed_it(delivered, buyer, alice_api):
    """The filing names a rejection this node does not hold yet (it is on its way from the buyer's home):
    resolving now would move nothing, so it is 409 until the deal is rejected here."""
    pending = f"deal_step:SHDEX-{'0' * 32}"
    filing = {"category": "not_as_described", "description": "字段缺失", "evidence": [pending]}
    dispute = buyer.post(_url(delivered), filing, format="json").json()
    assert _act(alice_api, delivered, dispute, "accept").status_code == 201
    early = _act(alice_api, delivered, dispute, "resolve", {"outcome": OUTCOMES["dismissed"]})
    assert early.status_code == 409
    assert _error(early) == ("dispute.rejection_pending", {("dispute", "dispute.rejection_pending")})
    rejected = _post(buyer, delivered, "acceptance", {"result": "rejected", "reason": "字段缺失"})
    assert rejected.json()["state"] == "rejected"
    later = _act(alice_api, delivered, dispute, "resolve", {"outcome": OUTCOMES["dismissed"]})
    assert later.status_code == 201 and _deal(buyer, delivered)["state"] == "accepted"
