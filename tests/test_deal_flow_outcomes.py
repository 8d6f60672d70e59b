"""A dispute's outcome on a rejected deal moves the flow on (standards.deal_flow, the coordinator's `outcome`
step): dismissed and partial_refund → accepted, full_refund → terminated, redelivery → cleared with a new
delivery deadline and the delivery path again; an outcome from anyone but the coordinator's node, or on a deal
that is not rejected, is ignored; the step's body is checked (standards.deal_steps)."""

import datetime as dt

import pytest

from core.exceptions import ValidationFailed
from standards.deal_flow import DEAL_FLOW_VERSION, deal_flow_as_json, derive
from standards.deal_steps import step_body_clean
from tests.test_deal_flow import FILES, T0, _deal, delivered_steps, step

DISPUTE = f"GYBDX-{'d' * 32}"


def outcome_body(kind, refund="0.00", days=None):
    return {"dispute": DISPUTE, "kind": kind, "refund_amount": refund, "redeliver_within_days": days}


def rejected_steps(deal):
    body = {"result": "rejected", "reason": "字段缺失"}
    return [*delivered_steps(deal), step(deal, 6, "acceptance", "buyer", body=body, minutes=60)]


def with_outcome(deal, kind, refund="0.00", days=None, **kw):
    steps = rejected_steps(deal)
    body = outcome_body(kind, refund, days)
    return [*steps, step(deal, 7, "outcome", "coordinator", body=body, minutes=24 * 60, **kw)]


@pytest.mark.parametrize(
    ("kind", "refund", "days", "state"),
    [
        ("dismissed", "0.00", None, "accepted"),
        ("partial_refund", "5000.00", None, "accepted"),
        ("full_refund", "20000.00", None, "terminated"),
        ("redelivery", "0.00", 5, "cleared"),
    ],
)
def test_each_outcome_moves_a_rejected_deal_on(kind, refund, days, state):
    deal = _deal()
    d = derive(deal, with_outcome(deal, kind, refund, days))
    assert d.state == state and not d.ignored
    assert d.outcomes == [outcome_body(kind, refund, days)]
    # When a state was first reached: a redelivery's deal was first cleared by the compliance check.
    first = T0 + (dt.timedelta(minutes=4) if state == "cleared" else dt.timedelta(days=1))
    assert d.times[state] == first


def test_an_accepted_outcome_is_then_settled_and_a_full_refund_ends_the_deal():
    deal = _deal()
    d = derive(deal, with_outcome(deal, "partial_refund", "5000.00"))
    assert d.actions["coordinator"] == ["settlement", "terminate"]
    assert d.times["accepted"] == T0 + dt.timedelta(days=1)
    ended = derive(deal, with_outcome(deal, "full_refund", "20000.00"))
    assert ended.actions == {"buyer": [], "provider": [], "coordinator": []}


def test_a_redelivery_opens_the_delivery_path_again_with_a_new_deadline():
    deal = _deal()
    steps = with_outcome(deal, "redelivery", days=5)
    d = derive(deal, steps)
    assert d.deadlines == {"delivery_by": T0 + dt.timedelta(days=6), "acceptance_by": None}
    assert d.delivery is None and d.actions["provider"] == ["delivery"]
    redelivery = step(
        deal, 8, "delivery", "provider", body={"method": "file", "files": FILES}, minutes=2 * 1440
    )
    steps.append(redelivery)
    d = derive(deal, steps)
    assert d.state == "delivered" and d.deadlines["acceptance_by"] == redelivery.at + dt.timedelta(hours=72)
    assert d.times["delivered"] == T0 + dt.timedelta(minutes=10)  # first reached, for the figures
    receipt = {"files": [{"name": "a.csv", "sha256": "a" * 64}]}
    steps.append(step(deal, 9, "receipt", "buyer", body=receipt, minutes=2 * 1440 + 10))
    steps.append(step(deal, 10, "acceptance", "buyer", body={"result": "accepted"}, minutes=2 * 1440 + 20))
    d = derive(deal, steps)
    assert d.state == "accepted" and not d.ignored


def test_a_second_rejection_after_a_redelivery_takes_a_second_outcome():
    deal = _deal()
    steps = with_outcome(deal, "redelivery", days=5)
    steps.append(step(deal, 8, "delivery", "provider", body={"method": "file", "files": FILES}, minutes=2880))
    rejection = {"result": "rejected", "reason": "仍缺字段"}
    steps.append(step(deal, 9, "acceptance", "buyer", body=rejection, minutes=2890))
    assert derive(deal, steps).state == "rejected"
    body = outcome_body("full_refund", "20000.00")
    steps.append(step(deal, 10, "outcome", "coordinator", body=body, minutes=4000))
    assert derive(deal, steps).state == "terminated"


@pytest.mark.parametrize(
    ("role", "origin", "actor"),
    [("buyer", None, None), ("provider", None, None), ("coordinator", "GYBDX", "GYBDX")],
)
def test_an_outcome_from_anyone_but_the_coordinators_node_is_ignored(role, origin, actor):
    deal = _deal()
    steps = rejected_steps(deal)
    steps.append(
        step(
            deal, 7, "outcome", role, body=outcome_body("dismissed"), minutes=1440, origin=origin, actor=actor
        )
    )
    d = derive(deal, steps)
    assert d.state == "rejected" and d.ignored == [steps[-1].gid]


def test_an_outcome_on_a_deal_that_is_not_rejected_is_ignored():
    deal = _deal()
    steps = [*delivered_steps(deal), step(deal, 6, "outcome", "coordinator", body=outcome_body("dismissed"))]
    d = derive(deal, steps)
    assert d.state == "delivered" and d.ignored == [steps[-1].gid]


def test_only_one_outcome_applies_to_one_rejection():
    deal = _deal()
    steps = with_outcome(deal, "full_refund", "20000.00")
    steps.append(step(deal, 8, "outcome", "coordinator", body=outcome_body("dismissed"), minutes=1500))
    d = derive(deal, steps)
    assert d.state == "terminated" and d.ignored == [steps[-1].gid]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**outcome_body("redelivery")}, "redeliver_within_days"),
        ({**outcome_body("redelivery", days=91)}, "redeliver_within_days"),
        ({**outcome_body("redelivery", days=0)}, "redeliver_within_days"),
        ({**outcome_body("dismissed", days=3)}, "redeliver_within_days"),
        ({**outcome_body("refund_all")}, "kind"),
        ({**outcome_body("dismissed"), "dispute": "x"}, "dispute"),
        ({**outcome_body("partial_refund", "-1")}, "refund_amount"),
        ({**outcome_body("dismissed"), "extra": 1}, "extra"),
    ],
)
def test_a_malformed_outcome_body_is_refused(body, field):
    with pytest.raises(ValidationFailed) as caught:
        step_body_clean("outcome", body)
    assert field in {e.field for e in caught.value.errors}


def test_the_flow_version_and_its_published_rules_name_the_outcomes():
    rules = deal_flow_as_json()
    assert DEAL_FLOW_VERSION == "1.2" and rules["version"] == "1.2"
    assert rules["outcome_leads_to"] == {
        "dismissed": "accepted",
        "full_refund": "terminated",
        "partial_refund": "accepted",
        "redelivery": "cleared",
        "withdrawn": "accepted",
    }
    assert {"state": "rejected", "role": "coordinator", "kinds": ["outcome", "terminate"]} in rules["allowed"]
