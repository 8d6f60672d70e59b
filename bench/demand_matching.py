"""Demand matching on PostgreSQL: `GET /api/v1/demands/{id}/matches/` over COUNT listed products, in process.

    .venv/bin/python bench/demand_matching.py [--count 100000] [--rounds 10] [--reuse] [--profile]

The database is `registry_bench_demand_matching` (bench/common.py), recreated on every run unless `--reuse`.

Target (the issue): matching one demand against 100,000 listed products, p95 under 100 ms, beside the plain
full-text query's time in the same run.

1. Recreates the benchmark database and loads COUNT listed products (products/sample_data.py) through the
   real bulk import, exactly as bench/search.py does (its `load`: providers registered first, then
   `import_stream` with two worker processes). `--reuse` keeps an already loaded database.
2. Creates the ~30 varied Chinese demands of DEMANDS directly as `Demand` rows: each one's fields pass the
   demand standard (`standards.demand.demand_clean`) and its `search_text` is set as the replica apply sets it.
   Several origins (this node's recognitions count for its own demands only), nationwide and local
   coverage, with and without compliance requirements, short and long descriptions (up to the 24-token
   cap), and a few whose words no product uses. Then VACUUM (ANALYZE).
3. Times ROUNDS rounds over every demand through `django.test.Client` (middleware, DRF, the serializer, no
   sockets), and in the same loop, demand by demand, the baselines:
   * the plain full-text query with the same tokens: `search_any(listed, tokens=demand_tokens(demand))`
     ordered by rank, first 20 rows, evaluated (every product matching any of the demand's words,
     ranked: where matching started from, with no scoring at all);
   * `GET /api/v1/demands/{id}/` (the same demand through the same stack, without matching): the API floor.
4. Untimed, the approximation's cost in quality: each demand's top 20 beside the top 20 of `matches_for`
   ranking every product that matches any token (the lexeme statistics switched off, as before the
   selective tokens): how many products they share, and for how many demands the total score is lower.
5. With `--profile`, or when the target is missed: cProfile of one `matches_for` per demand, and
   `EXPLAIN (ANALYZE, BUFFERS)` of the statements the slowest demand's request issues.

A full run takes 5–8 minutes on a 2-core VM, most of it loading; `--count 20000` for a quicker one.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from unittest import mock

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, percentile, setup_django

TARGET_P95_MS = 100.0
PAGE = 20

# (title, description, industry, forms, coverage, (start, end), frequency, (budget min, max), compliance,
#  origin). Words from the sample catalogue's 16 topics and 15 regions, and some it does not use.
DEMANDS: list[tuple] = [
    (
        "上海市新能源汽车充电桩运行数据采购",
        "为充电设施规划与电网负荷预测项目采购上海市公共充电桩的运行数据，需包含充电电量、充电时长、故障状态与"
        "利用率，按日更新，不含个人信息，数据不得出境。",
        "D",
        ["dataset", "api"],
        ["310000"],
        ("2023-01-01", None),
        "daily",
        (50000, 200000),
        ["no_personal_information", "no_cross_border_transfer"],
        "SHDEX",
    ),
    (
        "企业信用评价数据接口",
        "需要企业信用评价与风险评估数据接口，用于供应链金融授信审批，覆盖全国企业。",
        "L",
        ["api"],
        ["100000"],
        (None, None),
        "daily",
        (100000, 500000),
        ["source_legality_passed"],
        "SHDEX",
    ),
    (
        "青岛港口集装箱吞吐量数据",
        "采购青岛港口集装箱吞吐量与航线物流数据，用于港口物流研究。",
        "G",
        ["dataset"],
        ["370200"],
        ("2020-01-01", "2024-12-31"),
        "monthly",
        (10000, 80000),
        [],
        "BJIDX",
    ),
    (
        "城市交通出行数据需求",
        "需要北京市城市交通出行与通勤数据，用于城市治理和交通规划，按周更新即可。",
        "G",
        ["dataset", "report"],
        ["110000"],
        ("2022-01-01", None),
        "weekly",
        (20000, 100000),
        ["personal_information_deidentified"],
        "BJIDX",
    ),
    (
        "气象观测与降水数据",
        "采购华南地区气象观测、降水与台风路径数据，用于农业保险定价模型。",
        "M",
        ["dataset", "api"],
        ["440000", "460000"],
        ("2015-01-01", None),
        "hourly",
        (30000, 150000),
        [],
        "SHDEX",
    ),
    (
        "农产品价格监测数据",
        "需要湖南省农产品价格监测数据，用于农业价格指数编制与市场预警。",
        "A",
        ["dataset", "report"],
        ["430000"],
        ("2019-01-01", None),
        "weekly",
        (5000, 30000),
        ["no_personal_information"],
        "GYBDX",
    ),
    (
        "医疗机构服务能力评估",
        "采购医疗机构服务能力与医院床位、门诊量数据，用于区域医疗资源配置研究。",
        "Q",
        ["report"],
        ["330100", "320500"],
        (None, None),
        "",
        (20000, 60000),
        ["no_personal_information", "no_important_data"],
        "SHDEX",
    ),
    (
        "工业互联网设备运行数据",
        "需要制造业工业互联网设备运行状态数据，实时接口，用于预测性维护模型训练。",
        "C",
        ["api", "model"],
        ["100000"],
        ("2021-01-01", None),
        "realtime",
        (100000, 1000000),
        ["security_assessment_passed"],
        "SHDEX",
    ),
    (
        "商圈零售消费趋势分析",
        "希望获得广州市、深圳市主要商圈零售消费趋势数据与分析报告，用于门店选址。",
        "F",
        ["report", "dataset"],
        ["440100", "440300"],
        ("2023-01-01", None),
        "monthly",
        (10000, 50000),
        [],
        "SHDEX",
    ),
    (
        "房地产交易成交数据",
        "采购重庆市房地产交易与住房成交数据，按月更新，用于房价指数研究。",
        "K",
        ["dataset"],
        ["500000"],
        ("2018-01-01", None),
        "monthly",
        (10000, 40000),
        [],
        "GYBDX",
    ),
    (
        "金融市场舆情监测服务",
        "需要金融市场舆情数据服务，覆盖上市公司新闻与社交媒体，实时推送。",
        "J",
        ["service", "api"],
        ["100000"],
        (None, None),
        "realtime",
        (200000, 800000),
        ["no_cross_border_transfer"],
        "SHDEX",
    ),
    (
        "电力负荷与用电数据",
        "采购天津市电力负荷与企业用电数据，用于电网负荷预测。",
        "D",
        ["dataset", "api"],
        ["120000"],
        ("2020-01-01", None),
        "daily",
        (30000, 120000),
        ["no_important_data"],
        "BJIDX",
    ),
    (
        "旅游景区客流数据采购",
        "需要景区旅游客流的实时数据，用于客流预警与旅游规划。",
        "R",
        ["dataset", "api"],
        ["100000"],
        (None, None),
        "realtime",
        (50000, 200000),
        [],
        "SHDEX",
    ),
    (
        "教育资源分布数据",
        "采购武汉市学校教育资源分布数据，用于学位预警与学校布局规划。",
        "P",
        ["dataset"],
        ["420100"],
        (None, None),
        "yearly",
        (5000, 20000),
        [],
        "SHDEX",
    ),
    (
        "环境空气质量监测数据",
        "需要郑州市环境空气质量与污染物监测数据，按小时更新，用于污染溯源模型。",
        "N",
        ["api", "dataset"],
        ["410100"],
        ("2021-01-01", None),
        "hourly",
        (20000, 90000),
        [],
        "SHDEX",
    ),
    (
        "建筑工程项目数据",
        "采购福建省建筑工程项目与施工许可数据，用于建筑业市场分析。",
        "E",
        ["dataset", "report"],
        ["350000"],
        ("2019-01-01", None),
        "monthly",
        (10000, 60000),
        ["source_legality_passed"],
        "GYBDX",
    ),
    # Words no product in the sample catalogue uses, or barely: few or no candidates.
    (
        "海洋渔业捕捞量统计",
        "需要东海海域渔业捕捞量与渔船作业轨迹统计，用于渔业资源评估。",
        "A",
        ["dataset"],
        ["330000"],
        (None, None),
        "",
        (10000, 30000),
        [],
        "SHDEX",
    ),
    (
        "卫星遥感影像解译服务",
        "采购高分辨率卫星遥感影像解译服务，识别耕地变化与违章建筑。",
        "M",
        ["service"],
        ["100000"],
        (None, None),
        "",
        (100000, 500000),
        ["no_cross_border_transfer"],
        "BJIDX",
    ),
    # Broad, generic words: nearly every product matches one of them.
    (
        "城市数据分析服务",
        "需要城市相关数据的分析服务与决策支持，覆盖主要区域，按月更新。",
        "",
        ["service", "report"],
        ["100000"],
        (None, None),
        "monthly",
        (10000, 100000),
        [],
        "SHDEX",
    ),
    (
        "上海市数据产品采购",
        "采购上海市各类数据产品，数据集或数据接口均可，用于研究与决策支持。",
        "",
        ["dataset", "api"],
        ["310000"],
        (None, None),
        "",
        (1000, 50000),
        [],
        "SHDEX",
    ),
    # Several topics at once.
    (
        "新能源与电力负荷综合数据",
        "采购充电桩运行、电力负荷与用电数据，结合新能源汽车保有量，用于配电网规划与负荷预测，覆盖上海市、"
        "杭州市、苏州市。",
        "D",
        ["dataset", "api", "model"],
        ["310000", "330100", "320500"],
        ("2022-01-01", None),
        "daily",
        (100000, 600000),
        ["no_personal_information"],
        "SHDEX",
    ),
    (
        "港口物流与交通出行数据",
        "需要深圳市港口集装箱、物流与城市交通出行数据，用于湾区物流通道研究。",
        "G",
        ["dataset", "api"],
        ["440300"],
        ("2021-01-01", "2025-06-30"),
        "weekly",
        (30000, 150000),
        [],
        "SHDEX",
    ),
    (
        "消费与房地产市场研判",
        "采购零售消费、商圈客流与房地产成交数据，用于城市商业地产投资研判，覆盖北京市和上海市。",
        "K",
        ["report", "dataset"],
        ["110000", "310000"],
        (None, None),
        "monthly",
        (50000, 300000),
        ["no_personal_information", "personal_information_deidentified"],
        "BJIDX",
    ),
    # Long descriptions: the 24-token cap.
    (
        "智慧城市综合治理数据需求",
        "为智慧城市综合治理平台建设采购多源数据：城市交通出行与拥堵指数、环境空气质量与污染源监测、气象观测"
        "与降水预警、电力负荷与用电结构、医疗机构服务能力、教育资源分布、旅游景区客流、商业零售消费趋势、"
        "房地产交易与住房保障、建筑工程项目进度，数据须按日更新，接口交付，不含个人信息，不涉及重要数据，"
        "数据不得出境，来源须经合法性核验。",
        "",
        ["api", "dataset", "service"],
        ["100000"],
        ("2020-01-01", None),
        "daily",
        (500000, 5000000),
        [
            "no_personal_information",
            "no_important_data",
            "no_cross_border_transfer",
            "source_legality_passed",
        ],
        "SHDEX",
    ),
    (
        "长三角产业链与企业经营数据",
        "采购长三角地区制造业企业经营、工业互联网设备运行、企业信用评价、港口集装箱吞吐量与物流数据，"
        "用于产业链韧性评估、供应链风险预警与招商引资决策，覆盖上海市、杭州市、苏州市，按月更新，"
        "交付形式可以是数据集、数据接口或分析报告。",
        "C",
        ["dataset", "api", "report"],
        ["310000", "330100", "320500"],
        ("2019-01-01", None),
        "monthly",
        (200000, 1500000),
        ["source_legality_passed"],
        "SHDEX",
    ),
    (
        "乡村振兴农业数据",
        "需要农产品价格、农业气象观测与降水、乡村旅游客流数据，用于乡村振兴规划与农业保险，覆盖湖南省、"
        "海南省、福建省，按周更新。",
        "A",
        ["dataset", "report"],
        ["430000", "460000", "350000"],
        ("2018-01-01", None),
        "weekly",
        (20000, 200000),
        [],
        "GYBDX",
    ),
    # Strict compliance and narrow structure.
    (
        "贵阳市金融风险评估模型",
        "采购贵阳市金融风险评估预测模型与企业征信数据，需已通过安全评估，数据不得出境。",
        "J",
        ["model"],
        ["520100"],
        ("2022-01-01", None),
        "quarterly",
        (100000, 400000),
        ["security_assessment_passed", "no_cross_border_transfer", "source_legality_passed"],
        "GYBDX",
    ),
    (
        "杭州市电商直播消费数据",
        "希望采购杭州市电商直播与线上消费数据，用于消费趋势研究，要求个人信息已去标识化。",
        "F",
        ["dataset"],
        ["330100"],
        ("2023-06-01", "2025-12-31"),
        "daily",
        (10000, 60000),
        ["personal_information_deidentified"],
        "SHDEX",
    ),
    (
        "广州市医院门诊与医疗服务",
        "采购广州市医院门诊量、医疗服务能力评价数据，用于医疗资源规划，按月更新。",
        "Q",
        ["dataset", "report"],
        ["440100"],
        (None, None),
        "monthly",
        (20000, 80000),
        ["no_personal_information"],
        "SHDEX",
    ),
    (
        "苏州市工业设备预测模型",
        "需要苏州市工业互联网设备运行数据与故障预测模型，用于制造业设备运维。",
        "C",
        ["model", "api"],
        ["320500"],
        ("2021-01-01", None),
        "daily",
        (80000, 300000),
        [],
        "BJIDX",
    ),
]


def make_demands(seed: int) -> list:
    """The DEMANDS as `Demand` rows, each checked by the demand standard first."""
    from django.utils import timezone

    from demands.models import Demand
    from products.sample_data import make_uscc
    from standards.demand import demand_clean, demand_search_text

    rng = random.Random(seed)
    now = timezone.now()
    Demand.objects.all().delete()
    rows = []
    for i, (
        title,
        description,
        industry,
        forms,
        coverage,
        (start, end),
        freq,
        (low, high),
        comp,
        origin,
    ) in enumerate(DEMANDS):
        data = {
            "title": title,
            "description": description,
            "industry": industry,
            "product_forms": forms,
            "spatial_coverage": coverage,
            "temporal_coverage": {"start": start, "end": end},
            "update_frequency": freq,
            "budget": {"min": low, "max": high, "currency": "CNY"},
            "deadline": (now + timedelta(days=30 + i)).isoformat(),
            "delivery_methods": ["api", "file"],
            "compliance_requirements": comp,
            "reach": [],
        }
        clean = demand_clean(data, now=now)
        rows.append(
            Demand(
                gid=f"{origin}-{uuid.UUID(int=rng.getrandbits(128)).hex}",
                origin=origin,
                version=1,
                demander_id=make_uscc(rng, "310000"),
                demander_home=origin,
                demander_name=f"需求方{i:02d}数据科技有限公司",
                posted_at=now - timedelta(hours=i),
                search_text=demand_search_text(clean["title"], clean["description"]),
                **clean,
            )
        )
    return Demand.objects.bulk_create(rows)


def row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<44} p50 {percentile(values, 50):8.2f}  p95 {percentile(values, 95):8.2f}  "
        f"p99 {percentile(values, 99):8.2f}  mean {statistics.fmean(values):8.2f}  n={len(values)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over every demand")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per demand first")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile and EXPLAIN even if the target is met"
    )
    args = parser.parse_args()

    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("demand_matching"), fresh=not args.reuse)

    from common import load  # bench/common.py: the same products as the search benchmark, loaded the same way
    from django.db import connection
    from django.test import Client

    from demands.matching import CANDIDATES, MATCH_BUDGET, RANK_WINDOW, matches_for, selective_tokens
    from demands.scoring import WEIGHTS, demand_terms, demand_tokens
    from products.models import Product, ProductStatus
    from products.search import search_any
    from standards.segmentation import warm_up

    print(f"machine: {machine()}")
    print(f"database: {url}")

    listed = Product.objects.filter(status=ProductStatus.LISTED).count()
    if args.reuse and listed >= args.count:
        print(f"reusing {listed} listed products")
    else:
        if listed:
            print("--reuse given but the database is not loaded; loading", file=sys.stderr)
        seconds = load(args.count, args.seed)
        listed = Product.objects.filter(status=ProductStatus.LISTED).count()
        print(f"loaded {listed} listed products in {seconds:.1f} s (import_stream jobs=2)")
    demands = make_demands(args.seed)
    print(f"created {len(demands)} demands")
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute("VACUUM (ANALYZE)")
        print(f"VACUUM (ANALYZE): {time.perf_counter() - started:.1f} s")

    warm_up()
    client = Client(HTTP_HOST="localhost")
    listed_qs = Product.objects.filter(status=ProductStatus.LISTED)

    def get(path: str):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")
        return response

    def plain(tokens: list[str]) -> list:
        return list(search_any(listed_qs, tokens=tokens).order_by("-rank", "-id")[:PAGE])

    # --- per demand, untimed: tokens, products matching any token, the statements one request issues ------
    tokens = {d.gid: demand_tokens(d) for d in demands}
    matched: dict[str, int] = {}
    selective: dict[str, str] = {}
    ranked: dict[str, int] = {}
    found: dict[str, int] = {}
    statements: dict[str, list[tuple[str, object]]] = {}
    for d in demands:
        matched[d.gid] = search_any(listed_qs, tokens=tokens[d.gid]).count()
        # What matches_for ranks: the matches of the selective tokens (or, with a broad one, its newest).
        chosen, broad = selective_tokens(tokens[d.gid], first=demand_terms(d)[1])
        selective[d.gid] = f"{len(chosen)}{'+w' if broad else ''}"
        if broad:
            ids = set(search_any(listed_qs, tokens=chosen[:-1]).values_list("pk", flat=True))
            ids.update(
                search_any(listed_qs, tokens=[broad])
                .order_by("-id")
                .values_list("pk", flat=True)[:RANK_WINDOW]
            )
            ranked[d.gid] = len(ids)
        else:
            ranked[d.gid] = search_any(listed_qs, tokens=tokens[d.gid], match_tokens=chosen).count()
        captured: list[tuple[str, object]] = []

        def capture(execute, sql, sql_params, many, context, captured=captured):
            captured.append((sql, sql_params))
            return execute(sql, sql_params, many, context)

        with connection.execute_wrapper(capture):
            body = get(f"/api/v1/demands/{d.gid}/matches/").json()["results"]
        statements[d.gid] = captured
        found[d.gid] = len(body)
        if body:
            assert [f["name"] for f in body[0]["factors"]] == list(WEIGHTS), body[0]
        for _ in range(args.warmup):
            get(f"/api/v1/demands/{d.gid}/matches/")
            plain(tokens[d.gid])
            get(f"/api/v1/demands/{d.gid}/")

    # --- timed: rounds over every demand, each followed by its baselines --------------------------------------
    api: dict[str, list[float]] = defaultdict(list)
    base: dict[str, list[float]] = defaultdict(list)
    floor: dict[str, list[float]] = defaultdict(list)
    load_before = os.getloadavg()[0]
    run_started = time.perf_counter()
    for _ in range(args.rounds):
        for d in demands:
            started = time.perf_counter()
            get(f"/api/v1/demands/{d.gid}/matches/")
            api[d.gid].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            plain(tokens[d.gid])
            base[d.gid].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            get(f"/api/v1/demands/{d.gid}/")
            floor[d.gid].append((time.perf_counter() - started) * 1000)
    run_seconds = time.perf_counter() - run_started
    load_after = os.getloadavg()[0]

    # --- untimed: the same top 20 as ranking every product that matches any token? -------------------------
    # matches_for without the lexeme statistics ranks every match (what it did before the selective tokens).
    same: dict[str, int] = {}
    lower = 0
    for d in demands:
        with mock.patch("demands.matching.lexeme_statistics", return_value=None):
            exhaustive = matches_for(d, limit=PAGE)
        fast = matches_for(d, limit=PAGE)
        same[d.gid] = len({m.product.code for m in exhaustive} & {m.product.code for m in fast})
        lower += sum(m.score for m in fast) < sum(m.score for m in exhaustive) - 1e-6

    # --- report ---------------------------------------------------------------------------------------------
    print(
        f"\nlisted products: {listed}; {len(demands)} demands x {args.rounds} rounds ({run_seconds:.0f} s); "
        f"CANDIDATES {CANDIDATES}, MATCH_BUDGET {MATCH_BUDGET}; ms\nload average (1 min) on {os.cpu_count()} "
        f"cores: {load_before:.2f} before the timed rounds, {load_after:.2f} after"
    )
    print("\nper demand (API = GET /api/v1/demands/{id}/matches/, plain = search_any by rank, 20 rows):")
    print(
        "  (tokens: the demand's; selective: those whose matches are ranked, +w: a broad one's newest "
        f"{RANK_WINDOW} matches only;\n   matching: products matching any token; ranked: products ranked; "
        "same20: of the top 20, how many ranking every match also gives)"
    )
    print(
        f"  {'title':<28} {'tokens':>6} {'selective':>9} {'matching':>8} {'ranked':>6} {'same20':>6} "
        f"{'stmts':>5}  {'API p50':>8} {'API p95':>8}  {'plain p50':>9} {'plain p95':>9}"
    )
    for d in demands:
        title = d.title[:14]
        pad = 28 - sum(2 if ord(c) > 0x2E80 else 1 for c in title)
        a, b = api[d.gid], base[d.gid]
        print(
            f"  {title}{' ' * max(pad, 1)} {len(tokens[d.gid]):>6} {selective[d.gid]:>9} {matched[d.gid]:>8} "
            f"{ranked[d.gid]:>6} {same[d.gid]:>3}/{found[d.gid]:<2} {len(statements[d.gid]):>5}  "
            f"{percentile(a, 50):8.2f} {percentile(a, 95):8.2f}  {percentile(b, 50):9.2f} {percentile(b, 95):9.2f}"
        )
    api_all = [v for values in api.values() for v in values]
    base_all = [v for values in base.values() for v in values]
    floor_all = [v for values in floor.values() for v in values]
    print("\nsummary:")
    print(row("API matches, all demands", api_all))
    print(row("plain full-text query, same tokens, 20 rows", base_all))
    print(row("API demand detail (same stack, no matching)", floor_all))
    print(
        f"\nagreement with ranking every match: same top {PAGE} for "
        f"{sum(same[d.gid] == found[d.gid] for d in demands)} of {len(demands)} demands; a lower total score "
        f"of the top {PAGE} for {lower}"
    )
    p95 = percentile(api_all, 95)
    slowest = max(demands, key=lambda d: percentile(api[d.gid], 50))
    print(
        f"\nslowest demand: {slowest.title} ({len(tokens[slowest.gid])} tokens, {matched[slowest.gid]} "
        f"products matching any): API p50 {percentile(api[slowest.gid], 50):.2f} ms, plain p50 "
        f"{percentile(base[slowest.gid], 50):.2f} ms"
    )

    if args.profile or p95 >= TARGET_P95_MS:
        profiler = cProfile.Profile()
        profiler.enable()
        for d in demands:
            matches_for(d, limit=PAGE)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\ncProfile of matches_for, once per demand ({len(demands)} calls):")
        print("\n".join("    " + line for line in out.getvalue().strip().splitlines()[:60]))
        print(
            f"\nEXPLAIN (ANALYZE, BUFFERS) of the statements of the slowest demand's request ({slowest.title}):"
        )
        with connection.cursor() as cur:
            for sql, sql_params in statements[slowest.gid]:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
                for (line,) in cur.fetchall():
                    print("    " + (line if len(line) <= 300 else line[:300] + " …"))
                print()
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms: {'MET' if p95 < TARGET_P95_MS else 'NOT MET'} "
        f"(p95 {p95:.2f} ms; plain full-text query p95 {percentile(base_all, 95):.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
