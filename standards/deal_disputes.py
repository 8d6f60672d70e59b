"""Dispute coordination (纠纷协调) of a deal, as pure rules every node applies alike: the categories, states,
actions and outcomes with Chinese and English labels, who may take which step in which state, the outcome's
validation, the deadlines in working days, and the dispute's state derived from its ordered steps. A step is a
dict `{"action", "role", "at", ...}` owned by whoever took it; steps from peers are untrusted input
(`dispute_step_clean`). See docs/standards/deal-disputes.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.deal_dispute_steps import (
    ACCEPT_WORKING_DAYS,
    ACTION,
    CATEGORY,
    COORDINATOR,
    ESCALATION_VENUE,
    EVALUATION_DIMENSION,
    OUTCOME,
    PARTIES,
    REDELIVER_DAYS_DEFAULT,
    REDELIVER_DAYS_MAX,
    RESOLVE_DAYS,
    ROLE,
    STATE,
    dispute_step_clean,
    outcome_clean,
)
from standards.working_days import calendar_days_after, working_days_after

__all__ = [
    "ACCEPT_WORKING_DAYS",
    "ACTION",
    "CATEGORY",
    "DISPUTE_ALLOWED",
    "ESCALATION_VENUE",
    "EVALUATION_DIMENSION",
    "OUTCOME",
    "RESOLVE_DAYS",
    "ROLE",
    "STATE",
    "dispute_deadlines",
    "dispute_derive",
    "dispute_overdue",
    "dispute_rules_as_json",
    "dispute_step_clean",
    "dispute_step_refusal",
    "outcome_clean",
    "working_days_after",
]

DISPUTE_RULES_VERSION = "1.2"

# What may happen in each state. Nothing is filed yet: only "file" (state None).
DISPUTE_ALLOWED: dict[str, frozenset[str]] = {
    "filed": frozenset({"accept", "message", "withdraw", "escalate"}),
    "accepted": frozenset({"statement", "message", "withdraw", "escalate", "resolve"}),
    "mediation": frozenset({"statement", "message", "withdraw", "escalate", "resolve"}),
    "resolved": frozenset(),
    "withdrawn": frozenset(),
    # Escalated: awaiting the arbitration's or court's decision, which the coordinator records (1.2).
    "escalated": frozenset({"ruling"}),
}
OPEN_STATES = frozenset({"filed", "accepted", "mediation"})
# Who may take each action; a withdrawal is the filer's alone, a party's escalation waits for an overdue
# coordinator (dispute_step_refusal).
ACTION_ROLES: dict[str, frozenset[str]] = {
    "file": PARTIES,
    "accept": frozenset({COORDINATOR}),
    "statement": PARTIES,
    "message": frozenset(t.code for t in ROLE),
    "withdraw": PARTIES,
    "escalate": PARTIES | {COORDINATOR},
    "resolve": frozenset({COORDINATOR}),
    "ruling": frozenset({COORDINATOR}),
}
NEXT_STATE = {
    "file": "filed",
    "accept": "accepted",
    "statement": "mediation",
    "withdraw": "withdrawn",
    "escalate": "escalated",
    "resolve": "resolved",
    "ruling": "resolved",
}
# The outcomes that answer a dispute filed by each party (dismissed answers either).
OUTCOMES_FOR = {
    "buyer": frozenset({"dismissed", "redelivery", "partial_refund", "full_refund"}),
    "provider": frozenset({"dismissed", "upheld", "compensation"}),
}


def dispute_rules_as_json() -> dict:
    """The dispute rules as data (what `standards.versions` hashes): vocabularies, who may act in which
    state, where each action leads, and the deadlines."""

    def rows(terms) -> list[dict]:
        return [{"code": t.code, "zh": t.zh, "en": t.en} for t in terms]

    return {
        "version": DISPUTE_RULES_VERSION,
        "categories": rows(CATEGORY),
        "states": rows(STATE),
        "actions": rows(ACTION),
        "roles": rows(ROLE),
        "outcomes": rows(OUTCOME),
        "escalation_venues": rows(ESCALATION_VENUE),
        "allowed": {state: sorted(actions) for state, actions in sorted(DISPUTE_ALLOWED.items())},
        "action_roles": {action: sorted(roles) for action, roles in sorted(ACTION_ROLES.items())},
        "next_state": dict(sorted(NEXT_STATE.items())),
        "outcomes_for": {filer: sorted(kinds) for filer, kinds in sorted(OUTCOMES_FOR.items())},
        "evaluation_dimension": dict(sorted(EVALUATION_DIMENSION.items())),
        "accept_working_days": ACCEPT_WORKING_DAYS,
        "resolve_days": RESOLVE_DAYS,
        "redeliver_days": {"default": REDELIVER_DAYS_DEFAULT, "max": REDELIVER_DAYS_MAX},
    }


def dispute_deadlines(
    filed_at: dt.datetime,
    accepted_at: dt.datetime | None,
    *,
    accept_working_days: int = ACCEPT_WORKING_DAYS,
    resolve_days: int = RESOLVE_DAYS,
) -> dict:
    """`accept_by`: `accept_working_days` working days after filing (standards.working_days);
    `resolve_by`: `resolve_days` calendar days after acceptance, moved to the next working day when it falls
    on a holiday or weekend; None until accepted."""
    return {
        "accept_by": working_days_after(filed_at, accept_working_days),
        "resolve_by": None if accepted_at is None else calendar_days_after(accepted_at, resolve_days),
    }


def _overdue_at(derived: dict, moment: dt.datetime) -> bool:
    deadlines = derived.get("deadlines") or {}
    state = derived.get("state")
    if state == "filed":
        deadline = deadlines.get("accept_by")
    elif state in ("accepted", "mediation"):
        deadline = deadlines.get("resolve_by")
    else:
        return False
    return deadline is not None and moment > deadline


def dispute_overdue(derived: dict, now: dt.datetime) -> bool:
    """True while the coordinating exchange is late: still filed after `accept_by`, or accepted / in mediation
    after `resolve_by`. A closed dispute is never overdue."""
    return _overdue_at(derived, now)


def _refusal(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def dispute_step_refusal(derived: dict, step: dict) -> FieldError | None:
    """Why a cleaned step may not follow the steps `derived` was derived from, or None if it may: the action
    must be allowed in the state, the role allowed to take it, a withdrawal must be the filer's, a party's
    escalation must come after the coordinator's deadline, and no step may predate the filing."""
    state, action, role = derived.get("state"), step["action"], step["role"]
    if state is None:
        if action != "file":
            return _refusal("action", "dispute.not_filed", "纠纷尚未提起", "No dispute has been filed")
    elif action == "file":
        return _refusal("action", "dispute.already_filed", "纠纷已提起", "The dispute is already filed")
    elif action not in DISPUTE_ALLOWED[state]:
        return _refusal(
            "action",
            "dispute.wrong_state",
            f"纠纷处于“{_label(STATE, state)[0]}”状态，不能执行此操作",
            f"{action!r} is not allowed while the dispute is {state}",
        )
    if role not in ACTION_ROLES[action]:
        return _refusal("role", "dispute.wrong_role", "无权执行此操作", f"A {role} may not {action}")
    if derived.get("filed_at") is not None and step["at"] < derived["filed_at"]:
        return _refusal("at", "dispute.before_filing", "时间早于纠纷提起", "The step predates the filing")
    outcome = step.get("outcome") if action in ("resolve", "ruling") else None
    filer = derived.get("filed_by")
    if outcome is not None and filer in OUTCOMES_FOR and outcome["kind"] not in OUTCOMES_FOR[filer]:
        return _refusal(
            "outcome.kind",
            "dispute.outcome_not_for_filer",
            f"该处理结果不适用于{_label(ROLE, filer)[0]}提起的纠纷",
            f"A {outcome['kind']} outcome does not answer a dispute the {filer} filed "
            f"(one of {', '.join(sorted(OUTCOMES_FOR[filer]))})",
        )
    if action == "withdraw" and role != derived.get("filed_by"):
        return _refusal("role", "dispute.not_filer", "只有提起方可以撤回", "Only the filer may withdraw")
    if action == "escalate" and role in PARTIES and not _overdue_at(derived, step["at"]):
        return _refusal(
            "action",
            "dispute.not_overdue",
            "协调机构处理期限届满前，当事方不能申请升级",
            "A party may escalate only after the coordinator's deadline has passed",
        )
    return None


