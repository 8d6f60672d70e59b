"""One dispute read for a page (the operator console, docs/portal.md): the deal if the caller takes a role in
its disputes, and the dispute derived from its steps with what the caller may do now — the reads the API's
`GET /deals/{id}/disputes/{dispute}/` makes, through the same selectors."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from deals.dispute_selectors import (
    dispute_actions,
    dispute_is_overdue,
    dispute_roles,
    dispute_state,
    dispute_steps,
)
from deals.models import Deal


def dispute_deal(actor: Any, gid: str) -> Deal | None:
    """The deal `gid`, if `actor` takes a role in its disputes (a party, or an operator of the coordinating
    or co-coordinating exchange at its node); else None, as if it did not exist."""
    deal = Deal.objects.filter(gid=gid).first()
    if deal is None or not dispute_roles(actor, deal):
        return None
    return deal


def dispute_read(actor: Any, deal: Deal, gid: str) -> dict | None:
    """The dispute `gid` of `deal` as derived here, its steps, and the actions `actor` may take now; None
    when no such dispute is held."""
    steps = dispute_steps(gid)
    derived = dispute_state(deal, gid, steps)
    if derived["state"] is None:
        return None
    now = timezone.now()
    roles = dispute_roles(actor, deal)
    applied = set(derived["applied"])
    return {
        **derived,
        "id": gid,
        "deal": deal,
        "overdue": dispute_is_overdue(derived, now),
        "my_roles": sorted(roles),
        "actions": dispute_actions(derived, roles, now),
        "steps": [{"step": step, "applied": step.gid in applied} for step in steps],
    }
