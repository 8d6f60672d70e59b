from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.tasks.node_heartbeat")
def node_heartbeat() -> None:
    """Beat, on the default queue: its worker is alive."""
    heartbeat_record(name="worker")


@shared_task(name="core.tasks.sync_heartbeat")
def sync_heartbeat() -> None:
    """Beat, routed to the `sync` queue (CELERY_TASK_ROUTES): the worker that pulls from peers is alive."""
    heartbeat_record(name="sync")
