"""`/stats/deals/`: figures of the deals this node holds — its own and those in whose audience it is — for
one exchange or for all, computed by the database from the figures kept on each deal (deals.figures), never
by deriving deals one by one: two statements, whatever the number of deals.

1. Counts and sums grouped by state and currency (at most 13 × currencies rows come back), read from an
   index that holds every column it reads (`deal_figures`) rather than from the wide rows.
2. Both medians, each an ordered walk of its partial index to the middle value(s) (`ORDER BY … LIMIT 2
   OFFSET (n-1)/2`, n from the first statement): on PostgreSQL an index-only scan of half the index, where a
   percentile over every row sorted them all (docs/performance.md, "Deal statistics"). A deal reaching a
   contract between the two statements moves the middle by one place at most: figures, not accounts.

3. The disputes of those deals (`Dispute`, this node's cache of each dispute's derived state; its
   coordinator and co-coordinator are the deal's product exchange and buyer's home, so `exchange` filters it
   directly): how many deals have one, how many accepted deals went to one (the acceptance rate leaves them
   out), how many open disputes are past their deadline — one aggregate — and the resolution times of the
   resolved ones (filing to resolution; disputes are few beside deals), whose median is taken here.
"""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from deals.models import Deal, Dispute
from standards.deal_disputes import OPEN_STATES
from standards.deal_flow import AGREED, CANCELLED, CLEARED, STATES, TERMINATED

# A contract whose delivery deadline passed with nothing delivered: waiting for the provider's delivery.
_AWAITING_DELIVERY = frozenset({AGREED, CLEARED})
_UNDONE = frozenset({CANCELLED, TERMINATED})
_MEDIANS = ("order_to_contract_s", "contract_to_acceptance_s")


def _middle(deals: QuerySet, column: str, n: int) -> tuple[str, tuple]:
    """SQL of the middle value (n odd) or two (n even) of `column` among `deals`, and its parameters."""
    ordered = deals.filter(**{f"{column}__isnull": False}).order_by(column).values(column)
    return ordered[(n - 1) // 2 : n // 2 + 1].query.sql_with_params()


def _medians(deals: QuerySet, counts: dict[str, int]) -> dict[str, float | None]:
    """Both medians in one statement (none when nothing has either figure)."""
    parts, params = [], []
    for i, column in enumerate(_MEDIANS):
        if counts[column]:
            sql, sql_params = _middle(deals, column, counts[column])
            parts.append(f"(SELECT AVG(m{i}.{column}) FROM ({sql}) m{i})")  # noqa: S608 (the ORM's SQL)
            params.extend(sql_params)
        else:
            parts.append("NULL")
    if all(part == "NULL" for part in parts):
        return dict.fromkeys(_MEDIANS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return {
        column: round(value, 3) if value is not None else None
        for column, value in zip(_MEDIANS, row, strict=True)
    }


def _dispute_figures(exchange: str | None, now: dt.datetime) -> dict[str, Any]:
    """Statements 3 and 4: the disputes of the deals counted (docstring above)."""
    disputes = Dispute.objects.all()
    if exchange:
        disputes = disputes.filter(Q(coordinator=exchange) | Q(co_coordinator=exchange))
    accepted_deal = Exists(Deal.objects.filter(gid=OuterRef("deal_gid"), accepted_at__isnull=False))
    figures = disputes.aggregate(
        deals=Count("deal_gid", distinct=True),
        accepted=Count("deal_gid", distinct=True, filter=Q(accepted_deal)),
        overdue=Count("id", filter=Q(state__in=OPEN_STATES, due_at__lt=now)),
    )
    resolved = disputes.filter(state="resolved", closed_at__isnull=False).values_list("filed_at", "closed_at")
    seconds = [(closed - filed).total_seconds() for filed, closed in resolved]
    figures["median_resolution_s"] = round(statistics.median(seconds), 3) if seconds else None
    return figures


def deal_stats(*, exchange: str | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of the deals held here; with `exchange`, of those whose product it lists or whose buyer
    it brought (the product's exchange or the buyer's home: the coordinating exchanges)."""
    now = now or dt.datetime.now(dt.UTC)
    deals = Deal.objects.all()
    if exchange:
        deals = deals.filter(Q(product_exchange=exchange) | Q(buyer_home=exchange))
    # COUNT(*), never COUNT(id): every column read is in `deal_figures`, so PostgreSQL scans the index only.
    groups = (
        deals.order_by()
        .values_list("state", "currency")
        .annotate(
            n=Count("*"),
            contracted=Count("agreed_at"),
            value=Sum("price_cents"),
            delivered=Count("delivered_at"),
            accepted=Count("accepted_at"),
            overdue=Count("delivery_by", filter=Q(delivery_by__lt=now)),
        )
    )
    by_state = dict.fromkeys(STATES, 0)
    totals = dict.fromkeys(("contracted", "delivered", "accepted", "overdue", *_MEDIANS), 0)
    cents: dict[str, int] = {}
    for state, currency, n, contracted, value, delivered, accepted, overdue in groups:
        by_state[state] += n
        totals["delivered"] += delivered
        totals["accepted"] += accepted
        # The durations are kept exactly when the deal reached a contract (and an acceptance).
        totals["order_to_contract_s"] += contracted
        totals["contract_to_acceptance_s"] += accepted
        if state in _AWAITING_DELIVERY:
            totals["overdue"] += overdue
        if state not in _UNDONE and contracted:
            totals["contracted"] += contracted
            cents[currency] = cents.get(currency, 0) + value
    medians = _medians(deals, totals)
    disputes = _dispute_figures(exchange, now)
    delivered, accepted = totals["delivered"], totals["accepted"]
    reached_contract = totals["order_to_contract_s"]
    return {
        "node": settings.NODE_CODE,
        "exchange": exchange or None,
        "deals": sum(by_state.values()),
        "by_state": by_state,
        "contracted": totals["contracted"],
        "value": {currency: f"{Decimal(cents[currency]).scaleb(-2):.2f}" for currency in sorted(cents)},
        "median_order_to_contract_s": medians["order_to_contract_s"],
        "median_contract_to_acceptance_s": medians["contract_to_acceptance_s"],
        "delivered": delivered,
        "accepted": accepted,
        # Accepted and not disputed since, of those delivered.
        "acceptance_rate": round((accepted - disputes["accepted"]) / delivered, 4) if delivered else None,
        "overdue_deliveries": totals["overdue"],
        # Deals with a dispute, of those that reached a contract.
        "disputed": disputes["deals"],
        "dispute_rate": round(disputes["deals"] / reached_contract, 4) if reached_contract else None,
        "median_dispute_resolution_s": disputes["median_resolution_s"],
        "overdue_disputes": disputes["overdue"],
    }
