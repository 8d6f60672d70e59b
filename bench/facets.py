"""Search facets: `GET /api/v1/products/?facets=…` and CKAN's `package_search` with `facet.field`, each beside
the same query without facets in the same run, over COUNT listed products, in process, on PostgreSQL or
(`--sqlite`) on the embedded default.

    .venv/bin/python bench/facets.py [--count 100000] [--rounds 20] [--reuse] [--sqlite] [--read-cache]

The database is `<BENCH_DATABASE_URL>_facets` (bench/common.py), or with `--sqlite` the file
`var/bench/facets.sqlite3`, recreated and loaded (bench/search.py's `load`: the real bulk import of the sample
data) unless `--reuse` finds it loaded. Target (issue 22): p95 < 100 ms over 100,000 products on PostgreSQL for
both, with facets.

Each round sends every query of QUERIES eight ways, interleaved (so a slow moment of the machine hits all
alike): the API without `facets=`, then with `facets=` (every facet) three ways, and `package_search` without
`facet.field`, then with it (every facet field) three ways. The three ways of the facets
(products/facet_cache.py): **uncached** (`FACET_CACHE_SECONDS=0` for that request: no stored counts),
**cold** (the catalogue changed just before the request, untimed: one listed product's quality grade
changed and the change generation raised in one transaction, as a product write does, so the facet cache
misses and the rollup has the change's rows: the first request after a change), **warm** (the catalogue
unchanged since the counts were stored). A selection by status alone (`everything`) is summed from the
facet rollup (products/facet_rollup.py) on PostgreSQL, folded once after the load as the beat task does;
the rows the cold way's changes add are not folded during the run. Requests go through
`django.test.Client`: the whole middleware stack, no sockets. The public read cache of whole pages
(api/read_cache.py) is off (`READ_CACHE_SECONDS=0`) unless `--read-cache`: with it, every repeated anonymous
API request would be a stored page, which is not what is measured here. The facet cache is the `reads`
cache: local memory, or Redis with `CACHE_URL`. Then each facet's counting query alone over every listed
product counted from the products (a condition `industry >= ''` beside the status keeps the index-only scan
a selection by status alone cost before the rollup), and every facet summed from the rollup.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections import defaultdict
from urllib.parse import urlencode

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, catalogue, load_average, percentile, setup_django, timed

TARGET_P95_MS = 100.0

# (label, API query parameters, CKAN package_search parameters): the same selection both ways.
QUERIES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("everything", {}, {}),
    ("industry", {"industry": "D"}, {"fq": "industry:D"}),
    ("form+exchange", {"form": "api", "exchange": "SHDEX"}, {"fq": "form:api organization:shdex"}),
    ("q common", {"q": "数据"}, {"q": "数据"}),
    ("q medium", {"q": "充电桩"}, {"q": "充电桩"}),
    ("q + filter", {"q": "交通", "form": "dataset"}, {"q": "交通", "fq": "form:dataset"}),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (each: every query, four ways)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument("--sqlite", action="store_true", help="SQLite (the embedded default) instead")
    parser.add_argument("--read-cache", action="store_true", help="keep the public read cache of pages on")
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["THROTTLE_CKAN"] = "100000000/min"  # CKAN's Action API has a limit of its own
    os.environ["READ_CACHE_SECONDS"] = "60" if args.read_cache else "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("facets", sqlite=args.sqlite), fresh=not args.reuse)

    from django.core.cache import caches
    from django.db import transaction
    from django.test import Client, override_settings

    from federation.generation import generation_bump
    from products.facet_rollup import rollup_compact
    from products.facets import FACETS, product_facets
    from products.models import Product
    from standards.segmentation import warm_up

    listed = catalogue(url, count=args.count, seed=args.seed, reuse=args.reuse)
    warm_up()
    caches["reads"].clear()  # `catalogue` may have graded rows by plain SQL, which no generation counts
    print(f"facet rollup: {rollup_compact()} rows folded after the load")
    changed = Product.objects.filter(status="listed").order_by("pk").values_list("pk", flat=True).first()
    grades = itertools.cycle(["A", "B", "C"])

    def catalogue_change():
        """What a product write does to the facets: a facet column changes and the generation moves."""
        with transaction.atomic():
            Product.objects.filter(pk=changed).update(quality_grade=next(grades))
            generation_bump()

    print(
        f"facet cache: {caches['reads'].__class__.__name__}; page cache: {'on' if args.read_cache else 'off'}"
    )

    client = Client(HTTP_HOST="localhost")
    facet_names = ",".join(FACETS)
    facet_fields = json.dumps(["organization", *FACETS])

    def api(params: dict, facets: bool):
        query = {**params, **({"facets": facet_names} if facets else {})}
        response = client.get("/api/v1/products/?" + urlencode(query))
        assert response.status_code == 200, response.content[:300]
        return response.json()

    def ckan(params: dict, facets: bool):
        body = {**params, "rows": 20, **({"facet.field": facet_fields} if facets else {})}
        response = client.post("/api/3/action/package_search", body, content_type="application/json")
        assert response.status_code == 200 and response.json()["success"], response.content[:300]
        return response.json()["result"]

    def uncached(call):
        with override_settings(FACET_CACHE_SECONDS=0):
            return call()

    def uncached_api(params: dict):
        return uncached(lambda: api(params, True))["facets"]

    ways = {
        "API": lambda p: api(p, False),
        "API ?facets= uncached": lambda p: uncached(lambda: api(p, True)),
        "API ?facets= cold": lambda p: api(p, True),
        "API ?facets= warm": lambda p: api(p, True),
        "package_search": lambda p: ckan(p, False),
        "package_search facet.field uncached": lambda p: uncached(lambda: ckan(p, True)),
        "package_search facet.field cold": lambda p: ckan(p, True),
        "package_search facet.field warm": lambda p: ckan(p, True),
    }
    counts = {}
    for label, api_params, ckan_params in QUERIES:  # warm-up, the size of each selection, and exactness
        counted = api(api_params, True)
        counts[label] = counted["count"]
        assert api(api_params, True)["facets"] == counted["facets"] == uncached_api(api_params), label
        searched = ckan(ckan_params, True)
        assert searched["count"] == counts[label], label
        assert ckan(ckan_params, True)["facets"] == searched["facets"], label
        assert searched["facets"] == uncached(lambda p=ckan_params: ckan(p, True))["facets"], label
    everything = Product.objects.filter(status="listed")
    for _ in range(3):  # after a change, the next response's counts are the new ones
        catalogue_change()
        served = {v["value"]: v["count"] for v in api({}, True)["facets"]["quality_grade"]}
        scanned = product_facets(everything.filter(pk__gt=0), names=["quality_grade"])["quality_grade"]
        assert served == {v.value: v.count for v in scanned}, (served, scanned)
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for label, api_params, ckan_params in QUERIES:
            for way, call in ways.items():
                params = ckan_params if way.startswith("package_search") else api_params
                if way.endswith(" cold"):
                    catalogue_change()  # untimed
                elif way.endswith(" warm"):
                    call(params)  # untimed: stored under the current generation (the cold way may not
                    # have stored: it does not when the generation moves while it counts)
                times[(label, way)] += timed(lambda call=call, params=params: call(params), 1)

    print(f"\nlisted products: {listed}; {args.rounds} rounds; page of 20; ms (p50 / p95)")
    print(f"  {'way':<36} " + "  ".join(f"{label:>16}" for label, _, _ in QUERIES))
    for way in ways:
        cells = [
            f"{percentile(times[(label, way)], 50):6.1f} / {percentile(times[(label, way)], 95):6.1f}"
            for label, _, _ in QUERIES
        ]
        print(f"  {way:<36} " + "  ".join(f"{c:>16}" for c in cells))
    print("  matches: " + ", ".join(f"{label} {counts[label]}" for label, _, _ in QUERIES))
    print("\nall queries:")
    overall = {}
    for way in ways:
        values = [v for (_, w), vs in times.items() if w == way for v in vs]
        overall[way] = percentile(values, 95)
        print(f"  {way:<36} p50 {percentile(values, 50):8.1f}  p95 {overall[way]:8.1f}  n={len(values)}")

    print("\neach facet's count alone over every listed product (the broadest selection), ms:")
    scan = everything.filter(industry__gte="")  # the same index-only scan as before the rollup
    for label, names in [*((name, [name]) for name in FACETS), ("every facet, one statement", list(FACETS))]:
        spent = timed(lambda names=names: product_facets(scan, names=names), max(3, args.rounds // 4))
        print(f"  {label:<26} p50 {percentile(spent, 50):8.1f}  max {max(spent):8.1f}")
    spent = timed(lambda: product_facets(everything, names=list(FACETS)), max(3, args.rounds // 4))
    print(f"  {'every facet, the rollup':<26} p50 {percentile(spent, 50):8.1f}  max {max(spent):8.1f}")
    print(load_average("end"))
    for way in (w for w in ways if w.endswith(("cold", "warm", "uncached"))):
        met = overall[way] < TARGET_P95_MS
        print(
            f"target {way} p95 < {TARGET_P95_MS:.0f} ms: {'MET' if met else 'NOT MET'} (p95 {overall[way]:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
