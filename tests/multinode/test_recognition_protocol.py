"""Recognition protocol 2 between real nodes (gunicorn + Celery worker + beat each) on loopback
(docs/federation.md, "Recognitions at national size"): once every node knows that its peers announce it, a
product listed at SHDEX is shown recognised by all three exchanges at every node while no recognition record
crosses the network; an operator's rejection at BJIDX does; and with one node forced back to protocol 1, the
others publish every verdict again. First, before the nodes know each other's protocols: two nodes that have
learned different things of their peers still compare equal (anti-entropy digests under the versions the pair
agrees on, docs/federation.md "Anti-entropy")."""

from __future__ import annotations

import json
import random

import pytest

from products.sample_data import descriptor as sample_descriptor
from products.verdict import recognition_evaluate
from tests.multinode.conftest import CODES
from tests.multinode.harness import Federation, Node, wait_until

pytestmark = pytest.mark.multinode
REPLICATION = 30  # seconds allowed for a change to reach every node (it takes about one)


def _held(node: Node, code: str) -> dict:
    """What a node holds of one product's recognitions: its records (exchange: decided by) and log entries."""
    return node.shell_json(
        "import json\nfrom federation.models import Entry\nfrom products.models import Recognition\n"
        f"code = {code!r}\n"
        "rows = Recognition.objects.filter(product_code=code)\n"
        "rows = dict(rows.values_list('exchange_id', 'decided_by'))\n"
        "entries = sorted(Entry.objects.filter(record_type='recognition', gid__startswith=code + '@')"
        ".values_list('gid', flat=True))\n"
        "print(json.dumps({'rows': rows, 'entries': entries}))"
    )


KNOWS = (
    "import json\nfrom federation.protocols import protocol_everywhere\n"
    "print(json.dumps(protocol_everywhere('recognition', 2)))"
)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    federation = Federation(CODES, tmp_path_factory.mktemp("recognition-protocol"))
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


def _recognisable(seed: int) -> dict:
    rng = random.Random(seed)
    return next(
        d for d in (sample_descriptor(rng) for _ in range(50)) if recognition_evaluate(d)[0] == "recognised"
    )


def _learn(network: Federation) -> list[bool]:
    """Every node compares digests with its peers now (as its anti-entropy round would): it reads their
    protocols. Returns whether each then publishes as protocol 2."""
    network.parallel(lambda node: node.manage("sync", "verify", timeout=120))
    return network.parallel(lambda node: node.shell_json(KNOWS))


def _verdicts(node: Node, code: str) -> dict[str, tuple]:
    response = node.api("GET", f"/api/v1/products/{code}/", timeout=10)
    if response.status_code != 200:
        return {}
    return {
        r["exchange"]: (r["status"], r["decided_by"], r["computed"]) for r in response.json()["recognitions"]
    }


def _recognised_by(node: Node, exchange: str, code: str) -> bool:
    results = node.api("GET", "/api/v1/products/", params={"recognised_by": exchange}, timeout=10)
    return code in {p["code"] for p in results.json()["results"]}


def _list(network: Federation, seed: int) -> str:
    shdex = network["SHDEX"]
    descriptor = _recognisable(seed)
    shdex.register_providers([(descriptor["provider"]["uscc"], descriptor["provider"]["name"])])
    return shdex.list_product(descriptor)["code"]


def _verify(node: Node) -> list[dict]:
    out = node.manage("sync", "verify", timeout=120)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _knowledge(node: Node, protocols: dict | None) -> bool:
    """Set what `node` has learned of its peers' protocols; returns whether it then publishes as 2."""
    return node.shell_json(
        f"from federation.models import Peer\nPeer.objects.update(protocols={protocols!r})\n{KNOWS}"
    )


def _restart(node: Node, protocol: str | None) -> None:
    """Restart `node` forced to announce `protocol`, or (None) announcing what its code speaks."""
    node.stop_all()
    if protocol is None:
        node.env.pop("FEDERATION_RECOGNITION_PROTOCOL", None)
    else:
        node.env["FEDERATION_RECOGNITION_PROTOCOL"] = protocol
    node.start_all()


def test_nodes_that_learned_different_things_of_their_peers_compare_equal(network):
    """The fault that reverted recognition protocol 2 once (tests/multinode/test_product_profile.py failed):
    a node that had learned that every peer announces 2 digested only exceptions, its peer that had not yet
    learned it digested every published recognition, and `sync verify` said differs/repaired. A network on
    protocol 1 publishes every verdict; upgraded, its nodes learn each other's protocols at different times
    (from the answers to their wake-ups and to anti-entropy, so a write anywhere teaches the writer at once:
    the nodes are forced to 1 while they publish, not merely told they know nothing)."""
    network.parallel(lambda node: _restart(node, "1"))
    code = _list(network, 2026)  # published as protocol 1: every exchange's verdict a record
    wanted = {"SHDEX": "home", "BJIDX": "auto", "GYBDX": "auto"}
    for node in network:
        wait_until(
            lambda node=node: _held(node, code)["rows"] == wanted,
            REPLICATION,
            message=f"every exchange's recognition record at {node.code}",
        )
    network.parallel(lambda node: _restart(node, None))  # upgraded: each announces 2 again
    assert _knowledge(network["SHDEX"], {"recognition": 2})  # SHDEX has learned; BJIDX and GYBDX not
    assert not _knowledge(network["BJIDX"], None) and not _knowledge(network["GYBDX"], None)
    for node in (network["BJIDX"], network["SHDEX"], network["GYBDX"]):
        rows = _verify(node)
        assert rows and {r["status"] for r in rows} == {"equal"}, (node.code, rows)


