"""Deal statistics on PostgreSQL: `GET /api/v1/stats/deals/` over COUNT deals held by one node, in process.

    .venv/bin/python bench/deals.py [--count 100000] [--requests 300] [--reuse]

The database is `registry_bench_deals` (bench/common.py: `BENCH_DATABASE_URL` + `_deals`), recreated on every
run unless `--reuse`.

Target (issue 19): `/api/v1/stats/deals/` p95 under 100 ms over 100,000 deals, beside a bare count of the
deals in the same run. (The issue's other deal benchmark, a step's propagation across three nodes, is
bench/deal_steps.py: not this script.)

1. Loads, with COPY straight into `deals_deal` (setup, not what is measured), COUNT deals as this node (SHDEX)
   holds them: each has SHDEX in its audience (the product's exchange for about half, the buyer's home for a
   third, else the provider's home or the node where the order was placed), the other parties spread over the
   24 members. States follow a plausible mix (most closed or settled, some cancelled before or after the
   contract, a few in every other state); times are spread over two years (order to contract: hours to
   weeks, log-normal; delivery within the agreed days, a few late; acceptance within the 72-hour window, or
   the auto-acceptance after it); prices log-uniform from 1,000 to 2,000,000 CNY. Each row carries the
   figures `deals.followups` keeps on a deal (`deals/figures.py`: agreed, delivered and accepted times,
   delivery deadline, price in cents, currency) as its derivation would have set them; no steps are loaded:
   the endpoint never reads them. Then VACUUM (ANALYZE).
2. Times REQUESTS requests through `django.test.Client` (the whole middleware stack, DRF, the serializer, no
   sockets), alternating the nationwide figures and `?exchange=` of a random member, and checks the
   nationwide answer against the loaded rows (counts by state, value, the delivered and accepted counts).
3. Baseline, interleaved request by request in the same run: a bare `SELECT count(*) FROM deals_deal` on the
   cursor (the cheapest full read of the same table). And `EXPLAIN (ANALYZE, BUFFERS)` of the aggregate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, percentile, setup_django

TARGET_P95_MS = 100.0
HERE = "SHDEX"
URL = "/api/v1/stats/deals/"
# state: share (per mille) of the deals held.
STATE_MIX = {
    "ordered": 40,
    "negotiating": 60,
    "agreed": 5,
    "compliance_failed": 5,
    "cleared": 40,
    "delivered": 25,
    "received": 15,
    "accepted": 40,
    "rejected": 25,
    "settled": 150,
    "closed": 430,
    "cancelled": 150,
    "terminated": 15,
}
REACHED_CONTRACT = {"agreed", "compliance_failed", "cleared", "delivered", "received", "accepted", "rejected"}
REACHED_CONTRACT |= {"settled", "closed"}
REACHED_DELIVERY = {"delivered", "received", "accepted", "rejected", "settled", "closed"}
REACHED_ACCEPTANCE = {"accepted", "settled", "closed"}
REQUEST = {
    "purpose": "充电设施规划与负荷预测研究",
    "usage_policy": {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], "duration_days": 365},
    },
    "delivery_method": "file",
    "territory": "domestic",
    "duration_days": 365,
    "demand_response": None,
}
COLUMNS = (
    "gid, origin, version, product_code, product_version, product_exchange, product_name, provider_id, "
    "provider_home, provider_name, buyer_id, buyer_home, buyer_name, placed_at, request, updated_at, state, "
    "offer_version, agreed_at, delivered_at, accepted_at, order_to_contract_s, contract_to_acceptance_s, "
    "delivery_by, price_cents, currency, disputed"
)


DISPUTE_COLUMNS = (
    "gid, deal_gid, coordinator, co_coordinator, state, category, filed_by, filed_at, closed_at, due_at, "
    "refund_amount, resolution_s"
)


def _parties(rng: random.Random, codes: list[str]) -> tuple[str, str, str, str]:
    """(product's exchange, provider's home, buyer's home, order's node), with this node among them."""
    others = [c for c in codes if c != HERE]
    roll = rng.random()
    product_exchange = HERE if roll < 0.5 else rng.choice(others)
    buyer_home = HERE if 0.5 <= roll < 0.83 else rng.choice(codes)
    provider_home = product_exchange if rng.random() < 0.9 else rng.choice(codes)
    origin = buyer_home if rng.random() < 0.8 else product_exchange
    if HERE not in (product_exchange, buyer_home):
        provider_home, origin = (HERE, origin) if rng.random() < 0.5 else (provider_home, HERE)
    return product_exchange, provider_home, buyer_home, origin


def _timeline(rng: random.Random, state: str, placed) -> dict:
    """The figures a deal in `state` keeps: when it reached a contract, delivery and acceptance."""
    cancelled_late = state in {"cancelled", "terminated"} and rng.random() < 0.4
    figures = {"agreed_at": None, "delivered_at": None, "accepted_at": None, "delivery_by": None}
    figures["price_cents"], figures["currency"] = None, ""
    if state not in REACHED_CONTRACT and not cancelled_late:
        return figures
    agreed = placed + timedelta(hours=min(rng.lognormvariate(math.log(40), 1.0), 24 * 60))
    days = rng.choice((3, 5, 7, 10, 15, 30))
    figures.update(
        agreed_at=agreed,
        delivery_by=agreed + timedelta(days=days),
        price_cents=int(math.exp(rng.uniform(math.log(1_000), math.log(2_000_000))) * 100),
        currency="CNY",
    )
    if state in REACHED_DELIVERY:
        late = rng.random() < 0.08
        delivered = agreed + timedelta(days=days * (rng.uniform(1.0, 1.5) if late else rng.uniform(0.2, 1.0)))
        figures["delivered_at"] = delivered
        if state in REACHED_ACCEPTANCE:
            auto = rng.random() < 0.15
            figures["accepted_at"] = delivered + timedelta(hours=72.01 if auto else rng.uniform(0.5, 71.5))
    return figures


def load(count: int, seed: int) -> dict:
    """COPY `count` deals into deals_deal; returns what the nationwide figures must say."""
    from django.db import connection
    from django.utils import timezone

    from products.sample_data import REGIONS, make_uscc
    from standards.members import member_codes

    rng = random.Random(seed)
    now = timezone.now()
    codes = sorted(member_codes())
    states = list(STATE_MIX)
    weights = [STATE_MIX[s] for s in states]
    companies = [make_uscc(rng, rng.choice(REGIONS)[0]) for _ in range(2000)]
    request = json.dumps(REQUEST, ensure_ascii=False)
    expected = {
        "by_state": dict.fromkeys(states, 0),
        "value": 0,
        "contracted": 0,
        "delivered": 0,
        "accepted": 0,
    }

    disputes: list[tuple] = []

    def rows():
        for n in range(count):
            state = rng.choices(states, weights)[0]
            product_exchange, provider_home, buyer_home, origin = _parties(rng, codes)
            # Open deals are recent; finished ones anywhere in two years.
            back = rng.uniform(0, 20) if state in {"ordered", "negotiating"} else rng.uniform(30, 730)
            placed = now - timedelta(days=back)
            f = _timeline(rng, state, placed)
            expected["by_state"][state] += 1
            if f["price_cents"] is not None and state not in {"cancelled", "terminated"}:
                expected["value"] += f["price_cents"]
                expected["contracted"] += 1
            expected["delivered"] += f["delivered_at"] is not None
            expected["accepted"] += f["accepted_at"] is not None
            gid = f"{origin}-{uuid.UUID(int=rng.getrandbits(128)).hex}"
            dispute = _dispute(rng, state, f, gid, product_exchange, buyer_home, now)
            if dispute:
                disputes.append(dispute)
            yield (
                gid,
                origin,
                1,
                f"{product_exchange}-2026-{n % 999999 + 1:06d}-X",
                rng.randint(1, 5),
                product_exchange,
                f"数据产品{n % 5000}",
                rng.choice(companies),
                provider_home,
                "上海数据科技有限公司",
                rng.choice(companies),
                buyer_home,
                "北京智能科技有限公司",
                placed,
                request,
                now,
                state,
                0 if state in {"ordered"} else rng.randint(1, 3),
                f["agreed_at"],
                f["delivered_at"],
                f["accepted_at"],
                (f["agreed_at"] - placed).total_seconds() if f["agreed_at"] else None,
                (f["accepted_at"] - f["agreed_at"]).total_seconds() if f["accepted_at"] else None,
                f["delivery_by"],
                f["price_cents"],
                f["currency"],
                bool(dispute),  # Deal.disputed, as deals.dispute_followups keeps it
            )

    connection.ensure_connection()
    raw = connection.connection
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cur, cur.copy(f"COPY deals_deal ({COLUMNS}) FROM STDIN") as copy:
        for row in rows():
            copy.write_row(row)
    with (
        raw.transaction(),
        raw.cursor() as cur,
        cur.copy(f"COPY deals_dispute ({DISPUTE_COLUMNS}) FROM STDIN") as copy,
    ):
        for dispute in disputes:
            copy.write_row(dispute)
    expected["load_seconds"] = time.perf_counter() - started
    expected["disputed"] = len(disputes)
    return expected


def _dispute(rng: random.Random, state: str, f: dict, deal_gid: str, coordinator: str, co: str, now) -> tuple:
    """A dispute (this node's `Dispute` cache row) for every rejected deal and about 4 % of the delivered
    ones: open on the rejected deals (a quarter of them past the deadline), resolved, withdrawn or escalated on
    the others (mostly resolved within days to weeks); () for a deal without one."""
    if state == "rejected":
        open_state = rng.choice(("filed", "accepted", "mediation"))
        filed = now - timedelta(days=rng.uniform(0.5, 40))
        due = filed + timedelta(days=3 if open_state == "filed" else 30)
        row = (open_state, filed, None, due, None)
    elif f["delivered_at"] is not None and rng.random() < 0.04:
        filed = f["delivered_at"] + timedelta(hours=rng.uniform(1, 70))
        closed = filed + timedelta(hours=min(rng.lognormvariate(math.log(24 * 9), 0.8), 24 * 60))
        final = rng.choices(("resolved", "withdrawn", "escalated"), (80, 15, 5))[0]
        refund = Decimal(f["price_cents"]).scaleb(-2) * Decimal("0.3") if final == "resolved" else None
        row = (final, filed, closed if final != "escalated" else None, None, refund)
    else:
        return ()
    from deals.figures import resolution_seconds  # lazy: after setup_django

    dispute_state, filed, closed, due, refund = row
    category = rng.choice(("not_as_described", "quality", "late_delivery"))
    gid = f"{coordinator}-{uuid.UUID(int=rng.getrandbits(128)).hex}"
    filed_by = "buyer" if rng.random() < 0.9 else "provider"
    seconds = resolution_seconds(dispute_state, filed, closed)
    return (
        gid,
        deal_gid,
        coordinator,
        co,
        dispute_state,
        category,
        filed_by,
        filed,
        closed,
        due,
        refund,
        seconds,
    )


def _check(body: dict, expected: dict) -> None:
    """The nationwide answer says what was loaded."""
    value = f"{Decimal(expected['value']).scaleb(-2):.2f}" if expected["contracted"] else None
    got = (body["by_state"], body["value"].get("CNY"), body["delivered"], body["accepted"], body["disputed"])
    want = (expected["by_state"], value, expected["delivered"], expected["accepted"], expected["disputed"])
    if got != want:
        raise SystemExit(f"the figures disagree with the loaded deals:\n  got  {got}\n  want {want}")


def row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<44} p50 {percentile(values, 50):7.2f}  p95 {percentile(values, 95):7.2f}  "
        f"p99 {percentile(values, 99):7.2f}  mean {statistics.fmean(values):7.2f}  n={len(values)}"
    )


def stats_bench(args: argparse.Namespace) -> int:
    """Part 1 of the deals benchmark: the statistics endpoint over COUNT deals, beside a bare count."""
    os.environ["NODE_CODE"] = HERE
    os.environ["THROTTLE_ANON"] = "100000000/min"
    url = setup_django(bench_database_url("deals"), fresh=not args.reuse)

    from django.db import connection
    from django.test import Client

    from deals.models import Deal
    from deals.stats import deal_stats
    from standards.members import member_codes

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    held = Deal.objects.count()
    expected = None
    if args.reuse and held:
        print(f"reusing {held} deals (the figures are not checked against a load)")
    else:
        expected = load(args.count, args.seed)
        print(
            f"loaded {args.count} deals and {expected['disputed']} disputes in {expected['load_seconds']:.1f} s (COPY)"
        )
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute("VACUUM (ANALYZE) deals_deal")
        cur.execute("VACUUM (ANALYZE) deals_dispute")
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('deals_deal'))")
        print(f"VACUUM (ANALYZE): {time.perf_counter() - started:.1f} s; deals_deal {cur.fetchone()[0]}")

    client = Client(HTTP_HOST="localhost")
    rng = random.Random(args.seed + 1)
    codes = sorted(member_codes())

    def get(params: dict) -> dict:
        response = client.get(URL, params)
        if response.status_code != 200:
            raise SystemExit(f"{URL} {params}: HTTP {response.status_code} {response.content[:300]!r}")
        return response.json()

    nationwide = get({})
    if expected is not None:
        _check(nationwide, expected)
    print(
        f"nationwide: {nationwide['deals']} deals, value {nationwide['value']}, median order→contract "
        f"{nationwide['median_order_to_contract_s']} s, contract→acceptance "
        f"{nationwide['median_contract_to_acceptance_s']} s, acceptance rate {nationwide['acceptance_rate']}, "
        f"overdue deliveries {nationwide['overdue_deliveries']}"
    )
    for _ in range(args.warmup):
        get({})
        get({"exchange": rng.choice(codes)})

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    def bare_count() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM deals_deal")
            cur.fetchone()

    results: dict[str, list[float]] = {"nationwide": [], "exchange": [], "count": []}
    for i in range(args.requests):  # interleaved: each request beside a bare count
        if i % 2:
            code = rng.choice(codes)
            results["exchange"].append(timed(lambda code=code: get({"exchange": code})))
        else:
            results["nationwide"].append(timed(lambda: get({})))
        results["count"].append(timed(bare_count))
    api = results["nationwide"] + results["exchange"]

    print(f"\n{args.requests} requests, {held or args.count} deals held at {HERE}")
    print(row("API GET /stats/deals/ (all)", api))
    print(row("  nationwide", results["nationwide"]))
    print(row("  ?exchange= a random member", results["exchange"]))
    print(row("bare SELECT count(*) FROM deals_deal", results["count"]))

    for label, exchange in (("nationwide", None), (f"?exchange={HERE}", HERE)):
        for i, (sql, params) in enumerate(
            _statements(lambda exchange=exchange: deal_stats(exchange=exchange))
        ):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print(f"\nEXPLAIN (ANALYZE, BUFFERS), {label}, statement {i + 1}:")
                for (line,) in cur.fetchall():
                    print("    " + line)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    p95 = percentile(api, 95)
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms: {'MET' if p95 < TARGET_P95_MS else 'NOT MET'} "
        f"(p95 {p95:.2f} ms over {len(api)} requests, {held or args.count} deals; bare count p95 "
        f"{percentile(results['count'], 95):.2f} ms)"
    )
    return 0


def _statements(stats) -> list[tuple[str, list]]:
    """The statements `deal_stats()` issues (three: the counts, the dispute aggregate and the three median
    walks), captured as it runs."""
    from django.db import connection

    captured: list[tuple[str, list]] = []

    def capture(execute, sql, sql_params, many, context):
        captured.append((sql, sql_params))
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(capture):
        stats()
    captured = [(sql, params) for sql, params in captured if sql.startswith("SELECT")]
    if len(captured) > 3:
        raise SystemExit(f"deal_stats() issued {len(captured)} statements, not three")
    return captured


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000, help="deals held by the node")
    parser.add_argument("--requests", type=int, default=300, help="timed requests (half nationwide)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    return stats_bench(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
