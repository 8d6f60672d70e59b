"""`/stats/deals/`: figures of the deals this node holds — its own and those in whose audience it is — for
one exchange or for all, aggregated by the database in one query over the figures kept on each deal
(deals.figures), never by deriving deals one by one.

Disputes are not built yet: the dispute rate, the median dispute resolution time and the count of overdue
disputes are answered as null, and are filled here when disputes land; the acceptance rate then leaves out
accepted deals that went to a dispute.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from core.aggregates import Median
from deals.models import Deal
from standards.deal_flow import AGREED, CANCELLED, CLEARED, STATES, TERMINATED
from standards.deal_steps import CURRENCIES

# A contract whose delivery deadline passed with nothing delivered: waiting for the provider's delivery.
_AWAITING_DELIVERY = (AGREED, CLEARED)


def _between(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _seconds(value: dt.timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if value is not None else None


def _aggregates(now: dt.datetime) -> dict[str, Any]:
    contracted = Q(agreed_at__isnull=False) & ~Q(state__in=[CANCELLED, TERMINATED])
    aggregates: dict[str, Any] = {f"state_{state}": Count("id", filter=Q(state=state)) for state in STATES}
    for currency in sorted(CURRENCIES):
        aggregates[f"value_{currency}"] = Sum("price_cents", filter=contracted & Q(currency=currency))
    aggregates.update(
        contracted=Count("id", filter=contracted),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        accepted=Count("id", filter=Q(accepted_at__isnull=False)),
        overdue_deliveries=Count("id", filter=Q(state__in=_AWAITING_DELIVERY, delivery_by__lt=now)),
        order_to_contract=Median(_between("agreed_at", "placed_at")),
        contract_to_acceptance=Median(_between("accepted_at", "agreed_at")),
    )
    return aggregates


def deal_stats(*, exchange: str | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of the deals held here; with `exchange`, of those whose product it lists or whose buyer
    it brought (the product's exchange or the buyer's home: the coordinating exchanges)."""
    deals = Deal.objects.all()
    if exchange:
        deals = deals.filter(Q(product_exchange=exchange) | Q(buyer_home=exchange))
    row = deals.order_by().aggregate(**_aggregates(now or dt.datetime.now(dt.UTC)))
    by_state = {state: row[f"state_{state}"] for state in STATES}
    value = {
        currency: f"{Decimal(row[f'value_{currency}']).scaleb(-2):.2f}"
        for currency in sorted(CURRENCIES)
        if row[f"value_{currency}"] is not None
    }
    delivered, accepted = row["delivered"], row["accepted"]
    return {
        "node": settings.NODE_CODE,
        "exchange": exchange or None,
        "deals": sum(by_state.values()),
        "by_state": by_state,
        "contracted": row["contracted"],
        "value": value,
        "median_order_to_contract_s": _seconds(row["order_to_contract"]),
        "median_contract_to_acceptance_s": _seconds(row["contract_to_acceptance"]),
        "delivered": delivered,
        "accepted": accepted,
        "acceptance_rate": round(accepted / delivered, 4) if delivered else None,
        "overdue_deliveries": row["overdue_deliveries"],
        # Filled when disputes land (issue 19, "Disputes"): null until then, never a guess.
        "dispute_rate": None,
        "median_dispute_resolution_s": None,
        "overdue_disputes": None,
    }
