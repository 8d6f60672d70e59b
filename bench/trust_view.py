"""The trust view on PostgreSQL: `GET /api/v1/participants/{id}/trust/` with PARTICIPANTS registrations and
EVALUATIONS evaluations, in process.

    .venv/bin/python bench/trust_view.py [--participants 100000] [--evaluations 500000] [--requests 500]
                                         [--reuse]

The database is `registry_bench_trust_view` (bench/common.py), recreated on every run unless `--reuse`.

Target (the issue): trust view p95 under 30 ms with 100,000 participants and 500,000 evaluations on
PostgreSQL.

1. Loads, with COPY straight into the tables (setup, not what is measured): PARTICIPANTS registrations with
   valid USCCs (`products.sample_data.make_uscc`) at the 24 member exchanges (this node, SHDEX, is home to
   its share), mostly verified, some pending, suspended or revoked, and 0.5% of them second registrations of
   an already registered USCC at another exchange (the later one marked duplicate); three recognitions per
   participant (this node's, the home's and one other exchange's, recognised when the winning registration
   is verified); EVALUATIONS evaluations over the five dimensions, issued by exchanges or service providers,
   about a tenth revoked and validity periods spread over the last five years so that more than half have
   expired and a few have not started: the current-evaluation filter (active, valid_from <= today <=
   valid_until) drops about two thirds of the rows. 80% of the evaluations go to participants uniformly, 20%
   to 1% of them ("heavily evaluated", about a hundred evaluations each). Then VACUUM (ANALYZE).
2. Times REQUESTS trust views of distinct random participants through `django.test.Client` (the whole
   middleware stack, DRF, the serializers, no sockets), and separately the heavily evaluated participants.
3. Baselines, measured the same way in the same run, request by request on the same participants:
   * a bare Django function view: the same three reads (registration with its exchange, current
     evaluations, recognitions) as `values()` rows in a `JsonResponse`, no DRF;
   * the exact SQL statements one API request issues (captured with an execute wrapper), replayed on the
     cursor with the same parameters: the database's share of the request.
   And `EXPLAIN (ANALYZE, BUFFERS)` of the evaluations query for a typical and the most evaluated participant.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import types
import uuid
from datetime import datetime, timedelta
from datetime import time as dtime

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, percentile, setup_django

TARGET_P95_MS = 30.0
URLCONF = "bench_trust_urls"
DIMENSIONS = ("credit", "compliance", "data_quality", "security", "service")
DUPLICATE_SHARE = 0.005
HEAVY_SHARE = 0.01  # of participants, who get
HEAVY_EVALUATIONS = 0.20  # of the evaluations

P_COLUMNS = (
    "participant_id, home_id, is_home, version, legal_name, entity_type, region, roles, business_categories, "
    "services, description, status, status_reason, registered_at, verified_at, duplicate_of, created_at, "
    "updated_at"
)
E_COLUMNS = (
    "gid, origin, subject_id, dimension, score, grade, valid_from, valid_until, summary, evidence_ref, "
    "issuer_type, issuer_id, issuer_name, status, revoked_reason, issued_at, version, updated_at"
)
R_COLUMNS = "participant_id, home, exchange_id, status, reasons, version, updated_at"


def copy_rows(table: str, columns: str, rows) -> int:
    """COPY rows (tuples, in `columns` order) into `table`; returns the count."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    n = 0
    with raw.transaction(), raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def load(n_participants: int, n_evaluations: int, seed: int) -> dict:
    """Fill the three tables; returns facts about what was loaded."""
    from django.conf import settings
    from django.utils import timezone

    from exchanges.models import Exchange
    from products.sample_data import COMPANY_WORDS, REGIONS, make_uscc
    from standards import participant_vocabularies as vocab

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    exchanges = dict(Exchange.objects.values_list("code", "name_zh"))
    codes = sorted(exchanges)
    here = settings.NODE_CODE
    empty = json.dumps([])

    # --- registrations ------------------------------------------------------------------------------------
    n_dup = int(n_participants * DUPLICATE_SHARE)
    n_unique = n_participants - n_dup
    pids: list[str] = []
    seen: set[str] = set()
    while len(pids) < n_unique:
        code = make_uscc(rng, rng.choice(REGIONS)[0])
        if code not in seen:
            seen.add(code)
            pids.append(code)
    statuses = ["verified"] * 90 + ["pending"] * 4 + ["suspended"] * 4 + ["revoked"] * 2
    role_sets = [["data_merchant"], ["demander"], ["data_merchant", "demander"], ["service_provider"]]
    providers: list[tuple[str, str]] = []  # (participant id, legal name) of verified service providers
    regs: list[dict] = []
    for pid in pids:
        region = dict(REGIONS).get(pid[2:8], "")
        roles = rng.choice(role_sets)
        registered = now - timedelta(days=rng.randint(1, 1500), seconds=rng.randint(0, 86399))
        reg = {
            "pid": pid,
            "home": rng.choice(codes),
            "name": f"{region[:2]}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS)}数据科技有限公司",
            "roles": roles,
            "status": rng.choice(statuses),
            "registered": registered,
            "duplicate_of": "",
        }
        regs.append(reg)
        if "service_provider" in roles and reg["status"] == "verified":
            providers.append((pid, reg["name"]))
    winners = {r["pid"]: r for r in regs}
    for reg in rng.sample(
        [r for r in regs if r["status"] != "revoked"], n_dup
    ):  # a later registration of the same USCC at another exchange
        other = rng.choice([c for c in codes if c != reg["home"]])
        regs.append(
            {
                **reg,
                "home": other,
                "status": "pending",
                "registered": reg["registered"] + timedelta(seconds=rng.randint(1, 30)),
                "duplicate_of": reg["home"],
            }
        )

    def participant_rows():
        for r in regs:
            services = ["quality_assessment", "credit_rating"] if "service_provider" in r["roles"] else []
            verified = r["registered"] + timedelta(days=1) if r["status"] != "pending" else None
            reason = "" if r["status"] in ("verified", "pending") else "资质材料过期 / documents expired"
            yield (
                r["pid"],
                r["home"],
                r["home"] == here,
                rng.randint(1, 4),
                r["name"],
                "enterprise",
                r["pid"][2:8],
                json.dumps(r["roles"]),
                json.dumps(["data_products"] if "data_merchant" in r["roles"] else []),
                json.dumps(services),
                "专注于数据产品开发与数据流通服务。",
                r["status"],
                reason,
                r["registered"],
                verified,
                r["duplicate_of"],
                r["registered"],
                now,
            )

    started = time.perf_counter()
    facts = {"registrations": copy_rows("participants_participant", P_COLUMNS, participant_rows())}

    # --- recognitions: this node's, the home's and one other exchange's -------------------------------------
    def recognition_rows():
        for pid, winner in winners.items():
            third = rng.choice([c for c in codes if c not in (here, winner["home"])])
            for exchange in dict.fromkeys((here, winner["home"], third)):
                if winner["status"] == "verified":
                    status, reasons = "recognised", empty
                else:
                    status = "not_recognised"
                    reasons = json.dumps([f"registration at {winner['home']} is {winner['status']}"])
                yield (pid, winner["home"], exchange, status, reasons, rng.randint(1, 3), now)

    facts["recognitions"] = copy_rows("participants_participantrecognition", R_COLUMNS, recognition_rows())

    # --- evaluations --------------------------------------------------------------------------------------
    heavy = pids[: max(1, int(len(pids) * HEAVY_SHARE))]  # pids are random already

    def evaluation_rows():
        for _ in range(n_evaluations):
            subject = rng.choice(heavy) if rng.random() < HEAVY_EVALUATIONS else rng.choice(pids)
            dimension = rng.choice(DIMENSIONS)
            # Issued over the last five years; a few start in the future; valid one to three years.
            valid_from = today - timedelta(days=rng.randint(-60, 5 * 365))
            valid_until = valid_from + timedelta(days=rng.choice((365, 730, 1095)) - 1)
            score = rng.randint(40, 100)
            if rng.random() < 0.7 or not providers:
                issuer_type, origin = "exchange", rng.choice(codes)
                issuer_id, issuer_name = origin, exchanges[origin]
            else:
                issuer_id, issuer_name = rng.choice(providers)
                issuer_type, origin = "participant", winners[issuer_id]["home"]
            revoked = rng.random() < 0.10
            issued = datetime.combine(valid_from, dtime(10), tzinfo=now.tzinfo) - timedelta(days=3)
            yield (
                f"{origin}-{uuid.UUID(int=rng.getrandbits(128)).hex}",
                origin,
                subject,
                dimension,
                score,
                vocab.grade_for(score),
                valid_from,
                valid_until,
                f"{issuer_name}对该主体的{dimension}评估：制度健全，流程规范，抽查样本符合要求，评分{score}分。",
                f"REF-{rng.randint(100000, 999999)}" if rng.random() < 0.5 else "",
                issuer_type,
                issuer_id,
                issuer_name,
                "revoked" if revoked else "active",
                "评估依据的材料被撤回 / evidence withdrawn" if revoked else "",
                issued,
                2 if revoked else 1,
                now,
            )

    facts["evaluations"] = copy_rows("participants_evaluation", E_COLUMNS, evaluation_rows())
    facts["load_seconds"] = time.perf_counter() - started
    return facts


