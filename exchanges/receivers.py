"""The directory follows the federation: which exchanges run a node, and where."""

from django.dispatch import receiver

from exchanges.services import exchange_node_set, this_exchange_runs_node
from federation.signals import node_initialised, peer_changed


@receiver(peer_changed, dispatch_uid="exchanges.peer_changed")
def peer_changed_received(sender, *, code: str, base_url: str, enabled: bool, **kwargs) -> None:
    exchange_node_set(code=code, node_url=base_url)


@receiver(node_initialised, dispatch_uid="exchanges.node_initialised")
def node_initialised_received(sender, **kwargs) -> int:
    this_exchange_runs_node()
    return 0
