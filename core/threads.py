"""Thread pools that live as long as their process."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_pools: dict[tuple[str, int], tuple[int, ThreadPoolExecutor]] = {}


def process_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool `name` of `threads` threads, made on first use in this process: a pool made before
    a fork (Celery's prefork children) has no threads in the child, so each child makes its own."""
    held = _pools.get((name, threads))
    if held is None or held[0] != os.getpid():
        held = (os.getpid(), ThreadPoolExecutor(threads, thread_name_prefix=name))
        _pools[(name, threads)] = held
    return held[1]


def in_caller_context(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, to be run on a pool's threads in a copy of the caller's context variables (the request id its
    log lines and its requests to peers carry: core/logs.py). A thread starts with an empty context."""
    context = contextvars.copy_context()

    def run(*args, **kwargs):
        return context.copy().run(fn, *args, **kwargs)  # a copy each: one context is entered by one thread

    return run
