"""Pull, the backbone of replication: a node asks a peer for the feed of origin X after its cursor and applies
what it lacks, page by page. A pull is claimed on the origin's `SyncState` row (a lease), so several workers
may run the same pulls and a killed worker's pull is taken over when its lease runs out; the cursor moves
only in the transaction that applied the page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from core.jobs import LeasedJobs
from core.queue import enqueue_on_commit
from core.threads import in_caller_context, process_pool
from federation.apply import Checked, apply_page, seq_hint
from federation.envelope import is_exchange_code
from federation.http import PeerError, peer_request
from federation.models import Peer, SyncState
from federation.peers import peer_failed, peer_failure_level, peer_ok, peers_to_pull
from federation.prepare import page_check_aside
from federation.private import private_fetch_due, private_fetches_waiting
from federation.selectors import origin_public_key, origins_known

logger = logging.getLogger(__name__)
FEED_PATH = "/federation/v1/feed/{origin}/"
MAX_PULL_ROUNDS = 5
MAX_SEQ = 2**62  # the highest sequence number a wake-up or a feed's head may announce (and seq_hint reads)
JOBS = LeasedJobs(
    SyncState,
    waiting=SyncState.State.PENDING,
    working=SyncState.State.RUNNING,
    also_claimable=(SyncState.State.IDLE,),
)


def _lease() -> int:
    return settings.FEDERATION["PULL_LEASE"]


def wake_receive(*, source: str, origin: str, seq: int) -> bool:
    """Peer `source` says its own log is at `seq`. Returns True if a pull was scheduled.

    A node only ever announces its own log (`federation.outbox` queues `wake_peers` with this node's code):
    a wake-up about another origin is ignored, so no peer can set another origin's head. The origin's own
    announcement counts until its feed says otherwise (`pages_apply` lowers it)."""
    if origin != source or origin == settings.NODE_CODE:
        return False
    if not Peer.objects.filter(exchange_id=origin).exists():
        return False
    state, _ = SyncState.objects.get_or_create(origin=origin)
    now = timezone.now()
    SyncState.objects.filter(pk=origin, head_seen__lt=seq).update(head_seen=seq, head_seen_at=now)
    if seq <= state.cursor:
        return False
    SyncState.objects.filter(pk=origin).exclude(state=SyncState.State.RUNNING).update(
        state=SyncState.State.PENDING, next_attempt_at=now
    )
    pull_enqueue(origin)
    return True


def pull_enqueue(origin: str) -> bool:
    """Put a pull of `origin` on the queue unless one is already waiting there. At most one queued pull per
    origin: a busy node's queue cannot fill with periodic pulls that a wake-up's pull would wait behind. A
    queued pull not started after a few leases is taken for lost (a broker failure) and queued again."""
    now = timezone.now()
    stale = now - timedelta(seconds=4 * _lease())
    queued = (
        SyncState.objects.filter(pk=origin)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=stale))
        .update(queued_at=now)
    )
    if not queued:
        return False
    enqueue_on_commit("federation.tasks.pull_origin", origin)
    return True


def _pull_wanted(state: SyncState, now, quiet_since) -> bool:
    if state.next_attempt_at is not None and state.next_attempt_at > now:
        return False  # a failing origin waits out its backoff
    return (
        state.head_seen > state.cursor
        or state.state == SyncState.State.PENDING
        or (state.state == SyncState.State.RUNNING and state.lease_until and state.lease_until < now)
        or state.last_success_at is None
        or state.last_success_at < quiet_since
    )


def pulls_due() -> list[str]:
    """Origins a periodic tick should pull: announced lag, a pending or retrying pull that is due, or no
    successful pull for POLL_INTERVAL (a lost wake-up)."""
    now = timezone.now()
    quiet_since = now - timedelta(seconds=settings.FEDERATION["POLL_INTERVAL"])
    origins = [origin for origin in origins_known() if origin != settings.NODE_CODE]
    states = SyncState.objects.in_bulk(origins)
    missing = [SyncState(origin=origin) for origin in origins if origin not in states]
    SyncState.objects.bulk_create(missing, ignore_conflicts=True)
    states.update({state.origin: state for state in missing})
    return [origin for origin in origins if _pull_wanted(states[origin], now, quiet_since)]


def _claim_pull(origin: str) -> SyncState | None:
    SyncState.objects.get_or_create(origin=origin)
    return SyncState.objects.get(pk=origin) if JOBS.claim(origin, lease=_lease()) else None


def pull_origin(*, origin: str) -> int:
    """Bring this node's copy of `origin` up to date from the first source that answers. Returns the number
    of entries applied. Safe to run concurrently and to kill at any point."""
    SyncState.objects.filter(pk=origin).update(queued_at=None)  # a wake-up from now on queues another
    state = _claim_pull(origin)
    if state is None:
        return 0
    started = time.monotonic()
    applied, errors, source = 0, [], None
    for peer in peers_to_pull(origin):
        try:
            # Wake-ups that arrive while this pull runs find it claimed and schedule nothing: pull again
            # while the announced head is ahead of the cursor, instead of waiting for the next beat tick.
            for _ in range(MAX_PULL_ROUNDS):
                before = SyncState.objects.filter(pk=origin).values_list("cursor", flat=True).get()
                applied += pull_from(peer, origin)
                _fetch_private_now()
                head, cursor = SyncState.objects.filter(pk=origin).values_list("head_seen", "cursor").get()
                if head <= cursor or cursor == before:
                    break
        except PeerError as exc:
            kind = "transient" if exc.transient else "permanent"
            logger.log(
                peer_failure_level(peer, transient=exc.transient),
                "pull of %s from %s failed (%s): %s",
                *(origin, peer.exchange_id, kind, exc),
            )
            errors.append(f"{peer.exchange_id}: {exc}")
            if exc.transient:
                peer_failed(peer, str(exc))
            continue
        peer_ok(peer)
        source = peer.exchange_id
        if head <= cursor:
            break
        # Still behind what was announced: this peer (a lagging relay) has no more; ask the next one.
    seconds = time.monotonic() - started
    if source is not None:
        SyncState.objects.filter(pk=origin).update(
            state=SyncState.State.IDLE,
            lease_until=None,
            attempts=0,
            next_attempt_at=None,
            last_success_at=timezone.now(),
            last_source=source,
            last_error="",
            last_error_at=None,
            pulls_ok=F("pulls_ok") + 1,
            pull_seconds=F("pull_seconds") + seconds,
            pulled_entries=F("pulled_entries") + applied,
        )
        if applied:
            logger.info("pulled %d entries of %s from %s in %.2f s", applied, origin, source, seconds)
    else:
        error = "; ".join(errors) or "no usable peer"
        JOBS.retry(
            origin,
            attempts=state.attempts + 1,
            error=error,
            last_error_at=timezone.now(),
            pulls_failed=F("pulls_failed") + 1,
            pull_seconds=F("pull_seconds") + seconds,
            pulled_entries=F("pulled_entries") + applied,
        )
    return applied


def _fetch_private_now() -> None:
    """The private records whose sealed stubs this pull applied are fetched now, by this pull: after each
    page (`pull_from`) and each round, not after the last round (a pull kept busy by wake-ups runs up to
    MAX_PULL_ROUNDS first), nor by the fetch task the stubs queued, which waits behind this pull on a `sync`
    worker of one process (docs/federation.md, *Private records*). A failure here is the fetch's (backed
    off, retried by the fetch task and the tick), never the pull's."""
    if not private_fetches_waiting():
        return
    try:
        private_fetch_due()
    except Exception:  # a speed-up: the fetch task and the tick retry it once the claims' leases pass
        logger.exception("fetching private records after a pull round failed")