def install_urlconf() -> None:
    """A urlconf with the bare view in front of the project's own URLs (the API is unchanged)."""
    from django.conf import settings
    from django.http import Http404, JsonResponse
    from django.urls import clear_url_caches, include, path
    from django.utils import timezone

    from participants.models import Evaluation, Participant, ParticipantRecognition

    def bare_trust(request, pid):
        rows = list(
            Participant.objects.filter(participant_id=pid).values(
                "participant_id",
                "legal_name",
                "entity_type",
                "region",
                "roles",
                "business_categories",
                "services",
                "description",
                "home_id",
                "home__name_zh",
                "status",
                "status_reason",
                "registered_at",
                "verified_at",
                "duplicate_of",
            )
        )
        if not rows:
            raise Http404
        today = timezone.localdate()
        evaluations = list(
            Evaluation.objects.filter(
                subject_id=pid, status="active", valid_until__gte=today, valid_from__lte=today
            )
            .order_by("dimension", "-issued_at", "gid")
            .values()
        )
        recognitions = list(
            ParticipantRecognition.objects.filter(participant_id=pid)
            .order_by("exchange_id")
            .values("exchange_id", "status", "reasons", "home", "version", "updated_at")
        )
        return JsonResponse(
            {"participant": rows[0], "evaluations": evaluations, "recognitions": recognitions},
            json_dumps_params={"ensure_ascii": False},
        )

    module = types.ModuleType(URLCONF)
    module.urlpatterns = [
        path("bench/bare-trust/<str:pid>/", bare_trust),
        path("", include(settings.ROOT_URLCONF)),
    ]
    module.handler404 = "api.errors.api_not_found"
    module.handler500 = "api.errors.api_server_error"
    sys.modules[URLCONF] = module
    settings.ROOT_URLCONF = URLCONF
    clear_url_caches()


