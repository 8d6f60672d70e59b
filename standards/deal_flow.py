"""The transaction flow (交易流程) of a deal: its state derived from its steps by one pure function, the same
at every node (docs/deals.md).

A deal's order and each of its steps are records written once by their owners; nothing holds "the state" to
update. `derive(deal, steps)` replays the steps in one deterministic order and applies those the flow allows:

* order: by `seq` (the position the step's writer gave it: one more than the steps it held for the deal), so
  a step never goes before one its writer had seen; steps written on the same basis crossed each other, and
  among them PRECEDENCE decides (cancel/terminate > offer/counter > accept > the rest), then `at`, then the
  gid. A cancellation and an acceptance that cross resolve to "cancelled" at every node, whatever order
  they arrived in.
* a step the flow does not allow in the state reached (a peer's step, or one that lost a crossing) is kept
  but ignored, and counted in `ignored`; a step is applied at most once (by gid).
* a step is also ignored when its role, actor and origin disagree with the deal (the buyer's steps come from
  the buyer's home node, the provider's from the provider's home, the coordinator's from the product's
  exchange), an accept names a contract digest other than the one of the offer it accepts, or an answer to a
  delivery comes outside the acceptance window.
* the resolution of a dispute on a rejected deal moves it on: the coordinator's `outcome` step (written with
  the resolution, same transaction) makes it accepted (dismissed, partial_refund: settled net of the refund),
  terminated (full_refund: nothing to settle) or cleared again with a new delivery deadline (redelivery,
  `redeliver_within_days` after the outcome), from where delivery, receipt and acceptance run again. The
  same step records an escalated dispute's ruling (1.2), and a buyer's withdrawal of its dispute (1.2:
  kind `withdrawn`, written by the coordinator's node when it sees the withdrawal): the delivery counts as
  accepted and is settled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from standards.deal_contract import CONTRACT_VERSION, contract_digest, contract_document

DEAL_FLOW_VERSION = "1.2"

ORDERED, NEGOTIATING, AGREED = "ordered", "negotiating", "agreed"
COMPLIANCE_FAILED, CLEARED, DELIVERED, RECEIVED = "compliance_failed", "cleared", "delivered", "received"
ACCEPTED, REJECTED, SETTLED, CLOSED = "accepted", "rejected", "settled", "closed"
CANCELLED, TERMINATED = "cancelled", "terminated"
STATES = (
    ORDERED,
    NEGOTIATING,
    AGREED,
    COMPLIANCE_FAILED,
    CLEARED,
    DELIVERED,
    RECEIVED,
    ACCEPTED,
    REJECTED,
    SETTLED,
    CLOSED,
    CANCELLED,
    TERMINATED,
)
FINAL = frozenset({CLOSED, CANCELLED, TERMINATED})
# Crossing steps (same seq): the lower number goes first.
PRECEDENCE = {"cancel": 0, "terminate": 0, "offer": 1, "counter": 1, "accept": 2}
REST = 3

_B, _P, _C = "buyer", "provider", "coordinator"
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    (ORDERED, _B): frozenset({"cancel"}),
    (ORDERED, _P): frozenset({"offer", "cancel"}),
    (NEGOTIATING, _B): frozenset({"counter", "accept", "cancel"}),
    (NEGOTIATING, _P): frozenset({"offer", "accept", "cancel"}),
    (AGREED, _B): frozenset({"cancel"}),
    (AGREED, _C): frozenset({"compliance"}),
    (COMPLIANCE_FAILED, _B): frozenset({"cancel"}),
    (COMPLIANCE_FAILED, _C): frozenset({"compliance"}),
    (CLEARED, _B): frozenset({"cancel"}),
    (CLEARED, _P): frozenset({"delivery"}),
    (DELIVERED, _B): frozenset({"receipt", "acceptance"}),
    (DELIVERED, _C): frozenset({"auto_accept"}),
    (RECEIVED, _B): frozenset({"acceptance"}),
    (RECEIVED, _C): frozenset({"auto_accept"}),
    (REJECTED, _C): frozenset({"outcome"}),
    (ACCEPTED, _C): frozenset({"settlement"}),
    (SETTLED, _B): frozenset({"evaluation"}),
    (SETTLED, _P): frozenset({"evaluation"}),
}
# The coordinator may terminate a deal in any state but a final one or a settled one.
for _state in STATES:
    if _state not in FINAL and _state != SETTLED:
        ALLOWED[(_state, _C)] = ALLOWED.get((_state, _C), frozenset()) | {"terminate"}

# Who may ever take each kind of step (in some state): anyone else is refused whatever the state.
KIND_ROLES: dict[str, frozenset[str]] = {}
for (_state, _role), _kinds in ALLOWED.items():
    for _kind in _kinds:
        KIND_ROLES[_kind] = KIND_ROLES.get(_kind, frozenset()) | {_role}

# The state a step of each kind leads to (offer/counter/accept/acceptance/compliance/evaluation decide
# for themselves).
_LEADS_TO = {
    "cancel": CANCELLED,
    "terminate": TERMINATED,
    "delivery": DELIVERED,
    "receipt": RECEIVED,
    "auto_accept": ACCEPTED,
    "settlement": SETTLED,
}
# The state a dispute's outcome leads a rejected deal to (the `outcome` step's body.kind).
OUTCOME_LEADS_TO = {
    "dismissed": ACCEPTED,
    "partial_refund": ACCEPTED,
    "full_refund": TERMINATED,
    "redelivery": CLEARED,
    "withdrawn": ACCEPTED,  # 1.2: the buyer withdrew the dispute of its rejection
}


def deal_flow_as_json() -> dict:
    """The flow's rules as data (what `standards.versions` hashes): the states, who may take which step in
    which state, the order of crossing steps, the states steps lead to, and the contract's version."""
    return {
        "version": DEAL_FLOW_VERSION,
        "contract_version": CONTRACT_VERSION,
        "states": list(STATES),
        "final": sorted(FINAL),
        "allowed": [
            {"state": state, "role": role, "kinds": sorted(kinds)}
            for (state, role), kinds in sorted(ALLOWED.items())
        ],
        "precedence": dict(sorted(PRECEDENCE.items())),
        "precedence_rest": REST,
        "leads_to": dict(sorted(_LEADS_TO.items())),
        "outcome_leads_to": dict(sorted(OUTCOME_LEADS_TO.items())),
    }