def _label(terms, code: str) -> tuple[str, str]:
    for term in terms:
        if term.code == code:
            return term.zh, term.en
    return code, code


def _empty(deal_amount: Decimal | None) -> dict:
    return {
        "state": None,
        "category": None,
        "filed_by": None,
        "filed_at": None,
        "accepted_at": None,
        "closed_at": None,
        "last_step_at": None,
        "outcome": None,
        "evaluation": None,
        "escalation": None,
        "amounts": {"deal": deal_amount, "claimed": None, "refund": None},
        "deadlines": {"accept_by": None, "resolve_by": None},
        "statements": {"buyer": 0, "provider": 0},
        "messages": 0,
        "allowed": ["file"],
        "applied": [],
        "rejected": [],
    }


def _apply(derived: dict, step: dict, config: dict) -> None:
    action, at = step["action"], step["at"]
    if action == "file":
        derived.update(category=step["category"], filed_by=step["role"], filed_at=at)
        derived["amounts"]["claimed"] = step["claim_amount"]
    elif action == "accept":
        derived["accepted_at"] = at
    elif action == "statement":
        derived["statements"][step["role"]] += 1
    elif action == "message":
        derived["messages"] += 1
    elif action == "escalate":
        derived["escalation"] = {"venue": step["venue"], "reference": step["reference"], "by": step["role"]}
    elif action in ("resolve", "ruling"):
        derived["outcome"] = step["outcome"]
        derived["amounts"]["refund"] = step["outcome"]["refund_amount"]
        if action == "ruling":
            derived["escalation"] = {**(derived["escalation"] or {}), "ruling": step["reference"]}
    if action in NEXT_STATE:
        derived["state"] = NEXT_STATE[action]
    if derived["state"] not in OPEN_STATES:
        derived["closed_at"] = at
    derived["last_step_at"] = at
    derived["deadlines"] = dispute_deadlines(derived["filed_at"], derived["accepted_at"], **config)


