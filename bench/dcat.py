"""The DCAT-AP 3 catalog streamed: `GET /dcat/network.ttl` (every listed product, Turtle) over COUNT listed
products, its time and its memory, beside a baseline in the same run: the JSON API's product list read page by
page (`/api/v1/products/?page_size=100`, every page) over the same products.

    .venv/bin/python bench/dcat.py [--count 100000] [--reuse] [--sqlite] [--format ttl|jsonld|rdf]

The database is `<BENCH_DATABASE_URL>_dcat` (bench/common.py), or with `--sqlite` `var/bench/dcat.sqlite3`,
recreated and loaded with bench/search.py's `load` (the real bulk import of the sample data) unless `--reuse`
finds it loaded. Target (issue 22): 100,000 products in < 60 s with flat memory.

Requests go through `django.test.Client` (the whole middleware stack, no sockets); the streamed body is read
chunk by chunk and dropped, as a client on a socket would. Memory: the process's resident set (VmRSS) is
sampled after every 64 KiB-or-so piece of the body; "flat" means its growth over the stream stays bounded while
the product count grows (the run prints the RSS after 10 %, 50 % and 100 % of the body).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, catalogue, load_average, setup_django

TARGET_RATE = 100_000 / 60


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stream(client, url: str, expected: int) -> dict:
    started, before = time.perf_counter(), rss_mib()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    size, peak, marks, pieces = 0, before, {}, 0
    for piece in response.streaming_content:
        size += len(piece)
        pieces += 1
        now = rss_mib()
        peak = max(peak, now)
        if pieces in (1, 10, 50):
            marks[pieces] = now
    return {"seconds": time.perf_counter() - started, "bytes": size, "rss_before": before, "rss_peak": peak,
            "pieces": pieces, "marks": marks}  # fmt: skip


def json_pages(client) -> dict:
    started, before = time.perf_counter(), rss_mib()
    page, seen, peak = 1, 0, before
    while True:
        response = client.get(f"/api/v1/products/?page_size=100&page={page}")
        assert response.status_code == 200, response.status_code
        body = response.json()
        seen += len(body["results"])
        peak = max(peak, rss_mib())
        if not body.get("next"):
            break
        page += 1
    return {"seconds": time.perf_counter() - started, "products": seen, "pages": page, "rss_peak": peak,
            "rss_before": before}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--format", choices=("ttl", "jsonld", "rdf"), default="ttl")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument("--sqlite", action="store_true", help="SQLite (the embedded default) instead")
    parser.add_argument("--no-baseline", action="store_true", help="skip the JSON API pages")
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("dcat", sqlite=args.sqlite), fresh=not args.reuse)

    from django.test import Client

    listed = catalogue(url, count=args.count, seed=args.seed, reuse=args.reuse)
    client = Client(HTTP_HOST="localhost")

    result = stream(client, f"/dcat/network.{args.format}", listed)
    rate = listed / result["seconds"]
    print(
        f"DCAT /dcat/network.{args.format}: {listed} products in {result['seconds']:.1f} s ({rate:.0f}/s), "
        f"{result['bytes'] / 2**20:.0f} MiB in {result['pieces']} pieces; RSS before {result['rss_before']:.0f} "
        f"MiB, after pieces {result['marks']} MiB, peak {result['rss_peak']:.0f} MiB "
        f"(growth {result['rss_peak'] - result['rss_before']:.0f} MiB)"
    )
    verdict = "met" if rate >= TARGET_RATE else "not met"
    scope = "" if listed >= 100_000 else f" (judged by the rate over {listed} products)"
    print(f"target 100,000 products < 60 s, i.e. ≥ {TARGET_RATE:.0f} products/s: {verdict}{scope}")
    if not args.no_baseline:
        base = json_pages(client)
        print(
            f"baseline JSON API list, {base['pages']} pages of 100: {base['products']} products in "
            f"{base['seconds']:.1f} s ({base['products'] / base['seconds']:.0f}/s); RSS peak {base['rss_peak']:.0f} MiB "
            f"(growth {base['rss_peak'] - base['rss_before']:.0f} MiB)"
        )
    print(load_average("end"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
