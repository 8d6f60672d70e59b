"""What demands do when replicas arrive from peers (federation.replica receivers)."""

from __future__ import annotations

from demands.matching import demands_matched
from demands.models import DemandResponse
from demands.replicas import DEMAND, RESPONSE
from demands.responses import response_arrived
from federation.applied import AppliedBatch, receiver


@receiver(DEMAND)
def demands_arrived(batch: AppliedBatch) -> None:
    """Every node matches every demand it holds against the products it holds (after commit, in a task);
    providers registered here are told."""
    demands_matched([record.gid for record in batch.records])


@receiver(RESPONSE)
def responses_arrived(batch: AppliedBatch) -> None:
    """A response new here: its demander, if registered here, is notified (and its responder, if the demand
    closed first)."""
    new = [record.gid for record in batch.records if record.created]
    for response in DemandResponse.objects.filter(gid__in=new):
        response_arrived(response)
