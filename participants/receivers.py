"""What participants do when the federation tells them something."""

from django.dispatch import receiver

from federation.signals import node_initialised
from participants.replication import participants_publish_unlogged


@receiver(node_initialised, dispatch_uid="participants.node_initialised")
def node_initialised_received(sender, **kwargs) -> int:
    """Registrations a data migration made (it cannot sign) are published once the node has its key."""
    return participants_publish_unlogged()
