"""Replication between real nodes (gunicorn + Celery worker + Celery beat each) on loopback.

The tests share one federation of SHDEX, BJIDX and GYBDX and run in file order; each one creates the
situation it needs (a node down, a lagging replica, a tampered row) and compares every replica it checks
with the origin's own database, so none depends on what an earlier test left behind, and the `nodes`
fixture starts again whatever an earlier test stopped.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from products.sample_data import descriptors
from tests.multinode.harness import Federation, Node, wait_until

pytestmark = pytest.mark.multinode

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/examples/product-descriptor.json").read_text()
)
CODES = ("SHDEX", "BJIDX", "GYBDX")


@pytest.fixture(scope="module")
def federation3(tmp_path_factory):
    """SHDEX, BJIDX and GYBDX as conftest starts them, forced to recognition protocols 1: every exchange's
    verdict on a product and on a participant is a record in its log, so these tests follow records of every
    kind through the log, the backlog and the repairs (tests/multinode/test_recognition_protocol.py covers
    protocol 2). A node on 2 learns its peers' protocols from the answers to its first wake-up and would
    then publish none of them."""
    federation = Federation(
        CODES,
        tmp_path_factory.mktemp("replication"),
        extra_env={
            "FEDERATION_RECOGNITION_PROTOCOL": "1",
            "FEDERATION_PARTICIPANT_RECOGNITION_PROTOCOL": "1",
        },
    )
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


# --- helpers ----------------------------------------------------------------------------------------------
def listed_count(node: Node, origin: str) -> int:
    response = node.api("GET", f"/api/v1/products/?exchange={origin}&page_size=1", timeout=10)
    response.raise_for_status()
    return response.json()["count"]


def caught_up(replica: Node, origin: Node, timeout: float) -> int:
    """Wait until `replica` has applied `origin`'s log up to the origin's head; returns that head."""
    head = origin.own_seq()

    def done():
        state = replica.origin_state(origin.code)
        return state is not None and state["cursor"] >= head

    wait_until(done, timeout, interval=0.5, message=f"{replica.code} to reach {origin.code}#{head}")
    return head


def assert_replica_equals(replica: dict, origin: dict, *, expect_products: int | None = None) -> None:
    """`replica` and `origin` are Node.dump() of the same origin at two nodes."""
    assert replica["products"].keys() == origin["products"].keys(), (
        f"missing at the replica: {sorted(origin['products'].keys() - replica['products'].keys())[:5]}, "
        f"unknown to the origin: {sorted(replica['products'].keys() - origin['products'].keys())[:5]}"
    )
    different = [code for code in origin["products"] if replica["products"][code] != origin["products"][code]]
    assert not different, f"{len(different)} products differ, e.g. {different[:3]}"
    assert replica["product_rows"] == len(replica["products"]) == origin["product_rows"]
    if expect_products is not None:
        assert origin["product_rows"] == expect_products
    assert replica["version_rows_missing"] == 0
    # The compacted log: one entry per record, the same (seq, version) as at the origin.
    assert replica["entries"] == origin["entries"]
    assert replica["entry_rows"] == len(replica["entries"])
    assert replica["duplicate_recognitions"] == 0
    assert replica["quarantined"] == 0


def wait_replica_equals(replica: Node, origin: Node, timeout: float, **kwargs) -> tuple[dict, dict]:
    caught_up(replica, origin, timeout)
    reference = origin.dump(origin.code)
    last = {}

    def equal():
        last["dump"] = replica.dump(origin.code)
        try:
            assert_replica_equals(last["dump"], reference, **kwargs)
        except AssertionError:
            return False
        return True

    try:
        wait_until(
            equal, 20, interval=1, message=f"{replica.code}'s copy of {origin.code} to equal the origin"
        )
    except AssertionError:
        assert_replica_equals(last["dump"], reference, **kwargs)  # fail with the precise difference
    return last["dump"], reference


def wait_recognised_everywhere(node: Node, origin: str, codes: list[str], timeout: float) -> dict:
    """Wait until `node` holds, for every product in `codes`, a recognition from all three exchanges."""
    last = {}

    def complete():
        last["r"] = node.dump(origin)["recognitions"]
        return all(set(last["r"].get(code, {})) == set(CODES) for code in codes)

    try:
        wait_until(
            complete, timeout, interval=1, message=f"recognitions of {len(codes)} products at {node.code}"
        )
    except AssertionError:
        missing = {
            c: sorted(set(CODES) - set(last["r"].get(c, {})))
            for c in codes
            if set(last["r"].get(c, {})) != set(CODES)
        }
        raise AssertionError(f"{node.code} lacks recognitions: {dict(list(missing.items())[:5])}") from None
    return last["r"]


def new_codes(before: dict, after: dict) -> list[str]:
    return sorted(after["products"].keys() - before["products"].keys())


# --- tests ------------------------------------------------------------------------------------------------
def test_listed_product_is_readable_everywhere_with_every_recognition(nodes):
    """一地上架，全国互认: listed at SHDEX, readable at BJIDX and GYBDX within seconds, and each node's
    database holds the three exchanges' recognitions: SHDEX's "home", the other two "auto"."""
    shdex = nodes["SHDEX"]
    started = time.monotonic()
    listed = shdex.list_product(EXAMPLE)
    code = listed["code"]
    assert listed["status"] == "listed"

    for other in (nodes["BJIDX"], nodes["GYBDX"]):
        response = wait_until(
            lambda other=other: (r := other.api("GET", f"/api/v1/products/{code}/")).status_code == 200 and r,
            10,
            message=f"{code} at {other.code}",
        )
        replica = response.json()
        assert replica["exchange"] == "SHDEX"
        assert (replica["version"], replica["status"], replica["descriptor"]) == (
            listed["version"],
            "listed",
            listed["descriptor"],
        )
    readable_after = time.monotonic() - started

    for node in nodes:
        recognitions = wait_recognised_everywhere(node, "SHDEX", [code], 20)[code]
        assert recognitions["SHDEX"][:2] == ["recognised", "home"], node.code
        assert recognitions["BJIDX"][1] == "auto", node.code
        assert recognitions["GYBDX"][1] == "auto", node.code
        # The example descriptor meets the standard: both other exchanges recognise it automatically.
        assert recognitions["BJIDX"][0] == recognitions["GYBDX"][0] == "recognised", node.code
    print(f"readable at both peers after {readable_after:.2f}s")


def test_node_down_while_origin_changes_converges_when_back(nodes):
    """BJIDX is down while SHDEX lists 200 products and changes 50: back up, it holds exactly SHDEX's
    products at SHDEX's versions and descriptors, nothing lost, nothing twice."""
    shdex, bjidx = nodes["SHDEX"], nodes["BJIDX"]
    caught_up(bjidx, shdex, 30)
    before = shdex.dump("SHDEX")
    bjidx.stop_all()

    out = shdex.import_listed(descriptors(200, seed=2002))
    assert "accepted: 200" in out, out
    imported = shdex.dump("SHDEX")
    codes = new_codes(before, imported)
    assert len(codes) == 200
    changed = codes[::4][:50]
    for i, code in enumerate(changed):
        shdex.patch_summary(code, f"第{i}次更新：该数据产品的简介在节点停机期间被修改，用于检验复制收敛。")
    expected = len(before["products"]) + 200

    started = time.monotonic()
    bjidx.start_all()
    replica, _ = wait_replica_equals(bjidx, shdex, 90, expect_products=expected)
    print(f"BJIDX converged {time.monotonic() - started:.1f}s after its restart")

    for i, code in enumerate(changed):
        version, _status, descriptor, _name = replica["products"][code]
        assert version == imported["products"][code][0] + 1
        assert descriptor["summary"].startswith(f"第{i}次更新")
    untouched = sorted(set(codes) - set(changed))
    assert all(replica["products"][c] == imported["products"][c] for c in untouched)
    # The restarted node recognised the 200 itself, and it has GYBDX's verdicts too.
    recognitions = wait_recognised_everywhere(bjidx, "SHDEX", codes, 60)
    assert all(recognitions[c]["BJIDX"][1] == "auto" for c in codes)