def order_key(step: Any) -> tuple:
    return (step.seq, PRECEDENCE.get(step.kind, REST), step.at, step.gid)


def role_origin(deal: Any, role: str) -> str | None:
    """The node that owns the steps of `role` in `deal`."""
    return {_B: deal.buyer_home, _P: deal.provider_home, _C: deal.product_exchange}.get(role)


def role_actor(deal: Any, role: str) -> str | None:
    return {_B: deal.buyer_id, _P: deal.provider_id, _C: deal.product_exchange}.get(role)


@dataclass
class Derived:
    state: str = ORDERED
    offer_version: int = 0
    offer: dict | None = None  # the current offer's body, with "version" and "by" (role)
    agreed_offer: dict | None = None
    contract_sha256: str | None = None
    accepts: dict[str, Any] = field(default_factory=dict)  # role -> accept step of the current offer
    deadlines: dict[str, dt.datetime | None] = field(
        default_factory=lambda: {"delivery_by": None, "acceptance_by": None}
    )
    times: dict[str, dt.datetime] = field(default_factory=dict)  # state -> when it was reached
    delivery: dict | None = None
    evaluated: set[str] = field(default_factory=set)
    outcomes: list[dict] = field(default_factory=list)  # the bodies of the outcome steps applied, in order
    applied: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    actions: dict[str, list[str]] = field(default_factory=dict)

    def contract(self, deal: Any) -> dict | None:
        if self.agreed_offer is None:
            return None
        return contract_document(deal, self.agreed_offer, self.agreed_offer["version"])


