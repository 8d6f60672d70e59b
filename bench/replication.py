"""Replication apply throughput on PostgreSQL: signed product entries of another origin, verified and
upserted by the real apply path, beside the raw Ed25519 verify rate and the raw INSERT rate of the same rows.

    .venv/bin/python bench/replication.py [--count 20000]

The entries are produced the way an origin produces them (canonical JSON of the envelope, Ed25519-signed
with the origin's key) and applied with `federation.services.apply_page`, page by page, as a pull does:
envelope checks, signature verification, the full descriptor standard, upsert, version history, this node's
recognition (evaluated and published to its own log), and storage of the entry for relaying.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

from common import bench_database_url, machine, raw_insert_rate, raw_product_row, setup_django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=500)
    args = parser.parse_args()

    import os

    os.environ["NODE_KEY_FILE"] = str(Path(tempfile.mkdtemp()) / "node_key.pem")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    url = setup_django(bench_database_url("replication"))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from federation import keys
    from federation.envelope import canonical
    from federation.services import apply_page, peer_add
    from products.models import Product
    from products.replication import product_payload
    from products.sample_data import descriptors
    from products.services import descriptor_columns
    from products.standards.codes import product_code_build

    keys.key_generate(path=Path(settings.NODE_KEY_FILE))
    origin_key = Ed25519PrivateKey.generate()
    origin_pub = base64.b64encode(
        origin_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=origin_pub)
    print(f"machine: {machine()}")
    print(f"database: {url}  entries: {args.count}  page: {args.page}")

    # The origin's entries, built outside the timed section.
    items, rows = [], []
    for i, d in enumerate(descriptors(args.count, seed=77)):
        code = product_code_build(origin="BJIDX", year=2026, serial=i + 1)
        product = Product(
            code=code,
            exchange_id="BJIDX",
            version=3,
            status="listed",
            descriptor=d,
            listed_at=None,
            delisted_at=None,
            status_reasons=[],
        )
        envelope = {
            "origin": "BJIDX",
            "seq": i + 1,
            "type": "product",
            "gid": code,
            "version": 3,
            "payload": product_payload(product),
        }
        body = canonical(envelope)
        items.append(
            {"entry": envelope, "signature": base64.b64encode(origin_key.sign(body.encode())).decode()}
        )
        rows.append(raw_product_row(code, "BJIDX", descriptor_columns(d)))
    # Round-trip through JSON as a feed page would arrive.
    items = json.loads(json.dumps(items, ensure_ascii=False))

    # Baseline 1: raw Ed25519 verification of the same bodies.
    public = origin_key.public_key()
    bodies = [(canonical(it["entry"]).encode(), base64.b64decode(it["signature"])) for it in items]
    started = time.perf_counter()
    for body, sig in bodies:
        public.verify(sig, body)
    verify_rate = len(bodies) / (time.perf_counter() - started)

    # Baseline 2: raw INSERT of the same product rows into a copy of the table.
    insert_rate = raw_insert_rate(rows)

    # The real apply path.
    started = time.perf_counter()
    after = 0
    for i in range(0, len(items), args.page):
        _, after = apply_page(origin="BJIDX", items=items[i : i + args.page], source="BJIDX", after=after)
    apply_seconds = time.perf_counter() - started
    applied = Product.objects.filter(exchange_id="BJIDX").count()
    if applied != args.count:
        print(f"FAILED: {applied} of {args.count} applied", file=sys.stderr)
        return 1
    print(f"raw Ed25519 verify of the same entries:            {verify_rate:9.0f} /s")
    print(f"raw INSERT of the same product rows (executemany): {insert_rate:9.0f} rows/s")
    print(
        f"apply (verify + validate + upsert + recognise):    {args.count / apply_seconds:9.0f} records/s "
        f"({apply_seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
