"""Thin Celery tasks: each calls a service. All are idempotent and safe to run twice or concurrently."""

from celery import shared_task
from django.conf import settings

from federation.private import private_fetch_due, private_fetches_waiting
from federation.pull import pull_enqueue, pulls_due
from federation.pull import pull_origin as pull_origin_now
from federation.repair import anti_entropy_check
from federation.selectors import peers_enabled
from federation.unknown_standards import unknown_standards_retry_once
from federation.wakeups import wake_announce, wakeups_deliver


@shared_task(name="federation.tasks.wake_peers", ignore_result=True)
def wake_peers(origin: str, seq: int) -> None:
    # The head now, not the one of the commit that queued this task: later commits rely on it.
    wake_announce(origin, seq)


@shared_task(name="federation.tasks.deliver_wakeups", ignore_result=True)
def deliver_wakeups() -> None:
    wakeups_deliver()


@shared_task(name="federation.tasks.pull_origin", ignore_result=True)
def pull_origin(origin: str) -> None:
    pull_origin_now(origin=origin)
    # The private records whose stubs the pull applied are fetched now, by this task, instead of by the
    # fetch task the stubs queued, which would wait behind the other pulls: one queue hop less for a deal's
    # step (docs/federation.md, *Private records*). That task then finds nothing due, or what failed here.
    if private_fetches_waiting():
        private_fetch_due()


@shared_task(name="federation.tasks.sync_tick", ignore_result=True)
def sync_tick() -> None:
    """Beat: retry wake-ups and queue the pulls that are due, so a lost wake-up costs latency, never data.
    The first tick of a worker process also applies the entries that waited for a standard version this
    node now knows (after an upgrade)."""
    unknown_standards_retry_once()
    wakeups_deliver()
    if private_fetches_waiting():  # private records whose fetch failed are retried here, backed off
        fetch_private.delay()
    for origin in pulls_due():
        pull_enqueue(origin)


@shared_task(name="federation.tasks.fetch_private", ignore_result=True)
def fetch_private() -> None:
    private_fetch_due()


@shared_task(name="federation.tasks.anti_entropy", ignore_result=True)
def anti_entropy() -> None:
    """Beat: one check per peer, spread over the interval. A round against 23 peers in one task held the
    worker for a minute, and the pulls and demand matches queued behind it waited as long."""
    codes = list(peers_enabled().order_by("exchange_id").values_list("exchange_id", flat=True))
    spread = settings.FEDERATION["ANTI_ENTROPY_INTERVAL"] / max(len(codes), 1)
    for i, code in enumerate(codes):
        anti_entropy_peer.apply_async((code,), countdown=round(i * spread, 1))


@shared_task(name="federation.tasks.anti_entropy_peer", ignore_result=True)
def anti_entropy_peer(code: str) -> None:
    peer = peers_enabled().filter(exchange_id=code).first()
    if peer is not None:
        anti_entropy_check(peer=peer)
