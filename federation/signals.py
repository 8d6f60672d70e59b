"""What the federation tells the apps above it, without knowing them.

Replicas applied from peers are announced to each record type's receivers (`federation.replica`); these two
signals are about the node itself.
"""

from django.dispatch import Signal

# A peer was added, changed or removed (inside the transaction): `code`, `base_url` (empty when removed),
# `enabled`. The exchange directory records which exchanges run a node, and where.
peer_changed = Signal()

# `manage.py node_init` ran (this node has its key): each app does what a node needs once it can sign,
# returning how many records it published (e.g. registrations made by a data migration, which cannot sign).
node_initialised = Signal()
