"""Push: after this node's log grows, each peer is told "origin X is at seq n" so that it pulls now rather
than at its next poll. A wake-up is a row per (peer, origin), coalesced: a newer seq overwrites an older one
not yet sent. Wake-ups are only a speed-up; a lost one costs the poll interval, never data."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from core.jobs import LeasedJobs
from core.threads import in_caller_context
from federation.http import PeerError, peer_request
from federation.models import Wakeup, at_least
from federation.outbox import wake_started
from federation.peers import peer_failed, peer_failure_level, peer_ok
from federation.private_push import pushes_for
from federation.protocols import peer_protocols_record
from federation.selectors import peers_enabled

logger = logging.getLogger(__name__)
JOBS = LeasedJobs(Wakeup, waiting=Wakeup.State.PENDING, working=Wakeup.State.SENDING)
WAKE_SENDERS = 8  # wake-ups sent at once: one slow peer must not hold up the others' by its timeout


def wake_announce(origin: str, seq: int) -> None:
    """Tell every peer that `origin` (this node) is at its head: the head as it is now, not the `seq` of the
    commit that asked, since later commits rely on it (`federation.outbox.wake_started`)."""
    started = time.perf_counter()
    seq = max(seq, wake_started(origin))
    headed = time.perf_counter()
    wakeups_enqueue(origin=origin, seq=seq)
    enqueued = time.perf_counter()
    wakeups_deliver()
    logger.info(  # where a wake-up's time goes (bench/deal_steps.py reads these lines at INFO)
        "wake-up parts: head %.1f ms, enqueue %.1f ms, deliver %.1f ms",
        (headed - started) * 1000,
        (enqueued - headed) * 1000,
        (time.perf_counter() - enqueued) * 1000,
    )


def wakeups_enqueue(*, origin: str, seq: int) -> int:
    """Record "origin is at seq" for every enabled peer (one coalesced row per peer and origin)."""
    now = timezone.now()
    count = 0
    for peer in peers_enabled().exclude(exchange_id=origin):
        updated = Wakeup.objects.filter(peer=peer, origin=origin).update(
            seq=at_least("seq", seq), state=Wakeup.State.PENDING, next_attempt_at=now, attempts=0
        )
        if not updated:
            try:
                with transaction.atomic():
                    Wakeup.objects.create(peer=peer, origin=origin, seq=seq, next_attempt_at=now)
            except DatabaseError:  # created concurrently: update that one
                Wakeup.objects.filter(peer=peer, origin=origin).update(
                    seq=at_least("seq", seq), state=Wakeup.State.PENDING, next_attempt_at=now
                )
        count += 1
    return count


def _send(wakeup: Wakeup, private: list[dict]) -> tuple[object, PeerError | None]:
    """The peer's answer, or the error. `private`: the entries of its audience pushed along."""
    body: dict = {"origin": wakeup.origin, "seq": wakeup.seq}
    if private:
        body["private"] = private
    try:
        answer = peer_request(wakeup.peer, "POST", "/federation/v1/wake/", json_body=body)
    except PeerError as exc:
        return None, exc
    return answer, None


def wakeups_deliver(*, limit: int = 200) -> int:
    """Send due wake-ups, several at once; transient failures back off, permanent ones stop (the periodic
    pull covers them). The claims and their outcomes are written here; only the HTTP requests run in
    threads."""
    now, started = timezone.now(), time.perf_counter()
    due = (
        Wakeup.objects.select_related("peer")
        .filter(JOBS.due(now))
        .filter(peer__enabled=True)
        .filter(Q(peer__backoff_until__isnull=True) | Q(peer__backoff_until__lte=now))
        .order_by("next_attempt_at")[:limit]
    )
    claimed = [w for w in due if JOBS.claim(w.pk, lease=settings.FEDERATION["PULL_LEASE"])]
    private = pushes_for(claimed)
    claims_done = time.perf_counter()
    if len(claimed) > 1:
        with ThreadPoolExecutor(max_workers=min(WAKE_SENDERS, len(claimed))) as pool:
            outcomes = list(pool.map(in_caller_context(_send), claimed, private))
    else:
        outcomes = [_send(wakeup, entries) for wakeup, entries in zip(claimed, private, strict=True)]
    requests_done = time.perf_counter()
    sent = pushes = applied = 0
    for wakeup, entries, (answer, exc) in zip(claimed, private, outcomes, strict=True):
        if exc is not None:
            logger.log(
                peer_failure_level(wakeup.peer, transient=exc.transient),
                "wake-up of %s (%s at %s) failed: %s",
                *(wakeup.peer_id, wakeup.origin, wakeup.seq, exc),
            )
            if exc.transient:
                peer_failed(wakeup.peer, str(exc))
            JOBS.retry(
                wakeup.pk,
                attempts=wakeup.attempts + 1,
                error=str(exc),
                final=not exc.transient,
                final_state=Wakeup.State.FAILED,
            )
            continue
        peer_ok(wakeup.peer)
        pushes += len(entries)
        if isinstance(answer, dict):
            applied += answer.get("applied") if type(answer.get("applied")) is int else 0
            # what it speaks, so this origin publishes by it from now on (a write only when it changed)
            peer_protocols_record(wakeup.peer, answer.get("protocols"))
        # Done unless a newer seq was recorded while this one was in flight; either way, what the peer may
        # hold up to this seq went with it or could not (federation.private_push): the next push starts after.
        pushed = at_least("pushed_seq", wakeup.seq)
        done = Wakeup.objects.filter(pk=wakeup.pk, seq=wakeup.seq)
        if not done.update(state=Wakeup.State.DONE, last_error="", pushed_seq=pushed):
            Wakeup.objects.filter(pk=wakeup.pk, state=Wakeup.State.SENDING).update(
                state=Wakeup.State.PENDING, pushed_seq=pushed
            )
        sent += 1
    if claimed:  # where a wake-up's time goes (bench/deal_steps.py reads these lines at INFO)
        logger.info(
            "wake-ups delivered %d of %d (%d private entries pushed, %d applied there): claims %.1f ms, "
            "requests %.1f ms, outcomes %.1f ms",
            sent,
            len(claimed),
            pushes,
            applied,
            (claims_done - started) * 1000,
            (requests_done - claims_done) * 1000,
            (time.perf_counter() - requests_done) * 1000,
        )
    return sent
