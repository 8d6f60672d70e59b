from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.tasks.node_heartbeat")
def node_heartbeat() -> None:
    heartbeat_record(name="worker")
