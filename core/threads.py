"""Thread pools that live as long as their process."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_pools: dict[tuple[str, int], tuple[int, ThreadPoolExecutor]] = {}


def process_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool `name` of `threads` threads, made on first use in this process: a pool made before
    a fork (Celery's prefork children) has no threads in the child, so each child makes its own."""
    held = _pools.get((name, threads))
    if held is None or held[0] != os.getpid():
        held = (os.getpid(), ThreadPoolExecutor(threads, thread_name_prefix=name))
        _pools[(name, threads)] = held
    return held[1]
