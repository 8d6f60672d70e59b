"""What a node does after a dispute step was written here or arrived: derive the dispute again from the
steps held, keep its cache (`Dispute`: state, deadline, refund, resolution time, for filters and figures;
and `Deal.disputed`, which the stats count beside the deal's other figures), and tell each
party registered here of each step someone else took (a notification of kind `deal` and its webhooks,
once per step, also when several steps arrive in one batch)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from deals.dispute_selectors import dispute_actions, dispute_due_at, dispute_state, dispute_steps
from deals.figures import resolution_seconds
from deals.models import Deal, Dispute, DisputeStep
from deals.outcomes import deal_withdrawal_outcome
from demands.models import Notification
from demands.notifications import notify_about


def _notify(deal: Deal, gid: str, derived: dict, steps: list[DisputeStep]) -> None:
    """Tell each party registered here of every applied step someone else took that it was not yet told of
    (version = the step's place among the applied ones): steps that arrive together in one batch are each
    told, with the dispute's state and the party's actions as they are now."""
    by_gid = {step.gid: step for step in steps}
    applied = [by_gid[step_gid] for step_gid in derived["applied"]]
    for role, participant, home in (
        ("buyer", deal.buyer_id, deal.buyer_home),
        ("provider", deal.provider_id, deal.provider_home),
    ):
        if home != settings.NODE_CODE:
            continue
        told = set(
            Notification.objects.filter(
                participant_id=participant, kind=Notification.Kind.DEAL, demand_gid=deal.gid, subject_gid=gid
            ).values_list("demand_version", flat=True)
        )
        for version, step in enumerate(applied, start=1):
            if step.role == role or version in told:
                continue
            notify_about(
                participant_id=participant,
                kind=Notification.Kind.DEAL,
                record_gid=deal.gid,
                record_version=version,
                subject_gid=gid,
                payload={
                    "deal": deal.gid,
                    "product": deal.product_code,
                    "dispute": gid,
                    "step": step.action,
                    "by": step.role,
                    "state": derived["state"],
                    "role": role,
                    "actions": dispute_actions(derived, {role}, timezone.now()),
                },
            )


def disputes_followup(gids: list[str]) -> None:
    """Derive again each dispute of `gids` whose filing is held here (a step may come before its filing:
    the dispute is derived when the filing arrives)."""
    files = DisputeStep.objects.filter(gid__in=gids, action="file")
    deals = {d.gid: d for d in Deal.objects.filter(gid__in=files.values("deal_gid"))}
    for filing in files:
        deal = deals.get(filing.deal_gid)
        if deal is None:
            continue  # the deal comes later: its arrival derives its disputes
        steps = dispute_steps(filing.gid)
        derived = dispute_state(deal, filing.gid, steps)
        if derived["state"] is None:
            continue  # a filing this deal's parties did not make: ignored
        Dispute.objects.update_or_create(
            gid=filing.gid,
            defaults={
                "deal_gid": deal.gid,
                "coordinator": deal.product_exchange,
                "co_coordinator": deal.buyer_home,
                "state": derived["state"],
                "category": derived["category"],
                "filed_by": derived["filed_by"],
                "filed_at": derived["filed_at"],
                "closed_at": derived["closed_at"],
                "due_at": dispute_due_at(derived),
                "refund_amount": derived["amounts"]["refund"],
                "resolution_s": resolution_seconds(
                    derived["state"], derived["filed_at"], derived["closed_at"]
                ),
            },
        )
        # A dispute is never forgotten once held: the deal stays disputed (the stats' exact count).
        Deal.objects.filter(gid=deal.gid, disputed=False).update(disputed=True)
        _notify(deal, filing.gid, derived, steps)
        deal_withdrawal_outcome(deal, filing.gid, derived)


def deal_disputes_followup(deal_gids: list[str]) -> None:
    """A deal arrived (or changed): its disputes held here are derived again."""
    gids = DisputeStep.objects.filter(deal_gid__in=deal_gids, action="file").values_list("gid", flat=True)
    disputes_followup(list(gids))
