"""The figures of a deal that this node keeps beside its derived state (`Deal.agreed_at` … `Deal.currency`),
so `/stats/deals/` aggregates them in the database (deals.stats) instead of deriving every deal again.

Pure: from the derivation only (`standards.deal_flow.derive`), so every node of the audience holding the same
steps keeps the same figures, and the migration that added the columns fills them with this same function.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from standards.deal_flow import ACCEPTED, AGREED, DELIVERED, Derived

FIGURES = ("agreed_at", "delivered_at", "accepted_at", "delivery_by", "price_cents", "currency")


def deal_figures(derived: Derived) -> dict[str, Any]:
    """When the deal first reached agreed (the contract), delivered and accepted (the times of the steps
    that led there), its delivery deadline, and the agreed price in cents with its currency."""
    offer = derived.agreed_offer or {}
    price = offer.get("price")
    return {
        "agreed_at": derived.times.get(AGREED),
        "delivered_at": derived.times.get(DELIVERED),
        "accepted_at": derived.times.get(ACCEPTED),
        "delivery_by": derived.deadlines.get("delivery_by"),
        "price_cents": int(Decimal(price) * 100) if price is not None else None,
        "currency": offer.get("currency", "") if price is not None else "",
    }
