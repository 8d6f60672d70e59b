"""What deals do when their records arrive from peers (federation.replica receivers): the deal's state is
derived again from the steps held here, and what this node must do next follows (deals.followups); a
dispute's likewise (deals.dispute_followups)."""

from __future__ import annotations

from deals.dispute_followups import deal_disputes_followup, disputes_followup
from deals.followups import deals_followup
from deals.replicas import DEAL, DISPUTE_STEP, STEP
from federation.applied import AppliedBatch, receiver


@receiver(DEAL)
def deals_arrived(batch: AppliedBatch) -> None:
    gids = [record.gid for record in batch.records]
    deals_followup(gids)
    deal_disputes_followup(gids)


@receiver(STEP)
def steps_arrived(batch: AppliedBatch) -> None:
    deals_followup(sorted({record.values["deal_gid"] for record in batch.records}))
    # A rejection that arrives after its dispute was withdrawn: the coordinator's node writes the outcome
    # now (deals.outcomes.deal_withdrawal_outcome, run when the deal's disputes are derived again).
    answered = {r.values["deal_gid"] for r in batch.records if r.values.get("kind") == "acceptance"}
    if answered:
        deal_disputes_followup(sorted(answered))


@receiver(DISPUTE_STEP)
def dispute_steps_arrived(batch: AppliedBatch) -> None:
    disputes_followup(sorted({record.values["dispute_gid"] for record in batch.records}))
