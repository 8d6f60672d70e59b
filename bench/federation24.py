"""A 24-node local federation: every member exchange of the initiative as a node on loopback.

    .venv/bin/python bench/federation24.py [--nodes 24] [--listings 1000] [--demands 10]

One light node per exchange (docs/operations.md, "Light nodes": gunicorn with one worker; one Celery process
for both queues, `-Q celery,sync`, solo pool, beat as a thread of it: three processes), SQLite and the
file-system broker each, full mesh of peers. Measures, for the issues "Federation" and "Demands":

1. Convergence: LISTINGS products listed, spread evenly over all nodes (each through the real importer, its
   providers registered at that node first); the time until every node holds all of them, and the memory
   (RSS of all processes) per node.
2. Demands: DEMANDS demands posted one after another, GAP seconds apart (each measured on its own, not
   a burst), at different nodes by a demander registered at the
   first node; for each demand and each node, the time from posting to (a) the demand being matched there
   (that node's `first_matched_at`) and (b) the providers registered there being notified (their
   notifications' `created_at`). Target: matched and notified at every node within 5 s p99. One machine,
   one clock.

Baseline in the same run: the round trip of a plain GET to a node's /federation/v1/node/ under this load.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from common import ROOT, machine, percentile

sys.path.insert(0, str(ROOT))

from tests.multinode.harness import BIN, Federation, Node, PostgresBackend, wait_until

TOPIC_DEMANDS = [
    ("港口集装箱吞吐量数据采购", "采购港口集装箱吞吐量与航线物流数据，用于物流研究和港口规划。", "G"),
    ("新能源汽车充电桩运行数据需求", "需要新能源汽车充电桩的运行、充电电量与利用率数据。", "D"),
    ("企业信用评价数据采购", "采购企业信用评价与风险评估数据，用于征信与授信决策。", "L"),
    ("城市交通出行数据需求", "需要城市交通出行数据，用于城市治理与交通规划。", "G"),
    ("气象观测数据采购", "采购气象观测与降水数据，用于农业与防灾研究。", "M"),
    ("农产品价格监测数据需求", "需要农产品价格监测数据，覆盖主要批发市场。", "A"),
    ("医疗机构服务能力数据采购", "采购医疗机构与医院服务能力数据，用于卫生规划。", "Q"),
    ("电力负荷数据需求", "需要电力负荷与用电数据，用于负荷预测。", "D"),
    ("旅游客流数据采购", "采购景区旅游客流数据，用于客流预警。", "R"),
    ("环境空气质量数据需求", "需要环境空气质量与污染监测数据。", "N"),
]

LIST_SCRIPT = """
import json, time
from participants.services import providers_register_verified
from products.importing import product_import_batch
from products.sample_data import descriptors
docs = list(descriptors({count}, seed={seed}))
providers_register_verified([(d["provider"]["uscc"], d["provider"]["name"]) for d in docs])
started = time.time()
results = product_import_batch(actor=None, items=list(enumerate(docs, 1)), status="listed")
print(json.dumps({{"listed": sum(r.accepted for r in results), "at": started, "done": time.time()}}))
"""

COLLECT = """
import json
from demands.models import Demand, Notification
gids = {gids!r}
# updated_at: when the demand's current version was written here (its arrival, at a replica).
demands = {{d.gid: [d.posted_at.timestamp(), d.first_matched_at.timestamp() if d.first_matched_at else None,
                   d.updated_at.timestamp()]
           for d in Demand.objects.filter(gid__in=gids)}}
notified = {{}}
for n in Notification.objects.filter(demand_gid__in=gids, kind="match").order_by("created_at"):
    notified.setdefault(n.demand_gid, n.created_at.timestamp())
from federation.models import Peer
backed_off = {{p.exchange_id: [p.consecutive_failures, p.last_error[:120]]
              for p in Peer.objects.exclude(consecutive_failures=0)}}
from django.conf import settings
from federation.models import Entry
from federation.protocols import protocol_version
# What recognition protocol 2 saved: the product recognitions this node put in its log (protocol 1: one per
# product held, 2: only the exceptions), and how many peers it knows to speak 2.
published = Entry.objects.filter(origin=settings.NODE_CODE, record_type="recognition").values("gid").distinct().count()
knows_2 = sum(protocol_version(p.protocols, "recognition") >= 2 for p in Peer.objects.all())
of_participants = Entry.objects.filter(origin=settings.NODE_CODE, record_type="participant_recognition")
of_participants = of_participants.values("gid").distinct().count()
print(json.dumps({{"demands": demands, "notified": notified, "peers_failing": backed_off,
                  "recognitions_published": published, "peers_on_2": knows_2,
                  "participant_recognitions_published": of_participants}}))
