"""The portal's catalog search page and product page (issue 21): server time over COUNT listed products, in
process, beside the API endpoints serving the same data, measured in the same run.

    .venv/bin/python bench/portal.py [--count 100000] [--requests 100] [--reuse] [--database-url URL]

The database is `registry_bench_portal` (bench/common.py) unless `--database-url` names another, recreated on
every run unless `--reuse`. Products are loaded as bench/search.py loads them (the real bulk import), then
VACUUM (ANALYZE).

Measured with `django.test.Client` (the whole middleware stack, sessions, templates; no sockets), each request
timed with `time.perf_counter()`:

* the catalog page `/catalog/?q=…` (its search, all seven facets and a page of 20) beside the API's
  `/api/v1/products/?q=…&facets=<the same seven>` — the same search and counts as JSON;
* the catalog page without a search beside the API list with the same facets;
* a product's page `/catalog/<code>/` (descriptor, recognition matrix, quality reports, versions and the
  diff of the last two) beside the API's `/api/v1/products/<code>/` and `/versions/`.

Target (issue 21): p95 < 150 ms for the catalog search page and the product page on PostgreSQL at 100,000.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from urllib.parse import urlencode

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, percentile, setup_django

TARGET_P95_MS = 150.0
FACETS = "industry,form,region,exchange,price,quality_grade,delivery_method"
QUERIES = ["数据", "充电桩", "企业信用", "上海市 充电桩", "空气质量", "台风路径"]


def _timed(get, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        started = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _row(label: str, values: list[float]) -> str:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return f"| {label} | {len(values)} | {p50:.1f} | {p95:.1f} | {max(values):.1f} |"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per measured kind")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument("--database-url", default="", help="another PostgreSQL database than the default")
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(args.database_url or bench_database_url("portal"), fresh=not args.reuse)

    from django.db import connection
    from django.test import Client
    from search import load, prepare

    from products.models import Product
    from standards.segmentation import warm_up

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    listed = Product.objects.filter(status="listed").count()
    if not (args.reuse and listed >= args.count):
        seconds = load(args.count, args.seed)
        listed = Product.objects.filter(status="listed").count()
        print(f"loaded {listed} listed products in {seconds:.1f} s")
    prepare(connection)
    warm_up()
    client = Client(HTTP_HOST="localhost")

    def get(path: str):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")
        return response

    rng = random.Random(args.seed)
    codes = list(Product.objects.filter(status="listed").order_by("?").values_list("code", flat=True)[:500])
    n = args.requests
    searches = [QUERIES[i % len(QUERIES)] for i in range(n)]
    products = [rng.choice(codes) for _ in range(n)]
    kinds = {
        "portal: catalog search page": [f"/catalog/?{urlencode({'q': q})}" for q in searches],
        "API: search with the same 7 facets": [
            f"/api/v1/products/?{urlencode({'q': q, 'facets': FACETS})}" for q in searches
        ],
        "portal: catalog page, no search": ["/catalog/"] * n,
        "API: list with the same 7 facets": [f"/api/v1/products/?facets={FACETS}"] * n,
        "portal: product page": [f"/catalog/{c}/" for c in products],
        "API: product detail + versions": [f"/api/v1/products/{c}/" for c in products],
    }
    for paths in kinds.values():  # warm-up: one of each query or product
        for path in paths[: len(QUERIES)]:
            get(path)
    print("load average before timing: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print("| request | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    results = {}
    for label, paths in kinds.items():
        if label == "API: product detail + versions":
            values = [
                a + b
                for a, b in zip(
                    _timed(get, paths), _timed(get, [p + "versions/" for p in paths]), strict=True
                )
            ]
        else:
            values = _timed(get, paths)
        results[label] = values
        print(_row(label, values), flush=True)
    print("load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    for label in ("portal: catalog search page", "portal: product page"):
        p95 = percentile(results[label], 95)
        print(
            f"{label}: p95 {p95:.1f} ms, target p95 < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