def test_relay_catch_up_from_a_peer_while_the_origin_is_down(nodes):
    """Entries carry the origin's signature, so a node catches up from any peer: BJIDX, lagging, is
    started while SHDEX is down and gets SHDEX's latest changes from GYBDX."""
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    caught_up(bjidx, shdex, 30)
    bjidx.stop_all()
    before = shdex.dump("SHDEX")
    out = shdex.import_listed(descriptors(20, seed=3003))
    assert "accepted: 20" in out, out
    changed = sorted(before["products"])[:10]
    for code in changed:
        shdex.patch_summary(code, "中继追赶测试：源节点停机前的最后一次修改，由其他节点转发。")
    head = caught_up(gybdx, shdex, 60)
    origin = shdex.dump("SHDEX")
    shdex.stop_all()

    bjidx.start_all()
    # Nothing at BJIDX may come from SHDEX itself now: every entry has to be relayed by GYBDX.
    wait_until(
        lambda: bjidx.origin_state("SHDEX")["cursor"] >= head,
        60,
        interval=0.5,
        message="BJIDX to catch up on SHDEX through GYBDX",
    )
    state = bjidx.origin_state("SHDEX")
    assert state["last_source"] == "GYBDX", state
    assert state["cursor"] == head
    assert_replica_equals(bjidx.dump("SHDEX"), origin, expect_products=len(before["products"]) + 20)
    shdex_peer = next(p for p in bjidx.sync_status()["peers"] if p["code"] == "SHDEX")
    assert shdex_peer["consecutive_failures"] >= 1, shdex_peer  # it did try the origin first
    for code in changed:
        assert origin["products"][code][2]["summary"].startswith("中继追赶测试")