def test_a_listing_is_recognised_everywhere_and_only_an_operators_rejection_replicates(network):
    assert _learn(network) == [True, True, True]
    code = _list(network, 2027)
    everywhere = {
        "SHDEX": ("recognised", "home"),
        "BJIDX": ("recognised", "auto"),
        "GYBDX": ("recognised", "auto"),
    }
    for node in network:
        shown = wait_until(
            lambda node=node: (v := _verdicts(node, code)) and len(v) == 3 and v,
            REPLICATION,
            message=f"three verdicts at {node.code}",
        )
        assert {x: s[:2] for x, s in shown.items()} == everywhere, (node.code, shown)
        assert all(computed for x, (*_, computed) in shown.items() if x != node.code), (
            shown
        )  # none replicated
        assert all(_recognised_by(node, x, code) for x in CODES)
    for node in network:  # no recognition record crossed the network: each node holds only its own
        held = _held(node, code)
        assert set(held["rows"]) <= {node.code} and held["entries"] == [], (node.code, held)

    bjidx = network["BJIDX"]
    refused = bjidx.api(
        "POST",
        f"/api/v1/products/{code}/recognition/",
        token=bjidx.token,
        json={"status": "refused", "reasons": ["缺少数据来源证明"]},
    )
    assert refused.status_code == 200, refused.text
    for node in (network["SHDEX"], network["GYBDX"]):
        wait_until(
            lambda node=node: _verdicts(node, code).get("BJIDX") == ("refused", "operator", False),
            REPLICATION,
            message=f"BJIDX's rejection at {node.code}",
        )
        assert not _recognised_by(node, "BJIDX", code) and _recognised_by(node, "GYBDX", code)
        held = _held(node, code)
        assert held["rows"].get("BJIDX") == "operator" and held["entries"] == [f"{code}@BJIDX"], held


PARTICIPANT_HELD = (
    "import json\nfrom federation.models import Entry\n"
    "from participants.models import ParticipantRecognition as R\n"
    "from federation.protocols import protocol_everywhere\n"
    "pid = {pid!r}\n"
    "rows = sorted(R.objects.filter(participant_id=pid).values_list('exchange_id', flat=True))\n"
    "entries = Entry.objects.filter(record_type='participant_recognition', gid__startswith=pid + '@')\n"
    "print(json.dumps({{'rows': rows, 'entries': entries.count(), "
    "'two': protocol_everywhere('participant_recognition', 2)}}))"
)


def test_a_participant_is_recognised_everywhere_and_no_participant_recognition_crosses(network):
    """Participant recognition protocol 2: each node computes its peers' recognitions of a participant from
    its registration; none is published."""
    assert _learn(network) == [True, True, True]
    pid = _recognisable(2030)["provider"]["uscc"]
    network["SHDEX"].register_providers([(pid, "协议二示例数据有限公司")])
    for node in network:
        trust = wait_until(
            lambda node=node: (
                (r := node.api("GET", f"/api/v1/participants/{pid}/trust/", timeout=10)).status_code == 200
                and set(r.json()["recognised_by"]) == set(CODES)
                and r.json()
            ),
            REPLICATION,
            message=f"three recognitions of the participant at {node.code}",
        )
        versions = {r["exchange"]: r["version"] for r in trust["recognitions"]}
        assert versions[node.code] >= 1 and all(versions[x] == 0 for x in CODES if x != node.code), versions
        held = node.shell_json(PARTICIPANT_HELD.format(pid=pid))
        assert held["two"] and held["rows"] == [node.code] and held["entries"] == 0, (node.code, held)


def test_a_mixed_network_keeps_publishing_every_verdict(network):
    gybdx = network["GYBDX"]
    gybdx.stop_all()
    gybdx.env["FEDERATION_RECOGNITION_PROTOCOL"] = "1"  # code that speaks 2, forced to announce 1
    gybdx.start_all()
    assert _learn(network) == [False, False, False]
    code = _list(network, 2028)
    wanted = {"SHDEX": "home", "BJIDX": "auto", "GYBDX": "auto"}
    for node in network:
        wait_until(
            lambda node=node: _held(node, code)["rows"] == wanted,
            REPLICATION,
            message=f"every exchange's recognition record at {node.code}",
        )
        shown = _verdicts(node, code)
        assert {x: s[:2] for x, s in shown.items()} == {x: ("recognised", by) for x, by in wanted.items()}
        assert not any(computed for *_, computed in shown.values()), shown
