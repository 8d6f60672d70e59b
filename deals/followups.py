"""What a node does after a deal's record was written here or arrived: derive the state again from the steps
held, keep its cache (`Deal.state`), and start the work this node owns in that state — the coordinating
exchange runs the compliance check of an agreed deal (a task after commit)."""

from __future__ import annotations

from django.conf import settings

from core.queue import enqueue_on_commit
from deals.models import Deal, DealStep
from standards.deal_flow import AGREED, derive


def deals_followup(gids: list[str]) -> None:
    if not gids:
        return
    steps: dict[str, list[DealStep]] = {}
    for step in DealStep.objects.filter(deal_gid__in=gids):
        steps.setdefault(step.deal_gid, []).append(step)
    for deal in Deal.objects.filter(gid__in=gids):
        derived = derive(deal, steps.get(deal.gid, []))
        if (deal.state, deal.offer_version) != (derived.state, derived.offer_version):
            Deal.objects.filter(pk=deal.pk).update(state=derived.state, offer_version=derived.offer_version)
        if derived.state == AGREED and deal.product_exchange == settings.NODE_CODE:
            enqueue_on_commit("deals.tasks.deal_compliance", deal.gid)
