"""Queueing Celery tasks from services by name.

A service queues work after its transaction commits (`enqueue_on_commit`), and an app's tasks module calls
its services: if services imported the tasks module, each app would hold an import cycle open. Services
name the task instead (`"federation.tasks.pull_origin"`); routing (`CELERY_TASK_ROUTES`) applies by name as
it does to `.delay()`. A web process need not have imported the tasks modules to send by name (workers
import them at start); `tests/test_architecture.py` checks that every name queued is a registered task.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import current_app
from django.db import transaction


def enqueue(name: str, *args) -> None:
    """Queue the task registered as `name` with `args` (run it here and now where tasks run eagerly, as
    `.delay()` would)."""
    if current_app.conf.task_always_eager:
        current_app.tasks[name].apply(args)
        return
    current_app.send_task(name, args=args)


@dataclass(frozen=True)
class Queued:
    """A task to queue when the transaction commits (what `transaction.on_commit` holds until then)."""

    name: str
    args: tuple

    def __call__(self) -> None:
        enqueue(self.name, *self.args)


def enqueue_on_commit(name: str, *args) -> None:
    """Queue the task once the current transaction commits (never for one that rolls back)."""
    transaction.on_commit(Queued(name, args))
