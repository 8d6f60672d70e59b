"""Dispute coordination rules: working-day deadlines over Chinese holidays and 调休 weekends, every transition
and every refusal, the deterministic order rule, outcome validation, and peers' garbage."""

import datetime as dt
from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from standards.deal_disputes import (
    DISPUTE_ALLOWED,
    dispute_deadlines,
    dispute_derive,
    dispute_overdue,
    dispute_step_clean,
    dispute_step_refusal,
    dispute_vocabularies_as_json,
    outcome_clean,
    working_days_after,
)
from standards.working_days import calendar_days_after, is_working_day, working_day_known

CST = dt.timezone(dt.timedelta(hours=8))
AMOUNT = Decimal("1000.00")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class TestWorkingDays:
    def test_national_day_week_and_the_saturday_worked_in_lieu(self):
        # Filed on 2025-09-30: 1–8 October are holidays, Saturday 11 October is worked (调休).
        start = at("2025-09-30T10:00:00+08:00")
        assert working_days_after(start, 1) == at("2025-10-09T10:00:00+08:00")
        assert working_days_after(start, 2) == at("2025-10-10T10:00:00+08:00")
        assert working_days_after(start, 3) == at("2025-10-11T10:00:00+08:00")
        assert working_days_after(start, 4) == at("2025-10-13T10:00:00+08:00")

    def test_a_sunday_worked_in_lieu_counts(self):
        # Friday 26 September 2025; Saturday 27 is a rest day, Sunday 28 a working day.
        assert working_days_after(at("2025-09-26T16:30:00+08:00"), 1) == at("2025-09-28T16:30:00+08:00")

    def test_an_ordinary_week_skips_the_weekend(self):
        assert working_days_after(at("2025-11-14T15:00:00+08:00"), 3) == at("2025-11-19T15:00:00+08:00")

    def test_starting_on_a_holiday_counts_from_the_next_working_day(self):
        assert working_days_after(at("2025-10-03T09:00:00+08:00"), 1) == at("2025-10-09T09:00:00+08:00")

    def test_days_are_those_of_china_whatever_the_zone_of_the_start(self):
        # 20:00 UTC on 30 September is 04:00 on 1 October in Beijing: a holiday already.
        start = at("2025-09-30T20:00:00+00:00")
        result = working_days_after(start, 1)
        assert result == at("2025-10-09T04:00:00+08:00")
        assert result.utcoffset() == dt.timedelta(0)

    def test_zero_days_is_the_start(self):
        start = at("2025-10-01T09:00:00+08:00")
        assert working_days_after(start, 0) == start

    @pytest.mark.parametrize("days", [-1, 3651, True, 1.0, "3"])
    def test_bad_day_counts_are_refused(self, days):
        with pytest.raises(ValueError):
            working_days_after(at("2025-11-14T15:00:00+08:00"), days)

    def test_a_naive_start_is_refused(self):
        with pytest.raises(ValueError):
            working_days_after(dt.datetime(2025, 11, 14, 15), 1)

    def test_beyond_the_calendar_monday_to_friday_stands_in(self):
        assert working_day_known(dt.date(2025, 10, 1)) and not working_day_known(dt.date(2099, 1, 2))
        # Friday 2 January 2099 + 1 working day: Monday 5 January.
        assert working_days_after(at("2099-01-02T10:00:00+08:00"), 1) == at("2099-01-05T10:00:00+08:00")
        assert is_working_day(dt.date(2099, 1, 1)) and not is_working_day(dt.date(2099, 1, 3))

    def test_calendar_days_ending_on_a_rest_day_move_to_the_next_working_day(self):
        # 9 October + 30 days is Saturday 8 November 2025: the deadline moves to Monday 10 November.
        assert calendar_days_after(at("2025-10-09T09:00:00+08:00"), 30) == at("2025-11-10T09:00:00+08:00")
        # 1 September + 30 days is 1 October: the holiday ends on the 8th, the 9th is the deadline.
        assert calendar_days_after(at("2025-09-01T09:00:00+08:00"), 30) == at("2025-10-09T09:00:00+08:00")
        # Ending on the 调休 Saturday 11 October 2025: a working day, no move.
        assert calendar_days_after(at("2025-09-11T09:00:00+08:00"), 30) == at("2025-10-11T09:00:00+08:00")

    def test_dispute_deadlines(self):
        filed, accepted = at("2025-09-30T10:00:00+08:00"), at("2025-10-09T09:00:00+08:00")
        assert dispute_deadlines(filed, None, accept_working_days=3, resolve_days=30) == {
            "accept_by": at("2025-10-11T10:00:00+08:00"),
            "resolve_by": None,
        }
        deadlines = dispute_deadlines(filed, accepted, accept_working_days=5, resolve_days=15)
        assert deadlines["accept_by"] == at("2025-10-14T10:00:00+08:00")
        assert deadlines["resolve_by"] == at("2025-10-24T09:00:00+08:00")


