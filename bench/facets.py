"""Search facets: `GET /api/v1/products/?facets=…` and CKAN's `package_search` with `facet.field`, each beside
the same query without facets in the same run, over COUNT listed products, in process, on PostgreSQL or
(`--sqlite`) on the embedded default.

    .venv/bin/python bench/facets.py [--count 100000] [--rounds 20] [--reuse] [--sqlite]

The database is `<BENCH_DATABASE_URL>_facets` (bench/common.py), or with `--sqlite` the file
`var/bench/facets.sqlite3`, recreated and loaded (bench/search.py's `load`: the real bulk import of the sample
data) unless `--reuse` finds it loaded. Target (issue 22): p95 < 100 ms over 100,000 products on PostgreSQL for
both, with facets.

Each round sends every query of QUERIES four ways, interleaved (so a slow moment of the machine hits all four
alike): the API without and with `facets=` (every facet), `package_search` without and with `facet.field`
(every facet field). Requests go through `django.test.Client`: the whole middleware stack, no sockets. Then each
facet's counting query alone over the broadest query (every listed product), to show which facet costs what.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["THROTTLE_CKAN"] = "100000000/min"  # CKAN's Action API has a limit of its own
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("facets", sqlite=args.sqlite), fresh=not args.reuse)

    from django.test import Client

    from products.facets import FACETS, product_facets
    from products.models import Product
    from standards.segmentation import warm_up

    listed = catalogue(url, count=args.count, seed=args.seed, reuse=args.reuse)
    warm_up()

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

    ways = {
        "API": lambda p: api(p, False),
        "API ?facets=": lambda p: api(p, True),
        "package_search": lambda p: ckan(p, False),
        "package_search facet.field": lambda p: ckan(p, True),
    }
    counts = {}
    for label, api_params, ckan_params in QUERIES:  # warm-up, and the size of each selection
        counts[label] = api(api_params, True)["count"]
        assert ckan(ckan_params, True)["count"] == counts[label], label
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for label, api_params, ckan_params in QUERIES:
            for way, call in ways.items():
                params = ckan_params if way.startswith("package_search") else api_params
                times[(label, way)] += timed(lambda call=call, params=params: call(params), 1)

    print(f"\nlisted products: {listed}; {args.rounds} rounds; page of 20; ms (p50 / p95)")
    print(f"  {'query':<16} {'matches':>8}  " + "  ".join(f"{way:>28}" for way in ways))
    for label, _, _ in QUERIES:
        cells = [
            f"{percentile(times[(label, w)], 50):12.1f} / {percentile(times[(label, w)], 95):9.1f}"
            for w in ways
        ]
        print(f"  {label:<16} {counts[label]:>8}  " + "  ".join(f"{c:>28}" for c in cells))
    print("\nall queries:")
    overall = {}
    for way in ways:
        values = [v for (_, w), vs in times.items() if w == way for v in vs]
        overall[way] = percentile(values, 95)
        print(f"  {way:<28} p50 {percentile(values, 50):8.1f}  p95 {overall[way]:8.1f}  n={len(values)}")

    print("\neach facet's count alone over every listed product (the broadest selection), ms:")
    everything = Product.objects.filter(status="listed")
    for label, names in [*((name, [name]) for name in FACETS), ("every facet, one statement", list(FACETS))]:
        spent = timed(lambda names=names: product_facets(everything, names=names), max(3, args.rounds // 4))
        print(f"  {label:<26} p50 {percentile(spent, 50):8.1f}  max {max(spent):8.1f}")
    print(load_average("end"))
    for way in ("API ?facets=", "package_search facet.field"):
        met = overall[way] < TARGET_P95_MS
        print(
            f"target {way} p95 < {TARGET_P95_MS:.0f} ms: {'MET' if met else 'NOT MET'} (p95 {overall[way]:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
