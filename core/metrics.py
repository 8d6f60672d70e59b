"""Prometheus metrics of a node (`GET /metrics`, docs/operations.md *Metrics*).

Two kinds, so that the numbers are right however many processes a node runs:

* **Counted where they happen**, in the process that serves the request: `REQUEST_SECONDS`. gunicorn runs
  several worker processes; under it prometheus-client's multiprocess mode is on (`registry/gunicorn.py`
  gives every worker one directory, `PROMETHEUS_MULTIPROC_DIR`, where each keeps its values in a memory-mapped
  file) and a scrape adds up every worker's file. Without that variable (a single process: runserver, tests)
  the values stay in the process.
* **Read from the database or the broker when scraped**: everything about the federation, webhooks and the
  queues (`federation.metrics`, `demands.metrics`, the collectors below). Celery workers may run in other
  containers or on other machines; what they do is in the database (a pull's outcome and time on its origin's
  `SyncState`), which every web process reads alike.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from kombu.exceptions import ChannelError, OperationalError
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from core.selectors import heartbeat_last

logger = logging.getLogger(__name__)
# No `_created` series in a single process either: multiprocess mode has none; a scrape is alike in both.
disable_created_metrics()

REQUEST_SECONDS = Histogram(
    "registry_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, Django view name and status; its _count counts requests.",
    ["method", "view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


_children: dict[tuple[str, str, int], Any] = {}  # the histogram's child of each label set, once looked up


def request_observe(method: str, view: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    child = _children.get((method, view, status))
    if child is None:  # labels() checks and looks up its arguments: a third of the cost, once per label set
        child = _children[(method, view, status)] = REQUEST_SECONDS.labels(method, view, str(status))
    child.observe(seconds)


def up(name: str, ok: bool) -> GaugeMetricFamily:
    """`registry_<name>_up`: whether this scrape could read the database or the broker (when it could not,
    the metrics read from it are left out of the scrape)."""
    return GaugeMetricFamily(
        f"registry_{name}_up", f"1 if this scrape could read the {name}, 0 if not.", value=1.0 if ok else 0.0
    )


class NodeCollector:
    """Who this node is, and how long ago each Celery worker's heartbeat ran (core.tasks)."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "registry_node_info", "This node's exchange code (always 1).", labels=["node"]
        )
        info.add_metric([settings.NODE_CODE], 1.0)
        yield info
        age = GaugeMetricFamily(
            "registry_worker_heartbeat_age_seconds",
            "Seconds since the heartbeat task last ran on the worker of a queue (`worker`: celery, `sync`).",
            labels=["worker"],
        )
        try:
            now = timezone.now()
            for name in ("worker", "sync"):
                beat = heartbeat_last(name=name)
                if beat is not None:
                    age.add_metric([name], (now - beat).total_seconds())
        except DatabaseError:
            logger.warning("metrics: the database did not answer", exc_info=True)
            yield up("database", False)
            return
        yield age
        yield up("database", True)


class QueueCollector:
    """`registry_celery_queue_length{queue}`: tasks waiting in the broker for a worker, per queue."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "registry_celery_queue_length",
            "Tasks waiting in the node's broker, per Celery queue (taken but unfinished tasks not counted).",
            labels=["queue"],
        )
        try:
            with current_app.connection_for_read(connect_timeout=2) as connection:
                channel = connection.default_channel
                for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.SYNC_QUEUE):
                    family.add_metric([queue], float(_queue_length(channel, queue)))
        except (OSError, OperationalError, ChannelError):
            logger.warning("metrics: the broker did not answer", exc_info=True)
            yield up("broker", False)
            return
        yield family
        yield up("broker", True)


def _queue_length(channel, queue: str) -> int:
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:  # a queue nothing was ever sent to (Redis drops an emptied one): no task waits
        return 0


def exposition(collectors: Iterable) -> bytes:
    """The text of one scrape: the counted metrics (every gunicorn worker's, in multiprocess mode) and what
    `collectors` read now."""
    registry = CollectorRegistry(auto_describe=False)
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(REGISTRY)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