"""


class LightNode(Node):
    """Web (one gunicorn worker, two threads) and one Celery process (solo pool) with beat as its thread."""

    def start_web(self, *, wait: bool = True) -> None:
        self._start(
            "web",
            [str(BIN / "gunicorn"), "registry.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "2", "--timeout", "120", "--graceful-timeout", "2"],
        )  # fmt: skip
        if wait:
            self.wait_web(timeout=600)

    def start_worker(self, *, wait: bool = True) -> None:
        self._start(
            "worker",
            [str(BIN / "celery"), "-A", "registry", "worker", "--beat-thread", "--schedule", str(self.data_dir / "beat"),
             "-Q", "celery,sync", "--pool", "solo", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"), "-n", f"worker@{self.code.lower()}",
             "--without-mingle", "--without-gossip"],
        )  # fmt: skip
        if wait:
            self.wait_worker(timeout=600)

    def wait_worker(self, timeout: float = 600) -> None:
        wait_until(lambda: self.running("worker") and self.api("GET", "/federation/v1/node/").ok, timeout)
        time.sleep(1)

    def start_beat(self) -> None:
        pass  # embedded in the worker

    def start_all(self) -> None:
        self.start_web(wait=False)
        self.start_worker(wait=False)
        self.wait_web(timeout=900)
        self.wait_worker(timeout=900)


class LightFederation(Federation):
    node_class = LightNode


class PostgresFileBrokerBackend(PostgresBackend):
    """A PostgreSQL database per node (the production database) with the file-system broker: Redis has
    only 16 database numbers, too few for 24 nodes."""

    def provision(self, node: Node) -> dict[str, str]:
        import psycopg

        name = f"{self.base_db}_f24_{node.code.lower()}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        node.resources = {"database": name}
        del psycopg
        return {"DATABASE_URL": self.database_url.rsplit("/", 1)[0] + f"/{name}"}


def rss_mb(node: Node) -> float:
    """Resident memory of every process of the node (each process group it started)."""
    groups = {p.pid for p in node.procs.values() if p.poll() is None}
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) in groups:  # field 5: process group
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def count_listed(node: Node) -> int:
    return node.api("GET", "/api/v1/products/?page_size=1", timeout=30).json()["count"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=24)
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--demands", type=int, default=10)
    parser.add_argument(
        "--gap", type=float, default=15.0, help="seconds between two demands: each is measured on its own"
    )
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL database per node")
    args = parser.parse_args()
    with open(ROOT / "standards" / "data" / "exchanges.csv", encoding="utf-8") as fh:
        codes = [r["code"] for r in csv.DictReader(fh)]
    codes = codes[: args.nodes]
    backend = None
    if args.postgres:
        backend = PostgresFileBrokerBackend(
            os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench"), ""
        )
    federation = LightFederation(
        codes,
        Path(tempfile.mkdtemp(prefix="federation24-")),
        backend=backend,
        # Every idle worker polling its file-system queue 20 times a second cost 5 % of a core each (1.2 of
        # the 2 cores for 24 nodes): poll every 250 ms, which adds at most that to each task's start.
        extra_env={
            "FEDERATION_SYNC_INTERVAL": "5",
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": "1",
            "CELERY_BROKER_POLLING_MS": "250",
            # The safety poll of every origin costs 24 x 23 signed requests and tasks per interval on these
            # two cores: at the default 30 s that alone outran the workers (queues grew without end and a
            # demand's match waited minutes behind polls). Wake-ups carry the data; a lost one costs 300 s.
            "FEDERATION_POLL_INTERVAL": "300",
            # 24 nodes' processes stay under PostgreSQL's 100 connections when none is kept open.
            **({"DATABASE_CONN_MAX_AGE": "0"} if args.postgres else {}),
        },
    )
    try:
        print(f"machine: {machine()}")
        print(f"backend: {'PostgreSQL' if args.postgres else 'SQLite'} per node, file-system broker")
        started = time.perf_counter()
        federation.start()
        print(
            f"{len(codes)} nodes up (migrated, keyed, full mesh of peers) in {time.perf_counter() - started:.0f} s"
        )
        idle_rss = {n.code: rss_mb(n) for n in federation}

        # --- 1. convergence ----------------------------------------------------------------------------------
        per_node = [
            args.listings // len(codes) + (1 if i < args.listings % len(codes) else 0)
            for i in range(len(codes))
        ]
        t0 = time.time()
        with ThreadPoolExecutor(4) as pool:  # four listing processes at a time: the nodes must keep up too
            listed = list(
                pool.map(
                    lambda pair: pair[0].shell_json(
                        LIST_SCRIPT.format(count=pair[1], seed=1000 + pair[2]), timeout=900
                    ),
                    [(federation[c], per_node[i], i) for i, c in enumerate(codes)],
                )
            )
        total = sum(x["listed"] for x in listed)
        last_listed = max(x["done"] for x in listed)
        print(f"{total} products listed over {len(codes)} nodes in {last_listed - t0:.0f} s")
        pending = set(codes)
        converged_at: dict[str, float] = {}

        def all_there():
            for code in sorted(pending):
                if count_listed(federation[code]) >= total:
                    converged_at[code] = time.time()
                    pending.discard(code)
            return not pending

        wait_until(all_there, 900, interval=2, message="every node to hold every listing")
        rtts = []
        for node in list(federation)[:6]:
            for _ in range(5):
                t = time.perf_counter()
                requests.get(node.url + "/federation/v1/node/", timeout=10)
                rtts.append((time.perf_counter() - t) * 1000)
        busy_rss = {n.code: rss_mb(n) for n in federation}
        print(
            f"convergence: every node holds all {total} listings {max(converged_at.values()) - t0:.0f} s after the "
            f"listing started ({max(converged_at.values()) - last_listed:.0f} s after the last listing committed)"
        )
        print(
            f"memory per node (RSS, all processes: web's two, the worker's one): idle {sum(idle_rss.values()) / len(codes):.0f} MB, after "
            f"the listings {sum(busy_rss.values()) / len(codes):.0f} MB (max {max(busy_rss.values()):.0f} MB); "
            f"all {len(codes)} nodes {sum(busy_rss.values()) / 1024:.1f} GB"
        )
        print(
            f"baseline: GET /federation/v1/node/ p50 {percentile(rtts, 50):.1f} ms p99 {percentile(rtts, 99):.1f} ms"
        )

        # --- 2. demands --------------------------------------------------------------------------------------
        # The nodes are still applying each other's recognitions of the listings: wait until every node has
        # caught up with every origin (quiet), so the latencies below are those of a demand, not of a backlog.
        quiet_started = time.time()

        def quiet():
            return all(
                not any(o["lag_entries"] for o in node.sync_status()["origins"]) for node in federation
            )

        try:
            wait_until(quiet, 1800, interval=10, message="every node current with every origin")
            print(f"federation quiet (no lag anywhere) {time.time() - quiet_started:.0f} s after convergence")
        except AssertionError as exc:
            print(f"not quiet: {exc}")
        home = federation[codes[0]]
        body = json.loads((ROOT / "docs/examples/participant.json").read_text("utf-8"))
        body.update(
            roles=["demander"],
            business_categories=[],
            account={"username": "bench-buyer", "password": "Qz8-violet-harbor-24"},
        )
        created = home.api("POST", "/api/v1/participants/", token=home.token, json=body)
        assert created.status_code == 201, created.text
        home.api(
            "POST",
            f"/api/v1/participants/{body['uscc']}/verification/",
            token=home.token,
            json={"status": "verified"},
        )
        access = home.api("POST", "/api/v1/auth/token/", json=body["account"]).json()["access"]
        wait_until(
            lambda: all(n.api("GET", f"/api/v1/participants/{body['uscc']}/").status_code == 200 for n in federation),
            600, message="the demander known everywhere",
        )  # fmt: skip
        # Registering and verifying the demander makes every node publish its recognition of it (two versions)
        # and every node pull those from the 23 others: on these two cores that storm of 2 x 23 x 23 small
        # pulls takes tens of seconds, and a demand posted meanwhile waits behind it (the first run that
        # printed the slowest pairs: the first two demands 26-29 s and 11-13 s, the other eight under 4.5 s).
        # Wait until it has passed, so the figures below are a demand's own.
        storm_started = time.time()
        try:
            wait_until(quiet, 900, interval=5, message="every node current after the demander's registration")
            print(
                f"federation quiet again {time.time() - storm_started:.0f} s after the demander was known everywhere"
            )
        except AssertionError as exc:
            print(f"not quiet after the registration: {exc}")
        template = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
        template["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
        rng = random.Random(24)
        gids = []
        for i in range(args.demands):
            title, description, industry = TOPIC_DEMANDS[i % len(TOPIC_DEMANDS)]
            node = federation[codes[(i * 7) % len(codes)]]
            demand = {**template, "title": title, "description": description, "industry": industry,
                      "spatial_coverage": ["100000"], "compliance_requirements": [], "update_frequency": ""}  # fmt: skip
            response = node.api(
                "POST", "/api/v1/demands/", json=demand, headers={"Authorization": f"Bearer {access}"}
            )
            assert response.status_code == 201, response.text
            gids.append(response.json()["id"])
            time.sleep(args.gap * rng.uniform(0.9, 1.1))
        time.sleep(20)
        # One node at a time: 24 Django shells started at once on two cores outlast any timeout.
        results = [n.shell_json(COLLECT.format(gids=gids), timeout=600) for n in federation]
        matched, notified, arrived, waited, missing = [], [], [], [], 0
        pairs = []
        for node, data in zip(federation, results, strict=True):
            for gid in gids:
                posted_match = data["demands"].get(gid)
                if posted_match is None or posted_match[1] is None:
                    missing += 1
                    continue
                pairs.append(
                    (
                        posted_match[2] - posted_match[0],
                        posted_match[1] - posted_match[2],
                        gid,
                        node.code,
                        posted_match[0],
                    )
                )
                matched.append(posted_match[1] - posted_match[0])
                arrived.append(posted_match[2] - posted_match[0])  # replication
                waited.append(posted_match[1] - posted_match[2])  # the match task's wait and run
                if gid in data["notified"]:
                    notified.append(data["notified"][gid] - posted_match[0])
        print(
            f"demands: {len(gids)} posted; matched at {len(matched)} of {len(gids) * len(codes)} (node, demand) "
            f"pairs, {missing} not"
        )
        if matched:
            print(
                f"  posted -> matched at a node   p50 {percentile(matched, 50) * 1000:8.0f} ms  p99 {percentile(matched, 99) * 1000:8.0f} ms  max {max(matched) * 1000:8.0f} ms"
            )
        if notified:
            print(
                f"  posted -> provider notified   p50 {percentile(notified, 50) * 1000:8.0f} ms  p99 {percentile(notified, 99) * 1000:8.0f} ms  (n={len(notified)} node-demand pairs with a matching provider)"
            )
        if matched:
            print(
                f"    of which posted -> arrived  p50 {percentile(arrived, 50) * 1000:8.0f} ms  "
                f"p99 {percentile(arrived, 99) * 1000:8.0f} ms;  arrived -> matched  "
                f"p50 {percentile(waited, 50) * 1000:8.0f} ms  p99 {percentile(waited, 99) * 1000:8.0f} ms"
            )
        # Where the tail is: the slowest (node, demand) pairs, and the peers a node was backing off.
        origins = {gid: codes[(i * 7) % len(codes)] for i, gid in enumerate(gids)}
        for arrive, match, gid, code, posted in sorted(pairs, reverse=True)[:12]:
            at = datetime.datetime.fromtimestamp(posted, datetime.UTC).strftime("%H:%M:%S.%f")[:-3]
            print(
                f"    slow: demand {gids.index(gid)} posted at {origins[gid]} {at} UTC -> {code}: "
                f"arrived {arrive * 1000:.0f} ms, matched {match * 1000:.0f} ms after arriving"
            )
        published = [data["recognitions_published"] for data in results]
        print(
            f"recognitions in the nodes' own logs: {sum(published)} (per node {min(published)}-{max(published)}; "
            f"protocol 1 would publish {total * len(codes)}); peers known to speak protocol 2: "
            f"{min(d['peers_on_2'] for d in results)}-{max(d['peers_on_2'] for d in results)} of {len(codes) - 1}"
        )
        print(
            "participant recognitions in the nodes' own logs: "
            f"{sum(d['participant_recognitions_published'] for d in results)}"
        )
        for node, data in zip(federation, results, strict=True):
            if data["peers_failing"]:
                print(f"    {node.code} has failing peers: {data['peers_failing']}")
        if os.environ.get("BENCH_DUMP"):
            Path(os.environ["BENCH_DUMP"]).write_text(json.dumps({"gids": gids, "results": results}))
        met = (
            not missing
            and matched
            and percentile(matched, 99) < 5
            and (not notified or percentile(notified, 99) < 5)
        )
        print(f"target matched and notified at every node within 5 s p99: {'MET' if met else 'NOT MET'}")
        return 0
    finally:
        federation.close()


if __name__ == "__main__":
    sys.exit(main())
