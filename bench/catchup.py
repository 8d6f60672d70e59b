"""Catch-up: a node that missed ENTRIES entries of an origin is current again — target under 60 s.

    .venv/bin/python bench/catchup.py [--listings 25000] [--sqlite]

Two nodes as real processes (gunicorn, Celery worker and beat each; tests/multinode/harness.py), on the
production backend, PostgreSQL + Redis (the local services; `--sqlite` for the embedded default):

1. SHDEX and BJIDX start peered; BJIDX is then stopped (web server, worker, beat).
2. SHDEX lists LISTINGS products through the real importer (`manage.py import_products --status listed`);
   every listing is two entries of SHDEX's log (the product and SHDEX's own recognition of it), and the
   providers' registrations are entries too.
3. BJIDX starts again. Measured: the time from the start of its processes, and from its worker being
   ready, until its cursor for SHDEX reaches SHDEX's head; then every product and recognition is checked
   to be there, once.

Baselines in the same run: the raw transfer — BJIDX's own signed client fetching every page of the feed
from SHDEX, parsing it and nothing more — and the raw Ed25519 verify rate of SHDEX's entries.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

sys.path.insert(0, str(ROOT))

from tests.multinode.harness import Federation, PostgresBackend, SqliteBackend, wait_until

TARGET_ENTRIES = 100_000

# Run at SHDEX: the descriptors to import, their providers registered (verified) there first.
DESCRIPTORS = """
import json
from participants.services import providers_register_verified
from products.sample_data import descriptors
docs = list(descriptors({count}, seed=2611))
providers_register_verified(sorted({{(d["provider"]["uscc"], d["provider"]["name"]) for d in docs}}))
with open({path!r}, "w", encoding="utf-8") as fh:
    for d in docs:
        fh.write(json.dumps(d, ensure_ascii=False) + "\\n")
print(json.dumps(len(docs)))
"""

# Run at BJIDX: its own signed client fetches SHDEX's whole feed (nothing applied) and verifies a sample.
RAW = """
import base64, json, time
from federation.http import peer_request
from federation.models import Peer
from federation import keys
from federation.envelope import canonical
peer = Peer.objects.get(exchange_id="SHDEX")
after, count, pages, sample = 0, 0, 0, []
start = time.perf_counter()
while True:
    page = peer_request(peer, "GET", "/federation/v1/feed/SHDEX/", params={{"after": after, "limit": {page}}})
    if not page["entries"]:
        break
    count += len(page["entries"]); pages += 1; after = page["next"]
    if len(sample) < 5000:
        sample += page["entries"][: 5000 - len(sample)]
transfer = time.perf_counter() - start
bodies = [(canonical(i["entry"]).encode(), i["signature"]) for i in sample]
start = time.perf_counter()
ok = sum(keys.verify(peer.public_key, b, s) for b, s in bodies)
verify = time.perf_counter() - start
print(json.dumps({{"entries": count, "pages": pages, "transfer_s": transfer, "verify_rate": len(bodies) / verify,
                   "verified": ok, "sampled": len(bodies)}}))
