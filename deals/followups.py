"""What a node does after a deal's record was written here or arrived: derive the state again from the steps
held, keep its cache (`Deal.state`), and start the work this node owns in that state — the coordinating
exchange runs the compliance check of an agreed deal (a task after commit) —, and tell a party registered
here that the deal waits for its step (a notification and its webhooks, once per turn of the flow)."""

from __future__ import annotations

from django.conf import settings

from core.queue import enqueue_on_commit
from deals.figures import deal_figures
from deals.models import Deal, DealStep
from demands.models import Notification
from demands.notifications import notify_about
from standards.deal_flow import AGREED, Derived, derive

# Steps a party may take without being asked to (a cancellation is always open to it, an evaluation optional).
_NOT_WAITED_FOR = frozenset({"cancel", "evaluation"})


def _notify_parties(deal: Deal, derived: Derived, steps: list[DealStep]) -> None:
    """Each party registered here that the deal now waits for, unless it took the last step itself."""
    last = next((step.role for step in steps if derived.applied and step.gid == derived.applied[-1]), None)
    for role, participant, home in (
        ("buyer", deal.buyer_id, deal.buyer_home),
        ("provider", deal.provider_id, deal.provider_home),
    ):
        waiting = sorted(set(derived.actions[role]) - _NOT_WAITED_FOR)
        if home != settings.NODE_CODE or not waiting or role == last:
            continue
        notify_about(
            participant_id=participant,
            kind=Notification.Kind.DEAL,
            record_gid=deal.gid,
            record_version=len(derived.applied),
            payload={
                "deal": deal.gid,
                "product": deal.product_code,
                "state": derived.state,
                "role": role,
                "actions": waiting,
            },
        )


def deals_followup(gids: list[str]) -> None:
    if not gids:
        return
    steps: dict[str, list[DealStep]] = {}
    for step in DealStep.objects.filter(deal_gid__in=gids):
        steps.setdefault(step.deal_gid, []).append(step)
    for deal in Deal.objects.filter(gid__in=gids):
        held = steps.get(deal.gid, [])
        derived = derive(deal, held)
        cached = {
            "state": derived.state,
            "offer_version": derived.offer_version,
            **deal_figures(deal, derived),
        }
        if any(getattr(deal, name) != value for name, value in cached.items()):
            Deal.objects.filter(pk=deal.pk).update(**cached)
        if derived.state == AGREED and deal.product_exchange == settings.NODE_CODE:
            enqueue_on_commit("deals.tasks.deal_compliance", deal.gid)
        _notify_parties(deal, derived, held)
