"""Thin Celery tasks: each calls a service. All are idempotent and safe to run twice or concurrently."""

from celery import shared_task

from federation import services
from federation.selectors import peers_enabled


@shared_task(name="federation.tasks.wake_peers", ignore_result=True)
def wake_peers(origin: str, seq: int) -> None:
    from federation.outbox import wake_started

    # The head now, not the one of the commit that queued this task: later commits rely on it.
    seq = max(seq, wake_started(origin))
    services.wakeups_enqueue(origin=origin, seq=seq)
    services.wakeups_deliver()


@shared_task(name="federation.tasks.deliver_wakeups", ignore_result=True)
def deliver_wakeups() -> None:
    services.wakeups_deliver()


@shared_task(name="federation.tasks.pull_origin", ignore_result=True)
def pull_origin(origin: str) -> None:
    services.pull_origin(origin=origin)


@shared_task(name="federation.tasks.sync_tick", ignore_result=True)
def sync_tick() -> None:
    """Beat: retry wake-ups and queue the pulls that are due, so a lost wake-up costs latency, never data."""
    services.wakeups_deliver()
    fetch_private.delay()  # private records whose fetch failed are retried here, backed off
    for origin in services.pulls_due():
        services.pull_enqueue(origin)


@shared_task(name="federation.tasks.fetch_private", ignore_result=True)
def fetch_private() -> None:
    from federation.private import private_fetch_due

    private_fetch_due()


@shared_task(name="federation.tasks.anti_entropy", ignore_result=True)
def anti_entropy() -> None:
    for peer in peers_enabled():
        services.anti_entropy_check(peer=peer)