# --- steps -------------------------------------------------------------------------------------------------


def file(role="buyer", when="2025-11-03T09:00:00+08:00", **extra):
    return {
        "action": "file",
        "role": role,
        "at": when,
        "category": "quality",
        "description": "交付的数据缺少约定字段 / fields missing",
        **extra,
    }


def step(action, role, when, **extra):
    return {"action": action, "role": role, "at": when, **extra}


def accept(when="2025-11-04T09:00:00+08:00"):
    return step("accept", "coordinator", when)


def statement(role="provider", when="2025-11-05T09:00:00+08:00"):
    return step("statement", role, when, text="我方已按约交付 / delivered as agreed", evidence=["EV-1"])


def message(role="co_coordinator", when="2025-11-05T10:00:00+08:00"):
    return step("message", role, when, text="请补充材料 / please add evidence")


def resolve(kind="partial_refund", when="2025-11-20T09:00:00+08:00", **outcome):
    body = {"kind": kind, "summary": "调解达成一致 / settled", **outcome}
    if kind == "partial_refund":
        body.setdefault("refund_amount", "300")
    return step("resolve", "coordinator", when, outcome=body)


def withdraw(role="buyer", when="2025-11-06T09:00:00+08:00"):
    return step("withdraw", role, when, reason="已和解 / settled privately")


def escalate(role="coordinator", when="2025-11-06T09:00:00+08:00"):
    return step("escalate", role, when, venue="arbitration", reference="SHAC-2025-001")


def derive(*steps, amount=AMOUNT):
    return dispute_derive(list(steps), deal_amount=amount, accept_working_days=3, resolve_days=30)


def rejected(derived):
    return [(r["index"], r["code"]) for r in derived["rejected"]]


