"""Thin Celery tasks over the quality services; each is idempotent."""

from celery import shared_task

from quality.services import recognitions_redecide_all as redecide_all
from quality.services import reports_expire


@shared_task(name="quality.tasks.quality_tick", ignore_result=True)
def quality_tick() -> None:
    """Beat, hourly: reports past their validity stop counting (grades and recognitions follow)."""
    reports_expire()


@shared_task(name="quality.tasks.recognitions_redecide_all", ignore_result=True)
def recognitions_redecide_all() -> None:
    """After this exchange's recognition policy changed: every automatic recognition decided again."""
    redecide_all()
