"""`/stats/deals/`: figures of the deals this node holds — its own and those in whose audience it is — for
one exchange or for all, computed by the database from the figures kept on each deal (deals.figures), never
by deriving deals one by one: three statements, whatever the number of deals and disputes.

1. Counts and sums grouped by state and currency (at most 13 × currencies rows come back), read from an
   index that holds every column it reads (`deal_figures`) rather than from the wide rows; among them the
   disputed deals and the accepted ones that went to a dispute (`Deal.disputed`, kept by
   deals.dispute_followups whenever a dispute of the deal is held here).
2. The disputes (`Dispute`, this node's cache of each dispute's derived state; its coordinator and
   co-coordinator are the deal's product exchange and buyer's home, so `exchange` filters it directly): how
   many open ones are past their deadline and how many were resolved, one aggregate of the small table.
3. The three medians (order to contract, contract to accepted delivery, a dispute's filing to its
   resolution), each an ordered walk of its partial index to the middle value(s) (`ORDER BY … LIMIT 2
   OFFSET (n-1)/2`, n from the statements before): on PostgreSQL an index-only scan of half the index, where
   a percentile over every row sorted them all (docs/performance.md, "Deal statistics"). A deal reaching a
   contract between the statements moves the middle by one place at most: figures, not accounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from deals.models import Deal, Dispute
from standards.deal_disputes import OPEN_STATES
from standards.deal_flow import AGREED, CANCELLED, CLEARED, STATES, TERMINATED

# A contract whose delivery deadline passed with nothing delivered: waiting for the provider's delivery.
_AWAITING_DELIVERY = frozenset({AGREED, CLEARED})
_UNDONE = frozenset({CANCELLED, TERMINATED})
_MEDIANS = ("order_to_contract_s", "contract_to_acceptance_s")


def _middle(rows: QuerySet, column: str, n: int) -> tuple[str, tuple]:
    """SQL of the middle value (n odd) or two (n even) of `column` among `rows`, and its parameters."""
    ordered = rows.filter(**{f"{column}__isnull": False}).order_by(column).values(column)
    return ordered[(n - 1) // 2 : n // 2 + 1].query.sql_with_params()


def _medians(walks: dict[str, tuple[QuerySet, int]]) -> dict[str, float | None]:
    """The median of each column of `walks` ({column: (its rows, how many have it)}) in one statement (none
    when nothing has it)."""
    parts, params = [], []
    for i, (column, (rows, n)) in enumerate(walks.items()):
        if n:
            sql, sql_params = _middle(rows, column, n)
            parts.append(f"(SELECT AVG(m{i}.{column}) FROM ({sql}) m{i})")  # noqa: S608 (the ORM's SQL)
            params.extend(sql_params)
        else:
            parts.append("NULL")
    if all(part == "NULL" for part in parts):
        return dict.fromkeys(walks)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return {
        column: round(value, 3) if value is not None else None
        for column, value in zip(walks, row, strict=True)
    }


def _disputes(exchange: str | None) -> QuerySet:
    disputes = Dispute.objects.all()
    if exchange:
        disputes = disputes.filter(Q(coordinator=exchange) | Q(co_coordinator=exchange))
    return disputes


def _deal_totals(deals: QuerySet, now: dt.datetime) -> tuple[dict, dict, dict]:
    """Statement 1: the deals by state, the totals, the contracted value per currency."""
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
            with_dispute=Count("disputed", filter=Q(disputed=True)),
            accepted_disputed=Count("accepted_at", filter=Q(disputed=True)),
        )
    )
    by_state = dict.fromkeys(STATES, 0)
    names = ("contracted", "delivered", "accepted", "overdue", "disputed", "accepted_disputed", *_MEDIANS)
    totals = dict.fromkeys(names, 0)
    cents: dict[str, int] = {}
    for state, currency, n, contracted, value, delivered, accepted, overdue, *disputed in groups:
        by_state[state] += n
        totals["delivered"] += delivered
        totals["accepted"] += accepted
        totals["disputed"] += disputed[0]
        totals["accepted_disputed"] += disputed[1]
        # The durations are kept exactly when the deal reached a contract (and an acceptance).
        totals["order_to_contract_s"] += contracted
        totals["contract_to_acceptance_s"] += accepted
        if state in _AWAITING_DELIVERY:
            totals["overdue"] += overdue
        if state not in _UNDONE and contracted:
            totals["contracted"] += contracted
            cents[currency] = cents.get(currency, 0) + value
    return by_state, totals, cents


def deal_stats(*, exchange: str | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of the deals held here; with `exchange`, of those whose product it lists or whose buyer
    it brought (the product's exchange or the buyer's home: the coordinating exchanges)."""
    now = now or dt.datetime.now(dt.UTC)
    deals = Deal.objects.all()
    if exchange:
        deals = deals.filter(Q(product_exchange=exchange) | Q(buyer_home=exchange))
    by_state, totals, cents = _deal_totals(deals, now)
    disputes = _disputes(exchange)
    dispute_counts = disputes.aggregate(
        overdue=Count("id", filter=Q(state__in=OPEN_STATES, due_at__lt=now)),
        resolved=Count("resolution_s"),
    )
    medians = _medians(
        {
            **{column: (deals, totals[column]) for column in _MEDIANS},
            "resolution_s": (disputes, dispute_counts["resolved"]),
        }
    )
    delivered, accepted, disputed = totals["delivered"], totals["accepted"], totals["disputed"]
    clean = accepted - totals["accepted_disputed"]
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
        "acceptance_rate": round(clean / delivered, 4) if delivered else None,
        "overdue_deliveries": totals["overdue"],
        # Deals with a dispute, of those that reached a contract.
        "disputed": disputed,
        "dispute_rate": round(disputed / reached_contract, 4) if reached_contract else None,
        "median_dispute_resolution_s": medians["resolution_s"],
        "overdue_disputes": dispute_counts["overdue"],
    }
