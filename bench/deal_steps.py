"""How fast a deal's step reaches the other party's node, in a three-node local federation under a steady rate.

    .venv/bin/python bench/deal_steps.py [--rate 20] [--seconds 30] [--think 2] [--baseline-rate 2]

Starts SHDEX, BJIDX and GYBDX as real processes on loopback (gunicorn, Celery worker, Celery beat each; the
tests' harness, tests/multinode/harness.py), on PostgreSQL when DATABASE_URL says so (a database per node,
named after it), with Redis for broker and cache unless CELERY_BROKER_URL=filesystem:// (then each node's
file-system broker), else on SQLite. A buyer registered at GYBDX buys at GYBDX a product SHDEX lists: the bench
takes RATE deal actions a second through the API for SECONDS seconds — new orders at GYBDX and, for the deals
under way, the next step at the node that owns it: the provider's offer, accept and delivery at SHDEX, the
buyer's accept, receipt and acceptance at GYBDX, the settlement by SHDEX's operator; SHDEX's compliance check
runs by itself. A deal's next step is taken THINK seconds after its previous one when it is the other node's
turn (a step refused because what it answers has not arrived yet is retried half a second later, and counted).

A deal and its steps are private records: each travels as a sealed stub in the public log, which the other
party's node pulls when woken, and then fetches from the owner; the owner's wake-up also carries the full
entry to the other party's node, which applies it at once (`--no-push`: not, the code before). Latency of a step = the time its row was
written at the other party's node minus the time it was written at its owner (one machine, one clock).
Baseline in the same run: BASELINE_RATE updates a second of another product at SHDEX (a public record, sent
whole in the log), from the new version's row at SHDEX to that row at GYBDX. BJIDX, outside every deal's
audience, must hold no step at the end. Target (issue 19): a step visible at the other party's node within
2 s p99 at 20 steps/s.
"""

from __future__ import annotations

import argparse
import copy
import heapq
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, machine, percentile

sys.path.insert(0, str(ROOT))

from products.sample_data import make_uscc
from tests.multinode.harness import Federation, Node, wait_until

