"""Closing a deal: each party may evaluate the other once the deal is settled. The evaluation is a
participant evaluation like any other (replicated to every node, so the deal feeds the trust view
nationwide), issued by the party about its counter-party, with the deal as its evidence (`deal:<gid>`); the
deal records it with an `evaluation` step, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from deals.models import Deal, DealStep
from deals.services import deal_step_check, deal_step_take
from participants.evaluations import evaluation_issue_by_counterparty


@transaction.atomic
def deal_evaluate(*, actor: Any, deal: Deal, data: dict) -> DealStep:
    role, deal, _, _ = deal_step_check(actor=actor, deal=deal, kind="evaluation")
    subject = deal.provider_id if role == "buyer" else deal.buyer_id
    evaluation = evaluation_issue_by_counterparty(
        actor=actor, subject=subject, data=data, evidence_ref=f"deal:{deal.gid}"
    )
    return deal_step_take(actor=actor, deal=deal, kind="evaluation", body={"evaluation": evaluation.gid})
