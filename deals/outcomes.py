"""A dispute's outcome fed back into the deal flow (docs/deals.md "Disputes"): when the coordinating
exchange resolves a dispute of a rejected deal, its node also writes the deal step `outcome` (the
coordinator's, owned by the product's exchange), in the resolution's transaction, so every node of the
audience derives the same next state from the deal's steps alone (`standards.deal_flow`: accepted,
terminated, or cleared for a redelivery)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings

from core.exceptions import Conflict, FieldError
from deals.followups import deals_followup
from deals.models import Deal, DealStep, DisputeStep
from deals.replicas import STEP
from deals.selectors import deal_steps
from standards.deal_flow import DELIVERED, OUTCOME_LEADS_TO, RECEIVED, REJECTED, derive, role_actor
from standards.deal_steps import step_body_clean


def outcome_wait_refusal(deal: Deal, dispute_steps: list[DisputeStep]) -> None:
    """409 while the rejection that filed the dispute (its filing's evidence `deal_step:<id>`, a step of the
    buyer's home) has not arrived here and the deal is still delivered here: resolved before it, the outcome
    would find the deal not rejected and move nothing. Evidence naming a step that never comes blocks only
    until the acceptance window's end (auto_accept moves the deal on)."""
    filing = next((s for s in dispute_steps if s.action == "file"), None)
    evidence = (filing.body.get("evidence") or []) if filing is not None else []
    prefix = f"deal_step:{deal.buyer_home}-"
    named = {e.removeprefix("deal_step:") for e in evidence if isinstance(e, str) and e.startswith(prefix)}
    if not named:
        return
    steps = deal_steps(deal)
    missing = sorted(named - {s.gid for s in steps})
    if missing and derive(deal, steps).state in (DELIVERED, RECEIVED):
        raise Conflict(
            message="引起纠纷的验收不通过记录尚未同步到本节点，请稍后再处理",
            message_en="The rejection that filed this dispute has not reached this node yet",
            code="dispute.rejection_pending",
            errors=[
                FieldError(
                    "dispute", "dispute.rejection_pending", "验收记录尚未到达", "The rejection is pending"
                )
            ],
            extra={"steps": missing},
        )


def deal_outcome_write(*, deal: Deal, dispute_gid: str, outcome: dict, at: dt.datetime) -> DealStep | None:
    """The `outcome` step of `deal` for a resolution or a ruling (`outcome` cleaned by the dispute standard)
    taken at `at`, or a withdrawal (kind `withdrawn`), when the deal is rejected here; None otherwise (a
    dispute of an accepted deal, say, refunds at settlement and moves nothing; an outcome of the provider's
    dispute moves no deal). Call inside the transaction of the step it answers, the deal locked."""
    if outcome["kind"] not in OUTCOME_LEADS_TO:
        return None
    steps = deal_steps(deal)
    if derive(deal, steps).state != REJECTED:
        return None
    body = step_body_clean(
        "outcome",
        {
            "dispute": dispute_gid,
            "kind": outcome["kind"],
            "refund_amount": f"{outcome['refund_amount']:.2f}",
            "redeliver_within_days": outcome.get("redeliver_within_days"),
        },
    )
    step = DealStep.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        deal_gid=deal.gid,
        audience=deal.audience,
        seq=len(steps) + 1,
        kind="outcome",
        role="coordinator",
        actor_id=role_actor(deal, "coordinator"),
        at=max([at, *(s.at for s in steps)]),
        body=body,
    )
    STEP.publish([step])
    deals_followup([deal.gid])
    return step


def deal_withdrawal_outcome(deal: Deal, dispute_gid: str, derived: dict) -> DealStep | None:
    """At the coordinator's node (the product's exchange): a dispute the buyer filed and withdrew after its
    rejection leaves no rejection standing, so the rejected deal's delivery counts as accepted and settles
    (the `outcome` step of kind `withdrawn`, dated at the withdrawal). Called whenever the dispute is derived
    here (its steps' arrival, and the deal's: the rejection may come after the withdrawal); None where
    nothing is to move."""
    if (
        deal.product_exchange != settings.NODE_CODE
        or derived["state"] != "withdrawn"
        or derived["filed_by"] != "buyer"
    ):
        return None
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    # Only a withdrawal after the rejection answers it (both are the buyer's, dated by its home's clock): a
    # dispute withdrawn before a later rejection leaves that rejection to its own dispute.
    rejected_at = [
        s.at for s in deal_steps(deal) if s.kind == "acceptance" and s.body.get("result") == "rejected"
    ]
    if not rejected_at or derived["closed_at"] < max(rejected_at):
        return None
    outcome = {"kind": "withdrawn", "refund_amount": 0}
    return deal_outcome_write(deal=deal, dispute_gid=dispute_gid, outcome=outcome, at=derived["closed_at"])
