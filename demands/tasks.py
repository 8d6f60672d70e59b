"""Thin Celery tasks over the demands services; each is idempotent."""

from celery import shared_task

from demands.matching import demand_match_and_notify
from demands.notifications import deliveries_send
from demands.responses import demand_followups
from demands.services import demands_expire, demands_unmatched


@shared_task(name="demands.tasks.demand_match", ignore_result=True)
def demand_match(gid: str) -> None:
    demand_match_and_notify(gid)
    demand_followups(gid)


@shared_task(name="demands.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks() -> None:
    deliveries_send()


@shared_task(name="demands.tasks.demands_tick", ignore_result=True)
def demands_tick() -> None:
    """Beat: expire this node's demands past their deadline, retry webhook deliveries, and match demands
    whose matching has not run for their current version (a lost task costs latency, not a notification)."""
    demands_expire()
    for gid in demands_unmatched():
        demand_match.delay(gid)
    deliver_webhooks.delay()