class TestTransitions:
    def test_nothing_filed(self):
        derived = derive()
        assert derived["state"] is None and derived["allowed"] == ["file"]
        assert not dispute_overdue(derived, at("2030-01-01T00:00:00+08:00"))

    def test_filed(self):
        derived = derive(file(claim_amount="500"))
        assert derived["state"] == "filed" and derived["filed_by"] == "buyer"
        assert derived["category"] == "quality" and derived["amounts"]["claimed"] == Decimal("500.00")
        assert derived["allowed"] == sorted(DISPUTE_ALLOWED["filed"])
        # Monday 3 November 2025 + 3 working days.
        assert derived["deadlines"] == {"accept_by": at("2025-11-06T09:00:00+08:00"), "resolve_by": None}

    def test_a_provider_may_file_too(self):
        derived = derive(file(role="provider", category="usage_violation"))
        assert derived["state"] == "filed" and derived["filed_by"] == "provider"

    def test_accepted_then_mediation_by_a_statement(self):
        derived = derive(file(), accept())
        assert derived["state"] == "accepted" and derived["accepted_at"] == at("2025-11-04T09:00:00+08:00")
        assert derived["deadlines"]["resolve_by"] == at("2025-12-04T09:00:00+08:00")
        derived = derive(file(), accept(), statement(), statement("buyer", "2025-11-05T11:00:00+08:00"))
        assert derived["state"] == "mediation"
        assert derived["statements"] == {"buyer": 1, "provider": 1}

    @pytest.mark.parametrize("role", ["buyer", "provider", "coordinator", "co_coordinator"])
    def test_messages_keep_the_state(self, role):
        assert derive(file(), message(role))["state"] == "filed"
        derived = derive(file(), accept(), message(role))
        assert derived["state"] == "accepted" and derived["messages"] == 1

    @pytest.mark.parametrize(
        "before", [[file()], [file(), accept()], [file(), accept(), statement()]], ids=["filed", "acc", "med"]
    )
    def test_the_filer_withdraws_in_any_open_state(self, before):
        derived = derive(*before, withdraw())
        assert derived["state"] == "withdrawn" and derived["allowed"] == []
        assert derived["closed_at"] == at("2025-11-06T09:00:00+08:00")

    @pytest.mark.parametrize(
        "before", [[file()], [file(), accept()], [file(), accept(), statement()]], ids=["filed", "acc", "med"]
    )
    def test_the_coordinator_escalates_in_any_open_state(self, before):
        derived = derive(*before, escalate())
        assert derived["state"] == "escalated"
        assert derived["escalation"] == {
            "venue": "arbitration",
            "reference": "SHAC-2025-001",
            "by": "coordinator",
        }

    @pytest.mark.parametrize(
        "before", [[file(), accept()], [file(), accept(), statement()]], ids=["acc", "med"]
    )
    def test_the_coordinator_resolves_after_acceptance(self, before):
        derived = derive(*before, resolve())
        assert derived["state"] == "resolved" and derived["closed_at"] == at("2025-11-20T09:00:00+08:00")
        assert derived["outcome"]["kind"] == "partial_refund"
        assert derived["amounts"] == {"deal": AMOUNT, "claimed": None, "refund": Decimal("300.00")}
        assert derived["evaluation"] == {"of": "provider", "dimension": "service"}

    def test_a_dismissal_evaluates_no_one_and_usage_violations_are_compliance(self):
        assert derive(file(), accept(), resolve("dismissed"))["evaluation"] is None
        violation = derive(file(category="usage_violation"), accept(), resolve("full_refund"))
        assert violation["evaluation"] == {"of": "provider", "dimension": "compliance"}
        assert violation["amounts"]["refund"] == AMOUNT

    def test_a_party_escalates_once_the_acceptance_is_overdue(self):
        # accept_by is Thursday 6 November 09:00.
        early = derive(file(), escalate("buyer", "2025-11-06T09:00:00+08:00"))
        assert early["state"] == "filed" and rejected(early) == [(1, "dispute.not_overdue")]
        late = derive(file(), escalate("provider", "2025-11-06T09:00:01+08:00"))
        assert late["state"] == "escalated" and late["escalation"]["by"] == "provider"

    def test_a_party_escalates_once_the_resolution_is_overdue(self):
        # Accepted 4 November: resolve_by is Thursday 4 December 09:00.
        early = derive(file(), accept(), statement(), escalate("buyer", "2025-12-04T08:59:00+08:00"))
        assert early["state"] == "mediation" and rejected(early) == [(3, "dispute.not_overdue")]
        late = derive(file(), accept(), statement(), escalate("buyer", "2025-12-04T09:01:00+08:00"))
        assert late["state"] == "escalated"


