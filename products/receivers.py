"""What products do when replicas arrive (federation.replica receivers) and registrations change."""

from __future__ import annotations

from django.dispatch import receiver as signal_receiver

from core.queue import enqueue_on_commit
from federation.applied import AppliedBatch, receiver
from participants.signals import registrations_changed
from products.models import Recognition
from products.recognition import ProductRef, conditions_apply, recognitions_set
from products.replicas import PRODUCT


@receiver(PRODUCT)
def products_arrived(batch: AppliedBatch) -> None:
    """This node decides whether it recognises another exchange's product when it first holds it and when
    its descriptor changes (the verdict was reached with the page's checks)."""
    if not batch.from_peer:
        return
    decisions = [
        (ProductRef(r.gid, r.version), *r.extras["verdict"], Recognition.DecidedBy.AUTO)
        for r in batch.records
        if r.created or "descriptor" in r.changed
    ]
    recognitions_set(conditions_apply(decisions))


@signal_receiver(registrations_changed, dispatch_uid="products.registrations_changed")
def registrations_changed_received(sender, *, participant_ids: set[str], **kwargs) -> None:
    """Once the change commits, this exchange's products of these providers follow their standing (the
    registration's home may be another exchange): a task in its own transaction (products.standing says
    why); the beat's sweep catches a task that was lost."""
    enqueue_on_commit("products.tasks.follow_providers", sorted(participant_ids))
