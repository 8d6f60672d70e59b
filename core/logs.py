"""How every process of a node logs: one line per record, JSON in production (`LOG_FORMAT=json`), each
carrying the node's code and the request id of the work it belongs to.

The request id lives in a context variable, `request_id`: `core.middleware.RequestIdMiddleware` sets it for a
web request (a valid `X-Request-ID` the client sent, or a new one); `registry/celery.py` carries it on the
tasks a request queues and sets it while a worker runs one (a task queued by no request, a beat tick, gets a
new one); `federation.http` sends it to peers, whose middleware takes it up. A thread that works for a
request or task runs in a copy of its context (`core.threads.in_caller_context`), so the id follows it there.

Every line's time is UTC, in both formats and in every process: Django sets the process's local time zone to
TIME_ZONE (Asia/Shanghai) once it is set up, gunicorn's master is not set up, so local times differed
between the lines of one node. A refused request (PermissionDenied: the admin's add page of a read-only model)
is logged as Django's one-line warning, without the traceback Django attaches.

(Not django-guid, which does the same for requests: its middleware rebuilds the request's full path twice per
request to check its ignore list; measured on this machine, 14 to 36 µs a request against 2 to 4 µs here.)
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# A valid id, from a client, a peer or a task's message: 1 to 64 letters, digits, `.`, `_`, `:` and `-` (a
# UUID in any of its usual spellings, 32 hex digits, a ULID, `urn:uuid:...`): bounded, and nothing a log line
# or a log store could misread. Anything else is replaced by a new id.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_valid(value: object) -> bool:
    return isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def request_id_new() -> str:
    return uuid.uuid4().hex


# A record's own attributes that a JSON line renames; everything else given as `extra` is a field of its own.
JSON_FIELDS = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`missing` when there is none: work no request caused)."""

    def __init__(self, missing: str | None = None):
        super().__init__()
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or self.missing
        return True


class UtcFormatter(logging.Formatter):
    """`%(asctime)s` in UTC, marked so: `2026-05-04 03:02:01.123Z`."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%d %H:%M:%S"
    default_msec_format = "%s.%03dZ"


class RefusalWithoutTraceback(logging.Filter):
    """Django logs a PermissionDenied with its traceback: a refusal is an answer (403), not a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info, record.exc_text = None, None
        return True


def formatters(node: str) -> dict:
    return {
        "plain": {
            "()": UtcFormatter,
            "format": f"%(asctime)s %(levelname)s %(name)s [{node}] [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": JSON_FIELDS,
            "static_fields": {"node": node},
            "timestamp": "time",  # ISO 8601 in UTC, microseconds: what log stores parse without a pattern
        },
    }


def logging_config(*, fmt: str, level: str, node: str) -> dict:
    """The `LOGGING` dict of a node: `fmt` is "plain" or "json"."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters(node),
        "filters": {
            "request_id": {"()": RequestIdFilter, "missing": None if fmt == "json" else "-"},
            "refusals": {"()": RefusalWithoutTraceback},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        # A worker's lifecycle lines ("celery@… ready.", its shutdown) at any LOG_LEVEL: supervisors, the
        # multi-node harness and operators wait for "ready." before they count on the worker.
        "loggers": {
            "celery.apps.worker": {"level": "DEBUG" if level == "DEBUG" else "INFO"},
            "django.request": {"filters": ["refusals"]},
        },
    }


def gunicorn_config(*, fmt: str, level: str, node: str) -> dict:
    """gunicorn's `logconfig_dict`: its own lines (start, workers booted, a worker's timeout) in the node's
    format, times in UTC; its access log stays off, since the node logs each request itself
    (`core.middleware.RequestMetricsMiddleware`)."""
    config = logging_config(fmt=fmt, level=level, node=node)
    quiet = {"handlers": ["console"], "propagate": False}
    config["loggers"].update(
        {"gunicorn.error": {"level": "INFO", **quiet}, "gunicorn.access": {"level": "WARNING", **quiet}}
    )
    return config
