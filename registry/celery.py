"""The node's Celery application: workers move work inside one node (never across nodes' databases)."""

import logging.config
import os

import click
from celery import Celery, bootsteps
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.conf import settings
from kombu.transport import TRANSPORT_ALIASES

from core.logs import request_id, request_id_new, request_id_valid

# filesystem:// is the embedded default broker; its messages are written atomically (core/broker.py).
TRANSPORT_ALIASES["filesystem"] = "core.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class ThreadedBeat(bootsteps.StartStopStep):
    """`celery worker --beat-thread`: beat runs as a thread of the worker's main process, where `-B` forks it
    as a process of its own (a second copy of the whole node in memory). The light-node layout runs it so with
    the solo pool: one process per node for the tasks and the clock (docs/operations.md, "Light nodes").
    The worker's `--schedule` names beat's schedule file as with `-B`; run exactly one beat per node."""

    label = "ThreadedBeat"
    conditional = True

    def __init__(self, w, beat_thread: bool = False, **kwargs) -> None:
        self.enabled = bool(beat_thread)
        super().__init__(w, **kwargs)

    def create(self, w):
        from celery.beat import EmbeddedService  # lazy: only a worker with --beat-thread runs a clock

        return EmbeddedService(
            w.app, thread=True, schedule_filename=w.schedule_filename, scheduler_cls=w.scheduler
        )


app.steps["worker"].add(ThreadedBeat)
app.user_options["worker"].add(
    click.Option(
        ("--beat-thread",),
        is_flag=True,
        default=False,
        help="Run beat as a thread of this worker (light nodes: no process of its own).",
    )
)

# The request id (core/logs.py) travels with a task as this message header.
REQUEST_ID_HEADER = "request_id"
_tokens: dict[str, object] = {}


@setup_logging.connect
def logging_as_django(**kwargs) -> None:
    """Workers and beat log like the web, in the node's format (LOGGING), at LOG_LEVEL: a receiver here keeps
    Celery from setting up its own handlers (its --loglevel then has no effect)."""
    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def request_id_send(headers=None, **kwargs) -> None:
    """A task queued while a request (or another task) runs carries its request id."""
    current = request_id.get()
    if current and headers is not None:
        headers[REQUEST_ID_HEADER] = current


@task_prerun.connect
def request_id_take(task_id=None, task=None, **kwargs) -> None:
    """A task runs under the request id it was queued with; one queued by nothing that had an id (a beat
    tick) gets a new one, which the tasks it queues and the peers it calls take up in turn."""
    request = task.request if task is not None else None
    # A worker finds the message's headers on the request itself, an eager run under `headers`.
    given = request and (
        request.get(REQUEST_ID_HEADER) or (request.get("headers") or {}).get(REQUEST_ID_HEADER)
    )
    if not request_id_valid(given):
        eager = request is not None and request.is_eager  # run inline: it keeps its caller's id
        given = request_id.get() if eager and request_id.get() else request_id_new()
    _tokens[task_id] = request_id.set(given)


@task_postrun.connect
def request_id_drop(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)
