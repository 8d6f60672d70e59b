"""The record types that replicate. Domain apps register theirs; the mechanism does not change per type.

A record type says how to build the public payload of a local record (an explicit schema, never "all
fields"), how to validate and apply a payload that arrives from a peer, and how to list the live records of
an origin for anti-entropy digests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError

# apply_batch(origin, [(gid, version, payload), ...], *, repair) -> {gid: DomainError} for the payloads it
# refused (they break the type's schema); every other item is applied if its version is higher than the
# held one (or equal, with repair). One call runs inside one transaction.
ApplyBatchFn = Callable[..., dict]

# What applying a verified entry may raise besides the rules it breaks (which apply_batch returns): the
# database refusing a value, or a check that let a value of an unexpected type reach code that raises. The
# callers quarantine (feeds) or record (private fetches) the entry and go on; never the whole pull.
APPLY_FAILURES = (DatabaseError, TypeError, ValueError, KeyError, AttributeError, RecursionError)


@dataclass(frozen=True)
class RecordType:
    name: str
    apply_batch: ApplyBatchFn
    # live(origin) -> iterable of (gid, version, payload) of the records this node holds for that origin
    live: Callable[[str], Iterable[tuple[str, int, dict]]]
    # Private records (with an audience) never travel in the public log: only their sealed stub does, and
    # the audience fetches them (federation.private). They are left out of the digests, which every node
    # compares; the stubs, which every node holds, are in them.
    private: bool = False
    # prepare(origin, gid, payload) -> what apply_batch needs of one payload that does not depend on the
    # database (checks against the standard, derived columns), or raises ValidationFailed. Optional: a type
    # with one is prepared in the feed-check helper process (federation.prepare) and its apply_batch takes
    # `prepared={gid: preparation or ValidationFailed}` for the items prepared there.
    prepare: Callable[[str, str, dict], object] | None = None


_TYPES: dict[str, RecordType] = {}


def register(record_type: RecordType) -> None:
    _TYPES[record_type.name] = record_type


def get(name: str) -> RecordType | None:
    return _TYPES.get(name)


def names(*, private: bool | None = False) -> list[str]:
    """Record type names: public ones by default, private ones with private=True, all with None."""
    return sorted(n for n, t in _TYPES.items() if private is None or t.private == private)
