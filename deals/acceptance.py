"""The end of the acceptance window: a delivery the buyer has not answered counts as accepted. The
coordinating exchange's node writes an `auto_accept` step for each of its deals whose window has passed
(beat, every minute; idempotent: a deal answered or already auto-accepted is no longer due)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from deals.models import Deal
from deals.selectors import deal_derive
from deals.services import deal_step_take
from standards.deal_flow import DELIVERED, RECEIVED


def deals_auto_accept(*, now=None, limit: int = 200) -> int:
    now = now or timezone.now()
    done = 0
    due = Deal.objects.filter(product_exchange=settings.NODE_CODE, state__in=[DELIVERED, RECEIVED])
    for gid in due.values_list("gid", flat=True)[:limit]:
        with transaction.atomic():
            deal = Deal.objects.select_for_update().get(gid=gid)
            derived = deal_derive(deal)
            deadline = derived.deadlines["acceptance_by"]
            if derived.state not in {DELIVERED, RECEIVED} or deadline is None or now < deadline:
                continue
            try:
                deal_step_take(actor=None, deal=deal, kind="auto_accept", now=now)
            except Conflict:  # answered meanwhile
                continue
            done += 1
    return done
