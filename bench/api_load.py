"""Public reads per node (issue 25, target 1): requests per second and p99 of the public read mix at 32
connections, beside `GET /api/v1/node/` measured in the same run on the same server.

    .venv/bin/python bench/api_load.py [--count 100000] [--reuse] [--cache-url redis://127.0.0.1:6379/3]
                                       [--seconds 20] [--connections 32]

Targets: the public read mix (search, product page, directory) at ≥ 0.5 of the `GET /api/v1/node/` rate with
p99 < 200 ms, and a product page at ≥ 0.7 of it, over COUNT listed products on PostgreSQL.

1. The database (`registry_bench_api_load`, or `--database-url`) is loaded as bench/search.py loads it (the
   real importer, then VACUUM (ANALYZE)), unless `--reuse` finds it loaded.
2. A web server is started as docker-compose.yml runs one (the image's gunicorn command: 3 workers of 4
   threads; REGISTRY_ENV=production, DEBUG off, LOG_LEVEL INFO with every request logged, NUM_PROXIES=1,
   THROTTLE_ANON 600/min, the cache of `--cache-url`: Redis as in production), on loopback only.
3. wrk (https://github.com/wg/wrk; `apt-get install wrk`) drives it for `--seconds` per case at
   `--connections` connections, 2 threads, after every path of a case was asked once (up to 2,000 paths:
   the popular pages, in the cache as their readers would have left them) and a 3 s untimed warm-up. Each request carries an X-Forwarded-For from a pool of 10,000
   addresses, as a reverse proxy would send it (clients of many addresses: the anonymous throttle counts per
   address and is not reached). Cases: the baseline, a product page (1,000 products in turn), a search (the
   Chinese queries of bench/search.py in turn), the directory, the mix (a third each), the product page with a
   matching If-None-Match (304), and the mix over every product (pages mostly not in the cache).
4. The same cases with the read cache off (READ_CACHE_SECONDS=0) on a second server, unless `--no-off`: the
   before and after in one run.

Every figure is printed with the load average at its start: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, bench_database_url, machine, setup_django
from search import QUERIES, load, prepare
from search_concurrency import _free_port

MIX_TARGET, PAGE_TARGET, P99_TARGET_MS = 0.5, 0.7, 200.0
PRIME_LIMIT = 2000
SERVER_ARGS = ("--workers", "3", "--threads", "4", "--timeout", "60", "--worker-tmp-dir", "/dev/shm")  # noqa: S108
WRK_SCRIPT = """
local paths = {%(paths)s}
local n, i = #paths, math.random(1, #paths)
request = function()
  i = i %% n + 1
  local a = math.random(1, 10000)
  local headers = {["X-Forwarded-For"] = "10." .. math.floor(a / 256) .. "." .. (a %% 256) .. ".7"%(extra)s}
  return wrk.format("GET", paths[i], headers)
end
"""


def wrk_case(server: Server, paths: list[str], *, seconds: float, connections: int, etag: str = "") -> dict:
    """One wrk run over `paths` in turn: req/s, p50/p99 ms, the non-2xx/3xx count, and the web server's CPU
    time per request (its worker processes' user + system time over the run)."""
    extra = f', ["If-None-Match"] = {json.dumps(etag)}' if etag else ""
    lua = WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths), "extra": extra}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script.name]
    load, cpu = os.getloadavg()[0], server.cpu()
    try:
        run = subprocess.run(
            [*argv, server.base], capture_output=True, text=True, timeout=seconds + 60, check=True
        )
    finally:
        os.unlink(script.name)
    cpu, out = server.cpu() - cpu, run.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),
        "bad": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
        "errors": (re.search(r"Socket errors:.*", out) or [""])[0],
        "cpu_ms": cpu * 1000 / max(requests, 1),
        "load": load,
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def server_env(database_url: str, cache_url: str, *, cache_seconds: int, data: Path) -> dict[str, str]:
    """The environment of docker-compose.yml's web service, on this machine's database and cache."""
    return {
        **os.environ,
        "REGISTRY_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "SILENCED_SYSTEM_CHECKS": "security.W008",
        "NUM_PROXIES": "1",
        "NODE_DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
        "THROTTLE_ANON": "600/min",
        "THROTTLE_WRITE": "1200/min",
        "DATABASE_CONN_MAX_AGE": "60",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "READ_CACHE_SECONDS": str(cache_seconds),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PROMETHEUS_MULTIPROC_DIR": str(data / "metrics"),
    }


