"""Protocol versions a node announces beside its standards (`GET node/` and every anti-entropy answer), and
what it knows of its peers' (`Peer.protocols`, read from their anti-entropy answers).

`recognition` (docs/federation.md, "Recognitions at national size"): 1, every exchange publishes its
recognition of every product; 2, it publishes only what a node cannot compute itself (operators' decisions,
verdicts that differ from the automatic check), and reads compute the rest. An origin publishes as 2 only once
every peer it knows announces 2 (`protocol_everywhere`); a peer that announced nothing yet counts as 1, and
so does a node that knows no peer yet."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from federation.models import Peer

NAME_MAX = 32


def protocols_announcement() -> dict[str, int]:
    """This node's protocol versions: {name: version}."""
    return {"recognition": settings.FEDERATION["RECOGNITION_PROTOCOL"]}


def protocols_valid(value: object) -> bool:
    """An announcement as a peer may send it: at most 16 names of protocols, each a positive version."""
    return (
        isinstance(value, dict)
        and len(value) <= 16
        and all(
            isinstance(k, str) and 0 < len(k) <= NAME_MAX and type(v) is int and 0 < v < 1000
            for k, v in value.items()
        )
    )


def peer_protocols_record(peer: Peer, announced: object) -> bool:
    """Keep what `peer` announced of its protocols (from its anti-entropy answer); an announcement of another
    shape (a node on older code sends none) is not kept. Returns whether it was."""
    if not protocols_valid(announced):
        return False
    if peer.protocols != announced:
        Peer.objects.filter(pk=peer.pk).update(protocols=announced, protocols_at=timezone.now())
        peer.protocols = announced
    return True


def protocol_version(announced: object, name: str) -> int:
    """The version of protocol `name` in an announcement; 1 when it names none (older code, or not yet)."""
    version = announced.get(name) if isinstance(announced, dict) else None
    return version if type(version) is int and version > 0 else 1


def protocol_everywhere(name: str, version: int) -> bool:
    """Whether this node and every peer it knows (enabled or not: a disabled peer may come back) announce
    at least `version` of protocol `name`. False while it knows no peer: what it writes before it is peered
    stays readable by peers on any version."""
    if protocol_version(protocols_announcement(), name) < version:
        return False
    announced = list(Peer.objects.values_list("protocols", flat=True))
    return bool(announced) and all(protocol_version(p, name) >= version for p in announced)
