"""Protocol versions a node announces beside its standards (`GET node/` and every anti-entropy answer), and
what it knows of its peers' (`Peer.protocols`, read from their answers to its wake-ups and to its
anti-entropy requests).

`recognition` (docs/federation.md, "Recognitions at national size"): 1, every exchange publishes its
recognition of every product; 2, it publishes only what a node cannot compute itself (operators' decisions,
verdicts that differ from the automatic check), and reads compute the rest. `participant_recognition`: the
same for an exchange's recognition of a participant (2: published only when it differs from the verdict every
node computes from the registration it names, `participants.verdicts`). `private_push` (1, or not
announced): the node takes the private entries of its audience pushed with a wake-up
(`federation.private_push`); a wake-up to a peer that does not announce it carries none (that peer's wake
endpoint would refuse the field). An origin publishes as 2 only once every peer it knows announces 2
(`protocol_everywhere`); a peer that announced nothing yet counts as 1, and so does a node that knows no peer
yet.

Anti-entropy compares two nodes' digests under the versions THEY agree on, never under what either has
learned of third nodes (docs/federation.md, "Anti-entropy"): the requester states its versions
(`protocols=recognition:2`, `protocols_param`), the answer digests under the lower of the two versions of each
protocol and says which (`agreed`), and the requester digests its own records under those. A requester that
states none (older code) is answered under version 1. While digesting, `comparing_under(agreed)` is in force
and a record type reads its version with `protocol_compared`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.utils import timezone

from federation.models import Peer

NAME_MAX = 32
# `name:version` pairs, comma-separated: what a digests request states of its node's protocols.
_PARAM = re.compile(r"[a-z][a-z0-9_]{0,31}:[1-9][0-9]{0,2}(,[a-z][a-z0-9_]{0,31}:[1-9][0-9]{0,2}){0,15}")
_compared: ContextVar[dict[str, int] | None] = ContextVar("protocols_compared", default=None)


def protocols_announcement() -> dict[str, int]:
    """This node's protocol versions: {name: version}."""
    announced = {
        "participant_recognition": settings.FEDERATION["PARTICIPANT_RECOGNITION_PROTOCOL"],
        "recognition": settings.FEDERATION["RECOGNITION_PROTOCOL"],
    }
    if settings.FEDERATION["PRIVATE_PUSH"]:
        announced["private_push"] = 1  # takes private entries with a wake-up (federation.private_push)
    return announced


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
    """Keep what `peer` announced of its protocols (its answer to a wake-up or to anti-entropy); an
    announcement of another shape (a node on older code sends none) is not kept. Returns whether it was."""
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


def protocols_param() -> str:
    """This node's protocol versions as a digests request states them: `recognition:2`."""
    return ",".join(f"{name}:{version}" for name, version in sorted(protocols_announcement().items()))


def protocols_parse(text: str) -> dict[str, int]:
    """The versions a digests request states (`protocols_param`). ValueError for anything else: at most 16
    `name:version` pairs, each name at most once."""
    if not isinstance(text, str) or not _PARAM.fullmatch(text):
        raise ValueError("comma-separated name:version pairs (e.g. recognition:2), at most 16")
    pairs = [item.split(":") for item in text.split(",")]
    stated = {name: int(version) for name, version in pairs}
    if len(stated) != len(pairs):
        raise ValueError("each protocol at most once")
    return stated


def protocols_agreed(mine: dict[str, int], theirs: object) -> dict[str, int]:
    """The version of each of this node's protocols two nodes compare under: the lower of the two (a protocol
    the other side does not name, or an answer of another shape, counts as its version 1)."""
    return {name: min(version, protocol_version(theirs, name)) for name, version in sorted(mine.items())}


@contextmanager
def comparing_under(agreed: dict[str, int]) -> Iterator[None]:
    """Within: the digests being computed are compared under `agreed` (`protocols_agreed`)."""
    token = _compared.set(dict(agreed))
    try:
        yield
    finally:
        _compared.reset(token)


def protocol_compared(name: str) -> int:
    """The version of protocol `name` the digest being computed is compared under: 1 outside
    `comparing_under` (anything else that reads the live records, e.g. repairing from the own log)."""
    return protocol_version(_compared.get(), name)
