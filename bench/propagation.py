"""Propagation latency in a three-node local federation under a steady listing rate.

    .venv/bin/python bench/propagation.py [--rate 50] [--seconds 20]

Starts SHDEX, BJIDX and GYBDX as real processes on loopback (gunicorn, Celery worker, Celery beat each;
the tests' harness, tests/multinode/harness.py), on SQLite + file-system broker, or on PostgreSQL + Redis
when DATABASE_URL / CELERY_BROKER_URL say so. A process at SHDEX lists RATE products a second (each
through the bulk-import service, one product per transaction, as listed) for SECONDS seconds. Latency of a
product = the time its replica row was written at the slowest peer minus its listing time at the origin (one
machine, one clock). Baseline in the same run: the round trip of a plain GET to a peer's /api/v1/node/.
Targets (issue "Federation"): p50 < 300 ms, p99 < 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import ROOT, machine, percentile

sys.path.insert(0, str(ROOT))

from tests.multinode.harness import Federation, wait_until

LOAD = """
import json, random, time
from products.importing import product_import_batch
from participants.services import providers_register_verified
from products.sample_data import descriptor
rng = random.Random(4242)
docs = [descriptor(rng) for _ in range({count})]
# Products need registered providers: registered (and replicated) before the timed listings start.
providers_register_verified([(d["provider"]["uscc"], d["provider"]["name"]) for d in docs])
time.sleep(5)
interval = 1.0 / {rate}
start = time.monotonic()
for i in range({count}):
    due = start + i * interval
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    product_import_batch(actor=None, items=[(i + 1, docs[i])], status="listed")
print(json.dumps({{"seconds": time.monotonic() - start}}))
"""

TIMES = """
import json
from products.models import Product
rows = Product.objects.filter(exchange_id="SHDEX").values_list("code", "{column}")
print(json.dumps({{code: when.timestamp() for code, when in rows}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    count = args.rate * args.seconds
    federation = Federation(
        ("SHDEX", "BJIDX", "GYBDX"),
        Path(tempfile.mkdtemp(prefix="propagation-")),
        extra_env={"FEDERATION_SYNC_INTERVAL": "5", "LOG_LEVEL": "WARNING"},
    )
    try:
        print(f"machine: {machine()}")
        started = time.perf_counter()
        federation.start()
        print(
            f"three nodes up in {time.perf_counter() - started:.1f} s; listing {count} products at "
            f"{args.rate}/s at SHDEX"
        )
        peer = federation["BJIDX"]
        rtts = []
        for _ in range(50):
            t = time.perf_counter()
            requests.get(peer.url + "/api/v1/node/", timeout=5)
            rtts.append((time.perf_counter() - t) * 1000)
        load = federation["SHDEX"].shell_json(
            LOAD.format(rate=args.rate, count=count), timeout=args.seconds * 10
        )
        print(f"origin listed {count} in {load['seconds']:.1f} s")
        for code in ("BJIDX", "GYBDX"):
            node = federation[code]
            wait_until(
                lambda n=node: (
                    n.shell_json(
                        "from products.models import Product; print(Product.objects.filter(exchange_id='SHDEX').count())"
                    )
                    >= count
                ),
                timeout=300,
                message=f"{code} has every listing",
            )
        listed = federation["SHDEX"].shell_json(TIMES.format(column="listed_at"))
        seen = [federation[c].shell_json(TIMES.format(column="created_at")) for c in ("BJIDX", "GYBDX")]
        latencies = [(max(s[code] for s in seen) - listed[code]) * 1000 for code in listed]
        print(
            f"baseline: GET a peer's /api/v1/node/        p50 {percentile(rtts, 50):8.1f} ms  "
            f"p99 {percentile(rtts, 99):8.1f} ms"
        )
        print(
            f"commit at origin -> visible at every peer   p50 {percentile(latencies, 50):8.1f} ms  "
            f"p99 {percentile(latencies, 99):8.1f} ms  max {max(latencies):8.1f} ms  (n={len(latencies)})"
        )
        met = percentile(latencies, 50) < 300 and percentile(latencies, 99) < 2000
        print(f"targets p50 < 300 ms, p99 < 2 s: {'MET' if met else 'NOT MET'}")
        return 0
    finally:
        federation.close()


if __name__ == "__main__":
    sys.exit(main())