class TestRefusals:
    @pytest.mark.parametrize("action", ["accept", "statement", "message", "withdraw", "escalate", "resolve"])
    def test_nothing_before_filing(self, action):
        steps = {
            "accept": accept(),
            "statement": statement(),
            "message": message(),
            "withdraw": withdraw(),
            "escalate": escalate(),
            "resolve": resolve(),
        }
        derived = derive(steps[action])
        assert derived["state"] is None and rejected(derived) == [(0, "dispute.not_filed")]

    def test_filing_twice(self):
        assert rejected(derive(file(), file(role="provider"))) == [(1, "dispute.already_filed")]

    @pytest.mark.parametrize(
        ("before", "late"),
        [
            ([file()], statement()),
            ([file()], resolve()),
            ([file(), accept()], accept("2025-11-05T09:00:00+08:00")),
            ([file(), accept(), statement()], accept("2025-11-06T09:00:00+08:00")),
        ],
    )
    def test_actions_outside_their_states(self, before, late):
        derived = derive(*before, late)
        assert rejected(derived) == [(len(before), "dispute.wrong_state")]

    @pytest.mark.parametrize(
        "closing", [withdraw(), escalate(), resolve("dismissed", when="2025-11-06T09:00:00+08:00")]
    )
    @pytest.mark.parametrize(
        "later",
        [
            accept("2025-11-07T09:00:00+08:00"),
            statement(when="2025-11-07T09:00:00+08:00"),
            message(when="2025-11-07T09:00:00+08:00"),
            withdraw(when="2025-11-07T09:00:00+08:00"),
            escalate(when="2025-11-07T09:00:00+08:00"),
            resolve(when="2025-11-07T09:00:00+08:00"),
        ],
    )
    def test_a_closed_dispute_takes_no_step(self, closing, later):
        derived = derive(file(), accept(), closing, later)
        assert derived["state"] in ("withdrawn", "escalated", "resolved")
        assert rejected(derived) == [(3, "dispute.wrong_state")]
        # An escalated dispute awaits the venue's decision, which the coordinator records (rules 1.2).
        assert derived["allowed"] == (["ruling"] if derived["state"] == "escalated" else [])

    @pytest.mark.parametrize(
        ("before", "wrong"),
        [
            ([], file(role="coordinator")),
            ([], file(role="co_coordinator")),
            ([file()], step("accept", "buyer", "2025-11-04T09:00:00+08:00")),
            ([file()], step("accept", "co_coordinator", "2025-11-04T09:00:00+08:00")),
            ([file(), accept()], step("statement", "coordinator", "2025-11-05T09:00:00+08:00", text="x")),
            ([file(), accept()], {**resolve(), "role": "buyer"}),
            ([file(), accept()], {**resolve(), "role": "co_coordinator"}),
            ([file(), accept()], {**withdraw(), "role": "coordinator"}),
            ([file(), accept()], {**escalate(), "role": "co_coordinator"}),
        ],
    )
    def test_wrong_roles(self, before, wrong):
        assert rejected(derive(*before, wrong)) == [(len(before), "dispute.wrong_role")]

    def test_only_the_filer_withdraws(self):
        derived = derive(file(role="buyer"), withdraw(role="provider"))
        assert derived["state"] == "filed" and rejected(derived) == [(1, "dispute.not_filer")]

    def test_no_step_predates_the_filing(self):
        derived = derive(file(), accept("2025-11-02T09:00:00+08:00"))
        assert derived["state"] == "filed" and rejected(derived) == [(1, "dispute.before_filing")]

    def test_the_refusal_is_bilingual_for_the_service_that_checks_before_writing(self):
        derived = derive(file())
        refusal = dispute_step_refusal(derived, dispute_step_clean(resolve(), deal_amount=AMOUNT))
        assert refusal.code == "dispute.wrong_state" and "已提起" in refusal.message
        assert "filed" in refusal.message_en
        assert dispute_step_refusal(derived, dispute_step_clean(accept())) is None