def row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<40} p50 {percentile(values, 50):7.2f}  p95 {percentile(values, 95):7.2f}  "
        f"p99 {percentile(values, 99):7.2f}  mean {statistics.fmean(values):7.2f}  n={len(values)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", "--count", type=int, default=100_000, help="registrations")
    parser.add_argument("--evaluations", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=500, help="distinct random participants timed")
    parser.add_argument("--heavy", type=int, default=100, help="heavily evaluated participants timed")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded benchmark database")
    args = parser.parse_args()

    os.environ["NODE_CODE"] = "SHDEX"
    os.environ["THROTTLE_ANON"] = "100000000/min"
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("trust_view"), fresh=not args.reuse)

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from participants.models import Evaluation, Participant
    from participants.selectors import evaluations_current

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    loaded = Participant.objects.count()
    if args.reuse and loaded:
        print(f"reusing {loaded} registrations, {Evaluation.objects.count()} evaluations")
    else:
        facts = load(args.participants, args.evaluations, args.seed)
        print(
            f"loaded {facts['registrations']} registrations, {facts['recognitions']} recognitions, "
            f"{facts['evaluations']} evaluations in {facts['load_seconds']:.1f} s (COPY)"
        )
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute("VACUUM (ANALYZE)")
        print(f"VACUUM (ANALYZE): {time.perf_counter() - started:.1f} s")
        today = timezone.localdate()
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'revoked'), "
            "count(*) FILTER (WHERE valid_until < %s), count(*) FILTER (WHERE valid_from > %s), "
            "count(*) FILTER (WHERE status = 'active' AND valid_from <= %s AND valid_until >= %s), "
            "pg_size_pretty(pg_total_relation_size('participants_evaluation')) FROM participants_evaluation",
            [today, today, today, today],
        )
        total, revoked, expired, future, current, size = cur.fetchone()
        print(
            f"evaluations: {total} ({size} with indexes): {revoked} revoked, {expired} expired, "
            f"{future} not yet valid, {current} current ({current / total:.0%})"
        )
        cur.execute(
            "SELECT subject_id, count(*) AS n FROM participants_evaluation GROUP BY subject_id "
            "ORDER BY n DESC LIMIT 1"
        )
        top_subject, top_n = cur.fetchone()

    # Participants to request: distinct, random, among the winning registrations' ids; the heavy ones apart.
    rng = random.Random(args.seed + 1)
    all_ids = sorted(set(Participant.objects.values_list("participant_id", flat=True)))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT subject_id FROM participants_evaluation GROUP BY subject_id HAVING count(*) >= 50"
        )
        heavy_ids = sorted(r[0] for r in cur.fetchall())
    sample = rng.sample(all_ids, args.requests + args.warmup)
    warm, sample = sample[: args.warmup], sample[args.warmup :]
    heavy_sample = rng.sample(heavy_ids, min(args.heavy, len(heavy_ids)))
    print(
        f"participants: {len(all_ids)} distinct ids; {len(heavy_ids)} with ≥ 50 evaluations (most: {top_n})"
    )

    install_urlconf()
    client = Client(HTTP_HOST="localhost")

    def get(path: str):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")
        return response

    def api_path(pid: str) -> str:
        return f"/api/v1/participants/{pid}/trust/"

    # Statements one request issues, captured per participant (untimed, and a warm-up of every path).
    statements: dict[str, list[tuple[str, object]]] = {}
    shown: dict[str, tuple[int, int]] = {}
    for pid in warm + sample + heavy_sample:
        captured: list[tuple[str, object]] = []

        def capture(execute, sql, sql_params, many, context, captured=captured):
            captured.append((sql, sql_params))
            return execute(sql, sql_params, many, context)

        with connection.execute_wrapper(capture):
            response = get(api_path(pid))
        body = response.json()
        statements[pid] = captured
        shown[pid] = (sum(len(d["evaluations"]) for d in body["evaluations"]), len(response.content))
        bare = get(f"/bench/bare-trust/{pid}/").json()
        assert len(bare["evaluations"]) == shown[pid][0], (pid, len(bare["evaluations"]), shown[pid])
        assert body["participant"]["id"] == pid

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    def replay(pid: str):
        with connection.cursor() as cur:
            for sql, sql_params in statements[pid]:
                cur.execute(sql, sql_params)
                cur.fetchall()

    results: dict[str, dict[str, list[float]]] = {}
    for group, ids in (("random", sample), ("heavy", heavy_sample)):
        out = results[group] = {"api": [], "bare": [], "sql": []}
        for pid in ids:  # interleaved, participant by participant
            out["api"].append(timed(lambda pid=pid: get(api_path(pid))))
            out["bare"].append(timed(lambda pid=pid: get(f"/bench/bare-trust/{pid}/")))
            out["sql"].append(timed(lambda pid=pid: replay(pid)))

    # --- report ---------------------------------------------------------------------------------------------
    def described(ids: list[str]) -> str:
        current = [shown[p][0] for p in ids]
        size = [shown[p][1] for p in ids]
        stmts = [len(statements[p]) for p in ids]
        return (
            f"current evaluations per response mean {statistics.fmean(current):.1f}, max {max(current)}; "
            f"response mean {statistics.fmean(size) / 1024:.1f} KiB; {min(stmts)}–{max(stmts)} statements"
        )

    print(f"\n{len(sample)} random participants ({described(sample)})")
    print(row("API GET .../trust/", results["random"]["api"]))
    print(row("bare Django view, same reads", results["random"]["bare"]))
    print(row("raw SQL of the API request", results["random"]["sql"]))
    if heavy_sample:
        print(f"\n{len(heavy_sample)} heavily evaluated participants ({described(heavy_sample)})")
        print(row("API GET .../trust/", results["heavy"]["api"]))
        print(row("bare Django view, same reads", results["heavy"]["bare"]))
        print(row("raw SQL of the API request", results["heavy"]["sql"]))

    print("\nEXPLAIN (ANALYZE, BUFFERS) of the current-evaluations query:")
    typical = statistics.median_low([shown[p][0] for p in sample])
    typical_pid = next(p for p in sample if shown[p][0] == typical)
    for label, pid in (
        ("a typical participant", typical_pid),
        ("the most evaluated participant", top_subject),
    ):
        sql, params = evaluations_current(pid).query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"  {label} ({pid}):")
            for (line,) in cur.fetchall():
                print("    " + line)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    p95 = percentile(results["random"]["api"], 95)
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms: {'MET' if p95 < TARGET_P95_MS else 'NOT MET'} "
        f"(p95 {p95:.2f} ms over {len(sample)} random participants)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
