"""What the apply hands to the apps: the records of one type it wrote (`AppliedBatch`), and the receivers
each app registers for a type (`@receiver(TYPE)` in `<app>/receivers.py`), called inside the page's
transaction once the rows are written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models


@dataclass(slots=True)
class Applied:
    """One record a batch wrote: its column values as applied, the extras `prepare` computed, and whether it
    is new here or which columns changed (a new record: every column)."""

    gid: str
    version: int
    values: dict[str, Any]
    extras: dict[str, Any]
    created: bool
    changed: frozenset[str]
    row: models.Model | None = None  # the updated instance; None for a record written as plain values


@dataclass
class AppliedBatch:
    """What a receiver is given: the records of one type applied together, from one origin."""

    type: Any  # the federation.replica.ReplicaType
    origin: str
    records: list[Applied] = field(default_factory=list)
    repair: bool = False

    @property
    def from_peer(self) -> bool:
        """False when this node re-applies its own records (anti-entropy restoring a row)."""
        return self.origin != settings.NODE_CODE


Receiver = Callable[[AppliedBatch], None]


_RECEIVERS: dict[str, list[Receiver]] = {}


def receiver(replica_type) -> Callable[[Receiver], Receiver]:
    """Decorator: call the function with every batch of `replica_type` applied from a peer (or restored)."""

    def connect(fn: Receiver) -> Receiver:
        found = _RECEIVERS.setdefault(replica_type.name, [])
        name = (fn.__module__, fn.__qualname__)
        if all((f.__module__, f.__qualname__) != name for f in found):  # a module imported twice
            found.append(fn)
        return fn

    return connect


def receivers_of(name: str) -> list[Receiver]:
    return _RECEIVERS.get(name, [])


def receivers_forget(name: str) -> None:
    _RECEIVERS.pop(name, None)
