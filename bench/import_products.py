"""Bulk import of descriptors on PostgreSQL, beside the raw INSERT rate of the same rows.

    .venv/bin/python bench/import_products.py [--count 100000]

1. Generates COUNT valid descriptors (products/sample_data.py) into a JSON-lines file.
2. Baseline: inserts the product rows those descriptors become (same columns, same values) with psycopg's
   `executemany` into a copy of the products table with the same indexes and generated search column —
   nothing validated, no versions, no regions: the database's own speed for these rows.
3. Runs `manage.py import_products FILE --status listed` (the real command: validation, naming rule,
   compliance rules, segmentation, codes, product + version + region rows) and counts the rows it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, bench_database_url, machine, raw_insert_rate, raw_product_row, setup_django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()

    url = setup_django(bench_database_url("import"))
    from django.db import connection

    from products.columns import descriptor_columns
    from products.models import Product, ProductVersion
    from products.sample_data import descriptors
    from standards.descriptor import descriptor_validate

    print(f"machine: {machine()}")
    print(f"database: {url}  products: {args.count}")

    path = Path(tempfile.mkdtemp()) / "descriptors.jsonl"
    with path.open("w", encoding="utf-8") as fh:  # streamed from the generator (deterministic): flat memory
        for d in descriptors(args.count, seed=2024):
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")

    # --- baseline: raw INSERT of the same product rows ---------------------------------------------------
    rows = [
        raw_product_row(f"RAWXX-2026-{i + 1:06d}-X", "SHDEX", descriptor_columns(descriptor_validate(d)))
        for i, d in enumerate(descriptors(args.count, seed=2024))
    ]
    raw_rate = raw_insert_rate(rows)
    connection.close()

    # Products need registered providers (not timed: registration is not what this measures).
    from participants.services import providers_register_verified

    providers_register_verified(
        (d["provider"]["uscc"], d["provider"]["name"]) for d in descriptors(args.count, seed=2024)
    )
    connection.close()

    # --- the real command -----------------------------------------------------------------------------------
    env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="WARNING")
    argv = [sys.executable, "manage.py", "import_products", str(path), "--status", "listed", "--no-progress"]
    if args.jobs:
        argv += ["--jobs", str(args.jobs)]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    import_seconds = time.perf_counter() - started
    print(done.stdout.strip().splitlines()[0] if done.stdout else done.stderr[-2000:])
    products = Product.objects.count()
    versions = ProductVersion.objects.count()
    if done.returncode != 0 or products != args.count:
        print(f"FAILED: exit {done.returncode}, {products} products", file=sys.stderr)
        print(done.stderr[-3000:], file=sys.stderr)
        return 1

    rate = products / import_seconds
    print(
        f"raw INSERT of the same product rows (executemany, 1 connection): {raw_rate:9.0f} rows/s "
        f"({len(rows) / raw_rate:.1f} s)"
    )
    print(
        f"import_products --status listed (whole command, {versions} versions):  {rate:9.0f} products/s "
        f"({import_seconds:.1f} s, includes process start and jieba dictionary load)"
    )
    print(f"ratio import / raw: {rate / raw_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