def dispute_derive(
    steps: list[dict],
    *,
    deal_amount: Decimal | None = None,
    accept_working_days: int = ACCEPT_WORKING_DAYS,
    resolve_days: int = RESOLVE_DAYS,
) -> dict:
    """The dispute as its ordered steps make it, the same at every node: state, category, filer, times,
    the outcome and amounts (deal, claimed, refunded), the deadlines, counts of statements and messages, the
    actions allowed next, which steps were applied and, once resolved, the evaluation the outcome makes.

    The list's order decides (order steps by time, then by step id): a step that is malformed, or not allowed
    where it falls (a withdrawal after a resolution that crossed it), is skipped and listed under `rejected`
    with its index and reason; nothing here raises on peer data. `deal_amount` bounds a partial refund;
    unknown (None), only the refund's own rules are checked."""
    config = {"accept_working_days": accept_working_days, "resolve_days": resolve_days}
    derived = _empty(deal_amount)
    for index, raw in enumerate(steps if isinstance(steps, list) else []):
        try:
            step = dispute_step_clean(raw, deal_amount=deal_amount)
        except ValidationFailed as exc:
            first = exc.errors[0]
            derived["rejected"].append(_rejection(index, first))
            continue
        refusal = dispute_step_refusal(derived, step)
        if refusal is not None:
            derived["rejected"].append(_rejection(index, refusal))
            continue
        _apply(derived, step, config)
        derived["applied"].append(index)
    state = derived["state"]
    derived["allowed"] = ["file"] if state is None else sorted(DISPUTE_ALLOWED[state])
    if state == "resolved":
        derived["evaluation"] = _evaluation(derived)
    return derived


def _rejection(index: int, error: FieldError) -> dict[str, Any]:
    return {"index": index, **error.as_dict()}


def _evaluation(derived: dict) -> dict | None:
    """The evaluation a resolution makes of the party it goes against (issued by the coordinating exchange),
    or None when it goes against no one (dismissed)."""
    against = derived["outcome"]["against"]
    if against is None:
        return None
    return {"of": against, "dimension": EVALUATION_DIMENSION[derived["category"]]}


def dispute_vocabularies_as_json() -> dict:
    """The dispute vocabularies with Chinese and English labels, and the rules of who may do what when."""
    return {
        name: [{"code": t.code, "zh": t.zh, "en": t.en} for t in terms]
        for name, terms in (
            ("category", CATEGORY),
            ("state", STATE),
            ("action", ACTION),
            ("role", ROLE),
            ("outcome", OUTCOME),
            ("escalation_venue", ESCALATION_VENUE),
        )
    } | {
        "allowed": {state: sorted(actions) for state, actions in DISPUTE_ALLOWED.items()},
        "roles": {action: sorted(roles) for action, roles in ACTION_ROLES.items()},
    }
