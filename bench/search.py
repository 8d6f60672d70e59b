"""Product search: `GET /api/v1/products/?q=...` over COUNT listed products, in process, on PostgreSQL or
(`--sqlite`) on the embedded default; then broad searches from concurrent clients of a real web server.

    .venv/bin/python bench/search.py [--count 100000] [--requests 300] [--reuse] [--sqlite] [--concurrent 8]

The database is `registry_bench_search` (bench/common.py), or with `--sqlite` the file
`var/bench/search.sqlite3` (`BENCH_SQLITE_DIR` to put it elsewhere), recreated on every run unless `--reuse`.

Targets (the issues): p95 under 50 ms in process on PostgreSQL at 100,000 products, under 100 ms on SQLite at
20,000, beside a bare Django view returning the same page size from the same table; and 8 concurrent broad
searches do not hold a cheap GET beyond CHEAP_BOUND_MS (p95).

1. Recreates the benchmark database and loads COUNT listed products (products/sample_data.py) through the
   real bulk import (`import_stream`, two worker processes), then on PostgreSQL VACUUM (ANALYZE) (what
   autovacuum does on a live table; SQLite is measured as a node leaves it: nothing analyses it). `--reuse`
   keeps an already loaded database instead (for re-running the measurement only).
2. Sends the same mix of Chinese queries (common, medium, multi-word, rare, with filters, with the quality
   filters `quality_grade` and `assessed` on 30% graded products) through
   `django.test.Client` — the whole middleware stack, DRF, django-filter, the serializer and the
   paginator, no sockets — and times every request with `time.perf_counter()`.
3. Baselines, measured the same way in the same run:
   * the API list without `q` (same page size, newest first);
   * a bare Django function view: `JsonResponse` of 20 `values()` rows plus the `count(*)` a paginator
     runs, from the same table, no DRF;
   * the same bare view ranking every match: on PostgreSQL the full-text filter and rank ordering of
     products/search.py, on SQLite FTS5's own `ORDER BY bm25(…) LIMIT 20` (products/search.py's rank is a
     subquery per row, which ranking every match of a broad term cannot afford: seconds);
   * the exact SQL statements one API request issues (captured with an execute wrapper), replayed on the
     cursor with the same parameters: the database's share of the request.
4. `--concurrent N` (default 8, 0 to skip): a web server as `make run` starts it, on the same database; N
   client threads search the four broad terms back to back while a cheap GET is timed (bench/
   search_concurrency.py), beside the same GET and the searches on an idle server.

`--load-only` stops after step 1 (a large catalogue is loaded once, then measured with `--reuse`);
`--replicate N` copies the loaded products in SQL until there are N times as many (bench/common.py,
`replicate`): issue 25's 10^6 products are `--count 100000 --replicate 10 --load-only`, then
`--count 1000000 --reuse` (with `BENCH_DATABASE_URL` naming the database's prefix, as everywhere);
`--raw-baseline N` times a raw INSERT of N of the product rows before the load (the import's baseline). A
load prints its rate every 100,000 products and the peak RSS of the benchmark and of the import's workers.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import types
from collections import defaultdict
from urllib.parse import urlencode

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

import search_concurrency
from common import bench_database_url, catalogue, load_average, percentile, setup_django, timed

# load and prepare moved to bench/common.py; re-exported for the benchmarks that import them from here.
from common import load as load
from common import prepare as prepare

TARGET_P95_MS = {"postgresql": 50.0, "sqlite": 100.0}
# A cheap GET waits for a free server thread behind N broad searches: about one search, at N searches
# sharing the machine's cores. The bound is the symptom (13.5 s) cut to what a person waits for.
CHEAP_BOUND_MS = 1000.0
PAGE_SIZE = 20
URLCONF = "bench_search_urls"

# (class, query parameters). Selectivity over the sample data: 16 topics, 15 regions, 6 forms.
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("common", {"q": "数据"}),
    ("common", {"q": "上海市"}),
    ("common", {"q": "交通"}),
    ("common", {"q": "数据接口"}),
    ("medium", {"q": "充电桩"}),
    ("medium", {"q": "企业信用"}),
    ("medium", {"q": "空气质量"}),
    ("multi-word", {"q": "上海市 充电桩"}),
    ("multi-word", {"q": "企业信用评价"}),
    ("multi-word", {"q": "深圳市港口集装箱吞吐量"}),
    ("rare", {"q": "台风路径"}),
    ("filtered", {"q": "充电桩", "industry": "D"}),
    ("filtered", {"q": "数据", "form": "api"}),
    ("filtered", {"q": "交通", "region": "310000"}),
    # The quality filters (docs/standards/quality.md) on the products' own column: `grade_some` grades 30%.
    ("quality", {"q": "数据", "quality_grade": "B"}),
    ("quality", {"q": "交通", "assessed": "true"}),
    ("quality", {"q": "充电桩", "assessed": "false"}),
]


def install_urlconf() -> None:
    """A urlconf with the two bare views in front of the project's own URLs (the API is unchanged)."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import F
    from django.http import JsonResponse
    from django.urls import clear_url_caches, include, path

    from products.models import Product
    from products.search import FTS_TABLE, _fts5_query, search_match, search_rank
    from standards.segmentation import segment_query

    fields = ("code", "name", "status", "version")

    def bare_list(request):
        qs = Product.objects.filter(status="listed").order_by("-id")
        return JsonResponse(
            {"count": qs.count(), "results": list(qs.values(*fields)[:PAGE_SIZE])},
            json_dumps_params={"ensure_ascii": False},
        )

    def bare_search(request):
        tokens = segment_query(request.GET.get("q", ""))
        qs = search_match(Product.objects.filter(status="listed"), tokens=tokens)
        if connection.vendor == "postgresql":
            page = search_rank(qs, tokens=tokens).order_by("-rank", "-id").values(*fields, rank_=F("rank"))
            page = list(page[:PAGE_SIZE])
        else:
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT p.code, p.name, p.status, p.version, -bm25({FTS_TABLE}, 10.0, 4.0, 1.0) "
                    f"FROM {FTS_TABLE} JOIN products_product p ON p.id = +{FTS_TABLE}.rowid "
                    f"WHERE {FTS_TABLE} MATCH %s AND p.status = 'listed' ORDER BY 5 DESC, 1 LIMIT %s",
                    [_fts5_query(tokens), PAGE_SIZE],
                )
                page = [dict(zip((*fields, "rank_"), row, strict=True)) for row in cur.fetchall()]
        return JsonResponse({"count": qs.count(), "results": page}, json_dumps_params={"ensure_ascii": False})

    module = types.ModuleType(URLCONF)
    module.urlpatterns = [
        path("bench/bare-list/", bare_list),
        path("bench/bare-search/", bare_search),
        path("", include(settings.ROOT_URLCONF)),
    ]
    module.handler404 = "api.errors.api_not_found"
    module.handler500 = "api.errors.api_server_error"
    sys.modules[URLCONF] = module
    settings.ROOT_URLCONF = URLCONF
    clear_url_caches()


