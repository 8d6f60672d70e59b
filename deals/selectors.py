"""Reads of deals: the steps held for a deal, its derived state, who may see it, and the deals a caller
sees."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import User
from deals.models import Deal, DealStep, ExchangeTerms
from participants.principal import ParticipantPrincipal
from standards.deal_flow import Derived, derive


def deal_steps(deal: Deal) -> list[DealStep]:
    return list(DealStep.objects.filter(deal_gid=deal.gid).order_by("seq", "id"))


def deal_derive(deal: Deal, steps: list[DealStep] | None = None) -> Derived:
    return derive(deal, deal_steps(deal) if steps is None else steps)


def _operator_exchange(actor: Any) -> str | None:
    """The exchange an active operator of this node acts for (admins: this node's), else None."""
    if not isinstance(actor, User) or not actor.is_active or not actor.is_authenticated:
        return None
    if actor.is_superuser or actor.role == User.Role.ADMIN:
        return settings.NODE_CODE
    if actor.role == User.Role.OPERATOR and actor.exchange_id == settings.NODE_CODE:
        return actor.exchange_id
    return None


def operator_exchange(actor: Any) -> str | None:
    """The exchange an active operator of this node acts for (admins: this node's), else None."""
    return _operator_exchange(actor)


def deal_roles(actor: Any, deal: Deal) -> set[str]:
    """The roles `actor` holds in `deal`: buyer/provider (the registration: USCC and home exchange), and
    coordinator for an operator of the product's exchange at its node."""
    roles = set()
    if isinstance(actor, ParticipantPrincipal):
        if (actor.participant_id, actor.home) == (deal.buyer_id, deal.buyer_home):
            roles.add("buyer")
        if (actor.participant_id, actor.home) == (deal.provider_id, deal.provider_home):
            roles.add("provider")
    elif _operator_exchange(actor) == deal.product_exchange:
        roles.add("coordinator")
    return roles


def deal_visible(actor: Any, deal: Deal) -> bool:
    """The parties, and the operators of the exchanges of the deal's audience at their own node."""
    if deal_roles(actor, deal):
        return True
    exchange = _operator_exchange(actor)
    return exchange is not None and exchange in deal.audience


def deals_for(actor: Any) -> QuerySet[Deal]:
    """The deals `actor` may read here: a participant's own, or (an operator) those its exchange is in."""
    deals = Deal.objects.order_by("-id")
    if isinstance(actor, ParticipantPrincipal):
        mine = Q(buyer_id=actor.participant_id, buyer_home=actor.home)
        mine |= Q(provider_id=actor.participant_id, provider_home=actor.home)
        return deals.filter(mine)
    exchange = _operator_exchange(actor)
    if exchange is None:
        return deals.none()
    involved = Q(origin=exchange) | Q(buyer_home=exchange) | Q(provider_home=exchange)
    return deals.filter(involved | Q(product_exchange=exchange))


def exchange_fee_rates(code: str) -> tuple[int, int]:
    """(listing, buyer) fee rates of an exchange in basis points: its published terms, else the defaults."""
    terms = ExchangeTerms.objects.filter(exchange_code=code).first()
    if terms is not None:
        return terms.listing_fee_bp, terms.buyer_fee_bp
    return settings.EXCHANGE_LISTING_FEE_BP, settings.EXCHANGE_BUYER_FEE_BP


def exchange_terms_get(code: str) -> ExchangeTerms | None:
    return ExchangeTerms.objects.filter(exchange_code=code).first()


def deal_get(gid: str) -> Deal | None:
    """A deal held here by its id (who may see it: `deal_visible`)."""
    return Deal.objects.filter(gid=gid).first()