"""

CHECK = """
import json
from django.db.models import Count
from federation.models import QuarantinedEntry
from products.models import Product, Recognition
from products.verdicts import verdicts_of
products = list(Product.objects.filter(exchange_id="SHDEX"))
codes = [p.code for p in products]
# SHDEX's verdict on its own listings as read here: a record (recognition protocol 1) or computed (2).
verdicts = verdicts_of(products)
print(json.dumps({
    "products": len(codes),
    "distinct": len(set(codes)),
    "recognitions_by_shdex": sum("SHDEX" in verdicts.get(code, {}) for code in codes),
    "recognitions_by_bjidx": Recognition.objects.filter(exchange_id="BJIDX").count(),
    "duplicate_recognitions": Recognition.objects.values("product_code", "exchange_id")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
    "quarantined": QuarantinedEntry.objects.count(),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    # 25,000 listings make 100,002 entries (each listing two, each provider's registration two): the
    # target's size. A larger run reports when its first 100,000 entries were applied.
    parser.add_argument("--listings", type=int, default=25_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite + file-system broker instead")
    args = parser.parse_args()
    if args.sqlite:
        backend = SqliteBackend()
    else:
        backend = PostgresBackend(
            os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench"),
            os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0"),
        )
    base = Path(tempfile.mkdtemp(prefix="catchup-"))
    federation = Federation(("SHDEX", "BJIDX"), base, backend=backend, extra_env={"LOG_LEVEL": "WARNING"})
    try:
        print(f"machine: {machine()}")
        print(f"backend: {'SQLite + file-system broker' if args.sqlite else 'PostgreSQL + Redis'}")
        federation.start()
        shdex, bjidx = federation["SHDEX"], federation["BJIDX"]
        bjidx.wait_web()
        bjidx.stop_all()
        path = base / "descriptors.jsonl"
        shdex.shell_json(DESCRIPTORS.format(path=str(path), count=args.listings), timeout=600)
        started = time.perf_counter()
        shdex.manage("import_products", str(path), "--status", "listed", "--no-progress", timeout=3600)
        imported = time.perf_counter() - started
        shdex.wait_web()
        head = shdex.own_seq()
        print(f"SHDEX listed {args.listings} products in {imported:.0f} s; its log is at {head} entries")

        started = time.perf_counter()
        bjidx.start_all()
        bjidx.wait_web()
        bjidx.wait_worker()
        ready = time.perf_counter()
        timeline = []

        def current() -> bool:
            state = bjidx.origin_state("SHDEX") or {}
            timeline.append((time.perf_counter() - started, state.get("cursor", 0)))
            return state.get("cursor", 0) >= head

        wait_until(current, timeout=3600, interval=1.0, message="BJIDX current with SHDEX")
        done = time.perf_counter()
        elapsed, after_ready = done - started, done - ready
        check = bjidx.shell_json(CHECK)
        bjidx.stop("beat")
        bjidx.stop_worker()
        raw = bjidx.shell_json(RAW.format(page=1000), timeout=1200)

        print(f"BJIDX processes started; worker ready after {ready - started:.1f} s")
        step = max(1, len(timeline) // 12)
        print("progress (s since start: cursor): " + ", ".join(f"{t:.0f}: {c}" for t, c in timeline[::step]))
        print(
            f"catch-up of {head} entries: {elapsed:.1f} s from start ({head / elapsed:,.0f} entries/s), "
            f"{after_ready:.1f} s after the worker was ready ({head / after_ready:,.0f} entries/s)"
        )
        print(
            f"baseline: raw transfer of the feed ({raw['entries']} entries, {raw['pages']} signed pages) "
            f"{raw['transfer_s']:.1f} s ({raw['entries'] / raw['transfer_s']:,.0f} entries/s); "
            f"raw Ed25519 verify {raw['verify_rate']:,.0f}/s ({raw['verified']}/{raw['sampled']} verified, "
            "libsodium as the apply)"
        )
        print(f"replica check: {check}")
        complete = (
            check["products"] == check["distinct"] == args.listings
            and check["recognitions_by_shdex"] == args.listings
            and check["recognitions_by_bjidx"] == args.listings
            and check["duplicate_recognitions"] == 0
            and check["quarantined"] == 0
        )
        print(f"nothing lost or duplicated: {'yes' if complete else 'NO'}")
        if head < TARGET_ENTRIES:
            print(f"target (100,000 entries in < 60 s): not measured, the log holds only {head} entries")
            return 0 if complete else 1
        reached = next(t for t, cursor in timeline if cursor >= TARGET_ENTRIES)
        print(
            f"first 100,000 entries applied {reached:.0f} s after the start (cursor sampled every second); "
            f"target < 60 s: {'MET' if reached < 60 and complete else 'NOT MET'}"
        )
        return 0 if complete else 1
    finally:
        federation.close()


if __name__ == "__main__":
    sys.exit(main())