def query_shape_before() -> None:
    """`--before`: the window in one statement over every key, and the region filter as a semi-join to
    ProductRegion (what products.search and products.selectors did before the million-product change)."""
    from django.db.models import Exists, OuterRef

    import api.filters
    from products import search
    from products.models import ProductRegion
    from products.selectors import NATIONWIDE, region_province

    def region_join(queryset, *, code):
        codes = {code, NATIONWIDE}
        province = region_province(code)
        if province:
            codes.add(province.code if hasattr(province, "code") else str(province))
        return queryset.filter(Exists(ProductRegion.objects.filter(product=OuterRef("pk"), code__in=codes)))

    search.RECENT_KEYS = 10**15
    api.filters.product_filter_region = region_join
    print("query shape: BEFORE (one window statement, region as a join to ProductRegion)")


def row(label: str, values: list[float], extra: str = "") -> str:
    return (
        f"  {label:<34} p50 {percentile(values, 50):8.2f}  p95 {percentile(values, 95):8.2f}  "
        f"mean {statistics.fmean(values):8.2f}  n={len(values):<4}{extra}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="timed API search requests")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per query first")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument("--sqlite", action="store_true", help="SQLite (the embedded default) instead")
    parser.add_argument("--concurrent", type=int, default=8, help="concurrent searchers at a web server")
    parser.add_argument("--concurrent-seconds", type=float, default=20.0)
    parser.add_argument(
        "--raw-baseline",
        type=int,
        default=0,
        help="before a load, time a raw INSERT of this many product rows",
    )
    parser.add_argument("--load-only", action="store_true", help="load (and prepare) the database, then stop")
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="after loading COUNT, copy them in SQL until there are this many times as many (PostgreSQL)",
    )
    parser.add_argument(
        "--no-bare-search",
        action="store_true",
        help="skip the bare view that ranks every match (seconds a request for a common term at 10^6)",
    )
    parser.add_argument("--explain", action="store_true", help="print every query's plans (EXPLAIN ANALYZE)")
    parser.add_argument(
        "--no-walk",
        action="store_true",
        help="the newest keys read from the full-text index's matches only, never walked (the search as the "
        "first million-product change left it: a baseline on the same database)",
    )
    parser.add_argument(
        "--no-span",
        action="store_true",
        help="beyond the walk's reach, the rest of the newest keys from the index, then the older ones (no "
        "key range from the density the walk found)",
    )
    parser.add_argument(
        "--any-span",
        action="store_true",
        help="a density-sized key range however wide it is (the search before SPAN_WIDE: a baseline)",
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="the search as it was before issue 25's million: one window statement, the region filter as a "
        "join to ProductRegion (a baseline on the same database)",
    )
    args = parser.parse_args()

    # Settings read the environment at import: no throttling, quiet logs, before Django is set up.
    os.environ["THROTTLE_ANON"] = "100000000/min"
    # The search itself is measured, not the public read cache (api/read_cache.py), which would answer every
    # repeated anonymous request from memory (bench/api_load.py measures that).
    os.environ["READ_CACHE_SECONDS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("search", sqlite=args.sqlite), fresh=not args.reuse)

    from django.db import connection
    from django.test import Client

    from products.models import Product
    from standards.segmentation import warm_up

    listed = catalogue(
        url,
        count=args.count,
        seed=args.seed,
        reuse=args.reuse,
        raw_baseline=args.raw_baseline,
        replicas=args.replicate,
    )
    if args.load_only:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
                print(f"database size: {cur.fetchone()[0]}")
        print(load_average("end"))
        return 0

    if args.before:
        query_shape_before()
    elif args.no_walk:
        from products import search

        search.PROBE_KEYS = 0
        print("query shape: NO WALK (the newest keys from the full-text index's matches only)")
    elif args.no_span:
        from products import search

        search.SPAN_MARGIN = 0
        print("query shape: NO SPAN (beyond the walk, the rest of the newest keys, then the older ones)")
    elif args.any_span:
        from products import search

        search.SPAN_WIDE = math.inf
        print("query shape: ANY SPAN (a density-sized key range however wide: the code before SPAN_WIDE)")
    warm_up()
    install_urlconf()
    client = Client(HTTP_HOST="localhost")

    def get(path: str, params: dict[str, str] | None = None):
        response = client.get(path + ("?" + urlencode(params) if params else ""))
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {response.status_code} {response.content[:300]!r}")
        return response

    api = "/api/v1/products/"

    # --- per query: matches, statements issued (captured for the raw replay), warm-up --------------------
    statements: dict[int, list[tuple[str, object]]] = {}
    matches: dict[int, int] = {}
    for i, (_, params) in enumerate(QUERIES):
        captured: list[tuple[str, object]] = []

        def capture(execute, sql, sql_params, many, context, captured=captured):
            captured.append((sql, sql_params))
            return execute(sql, sql_params, many, context)

        with connection.execute_wrapper(capture):
            body = get(api, params).json()
        statements[i] = captured
        matches[i] = body["count"]
        assert len(body["results"]) == min(PAGE_SIZE, body["count"]), body
        for _ in range(args.warmup):
            get(api, params)
            if not args.no_bare_search:
                get("/bench/bare-search/", {"q": params["q"]})
    for _ in range(args.warmup):
        get(api)
        get("/bench/bare-list/")
    if args.explain:
        for i, (cls, params) in enumerate(QUERIES):
            print(f"\n{cls} {params}: {matches[i]} matches, {len(statements[i])} statements")
            explain(connection, statements[i])

    # --- timed: API search, cycling through the queries ----------------------------------------------------
    per_query: dict[int, list[float]] = defaultdict(list)
    for n in range(args.requests):
        i = n % len(QUERIES)
        started = time.perf_counter()
        get(api, QUERIES[i][1])
        per_query[i].append((time.perf_counter() - started) * 1000)
    api_all = [v for values in per_query.values() for v in values]
    per_class: dict[str, list[float]] = defaultdict(list)
    for i, values in per_query.items():
        per_class[QUERIES[i][0]].extend(values)

    # --- timed baselines, same number of requests ---------------------------------------------------------
    api_list = timed(lambda: get(api), args.requests)
    bare_list = timed(lambda: get("/bench/bare-list/"), args.requests)
    bare_search: dict[int, list[float]] = defaultdict(list)
    raw: dict[int, list[float]] = defaultdict(list)
    for n in range(args.requests):
        i = n % len(QUERIES)
        if not args.no_bare_search:
            bare_search[i] += timed(lambda i=i: get("/bench/bare-search/", {"q": QUERIES[i][1]["q"]}), 1)

        def replay(i=i):
            with connection.cursor() as cur:
                for sql, sql_params in statements[i]:
                    cur.execute(sql, sql_params)
                    cur.fetchall()

        raw[i] += timed(replay, 1)
    bare_search_all = [v for values in bare_search.values() for v in values]
    raw_all = [v for values in raw.values() for v in values]

    # --- report ---------------------------------------------------------------------------------------------
    print(f"\nlisted products: {listed}; page size {PAGE_SIZE}; {args.requests} timed requests per line; ms")
    print(
        "\nper query (API = GET /api/v1/products/?..., SQL = the statements that request issues, replayed):"
    )
    print(
        f"  {'class':<10} {'query':<34} {'matches':>8} {'stmts':>5}  {'API p50':>8} {'API p95':>8}  "
        f"{'SQL p50':>8} {'SQL p95':>8}"
    )
    for i, (cls, params) in enumerate(QUERIES):
        label = " & ".join(f"{k}={v}" for k, v in params.items())
        api_v, raw_v = per_query[i], raw[i]
        print(
            f"  {cls:<10} {label:<{34 - sum(1 for c in label if ord(c) > 0x2E80)}} {matches[i]:>8} "
            f"{len(statements[i]):>5}  {percentile(api_v, 50):8.2f} {percentile(api_v, 95):8.2f}  "
            f"{percentile(raw_v, 50):8.2f} {percentile(raw_v, 95):8.2f}"
        )
    print("\nper query class (API search):")
    for cls in dict.fromkeys(c for c, _ in QUERIES):
        print(row(cls, per_class[cls]))
    print("\nsummary:")
    print(row("API search, all queries", api_all))
    print(row("API list, no q", api_list))
    print(row("bare Django view, list", bare_list))
    if bare_search_all:
        print(row("bare Django view, search", bare_search_all))
    print(row("raw SQL of the API search", raw_all))
    p95 = percentile(api_all, 95)
    slowest = max(per_query, key=lambda i: percentile(per_query[i], 50))
    print(
        f"\nslowest query: {QUERIES[slowest][1]} ({matches[slowest]} matches): API p50 "
        f"{percentile(per_query[slowest], 50):.2f} ms, its SQL p50 {percentile(raw[slowest], 50):.2f} ms"
    )
    if p95 >= TARGET_P95_MS[connection.vendor]:
        print("\nthe plan of the slowest query's statements:")
        explain(connection, statements[slowest])
    print(load_average("end"))
    target = TARGET_P95_MS[connection.vendor]
    print(f"target p95 < {target:.0f} ms: {'MET' if p95 < target else 'NOT MET'} (p95 {p95:.2f} ms)")
    if args.concurrent:
        code = Product.objects.filter(status="listed").order_by("id").values_list("code", flat=True)[0]
        report_concurrent(
            search_concurrency.run(
                env={"DATABASE_URL": url},
                cheap=f"{api}{code}/",
                broad=[params["q"] for cls, params in QUERIES if cls == "common"],
                searchers=args.concurrent,
                seconds=args.concurrent_seconds,
            ),
            searchers=args.concurrent,
        )
    return 0


def explain(connection, statements: list[tuple[str, object]]) -> None:
    with connection.cursor() as cur:
        for sql, sql_params in statements:
            if connection.vendor == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
                lines = [line for (line,) in cur.fetchall()]
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql, sql_params)
                lines = [row[-1] for row in cur.fetchall()]
            for line in lines:
                print("    " + line)
            print()


def report_concurrent(t: search_concurrency.Timings, *, searchers: int) -> None:
    print(
        f"\nconcurrent: a web server as make run starts it (gunicorn {' '.join(search_concurrency.SERVER_ARGS)}),"
        f" {searchers} client threads searching the common terms back to back; ms"
    )
    print(row("cheap GET (product detail), idle", t.cheap_idle))
    print(row("broad search, one at a time", t.search_idle))
    print(row(f"broad search, {searchers} at once", t.search_loaded))
    print(row(f"cheap GET, {searchers} searches running", t.cheap_loaded, f"  max {max(t.cheap_loaded):.0f}"))
    if t.errors:
        print(f"  {len(t.errors)} failed requests, e.g. {t.errors[0]}")
    p95 = percentile(t.cheap_loaded, 95)
    met = p95 < CHEAP_BOUND_MS and not t.errors
    print(
        f"bound: cheap GET p95 < {CHEAP_BOUND_MS:.0f} ms with {searchers} broad searches running: "
        f"{'MET' if met else 'NOT MET'} (p95 {p95:.0f} ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