def test_anti_entropy_repairs_rows_changed_behind_the_nodes_back(nodes):
    """`sync verify` finds replica rows changed or deleted behind BJIDX's back and restores them, also one
    whose log entry was deleted too (that one comes back from a peer)."""
    shdex, bjidx = nodes["SHDEX"], nodes["BJIDX"]
    wait_replica_equals(bjidx, shdex, 60)
    codes = sorted(shdex.dump("SHDEX")["products"])[-3:]
    changed, deleted, lost = codes
    out = bjidx.shell_json(f"""
import json
from federation.models import Entry
from products.models import Product
n = Product.objects.filter(code={changed!r}).update(
    name="被篡改的名称数据集", descriptor={{"tampered": True}})
d = Product.objects.filter(code__in=[{deleted!r}, {lost!r}]).delete()[0]
e = Entry.objects.filter(origin="SHDEX", record_type="product", gid={lost!r}).delete()[0]
print(json.dumps([n, d, e]))
""")
    assert out[0] == 1 and out[1] >= 2 and out[2] == 1, out
    tampered = bjidx.dump("SHDEX")
    assert tampered["products"][changed][2] == {"tampered": True}
    assert deleted not in tampered["products"] and lost not in tampered["products"]

    report = bjidx.manage("sync", "verify", timeout=180).splitlines()
    rows = [json.loads(line) for line in report if line.startswith("{")]
    shdex_rows = [r for r in rows if r["origin"] == "SHDEX"]
    assert any(r["status"] == "repaired" for r in shdex_rows), report
    assert sum(r.get("restored_locally", 0) for r in shdex_rows) >= 2, report
    assert sum(r.get("repaired_from_peer", 0) for r in shdex_rows) >= 1, report

    replica, origin = wait_replica_equals(bjidx, shdex, 30)
    for code in codes:
        assert replica["products"][code] == origin["products"][code]
    again = [json.loads(line) for line in bjidx.manage("sync", "verify").splitlines() if line.startswith("{")]
    assert {r["status"] for r in again if r["origin"] == "SHDEX"} == {"equal"}, again
    # The check also read SHDEX's announced standards (docs/standards/versions.md): the same code, the same.
    status = bjidx.sync_status()
    peer = next(p for p in status["peers"] if p["code"] == "SHDEX")
    assert peer["standards_status"] == "same" and peer["standards"] == status["standards"], peer


