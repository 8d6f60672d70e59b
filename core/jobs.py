"""Work as database rows (takahe's Stator, healthchecks' transports): every piece of work that retries — a
pull from a peer, a wake-up to a peer, a fetch of a private record, a webhook delivery — is a row with a
state, attempts, a next attempt and a lease. Any number of workers may try the same row: a conditional UPDATE
claims it for one of them for the lease; a worker killed mid-way loses its lease and the row is claimed
again; a failure puts the row back with an exponentially growing, jittered delay.

`LeasedJobs` says, for one model, which states mean "waiting" and "working"; the models keep their own state
names and columns (`state`, `lease_until`, `attempts`, `next_attempt_at`, `last_error`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def backoff(attempts: int, *, cap: float | None = None) -> timedelta:
    """Exponential backoff with full jitter: between half and all of 2^attempts seconds, capped (by default
    at JOBS_MAX_BACKOFF)."""
    ceiling = min(settings.JOBS_MAX_BACKOFF if cap is None else cap, 2 ** min(attempts, 16))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class LeasedJobs:
    """The claim, lease and retry rules of one model's job rows."""

    model: type[models.Model]
    waiting: str  # ready to be claimed once `next_attempt_at` has come
    working: str  # claimed by a worker until `lease_until`
    # Other states a claim may start from (a sync state's idle one: a pull can always be asked for).
    also_claimable: tuple[str, ...] = ()

    def due(self, now: datetime | None = None) -> Q:
        """Rows a worker should take now: waiting and due, or working with an expired lease."""
        now = now or timezone.now()
        return Q(state=self.waiting, next_attempt_at__lte=now) | Q(state=self.working, lease_until__lt=now)

    def claim(self, pk, *, lease: float, **changes) -> bool:
        """Take row `pk` for `lease` seconds if no live lease holds it; True if this caller has it."""
        now = timezone.now()
        free = Q(state__in=(self.waiting, *self.also_claimable)) | Q(state=self.working, lease_until__lt=now)
        claimed = (
            self.model.objects.filter(pk=pk)
            .filter(free)
            .update(state=self.working, lease_until=now + timedelta(seconds=lease), **changes)
        )
        return bool(claimed)

    def retry(
        self, pk, *, attempts: int, error: str, final: bool = False, final_state: str = "", **changes
    ) -> datetime:
        """Put row `pk` back after a failure: waiting again after a backoff, or `final_state` if `final`.
        Returns the next attempt's time."""
        next_attempt = timezone.now() + backoff(attempts)
        self.model.objects.filter(pk=pk).update(
            state=final_state if final else self.waiting,
            attempts=attempts,
            next_attempt_at=next_attempt,
            lease_until=None,
            last_error=error[:2000],
            **changes,
        )
        return next_attempt