def _feed_page(peer: Peer, origin: str, after: int) -> tuple[list, Any]:
    """One page of `origin`'s feed from `peer`, after `after`: (entries, the head the peer announced)."""
    page = peer_request(
        peer,
        "GET",
        FEED_PATH.format(origin=origin),
        params={"after": after, "limit": settings.FEDERATION["PAGE_SIZE"]},
    )
    if not isinstance(page, dict) or not isinstance(page.get("entries"), list):
        raise PeerError("feed answer has no entries list", transient=False)
    return page["entries"], page.get("head")


def pull_from(peer: Peer, origin: str, *, repair: bool = False) -> int:
    """Pull `origin`'s feed from `peer` page by page until it has no more (from the start, if `repair`)."""
    after = 0 if repair else SyncState.objects.get(pk=origin).cursor
    return pages_apply(
        origin,
        partial(_feed_page, peer, origin),
        source=peer.exchange_id,
        after=after,
        repair=repair,
        after_page=_fetch_private_now,
    )


def pages_apply(
    origin: str,
    fetch: Callable[[int], tuple[list, Any]],
    *,
    source: str,
    after: int,
    repair: bool = False,
    after_page: Callable[[], None] | None = None,
) -> int:
    """Apply `origin`'s entries page by page from `fetch(after) -> (entries, announced head)` until a page
    is empty; returns the number applied. The next page is fetched, and checked with the origin's key
    (signatures, each record's standard checks: `federation.prepare`, in the helper process for a long
    page), while this one is applied (from the highest seq the page claims; fetched again from the applied
    cursor when an entry did not verify), so a catch-up waits on the network and on the checks only once.
    `after_page()` runs once each page's transaction committed, while the next page is fetched (a pull:
    the private records whose sealed stubs the page applied are fetched then, not once the feed runs dry,
    which an origin publishing steadily keeps from happening for seconds)."""
    applied = 0
    key = origin_public_key(origin) if is_exchange_code(origin) else None

    def page(after: int) -> tuple[list, Any, Checked, datetime]:
        asked_at = timezone.now()
        items, head = fetch(after)
        checked = None
        if key is not None and items:  # beside the page being applied: waits on the helper or on signatures
            checked = (key, page_check_aside(items, origin=origin, public_key=key))
        return items, head, checked, asked_at

    page = in_caller_context(page)  # its requests carry this pull's request id
    fetcher = _prefetcher()
    pending = None
    try:
        pending, pending_after = fetcher.submit(page, after), after
        while True:
            items, head, checked, asked_at = pending.result()
            if source == origin:  # a relay's head counts only as far as the entries it served verify
                _head_reported(origin, head, asked_at=asked_at)
            if not items:
                return applied
            claimed = max(seq_hint(item) for item in items)
            if claimed > after:
                pending, pending_after = fetcher.submit(page, claimed), claimed
            applied_page, last_seq = apply_page(
                origin=origin, items=items, source=source, after=after, repair=repair, prechecked=checked
            )
            applied += applied_page
            if after_page is not None and applied_page:
                after_page()
            if last_seq <= after:
                return applied  # a peer that does not move forward is done, not looped on
            after = last_seq
            if pending_after != after:
                pending.cancel()
                pending, pending_after = fetcher.submit(page, after), after
    finally:
        if pending is not None and not pending.cancel():
            wait([pending])  # a page fetched for nothing: let it finish before the next pull uses the thread


def _head_reported(origin: str, head: Any, *, asked_at: datetime) -> None:
    """The origin's own feed says its head is `head`: `head_seen` becomes that, higher or lower. Lowered only
    if it was announced before the origin was asked (a wake-up recorded while the answer travelled is newer),
    and never below the cursor (the origin signed the entries up to it), so a head inflated by a wake-up
    decays with the next pull from the origin. A head no sequence number can be is ignored."""
    if isinstance(head, bool) or not isinstance(head, int) or not 0 <= head <= MAX_SEQ:
        return
    SyncState.objects.filter(pk=origin, head_seen__lt=head).update(
        head_seen=head, head_seen_at=timezone.now()
    )
    reported = Greatest(Value(head), F("cursor"))
    SyncState.objects.filter(pk=origin, head_seen__gt=reported).filter(
        Q(head_seen_at__isnull=True) | Q(head_seen_at__lt=asked_at)
    ).update(head_seen=reported, head_seen_at=asked_at)


def _prefetcher() -> ThreadPoolExecutor:
    """One fetch thread per process, so its HTTP session and keep-alive connections to peers last from one
    pull to the next."""
    return process_pool("feed-prefetch", 1)