class TestConflicts:
    def test_a_withdrawal_and_a_resolution_crossing_the_first_in_order_wins(self):
        crossing = [withdraw(when="2025-11-20T09:00:00+08:00"), resolve(when="2025-11-20T09:00:00+08:00")]
        first = derive(file(), accept(), *crossing)
        assert first["state"] == "withdrawn" and rejected(first) == [(3, "dispute.wrong_state")]
        second = derive(file(), accept(), *reversed(crossing))
        assert second["state"] == "resolved" and rejected(second) == [(3, "dispute.wrong_state")]

    def test_derivation_is_the_same_every_time(self):
        steps = [file(), accept(), statement(), message(), resolve()]
        assert derive(*steps) == derive(*steps)


class TestOverdue:
    def test_filed_overdue_after_the_acceptance_deadline(self):
        derived = derive(file())
        assert not dispute_overdue(derived, at("2025-11-06T09:00:00+08:00"))
        assert dispute_overdue(derived, at("2025-11-06T09:00:01+08:00"))

    def test_accepted_or_in_mediation_overdue_after_the_resolution_deadline(self):
        for derived in (derive(file(), accept()), derive(file(), accept(), statement())):
            assert not dispute_overdue(derived, at("2025-12-04T09:00:00+08:00"))
            assert dispute_overdue(derived, at("2025-12-04T09:00:00+00:00"))

    @pytest.mark.parametrize("closing", [withdraw(), escalate(), resolve()])
    def test_a_closed_dispute_is_never_overdue(self, closing):
        assert not dispute_overdue(derive(file(), accept(), closing), at("2030-01-01T00:00:00+08:00"))

    def test_the_deadlines_follow_the_networks_configuration(self):
        derived = dispute_derive([file(), accept()], accept_working_days=1, resolve_days=5)
        assert derived["deadlines"]["accept_by"] == at("2025-11-04T09:00:00+08:00")
        assert derived["deadlines"]["resolve_by"] == at("2025-11-10T09:00:00+08:00")  # the 9th is a Sunday


class TestOutcome:
    @pytest.mark.parametrize("kind", ["dismissed", "redelivery"])
    def test_no_refund_outcomes(self, kind):
        outcome = outcome_clean({"kind": kind, "summary": " 理由 "}, amount=AMOUNT)
        assert outcome["refund_amount"] == Decimal("0.00") and outcome["summary"] == "理由"
        assert (
            outcome_clean({"kind": kind, "summary": "x", "refund_amount": 0}, amount=AMOUNT)["kind"] == kind
        )
        with pytest.raises(ValidationFailed) as caught:
            outcome_clean({"kind": kind, "summary": "x", "refund_amount": "1"}, amount=AMOUNT)
        assert [(e.field, e.code) for e in caught.value.errors] == [("outcome.refund_amount", "not_allowed")]

    def test_against_whom(self):
        assert outcome_clean({"kind": "dismissed", "summary": "x"}, amount=AMOUNT)["against"] is None
        assert outcome_clean({"kind": "redelivery", "summary": "x"}, amount=AMOUNT)["against"] == "provider"

    @pytest.mark.parametrize(
        ("refund", "valid"),
        [("0.01", True), ("999.99", True), (300, True), (0, False), ("1000", False), ("1000.01", False),
         ("-5", False), ("0.001", False), (None, False)],
    )  # fmt: skip
    def test_a_partial_refund_lies_strictly_between_zero_and_the_amount(self, refund, valid):
        value = {"kind": "partial_refund", "summary": "x"}
        if refund is not None:
            value["refund_amount"] = refund
        if valid:
            assert outcome_clean(value, amount=AMOUNT)["refund_amount"] == Decimal(str(refund))
        else:
            with pytest.raises(ValidationFailed) as caught:
                outcome_clean(value, amount=AMOUNT, field="resolve.outcome")
            assert caught.value.errors[0].field == "resolve.outcome.refund_amount"

    def test_a_full_refund_is_the_amount(self):
        assert (
            outcome_clean({"kind": "full_refund", "summary": "x"}, amount=AMOUNT)["refund_amount"] == AMOUNT
        )
        value = {"kind": "full_refund", "summary": "x", "refund_amount": "1000"}
        assert outcome_clean(value, amount=AMOUNT)["refund_amount"] == AMOUNT
        with pytest.raises(ValidationFailed):
            outcome_clean({**value, "refund_amount": "999"}, amount=AMOUNT)

    def test_a_partial_refund_beyond_the_deal_is_a_rejected_step(self):
        derived = derive(file(), accept(), resolve(refund_amount="1500"))
        assert derived["state"] == "accepted" and rejected(derived) == [(2, "range")]
        unknown_amount = derive(file(), accept(), resolve(refund_amount="1500"), amount=None)
        assert unknown_amount["state"] == "resolved"

    @pytest.mark.parametrize(
        "garbage",
        [None, "refund", [], {}, {"kind": "refund_all", "summary": "x"}, {"kind": "dismissed"},
         {"kind": "dismissed", "summary": ""}, {"kind": "dismissed", "summary": 5},
         {"kind": "dismissed", "summary": "x" * 4001}, {"kind": ["partial_refund"], "summary": "x"},
         {"kind": "partial_refund", "summary": "x", "refund_amount": True},
         {"kind": "partial_refund", "summary": "x", "refund_amount": "NaN"},
         {"kind": "partial_refund", "summary": "x", "refund_amount": float("inf")},
         {"kind": "partial_refund", "summary": "x", "refund_amount": {"v": 1}}],
    )  # fmt: skip
    def test_bad_outcomes_only_raise_validation_failed(self, garbage):
        with pytest.raises(ValidationFailed) as caught:
            outcome_clean(garbage, amount=AMOUNT)
        assert caught.value.errors