def test_worker_killed_mid_pull_loses_nothing(nodes):
    """SIGKILL BJIDX's Celery worker while it applies a backlog of 2,000 products: the page in flight rolls
    back, the lease runs out, a new worker resumes from the cursor, and the replica equals the origin."""
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    caught_up(bjidx, shdex, 30)
    base = listed_count(shdex, "SHDEX")
    assert listed_count(bjidx, "SHDEX") == base
    bjidx.stop_all()
    total = 2000
    out = shdex.import_listed(descriptors(total, seed=4004))
    assert f"accepted: {total}" in out, out
    assert listed_count(shdex, "SHDEX") == base + total

    bjidx.start_web()
    bjidx.start_beat()
    bjidx.start_worker(wait=False)
    count_at_kill = wait_until(
        lambda: (n := listed_count(bjidx, "SHDEX")) > base and n < base + total and n,
        120,
        interval=0.1,
        message="BJIDX to be part-way through the backlog",
    )
    bjidx.stop_worker(signal.SIGKILL)
    state = bjidx.origin_state("SHDEX")
    assert state["state"] == "running", state  # the dead worker still holds the pull's lease
    assert state["cursor"] < shdex.own_seq()
    time.sleep(1.5)
    stalled = listed_count(bjidx, "SHDEX")
    assert base < stalled < base + total, (count_at_kill, stalled)

    started = time.monotonic()
    bjidx.start_worker()
    replica, origin = wait_replica_equals(bjidx, shdex, 180)
    assert len(origin["products"]) == base + total
    print(
        f"killed at {count_at_kill - base}/{total}; converged {time.monotonic() - started:.1f}s after restart"
    )
    # Every product of the backlog got BJIDX's own verdict exactly once (no duplicate rows, checked above).
    assert all("BJIDX" in replica["recognitions"].get(code, {}) for code in origin["products"])
    caught_up(bjidx, gybdx, 120)


def test_listing_and_wake_ups_do_not_wait_for_the_sync_worker(nodes):
    """Production layout (docker-compose.yml): pulls run on the `sync` queue's worker, wake-ups and the
    rest on the default queue's. With SHDEX's sync worker down (killed, as a crash would), a product listed
    at SHDEX still reaches BJIDX and GYBDX and gets their verdicts there; SHDEX receives those verdicts once
    its sync worker runs again. (A frozen worker is not a fair stand-in for a busy one here: on SQLite it
    can hold the database's write lock.)"""
    shdex = nodes["SHDEX"]
    others = (nodes["BJIDX"], nodes["GYBDX"])  # on protocol 1 (the module's federation): verdicts are records
    descriptor = next(iter(descriptors(1, seed=6006)))
    shdex.register_providers([(descriptor["provider"]["uscc"], descriptor["provider"]["name"])])
    shdex.stop_worker(signal.SIGTERM)
    shdex.start_worker(layout=Node.SPLIT)
    try:
        shdex.stop("sync", signal.SIGKILL)
        code = shdex.list_product(descriptor)["code"]
        for other in others:
            wait_until(
                lambda other=other: other.code in _recognised_by(other, code),
                20,
                message=f"{code} recognised at {other.code}",
            )
        assert shdex.running("worker")
        assert _recognised_by(shdex, code) == {"SHDEX"}  # nothing pulls at SHDEX
        shdex.start_worker(only="sync")
        wait_until(
            lambda: _recognised_by(shdex, code) == {"SHDEX", "BJIDX", "GYBDX"},
            30,
            message=f"BJIDX's and GYBDX's verdicts on {code} at SHDEX",
        )
    finally:
        shdex.stop_worker(signal.SIGTERM)
        shdex.start_worker(layout=Node.WORKERS)


def _recognised_by(node: Node, code: str) -> set[str]:
    """The exchanges whose recognition record of `code` the node holds (not the verdicts it computes for the
    others: recognition protocol 2, docs/federation.md "Recognitions at national size")."""
    response = node.api("GET", f"/api/v1/products/{code}/")
    if response.status_code != 200:
        return set()
    return {r["exchange"] for r in response.json()["recognitions"] if not r["computed"]}
