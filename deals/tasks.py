"""Thin Celery tasks over the deals services; each is idempotent."""

from celery import shared_task

from deals.acceptance import deals_auto_accept
from deals.compliance import deal_compliance_run, deals_compliance_due


@shared_task(name="deals.tasks.deal_compliance", ignore_result=True)
def deal_compliance(gid: str) -> None:
    deal_compliance_run(gid)


@shared_task(name="deals.tasks.deals_tick", ignore_result=True)
def deals_tick() -> None:
    """Beat, every minute: agreed deals this node coordinates are checked (if their task was lost), and
    deliveries whose acceptance window passed unanswered count as accepted."""
    for gid in deals_compliance_due():
        deal_compliance_run(gid)
    deals_auto_accept()
