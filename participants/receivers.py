"""What participants do when registrations arrive from peers, and when the node is initialised."""

from __future__ import annotations

from django.dispatch import receiver as signal_receiver

from federation.applied import AppliedBatch, receiver
from federation.signals import node_initialised, peer_changed
from participants.identity import participants_publish_unlogged, registrations_settle
from participants.models import Participant
from participants.replicas import PARTICIPANT


@receiver(PARTICIPANT)
def registrations_arrived(batch: AppliedBatch) -> None:
    """A registration applied here (new, changed, or restored): its company's identity is settled again."""
    registrations_settle({record.values["participant_id"] for record in batch.records})


@signal_receiver(peer_changed, dispatch_uid="participants.peer_changed")
def peer_changed_received(sender, *, code: str, **kwargs) -> None:
    """A peer added, changed or removed: only registrations of this node and of its peers count, so the
    companies it registered are settled again (removing a rogue peer undoes what its claims decided)."""
    registrations_settle(
        set(Participant.objects.filter(home_id=code).values_list("participant_id", flat=True))
    )


@signal_receiver(node_initialised, dispatch_uid="participants.node_initialised")
def node_initialised_received(sender, **kwargs) -> int:
    """Registrations a data migration made (it cannot sign) are published once the node has its key."""
    return participants_publish_unlogged()
