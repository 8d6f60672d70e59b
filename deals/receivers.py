"""What deals do when their records arrive from peers (federation.replica receivers): the deal's state is
derived again from the steps held here, and what this node must do next follows (deals.followups)."""

from __future__ import annotations

from deals.followups import deals_followup
from deals.replicas import DEAL, STEP
from federation.applied import AppliedBatch, receiver


@receiver(DEAL)
def deals_arrived(batch: AppliedBatch) -> None:
    deals_followup([record.gid for record in batch.records])


@receiver(STEP)
def steps_arrived(batch: AppliedBatch) -> None:
    deals_followup(sorted({record.values["deal_gid"] for record in batch.records}))
