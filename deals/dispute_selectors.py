"""Reads of deals' disputes (纠纷协调): who takes which role, the steps held, the dispute derived from them by
the standard (`standards.deal_disputes.dispute_derive`), the operators' queue and the figures of a set of
deals. A dispute is identified by the gid of its `file` step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from deals.models import Deal, Dispute, DisputeStep
from deals.selectors import deal_derive, deal_roles, operator_exchange
from standards.deal_dispute_steps import ACCEPT_WORKING_DAYS, RESOLVE_DAYS
from standards.deal_disputes import (
    ACTION_ROLES,
    OPEN_STATES,
    dispute_derive,
    dispute_overdue,
    dispute_step_refusal,
)

DISPUTE_ROLES = ("buyer", "provider", "coordinator", "co_coordinator")


def dispute_config() -> dict[str, int]:
    """The network's deadlines: working days to accept, calendar days to resolve (settings)."""
    return {
        "accept_working_days": getattr(settings, "DISPUTE_ACCEPT_WORKING_DAYS", ACCEPT_WORKING_DAYS),
        "resolve_days": getattr(settings, "DISPUTE_RESOLVE_DAYS", RESOLVE_DAYS),
    }


def dispute_roles(actor: Any, deal: Deal) -> set[str]:
    """The roles `actor` holds in `deal`'s disputes: buyer/provider (the registration), coordinator (an
    operator of the product's exchange at its node), co_coordinator (an operator of the buyer's home at its
    node, when that is another exchange)."""
    roles = deal_roles(actor, deal)
    exchange = operator_exchange(actor)
    if exchange is not None and exchange == deal.buyer_home and exchange != deal.product_exchange:
        roles.add("co_coordinator")
    return roles


def dispute_role_origin(deal: Deal, role: str) -> str | None:
    """The node that owns the dispute steps of `role` in `deal`."""
    return {
        "buyer": deal.buyer_home,
        "provider": deal.provider_home,
        "coordinator": deal.product_exchange,
        "co_coordinator": deal.buyer_home,
    }.get(role)


def dispute_role_actor(deal: Deal, role: str) -> str | None:
    return {
        "buyer": deal.buyer_id,
        "provider": deal.provider_id,
        "coordinator": deal.product_exchange,
        "co_coordinator": deal.buyer_home,
    }.get(role)


def deal_amount(deal: Deal) -> Decimal | None:
    """The contract's price, or None while the deal has none."""
    agreed = deal_derive(deal).agreed_offer
    return None if agreed is None else Decimal(agreed["price"])


def _legitimate(deal: Deal, dispute_gid: str, step: DisputeStep) -> bool:
    return (
        step.deal_gid == deal.gid
        and step.dispute_gid == dispute_gid
        and step.origin == dispute_role_origin(deal, step.role)
        and step.actor_id == dispute_role_actor(deal, step.role)
    )


def dispute_steps(dispute_gid: str) -> list[DisputeStep]:
    """The steps held of a dispute, in the standard's order: by time, then by id."""
    return list(DisputeStep.objects.filter(dispute_gid=dispute_gid).order_by("at", "gid"))


def step_dict(step: DisputeStep) -> dict:
    return {**step.body, "action": step.action, "role": step.role, "at": step.at}


def dispute_state(
    deal: Deal, dispute_gid: str, steps: list[DisputeStep], *, amount: Decimal | None = None
) -> dict:
    """The dispute as the standard derives it from the steps held, with `applied` and `rejected` naming step
    ids, and `ignored`: the steps whose role, actor or origin disagree with the deal (never applied)."""
    kept = [step for step in steps if _legitimate(deal, dispute_gid, step)]
    derived = dispute_derive(
        [step_dict(step) for step in kept],
        deal_amount=deal_amount(deal) if amount is None else amount,
        **dispute_config(),
    )
    derived["applied"] = [kept[i].gid for i in derived["applied"]]
    derived["rejected"] = [{**r, "step": kept[r["index"]].gid} for r in derived["rejected"]]
    derived["ignored"] = [step.gid for step in steps if step not in kept]
    return derived


def dispute_due_at(derived: dict) -> dt.datetime | None:
    """The coordinator's current deadline: accept_by while filed, resolve_by once accepted (or in
    mediation)."""
    if derived["state"] == "filed":
        return derived["deadlines"]["accept_by"]
    if derived["state"] in ("accepted", "mediation"):
        return derived["deadlines"]["resolve_by"]
    return None


def dispute_is_overdue(derived: dict, now: dt.datetime | None = None) -> bool:
    return dispute_overdue(derived, now or timezone.now())


def dispute_actions(derived: dict, roles: set[str], now: dt.datetime) -> list[str]:
    """What `roles` may do now (a party's escalation only once the coordinator is overdue, a withdrawal
    only the filer's)."""
    return sorted(
        action
        for action in derived["allowed"]
        for role in roles & ACTION_ROLES[action]
        if dispute_step_refusal(derived, {"action": action, "role": role, "at": now}) is None
    )


def deal_disputes(deal: Deal) -> QuerySet[Dispute]:
    return Dispute.objects.filter(deal_gid=deal.gid).order_by("filed_at", "id")


def deal_open_dispute(deal: Deal) -> Dispute | None:
    return deal_disputes(deal).filter(state__in=OPEN_STATES).first()


def deal_refunded(deal: Deal) -> Decimal:
    """What the resolved disputes of `deal` held here refund, in all."""
    amounts = deal_disputes(deal).filter(state="resolved").values_list("refund_amount", flat=True)
    return sum((a for a in amounts if a is not None), Decimal("0.00"))


def disputes_queue(actor: Any, *, state: str | None = None, overdue: bool = False, now=None) -> QuerySet:
    """The operators' queue: the disputes held here that the operator's exchange coordinates or
    co-coordinates (overdue first when asked for: open ones past their deadline)."""
    exchange = operator_exchange(actor)
    if exchange is None:
        return Dispute.objects.none()
    disputes = Dispute.objects.filter(Q(coordinator=exchange) | Q(co_coordinator=exchange))
    if state:
        disputes = disputes.filter(state=state)
    if overdue:
        disputes = disputes.filter(state__in=OPEN_STATES, due_at__lt=now or timezone.now())
    # Closed disputes (no deadline) last on every database (SQLite sorts NULL first, PostgreSQL last).
    return disputes.order_by(F("due_at").asc(nulls_last=True), "filed_at", "id")