class TestStepValidation:
    def test_a_clean_step_is_normalised(self):
        clean = dispute_step_clean(file(claim_amount=250, evidence=[" EV-1 ", "EV-1", "EV-2"], id="x"))
        assert clean == {
            "action": "file",
            "role": "buyer",
            "at": at("2025-11-03T09:00:00+08:00"),
            "category": "quality",
            "description": "交付的数据缺少约定字段 / fields missing",
            "claim_amount": Decimal("250.00"),
            "evidence": ["EV-1", "EV-2"],
        }

    @pytest.mark.parametrize(
        ("bad", "field", "code"),
        [
            ({**file(), "action": "appeal"}, "steps.0.action", "invalid_choice"),
            ({**file(), "role": "judge"}, "steps.0.role", "invalid_choice"),
            ({**file(), "at": "2025-11-03T09:00:00"}, "steps.0.at", "format"),
            ({**file(), "at": "yesterday"}, "steps.0.at", "format"),
            ({**file(), "at": 1730595600}, "steps.0.at", "format"),
            ({**file(), "at": "9999-12-31T23:59:59+14:00"}, "steps.0.at", "range"),
            ({**file(), "at": "1999-12-31T23:59:59+00:00"}, "steps.0.at", "range"),
            ({**file(), "category": "fraud"}, "steps.0.category", "invalid_choice"),
            ({**file(), "description": "  "}, "steps.0.description", "length"),
            ({**file(), "claim_amount": "1000.01"}, "steps.0.claim_amount", "range"),
            ({**file(), "claim_amount": "-1"}, "steps.0.claim_amount", "amount"),
            ({**file(), "evidence": "EV-1"}, "steps.0.evidence", "type"),
            ({**file(), "evidence": ["x" * 201]}, "steps.0.evidence", "type"),
            ({**file(), "evidence": ["EV"] * 21}, "steps.0.evidence", "type"),
            ({**statement(), "text": None}, "steps.0.text", "length"),
            ({**message(), "text": "x" * 4001}, "steps.0.text", "length"),
            ({**withdraw(), "reason": "x" * 501}, "steps.0.reason", "length"),
            ({**escalate(), "venue": "media"}, "steps.0.venue", "invalid_choice"),
            ({**escalate(), "reference": 12}, "steps.0.reference", "length"),
            ({**resolve(), "outcome": None}, "steps.0.outcome", "type"),
        ],
    )
    def test_each_rule_names_its_field(self, bad, field, code):
        with pytest.raises(ValidationFailed) as caught:
            dispute_step_clean(bad, deal_amount=AMOUNT, field="steps.0")
        assert (field, code) in [(e.field, e.code) for e in caught.value.errors]

    @pytest.mark.parametrize(
        "garbage",
        [None, 7, "file", [], {}, {"action": None}, {"action": {"x": 1}, "role": [], "at": {}},
         {"action": "resolve", "role": "coordinator", "at": "2025-11-03T09:00:00+08:00", "outcome": []},
         {"action": "file", "role": "buyer", "at": "2025-11-03T09:00:00+08:00", "category": None,
          "description": ["x"], "claim_amount": [], "evidence": [None]}],
    )  # fmt: skip
    def test_peer_garbage_only_raises_validation_failed_and_derive_never_raises(self, garbage):
        with pytest.raises(ValidationFailed):
            dispute_step_clean(garbage)
        derived = derive(file(), garbage, accept())
        assert derived["state"] == "accepted" and [r["index"] for r in derived["rejected"]] == [1]

    @pytest.mark.parametrize("garbage", [None, "steps", {"a": 1}, 3])
    def test_derive_of_something_not_a_list_is_no_dispute(self, garbage):
        assert dispute_derive(garbage)["state"] is None


