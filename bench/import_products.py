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

from common import ROOT, bench_database_url, machine, setup_django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()

    url = setup_django(bench_database_url("import"))
    from django.db import connection

    from products.models import Product, ProductVersion
    from products.sample_data import descriptors
    from products.services import descriptor_columns
    from products.standards.descriptor import descriptor_validate

    print(f"machine: {machine()}")
    print(f"database: {url}  products: {args.count}")

    path = Path(tempfile.mkdtemp()) / "descriptors.jsonl"
    docs = list(descriptors(args.count, seed=2024))
    with path.open("w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")

    # --- baseline: raw INSERT of the same product rows ---------------------------------------------------
    rows = []
    for i, d in enumerate(docs):
        c = descriptor_columns(descriptor_validate(d))
        rows.append(
            (
                f"RAWXX-2026-{i + 1:06d}-X",
                "SHDEX",
                1,
                "listed",
                json.dumps(c["descriptor"], ensure_ascii=False),
                c["descriptor_version"],
                c["name"],
                c["provider_name"],
                c["provider_uscc"],
                c["product_form"],
                c["industry"],
                c["update_frequency"],
                c["price_min"],
                c["price_max"],
                c["search_name"],
                c["search_keywords"],
                c["search_body"],
                "[]",
                "[]",
            )
        )
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_product")
        cur.execute("CREATE TABLE bench_raw_product (LIKE products_product INCLUDING ALL)")
    raw_conn = connection.connection
    sql = (
        "INSERT INTO bench_raw_product (code, exchange_id, version, status, descriptor, descriptor_version, name, "
        "provider_name, provider_uscc, product_form, industry, update_frequency, price_min, price_max, search_name, "
        "search_keywords, search_body, findings, status_reasons, is_home, created_at, updated_at) VALUES "
        "(%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, true, now(), now())"
    )
    started = time.perf_counter()
    with raw_conn.transaction(), raw_conn.cursor() as cur:
        for i in range(0, len(rows), 1000):
            cur.executemany(sql, rows[i : i + 1000])
    raw_seconds = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_raw_product")
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

    raw_rate = len(rows) / raw_seconds
    rate = products / import_seconds
    print(
        f"raw INSERT of the same product rows (executemany, 1 connection): {raw_rate:9.0f} rows/s "
        f"({raw_seconds:.1f} s)"
    )
    print(
        f"import_products --status listed (whole command, {versions} versions):  {rate:9.0f} products/s "
        f"({import_seconds:.1f} s, includes process start and jieba dictionary load)"
    )
    print(f"ratio import / raw: {rate / raw_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