def _negotiate(deal: Any, d: Derived, step: Any) -> bool:
    if step.kind in {"offer", "counter"}:
        if step.offer_version != d.offer_version + 1:
            return False
        d.offer_version = step.offer_version
        d.offer = {**step.body, "version": step.offer_version, "by": step.role}
        d.accepts = {}
        d.state = NEGOTIATING
        return True
    # accept
    if step.offer_version != d.offer_version or step.role in d.accepts or d.offer is None:
        return False
    digest = contract_digest(contract_document(deal, d.offer, d.offer_version))
    if step.body.get("contract_sha256") != digest:
        return False
    d.accepts[step.role] = step
    if {_B, _P} <= set(d.accepts):
        d.state, d.agreed_offer, d.contract_sha256 = AGREED, d.offer, digest
        d.deadlines["delivery_by"] = step.at + dt.timedelta(days=d.offer["delivery_days"])
    return True


def _answer(d: Derived, step: Any) -> bool:
    """The buyer's acceptance or rejection within the window, or the coordinator's auto-acceptance after."""
    due = d.deadlines["acceptance_by"]
    if step.kind == "auto_accept":
        if due is None or step.at < due:
            return False
        d.state = ACCEPTED
        return True
    if due is not None and step.at > due:
        return False
    d.state = ACCEPTED if step.body.get("result") == "accepted" else REJECTED
    return True


def _outcome(d: Derived, step: Any) -> bool:
    """A dispute's outcome on a rejected deal: accepted, terminated, or cleared again for a redelivery (the
    new delivery deadline counted from the outcome, the earlier delivery and its window forgotten)."""
    target = OUTCOME_LEADS_TO.get(step.body.get("kind"))
    if target is None:
        return False
    if target == CLEARED:
        d.deadlines["delivery_by"] = step.at + dt.timedelta(days=step.body["redeliver_within_days"])
        d.deadlines["acceptance_by"] = None
        d.delivery = None
    d.outcomes.append(step.body)
    d.state = target
    return True


def _apply(deal: Any, d: Derived, step: Any) -> bool:
    kind = step.kind
    if kind in {"offer", "counter", "accept"}:
        return _negotiate(deal, d, step)
    if kind in {"acceptance", "auto_accept"}:
        return _answer(d, step)
    if kind == "compliance":
        d.state = CLEARED if step.body.get("passed") else COMPLIANCE_FAILED
        return True
    if kind == "outcome":
        return _outcome(d, step)
    if kind == "evaluation":
        if step.role in d.evaluated:
            return False
        d.evaluated.add(step.role)
        if {_B, _P} <= d.evaluated:
            d.state = CLOSED
        return True
    if kind == "delivery":
        d.delivery = step.body
        window = (d.agreed_offer or {}).get("acceptance_window_hours", 0)
        d.deadlines["acceptance_by"] = step.at + dt.timedelta(hours=window)
    d.state = _LEADS_TO[kind]
    return True


def _legitimate(deal: Any, step: Any) -> bool:
    return (
        step.deal_gid == deal.gid
        and step.origin == role_origin(deal, step.role)
        and step.actor_id == role_actor(deal, step.role)
    )


def derive(deal: Any, steps: list[Any]) -> Derived:
    """The state of `deal` (a Deal or anything with its attributes) after `steps` (DealSteps or alike:
    gid, deal_gid, origin, seq, kind, role, actor_id, at, body, offer_version), in any order."""
    d = Derived()
    seen: set[str] = set()
    for step in sorted(steps, key=order_key):
        if step.gid in seen:
            continue
        seen.add(step.gid)
        before = d.state
        allowed = step.kind in ALLOWED.get((d.state, step.role), ())
        if allowed and _legitimate(deal, step) and _apply(deal, d, step):
            d.applied.append(step.gid)
            if d.state != before:
                d.times.setdefault(d.state, step.at)
        else:
            d.ignored.append(step.gid)
    d.actions = actions_allowed(d)
    return d


def actions_allowed(d: Derived) -> dict[str, list[str]]:
    """What each role may do next (time-bound steps, auto_accept and late answers, are checked when taken)."""
    actions = {}
    for role in (_B, _P, _C):
        kinds = set(ALLOWED.get((d.state, role), ()))
        if role in d.accepts or d.offer is None:
            kinds.discard("accept")
        if d.offer is None:
            kinds.discard("counter")
        if role in d.evaluated:
            kinds.discard("evaluation")
        actions[role] = sorted(kinds)
    return actions