DOCS = ROOT / "docs" / "examples"
PRODUCT = json.loads((DOCS / "product-descriptor.json").read_text("utf-8"))
ORDER = {
    "purpose": "充电设施规划与负荷预测研究",
    "usage_policy": {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], "duration_days": 365},
    },
    "delivery_method": "file",
}
OFFER = {
    "price": "20000.00",
    "usage_policy": {
        "permissions": ["use", "analyse", "derive"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"]},
    },
    "delivery_method": "file",
    "delivery_days": 10,
    "acceptance_window_hours": 72,
}
FILES = [{"name": "charging-2026-11.csv", "size": 1048576, "sha256": "3" * 64}]
# The flow the bench drives, after the order: (action, who takes it, the node that owns it, its body).
FLOW = (
    ("offers", "seller", "SHDEX", OFFER),
    ("accept", "buyer", "GYBDX", {"offer_version": 1}),
    ("accept", "seller", "SHDEX", {"offer_version": 1}),
    ("deliveries", "seller", "SHDEX", {"method": "file", "files": FILES}),
    ("receipt", "buyer", "GYBDX", {"files": [{"name": FILES[0]["name"], "sha256": FILES[0]["sha256"]}]}),
    ("acceptance", "buyer", "GYBDX", {"result": "accepted"}),
    ("settlement", "operator", "SHDEX", {}),
)
STEPS = """
import json
from deals.models import DealStep
from federation.models import PrivateFetch
rows = DealStep.objects.values_list("gid", "origin", "kind", "created_at")
stubs = dict(PrivateFetch.objects.filter(record_type="deal_step").values_list("gid", "updated_at"))
print(json.dumps({
    gid: [origin, kind, at.timestamp(), stubs[gid].timestamp() if gid in stubs else None]
    for gid, origin, kind, at in rows
}))
"""
# A worker's log line when a task ends (Celery's own, at INFO).
TASK_DONE = re.compile(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([0-9.]+)s")
# The parts of a wake-up and of a private fetch, as the nodes log them at INFO (federation.tasks, .wakeups,
# .private_batch): {label: (pattern, the names of its groups, in milliseconds)}.
PARTS = {
    "wake-up": (
        re.compile(r"wake-up parts: head ([0-9.]+) ms, enqueue ([0-9.]+) ms, deliver ([0-9.]+) ms"),
        ("counter (wake_started)", "enqueue rows", "deliver"),
    ),
    "wake-up delivery": (
        re.compile(
            r"wake-ups delivered \d+ of \d+(?: \(\d+ private entries pushed, \d+ applied there\))?: claims ([0-9.]+) ms, requests ([0-9.]+) ms, outcomes ([0-9.]+) ms"
        ),
        ("select and claim", "requests", "outcomes"),
    ),
    "private batch": (
        re.compile(r"private batch of \d+ from \w+: request ([0-9.]+) ms, verify and apply ([0-9.]+) ms"),
        ("request", "verify and apply"),
    ),
}
VERSIONS = """
import json
from products.models import ProductVersion
rows = ProductVersion.objects.filter(product__code="__CODE__").values_list("version", "created_at")
print(json.dumps({str(version): at.timestamp() for version, at in rows}))
"""


def _login(node: Node, uscc: str, name: str, roles: list[str], username: str) -> str:
    account = {"username": username, "password": f"Qz8-{username}-lantern"}
    node.register_via_api(uscc=uscc, legal_name=name, roles=roles, account=account)
    response = node.api("POST", "/api/v1/auth/token/", json=account)
    response.raise_for_status()
    return response.json()["access"]


class Driver:
    """Takes `rate` actions a second: the next step of a deal whose turn it is, else a new order while fewer
    than `deals` are under way (else the tick is idle)."""

    def __init__(self, federation: Federation, tokens: dict, product: str, *, think: float, deals: int):
        self.nodes = federation
        self.tokens = tokens
        self.product = product
        self.think = think
        self.cap = deals
        self.lock = threading.Lock()
        self.ready: list[tuple[float, str, int]] = []  # (when, deal id, index in FLOW of its next step)
        self.under_way = 0
        self.idle = 0
        self.taken: Counter = Counter()
        self.early: Counter = Counter()  # refused: what the step answers had not arrived yet
        self.failed: list[str] = []
        self.request_ms: list[float] = []

    def _post(self, node: Node, who: str, path: str, body: dict):
        started = time.perf_counter()
        if who == "operator":
            response = node.api("POST", path, token=node.token, json=body, timeout=60)
        else:
            headers = {"Authorization": f"Bearer {self.tokens[who]}"}
            response = node.api("POST", path, headers=headers, json=body, timeout=60)
        with self.lock:
            self.request_ms.append((time.perf_counter() - started) * 1000)
        return response

    def _order(self) -> None:
        response = self._post(
            self.nodes["GYBDX"], "buyer", "/api/v1/deals/", {"product": self.product, "request": ORDER}
        )
        with self.lock:
            if response.status_code != 201:
                self.under_way -= 1
                self.failed.append(f"order: {response.status_code} {response.text[:300]}")
                return
            self.taken["order"] += 1
            heapq.heappush(self.ready, (time.monotonic() + self.think, response.json()["id"], 0))

    def _step(self, gid: str, index: int) -> None:
        action, who, code, body = FLOW[index]
        response = self._post(self.nodes[code], who, f"/api/v1/deals/{gid}/{action}/", body)
        now = time.monotonic()
        with self.lock:
            if response.status_code in (404, 409):  # the deal or the step it answers is not here yet
                self.early[action] += 1
                heapq.heappush(self.ready, (now + 0.5, gid, index))
                return
            if response.status_code != 201:
                self.failed.append(f"{action}: {response.status_code} {response.text[:300]}")
            else:
                self.taken[f"{action} ({who})"] += 1
            if response.status_code != 201 or index + 1 == len(FLOW):
                self.under_way -= 1
                return
            same = FLOW[index + 1][2] == code and FLOW[index + 1][0] != "deliveries"
            heapq.heappush(self.ready, (now + (0.05 if same else self.think), gid, index + 1))

    def run(self, rate: int, seconds: float, baseline) -> float:
        """Drive for `seconds`, calling `baseline(tick, pool)` on every tick; returns the wall time."""
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(int(rate * seconds)):
                pause = start + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                baseline(i, pool)
                with self.lock:
                    due = self.ready and self.ready[0][0] <= time.monotonic()
                    item = heapq.heappop(self.ready) if due else None
                    order = item is None and self.under_way < self.cap
                    self.under_way += 1 if order else 0
                    self.idle += 1 if item is None and not order else 0
                if item is not None:
                    pool.submit(self._step, item[1], item[2])
                elif order:
                    pool.submit(self._order)
        return time.monotonic() - start


def _latencies(nodes: Federation) -> tuple[dict, int, dict]:
    """{(kind, owner): [ms]} for every step the other party's node holds, how many it lacks, and the two
    parts of each latency: {"stub": [ms], "fetch": [ms]} — the owner's row to the sealed stub applied at the
    other party's node (its fetch recorded: `PrivateFetch`), and from there to the step's row there."""
    held = {code: nodes[code].shell_json(STEPS, timeout=120) for code in ("SHDEX", "GYBDX")}
    other = {"SHDEX": "GYBDX", "GYBDX": "SHDEX"}
    out: dict = defaultdict(list)
    parts: dict = defaultdict(list)
    missing = 0
    for code, steps in held.items():
        for gid, (origin, kind, at, _) in steps.items():
            if origin != code:
                continue
            seen = held[other[code]].get(gid)
            if seen is None:
                missing += 1
                continue
            out[(kind, origin)].append((seen[2] - at) * 1000)
            if seen[3] is not None:
                parts["stub"].append((seen[3] - at) * 1000)
                parts["fetch"].append((seen[2] - seen[3]) * 1000)
    return out, missing, parts


def _task_times(node: Node) -> dict[str, list[float]]:
    """{task name: [seconds]} of every task the node's workers finished, from their logs."""
    times: dict[str, list[float]] = defaultdict(list)
    for name, _, _ in node.workers:
        log = node.log_dir / f"{name}.log"
        if log.exists():
            for match in TASK_DONE.finditer(log.read_text("utf-8", errors="replace")):
                times[match.group(1)].append(float(match.group(2)))
    return times


def _parts(node: Node) -> dict[str, list[float]]:
    """{"<part's label>: <its part>": [ms]} from the node's workers' INFO lines (PARTS)."""
    found: dict[str, list[float]] = defaultdict(list)
    for name, _, _ in node.workers:
        log = node.log_dir / f"{name}.log"
        if not log.exists():
            continue
        text = log.read_text("utf-8", errors="replace")
        for label, (pattern, names) in PARTS.items():
            for match in pattern.finditer(text):
                for part, value in zip(names, match.groups(), strict=True):
                    found[f"{label}: {part}"].append(float(value))
    return found


def _line(label: str, values: list[float]) -> str:
    return (
        f"{label:<44} p50 {percentile(values, 50):8.1f} ms  p99 {percentile(values, 99):8.1f} ms  "
        f"max {max(values):8.1f} ms  (n={len(values)})"
    )


def _setup(federation: Federation) -> tuple[dict, str, str]:
    shdex, gybdx = federation["SHDEX"], federation["GYBDX"]
    rng = random.Random(1919)
    buyer_uscc, seller_uscc = make_uscc(rng, "520100"), make_uscc(rng, "310000")
    seller_name = "上海充电桩数据服务有限公司"
    tokens = {
        "buyer": _login(gybdx, buyer_uscc, "贵阳充电数据应用有限公司", ["demander"], "benchbuyer"),
        "seller": _login(shdex, seller_uscc, seller_name, ["data_merchant"], "benchseller"),
    }
    codes = []
    for name in ("上海市充电桩运行负荷数据集", "上海市充电桩故障记录数据集"):
        product = copy.deepcopy(PRODUCT)
        product.update(provider={"name": seller_name, "uscc": seller_uscc}, name=name)
        codes.append(shdex.list_product(product)["code"])
    for code in codes:
        wait_until(
            lambda code=code: gybdx.api("GET", f"/api/v1/products/{code}/").status_code == 200,
            60,
            message=f"{code} at GYBDX",
        )
    shdex.wait_participant(buyer_uscc, 60)
    return tokens, codes[0], codes[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=20, help="deal actions a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=2.0, help="seconds before the other node's turn")
    parser.add_argument("--baseline-rate", type=int, default=2, help="product updates a second at SHDEX")
    parser.add_argument("--deals", type=int, default=0, help="deals under way at most (default rate × think)")
    parser.add_argument(
        "--layout",
        choices=("one", "split"),
        default="one",
        help="one worker for both queues per node (make run), or a worker per queue (production)",
    )
    parser.add_argument(
        "--no-push",
        action="store_true",
        help="private records only pulled and fetched, not pushed with the wake-up (the code before)",
    )
    args = parser.parse_args()
    if args.layout == "split":
        Node.WORKERS = Node.SPLIT  # docker-compose.yml's layout: `-Q celery` (2 processes) and `-Q sync` (1)
    federation = Federation(
        ("SHDEX", "BJIDX", "GYBDX"),
        Path(tempfile.mkdtemp(prefix="deal-steps-")),
        extra_env={
            "FEDERATION_SYNC_INTERVAL": "5",
            "FEDERATION_PRIVATE_PUSH": "0" if args.no_push else "1",
            "LOG_LEVEL": os.environ.get("BENCH_NODE_LOG_LEVEL", "WARNING"),
        },
    )
    try:
        print(f"machine: {machine()}")
        print(f"backend: {federation.backend.name}; workers per node: {Node.WORKERS}")
        print(f"private records pushed with the wake-up: {'no' if args.no_push else 'yes'}")
        print(f"nodes' logs: {federation.base_dir}")
        started = time.perf_counter()
        federation.start()
        tokens, product, other = _setup(federation)
        print(f"three nodes up and a market set in {time.perf_counter() - started:.1f} s")
        shdex, gybdx, bjidx = federation["SHDEX"], federation["GYBDX"], federation["BJIDX"]
        summary = PRODUCT["summary"]
        first = shdex.api("GET", f"/api/v1/products/{other}/").json()["version"]  # before the baseline's
        every = max(1, args.rate // max(1, args.baseline_rate))
        updates = []

        def baseline(i: int, pool) -> None:
            if args.baseline_rate and i % every == 0:
                n = len(updates) + 1
                updates.append(n)
                pool.submit(shdex.patch_summary, other, f"{summary}（第 {n} 次更新）")

        deals = args.deals or max(4, round(args.rate * args.think))
        driver = Driver(federation, tokens, product, think=args.think, deals=deals)
        print(
            f"taking {args.rate} deal actions/s for {args.seconds:.0f} s (think {args.think:.1f} s, at most "
            f"{deals} deals under way), and {args.baseline_rate} product updates/s at SHDEX"
        )
        wall = driver.run(args.rate, args.seconds, baseline)
        taken = sum(driver.taken.values())
        print(f"taken in {wall:.1f} s: {taken} actions ({taken / wall:.1f}/s): {dict(driver.taken)}")
        print(f"refused because not arrived yet after {args.think:.1f} s (retried): {dict(driver.early)}")
        print(f"idle ticks (no step due, {deals} deals under way): {driver.idle}")
        print(_line("an action's request (POST, client side)", driver.request_ms))
        for failure in driver.failed[:5]:
            print(f"FAILED {failure}")

        def converged():
            found = _latencies(federation)
            return found if found[1] == 0 else None

        try:
            latencies, missing, parts = wait_until(
                converged, 120, interval=3, message="every step at the other node"
            )
        except AssertionError:
            latencies, missing, parts = _latencies(federation)
        versions = [
            node.shell_json(VERSIONS.replace("__CODE__", other), timeout=120) for node in (shdex, gybdx)
        ]
        base = [
            (versions[1][v] - at) * 1000
            for v, at in versions[0].items()
            if int(v) > first and v in versions[1]
        ]
        everything = [ms for values in latencies.values() for ms in values]
        at_bjidx = len(bjidx.shell_json(STEPS, timeout=120))
        print(_line("baseline: product update SHDEX -> GYBDX", base))
        for (kind, origin), values in sorted(latencies.items(), key=lambda kv: kv[0][1]):
            print(_line(f"{kind} ({origin} -> other party)", values))
        print(_line("every step -> the other party's node", everything))
        print(
            f"  steps whose stub came before the step (a fetch recorded there): {len(parts['stub'])} of "
            f"{len(everything)}; the others arrived pushed with the wake-up"
        )
        if parts["stub"]:
            print(_line("  of which: owner's row -> stub applied there", parts["stub"]))
            print(_line("  of which: stub applied -> step's row there", parts["fetch"]))
        for node in (shdex, gybdx):
            for task, seconds in sorted(_task_times(node).items(), key=lambda kv: -sum(kv[1])):
                print(
                    f"{node.code} worker {task:<40} n={len(seconds):4d}  total {sum(seconds):6.1f} s  "
                    f"p50 {statistics.median(seconds) * 1000:7.1f} ms  max {max(seconds) * 1000:7.1f} ms"
                )
            for part, values in _parts(node).items():
                print(_line(f"{node.code} {part}", values))
        print(f"steps missing at the other party's node: {missing}; steps held at BJIDX: {at_bjidx}")
        met = everything and percentile(everything, 99) < 2000
        print(f"target p99 < 2 s at {args.rate} steps/s: {'MET' if met else 'NOT MET'}")
        return 0 if missing == 0 and at_bjidx == 0 and not driver.failed else 1
    finally:
        federation.close()


if __name__ == "__main__":
    sys.exit(main())
