"""The operator console's pages over 100,000 listed products on PostgreSQL, each beside the API endpoint
serving the same data in the same run (issue 21; the catalog search page and the product page are
bench/portal.py's).

    .venv/bin/python bench/portal_operator.py [--count 100000] [--requests 200] [--reuse] [--database URL]

The database is `registry_bench_portal_operator` (bench/common.py; `--database` names another), recreated
unless `--reuse` finds it loaded.

1. Loads COUNT listed products through the real bulk import (bench/search.py's `load`), marks REVIEW of them
   submitted (the review queue), then VACUUM (ANALYZE) (bench/search.py's `prepare`).
2. Times every request with `time.perf_counter()` around `django.test.Client` — the whole middleware stack,
   the session, the template rendering, no sockets: the server's time — signed in as an operator of the
   node's exchange: the console's overview (every queue's size), the review queue (REVIEW submitted
   products, 20 a page) beside `GET /api/v1/products/?status=submitted` with the operator's token, and the
   federation health page beside `GET /federation/v1/status/`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, setup_django, summary
from search import load, prepare

REVIEW = 200


def _load_avg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _timed(client, path: str, n: int, **headers) -> list[float] | None:
    """`n` timed GETs of `path` (a list of paths is cycled through); None when the page is not served."""
    paths = path if isinstance(path, list) else [path]
    first = client.get(paths[0], **headers)
    if first.status_code == 404:
        return None
    if first.status_code != 200:
        raise SystemExit(f"{paths[0]}: HTTP {first.status_code} {first.content[:300]!r}")
    for p in paths[:5]:  # warm-up
        client.get(p, **headers)
    times = []
    for i in range(n):
        started = time.perf_counter()
        response = client.get(paths[i % len(paths)], **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{paths[i % len(paths)]}: HTTP {response.status_code}")
    return times


def _row(label: str, times: list[float] | None) -> str:
    if times is None:
        return f"  {label:44s} not served by this build (404): not measured"
    return f"  {label:44s} {summary(times)}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and endpoint")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument(
        "--database", help="PostgreSQL URL (default: bench/common.py's, name 'portal_operator')"
    )
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["THROTTLE_USER"] = "100000000/min"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(args.database or bench_database_url("portal_operator"), fresh=not args.reuse)

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import api_token_issue
    from portal.actors import SESSION_GENERATION
    from products.models import Product, ProductStatus
    from standards.segmentation import warm_up

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print(f"load average (1, 5, 15 min) at the start: {_load_avg()}")
    held = Product.objects.count()
    if args.reuse and held >= args.count:
        print(f"reusing {held} products")
    else:
        seconds = load(args.count, args.seed)
        held = Product.objects.count()
        print(f"loaded {held} listed products in {seconds:.1f} s ({held / seconds:.0f}/s)")
        review = min(REVIEW, held // 10)  # a tenth at most of a small smoke run's products
        ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:review])
        Product.objects.filter(id__in=ids).update(status=ProductStatus.SUBMITTED, submitted_at=timezone.now())
        prepare(connection)
    warm_up()

    held = Product.objects.count()
    n = args.requests
    print(f"\n{n} timed requests each, server time in process (load average before: {_load_avg()})")
    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"role": User.Role.OPERATOR, "exchange_id": "SHDEX"}
    )
    console = Client(HTTP_HOST="localhost")
    console.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    session = console.session
    session[SESSION_GENERATION] = operator.token_generation
    session.save()
    token = {"HTTP_AUTHORIZATION": f"Token {api_token_issue(user=operator)}"}
    api = Client(HTTP_HOST="localhost")
    submitted = Product.objects.filter(status=ProductStatus.SUBMITTED).count()
    print(f"\noperator console ({submitted} submitted products among {held})")
    print(_row("overview /console/operator/", _timed(console, "/console/operator/", n)))
    print(_row("review queue /console/operator/reviews/", _timed(console, "/console/operator/reviews/", n)))
    print(
        _row("  beside: API ?status=submitted", _timed(api, "/api/v1/products/?status=submitted", n, **token))
    )
    print(
        _row("federation /console/operator/federation/", _timed(console, "/console/operator/federation/", n))
    )
    print(_row("  beside: /federation/v1/status/", _timed(api, "/federation/v1/status/", n, **token)))
    print(f"\nload average (1, 5, 15 min) at the end: {_load_avg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