def test_vocabularies_are_bilingual_and_describe_the_rules():
    body = dispute_vocabularies_as_json()
    assert {t["code"] for t in body["category"]} == {
        "not_as_described", "quality", "late_delivery", "no_delivery", "usage_violation", "payment", "other"
    }  # fmt: skip
    assert {"code": "partial_refund", "zh": "部分退款", "en": "Partial refund"} in body["outcome"]
    assert body["allowed"]["filed"] == ["accept", "escalate", "message", "withdraw"]
    assert body["roles"]["resolve"] == ["coordinator"]
    assert all(
        term["zh"] and term["en"] for terms in body.values() if isinstance(terms, list) for term in terms
    )


NASTY = [
    None, True, 0, -1, 10**400, 1.5, float("nan"), "", " ", "\x00", "\ud800", "x" * 5000, "NaN", "2025-13-45",
    "9999-12-31T23:59:59+14:00", [], [None], {}, {"kind": "full_refund"}, "coordinator", "resolve",
]  # fmt: skip


@pytest.mark.parametrize(
    "example",
    [file(claim_amount="10", evidence=["EV-1"]), accept(), statement(), message(), withdraw(), escalate(),
     resolve(), resolve("full_refund", refund_amount="1000")],
    ids=lambda s: s["action"] + ("_full" if "full" in str(s) else ""),
)  # fmt: skip
def test_every_field_of_a_step_mutated_raises_only_validation_failed(example):
    keys = [(key,) for key in example] + [("outcome", key) for key in example.get("outcome", {})]
    for path in keys:
        for value in NASTY:
            mutated = {**example, "outcome": dict(example.get("outcome", {}))}
            if "outcome" not in example:
                del mutated["outcome"]
            target = mutated if len(path) == 1 else mutated["outcome"]
            target[path[-1]] = value
            try:
                dispute_step_clean(mutated, deal_amount=AMOUNT)
            except ValidationFailed as exc:
                assert exc.errors
            before = {"file": [], "accept": [file()]}.get(example["action"], [file(), accept()])
            derived = derive(*before, mutated)
            assert len(derived["applied"]) + len(derived["rejected"]) == len(before) + 1


def ruling(
    kind="partial_refund", when="2025-11-20T09:00:00+08:00", reference="SHAC-2025-001号裁决", **outcome
):
    body = {"kind": kind, "summary": "仲裁裁决 / award", **outcome}
    if kind == "partial_refund":
        body.setdefault("refund_amount", "300")
    return step("ruling", "coordinator", when, outcome=body, reference=reference)