@dataclass
class Server:
    base: str
    pid: int

    def cpu(self) -> float:
        """Seconds of CPU (user + system) of the server's worker processes so far."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return 0.0
        total = 0
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def web_server(env: dict[str, str], data: Path):
    """gunicorn as the image runs it (docker-compose.yml's web service), on loopback; yields a Server."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**env, "NODE_PUBLIC_URL": base}
    argv = [str(Path(sys.executable).parent / "gunicorn"), "registry.wsgi", "-c", "python:registry.gunicorn"]
    argv += ["--bind", f"127.0.0.1:{port}", *SERVER_ARGS]
    with open(data / "web.log", "wb") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    get(base + "/api/v1/node/")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the web server did not start: see {data / 'web.log'}") from None
                    time.sleep(0.3)
            yield Server(base, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    client = f"10.200.{random.randrange(256)}.{random.randrange(1, 255)}"
    headers = {"X-Forwarded-For": client, **(headers or {})}  # a reader of its own (the anonymous throttle)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the local server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local server
        return response.status, dict(response.headers), response.read()


def cases(codes: list[str], every: list[str]) -> dict[str, list[str]]:
    """Each case's paths, in a fixed shuffled order."""
    pages = [f"/api/v1/products/{quote(code)}/" for code in codes]
    searches = ["/api/v1/products/?" + urlencode(params) for _, params in QUERIES]
    directory = ["/api/v1/exchanges/"]
    mix = [path for trio in zip(pages, searches * 60, directory * 1000, strict=False) for path in trio]
    wide = [path for trio in zip(every, searches * 6000, directory * 100000, strict=False) for path in trio]
    return {
        "baseline GET /api/v1/node/": ["/api/v1/node/"],
        "product page (1,000 products)": pages,
        "search (17 queries)": searches,
        "directory GET /api/v1/exchanges/": directory,
        "read mix (search, page, directory)": mix,
        "read mix, pages of every product": wide,
    }


def prime(base: str, paths: list[str]) -> None:
    """Every path of a case asked once (8 at a time), as its readers would have before: a case of at most
    PRIME_LIMIT paths is then measured with its pages in the cache. A larger one is measured as it is."""
    if len(set(paths)) > PRIME_LIMIT:
        return
    with ThreadPoolExecutor(8) as pool:
        for status, _, _ in pool.map(lambda path: get(base + path), sorted(set(paths))):
            assert status == 200, status


BASELINE = "baseline GET /api/v1/node/"


def measure(
    server: Server, paths: dict[str, list[str]], *, seconds: float, connections: int, warmup: float
) -> dict[str, dict]:
    """Each case right after a run of the baseline (then its priming and warm-up): its ratio is to that
    baseline, measured a moment before (the load of a shared machine changes from minute to minute)."""
    results = {}
    page = paths["product page (1,000 products)"][0]
    _, headers, _ = get(server.base + page)
    runs = [(name, case, "") for name, case in paths.items() if name != BASELINE]
    if headers.get("ETag"):
        runs.append(("product page, If-None-Match matches (304)", [page], headers["ETag"]))
    for name, case, etag in runs:
        base = wrk_case(server, paths[BASELINE], seconds=seconds, connections=connections)
        prime(server.base, case)  # then the case within READ_CACHE_SECONDS of its pages being stored
        if warmup:
            wrk_case(server, case, seconds=warmup, connections=connections, etag=etag)  # not timed
        results[name] = wrk_case(server, case, seconds=seconds, connections=connections, etag=etag)
        results[name]["baseline"] = base
        report(BASELINE, base, base)
        report(name, results[name], base)
    return results


def report(name: str, r: dict, base: dict) -> None:
    bad = f"; {r['bad']} non-2xx/3xx" if r["bad"] else ""
    print(
        f"  {name:43} {r['rps']:7.1f} req/s ({r['rps'] / base['rps']:4.2f} of baseline)  p50 {r['p50']:6.1f} ms"
        f"  p99 {r['p99']:6.1f} ms  CPU {r['cpu_ms']:5.2f} ms/request  load {r['load']:4.1f}{bad} {r['errors']}",
        flush=True,
    )


def judge(results: dict) -> None:
    mix, page = results["read mix (search, page, directory)"], results["product page (1,000 products)"]
    ok_mix = mix["rps"] >= MIX_TARGET * mix["baseline"]["rps"] and mix["p99"] < P99_TARGET_MS
    ok_page = page["rps"] >= PAGE_TARGET * page["baseline"]["rps"]
    print(
        f"read mix: {mix['rps'] / mix['baseline']['rps']:.2f} of baseline (target ≥ {MIX_TARGET}), p99 {mix['p99']:.0f} ms "
        f"(target < {P99_TARGET_MS:.0f}): {'met' if ok_mix else 'NOT met'}"
    )
    print(
        f"product page: {page['rps'] / page['baseline']['rps']:.2f} of baseline (target ≥ {PAGE_TARGET}): "
        f"{'met' if ok_page else 'NOT met'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded benchmark database")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--cache-url", default="locmemcache://bench", help="the server's CACHE_URL (Redis!)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds of each case first")
    parser.add_argument("--no-off", action="store_true", help="skip the run with the read cache off")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: `apt-get install -y wrk` (https://github.com/wg/wrk); nothing measured")
        return 2
    os.environ["THROTTLE_ANON"] = "100000000/min"  # the loading process only
    url = setup_django(args.database_url or bench_database_url("api_load"), fresh=not args.reuse)
    from django.db import connection

    from products.models import Product

    print(f"machine: {machine()}\ndatabase: {url}\nserver cache: {args.cache_url}")
    listed = Product.objects.filter(status="listed").count()
    if not (args.reuse and listed >= args.count):
        seconds = load(args.count, args.seed)
        prepare(connection)
        listed = Product.objects.filter(status="listed").count()
        print(f"loaded {listed} listed products in {seconds:.1f} s")
    every = list(Product.objects.filter(status="listed").values_list("code", flat=True))
    connection.close()
    rng = random.Random(args.seed)
    codes = rng.sample(every, min(1000, len(every)))
    rng.shuffle(every)
    paths = cases(codes, [f"/api/v1/products/{quote(c)}/" for c in every])
    for label, cache_seconds in (("read cache on", 60), ("read cache off", 0))[: 1 if args.no_off else 2]:
        data = Path(tempfile.mkdtemp(prefix="bench-api-load-"))
        env = server_env(url, args.cache_url, cache_seconds=cache_seconds, data=data)
        with web_server(env, data) as server:
            print(
                f"{label} ({listed} listed products, {args.connections} connections, {args.seconds:.0f} s each):"
            )
            results = measure(
                server, paths, seconds=args.seconds, connections=args.connections, warmup=args.warmup
            )
            if cache_seconds:
                judge(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
