"""The figures of a deal that this node keeps beside its derived state (`Deal.agreed_at` … `Deal.currency`),
so `/stats/deals/` aggregates them in the database (deals.stats) instead of deriving every deal again.

Pure: from the order's time and the derivation (`standards.deal_flow.derive`), so every node of the audience
holding the same steps keeps the same figures, and the migration that added the columns fills them with this
same function.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from standards.deal_flow import ACCEPTED, AGREED, DELIVERED, Derived


def _seconds(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    return (later - earlier).total_seconds() if later is not None and earlier is not None else None


def deal_figures(deal: Any, derived: Derived) -> dict[str, Any]:
    """When the deal first reached agreed (the contract), delivered and accepted (the times of the steps
    that led there), the seconds from its order to the contract and from the contract to the accepted
    delivery, its delivery deadline, and the agreed price in cents with its currency."""
    offer = derived.agreed_offer or {}
    price = offer.get("price")
    agreed, accepted = derived.times.get(AGREED), derived.times.get(ACCEPTED)
    return {
        "agreed_at": agreed,
        "delivered_at": derived.times.get(DELIVERED),
        "accepted_at": accepted,
        "order_to_contract_s": _seconds(agreed, deal.placed_at),
        "contract_to_acceptance_s": _seconds(accepted, agreed),
        "delivery_by": derived.deadlines.get("delivery_by"),
        "price_cents": int(Decimal(price) * 100) if price is not None else None,
        "currency": offer.get("currency", "") if price is not None else "",
    }


def resolution_seconds(
    state: str, filed_at: dt.datetime | None, closed_at: dt.datetime | None
) -> float | None:
    """A resolved dispute's seconds from its filing to its resolution (None for any other): kept on its
    `Dispute` row (deals.dispute_followups) for the median resolution time."""
    return _seconds(closed_at, filed_at) if state == "resolved" else None