class TestRules12:
    """Dispute rules 1.2: outcomes for a dispute the provider files, and the ruling of an escalated one."""

    def test_the_providers_dispute_is_answered_against_the_buyer(self):
        compensation = {"compensation_amount": "400"}
        derived = derive(file(role="provider"), accept(), resolve("compensation", **compensation))
        assert derived["state"] == "resolved"
        assert derived["outcome"]["against"] == "buyer"
        assert derived["outcome"]["compensation_amount"] == Decimal("400.00")
        assert derived["evaluation"] == {"of": "buyer", "dimension": "service"}
        upheld = derive(file(role="provider", category="usage_violation"), accept(), resolve("upheld"))
        assert upheld["evaluation"] == {"of": "buyer", "dimension": "compliance"}

    @pytest.mark.parametrize(
        ("filer", "kind"),
        [("buyer", "upheld"), ("buyer", "compensation"), ("provider", "redelivery"),
         ("provider", "partial_refund"), ("provider", "full_refund")],
    )  # fmt: skip
    def test_an_outcome_answers_only_the_filers_kind_of_dispute(self, filer, kind):
        extra = {"compensation_amount": "10"} if kind == "compensation" else {}
        derived = derive(file(role=filer), accept(), resolve(kind, **extra))
        assert derived["state"] == "accepted"
        assert rejected(derived) == [(2, "dispute.outcome_not_for_filer")]
        assert derived["rejected"][0]["field"] == "outcome.kind"

    @pytest.mark.parametrize(
        ("amount", "code"), [(None, "required"), ("0", "range"), ("1000.01", "range"), ("abc", "amount")]
    )
    def test_a_compensation_lies_above_zero_and_at_most_the_amount(self, amount, code):
        value = {"kind": "compensation", "summary": "x"}
        if amount is not None:
            value["compensation_amount"] = amount
        with pytest.raises(ValidationFailed) as caught:
            outcome_clean(value, amount=AMOUNT)
        assert ("outcome.compensation_amount", code) in [(e.field, e.code) for e in caught.value.errors]
        assert (
            outcome_clean({**value, "compensation_amount": "1000"}, amount=AMOUNT)["kind"] == "compensation"
        )
        with pytest.raises(ValidationFailed):
            outcome_clean({"kind": "dismissed", "summary": "x", "compensation_amount": "1"}, amount=AMOUNT)

    def test_an_escalated_dispute_takes_its_ruling_from_the_coordinator_only(self):
        derived = derive(file(), accept(), escalate(), ruling())
        assert derived["state"] == "resolved" and derived["applied"] == [0, 1, 2, 3]
        assert derived["outcome"]["kind"] == "partial_refund"
        assert derived["amounts"]["refund"] == Decimal("300.00")
        assert derived["escalation"]["ruling"] == "SHAC-2025-001号裁决"
        assert derived["evaluation"] == {"of": "provider", "dimension": "service"}
        by_party = derive(file(), accept(), escalate(), {**ruling(), "role": "buyer"})
        assert rejected(by_party) == [(3, "dispute.wrong_role")] and by_party["state"] == "escalated"
        not_escalated = derive(file(), accept(), ruling())
        assert rejected(not_escalated) == [(2, "dispute.wrong_state")]

    def test_a_ruling_names_its_case(self):
        with pytest.raises(ValidationFailed) as caught:
            dispute_step_clean(ruling(reference=""))
        assert [e.field for e in caught.value.errors] == ["reference"]

    def test_the_rules_publish_version_1_2(self):
        from standards.deal_disputes import DISPUTE_RULES_VERSION, dispute_rules_as_json

        rules = dispute_rules_as_json()
        assert DISPUTE_RULES_VERSION == rules["version"] == "1.2"
        assert rules["allowed"]["escalated"] == ["ruling"]
        assert rules["outcomes_for"]["provider"] == ["compensation", "dismissed", "upheld"]
