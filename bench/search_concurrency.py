"""Concurrent broad searches against a real web server, and what they do to a cheap GET meanwhile
(`bench/search.py --concurrent N`).

The server is the one `make run` starts for a node (scripts/localnet.py): gunicorn with the project's
configuration, 2 worker processes of 4 threads, here on the benchmark's database. The clients are threads
of the benchmark's process, on the same machine (they share its cores with the server, as they would in
any single-machine measurement), each with its own connection per request (no keep-alive):

1. idle: the cheap GET alone, then one broad search at a time;
2. loaded: N threads search broad terms back to back while the cheap GET is timed every 50 ms.

The cheap GET is a product's detail (`GET /api/v1/products/{code}/`): one row by a unique key.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT

SERVER_ARGS = ("--workers", "2", "--threads", "4")  # make run's web server (scripts/localnet.py)
CHEAP_INTERVAL = 0.05


@dataclass
class Timings:
    cheap_idle: list[float] = field(default_factory=list)
    search_idle: list[float] = field(default_factory=list)
    cheap_loaded: list[float] = field(default_factory=list)
    search_loaded: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 120.0) -> float:
    """Milliseconds to a complete 200 answer."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (the local server)
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


@contextmanager
def web_server(env: dict[str, str]) -> Iterator[str]:
    """gunicorn as `make run` starts it, on the database of `env`; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = Path(tempfile.mkdtemp(prefix="bench-search-"))
    log = open(data / "web.log", "wb")  # noqa: SIM115 - closed below, after the server
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("registry.wsgi", "-c", "python:registry.gunicorn", "--bind", f"127.0.0.1:{port}", *SERVER_ARGS),
    ]
    # The metrics files of the server's workers go to a directory of its own, not the node's.
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(data / "metrics"), "NODE_PUBLIC_URL": base}
    server = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "/api/v1/node/", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the web server did not start: see {data / 'web.log'}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def measure(base: str, *, cheap: str, broad: list[str], searchers: int, seconds: float) -> Timings:
    """The cheap GET and broad searches, first idle, then with `searchers` threads searching meanwhile."""
    cheap_url = base + cheap
    search_urls = [f"{base}/api/v1/products/?{urlencode({'q': q})}" for q in broad]
    t = Timings()
    for url in search_urls:  # warm every worker's caches a little (jieba, the first connection)
        _get(url)
    t.cheap_idle = [_get(cheap_url) for _ in range(40)]
    t.search_idle = [_get(search_urls[i % len(search_urls)]) for i in range(4 * len(search_urls))]

    stop = threading.Event()
    lock = threading.Lock()

    def search(offset: int) -> None:
        i = offset
        while not stop.is_set():
            try:
                ms = _get(search_urls[i % len(search_urls)])
            except (OSError, RuntimeError) as exc:
                with lock:
                    t.errors.append(repr(exc))
                continue
            with lock:
                t.search_loaded.append(ms)
            i += 1

    threads = [threading.Thread(target=search, args=(n,), daemon=True) for n in range(searchers)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every searcher under way
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t.cheap_loaded.append(_get(cheap_url))
        time.sleep(CHEAP_INTERVAL)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    return t


def run(*, env: dict[str, str], cheap: str, broad: list[str], searchers: int, seconds: float) -> Timings:
    with web_server({**os.environ, **env}) as base:
        return measure(base, cheap=cheap, broad=broad, searchers=searchers, seconds=seconds)
