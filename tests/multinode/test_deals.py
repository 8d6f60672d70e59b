"""一套流程，全国共通 between real nodes: a buyer registered at GYBDX orders at GYBDX a product SHDEX lists;
the provider offers at SHDEX, both accept at their home nodes, SHDEX clears the deal, delivers files, the
buyer confirms their digests and accepts, SHDEX settles and each party evaluates the other. The contract's two
signatures are checked here, offline, with the nodes' public keys; BJIDX, outside the deal's audience, answers
404 and holds only sealed stubs, yet shows the evaluations in its trust view. The provider's node killed
between offer and contract loses nothing: the buyer's accept waits at GYBDX and the flow resumes.

The steps are helpers (`deal_ordered`, `deal_to_offer`, `deal_buyer_accepts`, `deal_provider_accepts`,
`deal_delivers`; `deal_to_contract`, `deal_to_delivery`), so another scenario (a dispute) starts from any
point of the flow with the same market (`market`, set up once per module).

Two disputes start there: a rejected delivery's (filed at GYBDX by the rejection, accepted, stated and
resolved with a partial refund at SHDEX: the same dispute at both nodes, the deal accepted by the outcome and
settled net of the refund, none of it at BJIDX but SHDEX's evaluation in its trust view), and an accepted
deal's, whose settlement waits for it and is net of its refund (docs/deals.md "Between real nodes")."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from products.sample_data import make_uscc
from tests import deal_world
from tests.multinode.harness import Federation, Node, wait_until

pytestmark = pytest.mark.multinode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
PARTICIPANT = json.loads((DOCS / "participant.json").read_text("utf-8"))
PRODUCT = json.loads((DOCS / "product-descriptor.json").read_text("utf-8"))
REPLICATION = 30  # seconds allowed for a step to reach the other party's node (it takes about one)
SIGNED_PREFIX = b"dexr-deal-contract-v1:"  # standards/deal_contract.py: what a party's home node signs
# Words of the deal's payloads that must never reach a node outside its audience.
PURPOSE = "贵阳充电网络负荷预测（多节点测试）"
FILE_NAME = "gy-charging-load-2026q4.csv"
FILE_SHA256 = hashlib.sha256(b"gy-charging-load-2026q4").hexdigest()
# The order and the offer of the one-node deal tests (tests/deal_world.py), with this test's own words, which
# BJIDX must never hold.
ORDER = {**deal_world.ORDER, "purpose": PURPOSE}
OFFER = {**deal_world.OFFER, "message": "多节点测试报价：含 2026 年第四季度负荷数据"}
FILES = [{"name": FILE_NAME, "size": 2097152, "sha256": FILE_SHA256}]


@dataclass
class Market:
    """A buyer registered at GYBDX and a provider registered at SHDEX whose product SHDEX lists."""

    shdex: Node
    bjidx: Node
    gybdx: Node
    buyer: str  # the buyer's access token (issued at GYBDX, valid at every node)
    buyer_uscc: str
    seller: str  # the provider's access token (issued at SHDEX)
    seller_uscc: str
    product: str


def _register(node: Node, *, uscc: str, name: str, roles: list[str], username: str) -> str:
    body = copy.deepcopy(PARTICIPANT)
    body.update(
        uscc=uscc,
        legal_name=name,
        roles=roles,
        business_categories=["data_products"] if "data_merchant" in roles else [],
    )
    body["account"] = {"username": username, "password": "Qz8-" + username + "-lantern"}
    created = node.api("POST", "/api/v1/participants/", token=node.token, json=body)
    assert created.status_code == 201, created.text
    verified = node.api(
        "POST", f"/api/v1/participants/{uscc}/verification/", token=node.token, json={"status": "verified"}
    )
    assert verified.status_code == 200, verified.text
    login = node.api("POST", "/api/v1/auth/token/", json=body["account"])
    assert login.status_code == 200, login.text
    return login.json()["access"]


@pytest.fixture(scope="module")
def market(federation3: Federation) -> Market:
    shdex, bjidx, gybdx = federation3["SHDEX"], federation3["BJIDX"], federation3["GYBDX"]
    rng = random.Random(1919)
    buyer_uscc, seller_uscc = make_uscc(rng, "520100"), make_uscc(rng, "310000")
    buyer = _register(
        gybdx, uscc=buyer_uscc, name="贵阳充电数据应用有限公司", roles=["demander"], username="dealbuyer"
    )
    seller = _register(
        shdex,
        uscc=seller_uscc,
        name="上海充电桩数据服务有限公司",
        roles=["data_merchant"],
        username="dealseller",
    )
    product = copy.deepcopy(PRODUCT)
    product["provider"] = {"name": "上海充电桩数据服务有限公司", "uscc": seller_uscc}
    product["name"] = "上海市充电桩运行负荷数据集"
    code = shdex.list_product(product)["code"]
    # The order's node must hold the product, and SHDEX (the coordinator) the buyer's registration.
    wait_until(
        lambda: gybdx.api("GET", f"/api/v1/products/{code}/").status_code == 200,
        REPLICATION,
        message="the product at GYBDX",
    )
    shdex.wait_participant(buyer_uscc, REPLICATION)
    return Market(shdex, bjidx, gybdx, buyer, buyer_uscc, seller, seller_uscc, code)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def deal_get(node: Node, token: str, gid: str, *, operator: bool = False) -> dict:
    headers = {} if operator else _bearer(token)
    response = node.api("GET", f"/api/v1/deals/{gid}/", token=token if operator else None, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def deal_act(node: Node, token: str, gid: str, action: str, body: dict | None = None, **kw) -> dict:
    """Take a step at `node` (the home of whoever takes it); the deal as that node now derives it."""
    operator = kw.pop("operator", False)
    response = node.api(
        "POST",
        f"/api/v1/deals/{gid}/{action}/",
        token=token if operator else None,
        headers={} if operator else _bearer(token),
        json=body or {},
    )
    assert response.status_code == 201, f"{action} at {node.code}: {response.status_code} {response.text}"
    return response.json()


def deal_wait(node: Node, token: str, gid: str, predicate, what: str, *, operator: bool = False) -> dict:
    """Wait until `node` derives a deal `predicate` holds for (the steps taken elsewhere have arrived)."""

    def seen():
        response = node.api(
            "GET",
            f"/api/v1/deals/{gid}/",
            token=token if operator else None,
            headers={} if operator else _bearer(token),
            timeout=10,
        )
        return response.status_code == 200 and predicate(response.json()) and response.json()

    return wait_until(seen, REPLICATION, message=f"{what} at {node.code}")


def _state(state: str):
    return lambda deal: deal["state"] == state


def _has_step(kind: str, role: str):
    return lambda deal: any(s["kind"] == kind and s["role"] == role for s in deal["steps"])


def deal_ordered(m: Market) -> str:
    """The buyer orders at GYBDX (its home); the deal reaches SHDEX. Returns the deal's id."""
    placed = m.gybdx.api(
        "POST", "/api/v1/deals/", headers=_bearer(m.buyer), json={"product": m.product, "request": ORDER}
    )
    assert placed.status_code == 201, placed.text
    deal = placed.json()
    assert (deal["origin"], deal["state"], deal["audience"]) == ("GYBDX", "ordered", ["GYBDX", "SHDEX"])
    deal_wait(m.shdex, m.seller, deal["id"], lambda d: "offer" in d["actions"], "the order")
    return deal["id"]


def deal_to_offer(m: Market) -> str:
    """Ordered, and the provider's offer (version 1) seen at GYBDX."""
    gid = deal_ordered(m)
    assert deal_act(m.shdex, m.seller, gid, "offers", OFFER)["offer_version"] == 1
    deal_wait(m.gybdx, m.buyer, gid, lambda d: "accept" in d["actions"], "the offer")
    return gid


def deal_buyer_accepts(m: Market, gid: str) -> str:
    """The buyer accepts offer 1 at GYBDX; SHDEX receives the accept."""
    assert deal_act(m.gybdx, m.buyer, gid, "accept", {"offer_version": 1})["state"] == "negotiating"
    deal_wait(m.shdex, m.seller, gid, _has_step("accept", "buyer"), "the buyer's accept")
    return gid


def deal_provider_accepts(m: Market, gid: str) -> str:
    """The provider accepts offer 1 at SHDEX (the contract); SHDEX, the coordinator, clears the deal."""
    assert deal_act(m.shdex, m.seller, gid, "accept", {"offer_version": 1})["state"] == "agreed"
    deal_wait(m.shdex, m.seller, gid, _state("cleared"), "the compliance check")
    deal_wait(m.gybdx, m.buyer, gid, _state("cleared"), "the cleared deal")
    return gid


def deal_delivers(m: Market, gid: str) -> str:
    """The provider delivers the files at SHDEX; GYBDX receives the delivery."""
    delivered = deal_act(m.shdex, m.seller, gid, "deliveries", {"method": "file", "files": FILES})
    assert delivered["state"] == "delivered"
    deal_wait(m.gybdx, m.buyer, gid, lambda d: "receipt" in d["actions"], "the delivery")
    return gid


def deal_to_contract(m: Market) -> str:
    return deal_provider_accepts(m, deal_buyer_accepts(m, deal_to_offer(m)))


def deal_to_delivery(m: Market) -> str:
    """A deal delivered, seen at GYBDX: the buyer may now confirm, accept or reject (a dispute's start)."""
    return deal_delivers(m, deal_to_contract(m))


def _check_contract_offline(m: Market, gid: str) -> None:
    """Both parties' nodes serve the same contract; its digest and both signatures verify here, with nothing
    but the document and the nodes' published keys."""
    contracts = [
        m.gybdx.api("GET", f"/api/v1/deals/{gid}/contract/", headers=_bearer(m.buyer)),
        m.shdex.api("GET", f"/api/v1/deals/{gid}/contract/", headers=_bearer(m.seller)),
    ]
    assert all(c.status_code == 200 for c in contracts), [c.text for c in contracts]
    contract = contracts[0].json()
    assert contracts[1].json() == contract
    document = contract["document"]
    digest = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    assert digest == contract["sha256"]
    assert (document["deal"], document["placed_at_exchange"], document["terms"]["price"]) == (
        gid,
        "GYBDX",
        OFFER["price"],
    )
    assert (document["buyer"]["uscc"], document["provider"]["uscc"]) == (m.buyer_uscc, m.seller_uscc)
    published = {
        node.code: node.api("GET", "/federation/v1/node/").json()["public_key"] for node in (m.gybdx, m.shdex)
    }
    assert published == {"GYBDX": m.gybdx.public_key, "SHDEX": m.shdex.public_key}
    signed = {s["role"]: s for s in contract["signatures"]}
    assert {role: s["node"] for role, s in signed.items()} == {"buyer": "GYBDX", "provider": "SHDEX"}
    for s in signed.values():
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published[s["node"]]))
        key.verify(base64.b64decode(s["signature"]), SIGNED_PREFIX + digest.encode())  # raises if forged
    # ... and a signature over another digest does not verify: the check above can fail.
    forged = SIGNED_PREFIX + hashlib.sha256(b"another contract").hexdigest().encode()
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(base64.b64decode(published["GYBDX"])).verify(
            base64.b64decode(signed["buyer"]["signature"]), forged
        )


HELD = """
import json
from deals.models import Deal, DealStep
from federation.models import Entry, PrivateEntry, PrivateFetch
gid = "__GID__"
stubs = list(Entry.objects.filter(record_type="sealed").values_list("gid", "body"))
print(json.dumps({
    "deals": Deal.objects.filter(gid=gid).count(),
    "steps": DealStep.objects.filter(deal_gid=gid).count(),
    "private": PrivateEntry.objects.filter(record_type__in=["deal", "deal_step"]).count(),
    "fetches": PrivateFetch.objects.filter(record_type__in=["deal", "deal_step"]).count(),
    "deal_stub": sum(1 for g, _ in stubs if g == "deal:" + gid),
    "step_stubs": sum(1 for g, _ in stubs if g.startswith("deal_step:")),
    "bodies": " ".join(Entry.objects.values_list("body", flat=True)),
    "unsealed": Entry.objects.filter(record_type__in=["deal", "deal_step"]).count(),
}, ensure_ascii=False))
"""


def _synced(reader: Node, *origins: Node) -> bool:
    return all(reader.origin_state(o.code)["cursor"] >= o.own_seq() for o in origins)


def _check_outside_the_audience(m: Market, gid: str, steps: int) -> None:
    """BJIDX: 404 for the deal to anyone, its sealed stubs only, no payload, and the owner refuses it."""
    bjidx = m.bjidx
    wait_until(lambda: _synced(bjidx, m.gybdx, m.shdex), REPLICATION, message="BJIDX synced with both")
    for headers, token in (({}, bjidx.token), (_bearer(m.buyer), None), (_bearer(m.seller), None)):
        response = bjidx.api("GET", f"/api/v1/deals/{gid}/", token=token, headers=headers)
        assert response.status_code == 404, response.text
        listed = bjidx.api("GET", "/api/v1/deals/", token=token, headers=headers)
        assert gid not in listed.text
    held = bjidx.shell_json(HELD.replace("__GID__", gid))
    assert (held["deals"], held["steps"], held["private"], held["fetches"]) == (0, 0, 0, 0), held
    assert held["deal_stub"] == 1 and held["step_stubs"] >= steps and held["unsealed"] == 0, held
    # (The deal's id is in the public log: the evaluations name it as their evidence.)
    for marker in (PURPOSE, FILE_NAME, FILE_SHA256, OFFER["message"]):
        assert marker not in held["bodies"], marker
    probe = bjidx.shell_json(
        "import json\nfrom federation.http import PeerError, peer_request\n"
        "from federation.models import Peer\n"
        f"path = '/federation/v1/private/GYBDX/deal/{gid}/'\n"
        "try:\n    peer_request(Peer.objects.get(pk='GYBDX'), 'GET', path); print(json.dumps('served'))\n"
        "except PeerError as exc:\n    print(json.dumps(str(exc)))"
    )
    assert probe != "served" and "404" in probe, probe


def test_a_deal_from_order_to_evaluations_across_nodes_never_seen_by_bjidx(nodes, market):
    m = market
    gid = deal_to_delivery(m)
    _check_contract_offline(m, gid)

    # The buyer confirms the files with the digests it computed, and accepts, at GYBDX.
    received = deal_act(
        m.gybdx, m.buyer, gid, "receipt", {"files": [{"name": FILE_NAME, "sha256": FILE_SHA256}]}
    )
    assert received["state"] == "received" and received["steps"][-1]["body"]["mismatches"] == []
    assert deal_act(m.gybdx, m.buyer, gid, "acceptance", {"result": "accepted"})["state"] == "accepted"
    deal_wait(m.shdex, m.shdex.token, gid, _state("accepted"), "the acceptance", operator=True)

    # SHDEX's operator settles (SHDEX lists the product: its listing fee; GYBDX brought the buyer).
    settled = deal_act(m.shdex, m.shdex.token, gid, "settlement", operator=True)
    assert settled["state"] == "settled"
    body = settled["steps"][-1]["body"]
    assert (body["amount"], body["currency"]) == ("20000.00", "CNY")
    assert {(f["exchange"], f["basis"]) for f in body["fees"]} == {("SHDEX", "listing"), ("GYBDX", "buyer")}
    deal_wait(m.gybdx, m.buyer, gid, _state("settled"), "the settlement")

    # Each party evaluates the other at its home; the deal closes at both nodes.
    deal_act(
        m.gybdx, m.buyer, gid, "evaluations", {"dimension": "service", "score": 88, "summary": "交付及时"}
    )
    deal_act(
        m.shdex, m.seller, gid, "evaluations", {"dimension": "credit", "score": 91, "summary": "验收守约"}
    )
    for node, token in ((m.gybdx, m.buyer), (m.shdex, m.seller)):
        closed = deal_wait(node, token, gid, _state("closed"), "the closed deal")
        assert closed["ignored_steps"] == 0
    parties = ((m.gybdx, m.buyer), (m.shdex, m.seller))
    steps = {n.code: sorted(s["id"] for s in deal_get(n, t, gid)["steps"]) for n, t in parties}
    assert steps["GYBDX"] == steps["SHDEX"] and len(steps["GYBDX"]) == 10, steps

    # The evaluations are public: BJIDX's trust view of each party shows the one the other gave.
    def trust_at_bjidx(uscc: str, issuer: str):
        def shows():
            trust = m.bjidx.api("GET", f"/api/v1/participants/{uscc}/trust/").json()
            given = [
                e
                for d in trust["evaluations"]
                for e in d["evaluations"]
                if e["evidence_ref"] == f"deal:{gid}"
            ]
            return given and given

        given = wait_until(shows, REPLICATION, message=f"the evaluation of {uscc} at BJIDX")
        assert [(e["issuer_id"], e["issuer_type"]) for e in given] == [(issuer, "participant")], given
        return given[0]

    assert trust_at_bjidx(m.seller_uscc, m.buyer_uscc)["score"] == 88
    assert trust_at_bjidx(m.buyer_uscc, m.seller_uscc)["score"] == 91

    _check_outside_the_audience(m, gid, steps=len(steps["GYBDX"]))


def test_the_provider_s_node_killed_between_offer_and_contract_loses_nothing(nodes, market):
    m = market
    gid = deal_to_offer(m)
    m.shdex.stop_all(signal.SIGKILL)
    try:
        # SHDEX is down: the buyer's accept is taken at its home, GYBDX, and waits there.
        accepted = deal_act(m.gybdx, m.buyer, gid, "accept", {"offer_version": 1})
        assert accepted["state"] == "negotiating" and len(accepted["steps"]) == 2
        assert m.gybdx.api("GET", f"/api/v1/deals/{gid}/", headers=_bearer(m.seller)).status_code == 200
    finally:
        m.shdex.start_all()
    # Back: SHDEX still holds the order and its offer, fetches the accept, and the flow resumes.
    deal_wait(m.shdex, m.seller, gid, _has_step("accept", "buyer"), "the accept taken while down")
    deal_delivers(m, deal_provider_accepts(m, gid))
    deal_act(m.gybdx, m.buyer, gid, "receipt", {"files": [{"name": FILE_NAME, "sha256": FILE_SHA256}]})
    deal_act(m.gybdx, m.buyer, gid, "acceptance", {"result": "accepted"})
    deal_wait(m.shdex, m.seller, gid, _state("accepted"), "the acceptance")
    held = {n.code: deal_get(n, t, gid) for n, t in ((m.gybdx, m.buyer), (m.shdex, m.seller))}
    kinds = [s["kind"] for s in held["GYBDX"]["steps"]]
    assert kinds == ["offer", "accept", "accept", "compliance", "delivery", "receipt", "acceptance"], kinds
    assert sorted(s["id"] for s in held["SHDEX"]["steps"]) == sorted(s["id"] for s in held["GYBDX"]["steps"])
    assert all(s["applied"] for s in held["SHDEX"]["steps"]) and held["SHDEX"]["ignored_steps"] == 0


# --- A dispute between real nodes -------------------------------------------------------------------------
REJECTION = "多节点测试：交付文件缺少十一月数据"  # the buyer's reason: the dispute's description
STATEMENTS = {"buyer": "多节点测试：缺失十一月三天的数据", "provider": "多节点测试：源系统停机，已补数"}
RESOLUTION = {
    "outcome": {"kind": "partial_refund", "refund_amount": "5000.00", "summary": "多节点测试：部分数据缺失"}
}


def dispute_call(node: Node, token: str, path: str, body: dict | None = None, *, operator: bool = False):
    """GET (no body) or POST `path` under /api/v1/deals/ at `node` as a participant (Bearer) or an
    operator (Token)."""
    return node.api(
        "GET" if body is None else "POST",
        f"/api/v1/deals/{path}",
        token=token if operator else None,
        headers={} if operator else _bearer(token),
        json=body,
        timeout=10,
    )


def dispute_act(node: Node, token: str, gid: str, did: str, action: str, body: dict, **kw) -> dict:
    response = dispute_call(node, token, f"{gid}/disputes/{did}/{action}/", body, **kw)
    assert response.status_code == 201, f"{action} at {node.code}: {response.status_code} {response.text}"
    return response.json()


def dispute_wait(node: Node, token: str, gid: str, did: str, predicate, what: str, **kw) -> dict:
    """Wait until `node` derives a dispute `predicate` holds for."""

    def seen():
        response = dispute_call(node, token, f"{gid}/disputes/{did}/", **kw)
        return response.status_code == 200 and predicate(response.json()) and response.json()

    return wait_until(seen, REPLICATION, message=f"{what} at {node.code}")


DISPUTE_HELD = """
import json
from deals.models import Dispute, DisputeStep
from federation.models import Entry, PrivateEntry, PrivateFetch
stubs = list(Entry.objects.filter(record_type="sealed").values_list("gid", flat=True))
print(json.dumps({
    "steps": DisputeStep.objects.filter(deal_gid="__GID__").count(),
    "disputes": Dispute.objects.filter(deal_gid="__GID__").count(),
    "private": PrivateEntry.objects.filter(record_type="dispute_step").count(),
    "fetches": PrivateFetch.objects.filter(record_type="dispute_step").count(),
    "unsealed": Entry.objects.filter(record_type="dispute_step").count(),
    "stubs": [g for g in stubs if g.startswith("dispute_step:")],
    "bodies": " ".join(Entry.objects.values_list("body", flat=True)),
}, ensure_ascii=False))
"""


def _check_dispute_outside_the_audience(m: Market, gid: str, did: str, step_ids: list[str]) -> dict:
    """BJIDX: 404 for the deal and its disputes to anyone; no dispute row, step or payload, only the sealed
    stubs of the dispute's steps. Returns what BJIDX holds."""
    bjidx = m.bjidx
    wait_until(lambda: _synced(bjidx, m.gybdx, m.shdex), REPLICATION, message="BJIDX synced with both")
    for token, operator in ((bjidx.token, True), (m.buyer, False), (m.seller, False)):
        for path in (f"{gid}/", f"{gid}/disputes/", f"{gid}/disputes/{did}/"):
            response = dispute_call(bjidx, token, path, operator=operator)
            assert response.status_code == 404, (path, response.text)
    queue = bjidx.api("GET", "/api/v1/disputes/", token=bjidx.token)
    assert queue.status_code == 200 and queue.json()["results"] == [], queue.text
    held = bjidx.shell_json(DISPUTE_HELD.replace("__GID__", gid))
    assert (held["steps"], held["disputes"], held["private"], held["fetches"], held["unsealed"]) == (
        0,
        0,
        0,
        0,
        0,
    ), held
    assert {f"dispute_step:{s}" for s in step_ids} <= set(held["stubs"]), held["stubs"]
    for marker in (REJECTION, *STATEMENTS.values(), RESOLUTION["outcome"]["summary"]):
        assert marker not in held["bodies"], marker
    return held


def test_a_rejected_delivery_s_dispute_resolved_with_a_partial_refund_across_nodes(nodes, market):
    """The buyer rejects the delivery at GYBDX, which files a dispute there; SHDEX (the product's exchange,
    the coordinator) accepts it, both parties state their case at their homes, SHDEX resolves it with a
    partial refund: the same dispute at both nodes, none at BJIDX, which yet shows SHDEX's evaluation of the
    provider. The outcome moves the deal on (docs/deals.md "Outcomes"): accepted, and settled net of the
    refund."""
    m = market
    gid = deal_to_delivery(m)
    rejected = deal_act(m.gybdx, m.buyer, gid, "acceptance", {"result": "rejected", "reason": REJECTION})
    assert rejected["state"] == "rejected"
    filed = dispute_call(m.gybdx, m.buyer, f"{gid}/disputes/").json()
    assert [(d["state"], d["filed_by"], d["category"]) for d in filed] == [
        ("filed", "buyer", "not_as_described")
    ]
    did = filed[0]["id"]
    assert did.startswith("GYBDX-") and filed[0]["steps"][0]["body"]["description"] == REJECTION
    assert (filed[0]["coordinator"], filed[0]["co_coordinator"]) == ("SHDEX", "GYBDX")

    # SHDEX's operator finds it in the queue and accepts; the provider states its case at SHDEX at once.
    at_shdex = dispute_wait(
        m.shdex, m.shdex.token, gid, did, lambda d: "accept" in d["actions"], "the filing", operator=True
    )
    assert at_shdex["my_roles"] == ["coordinator"] and at_shdex["steps"][0]["origin"] == "GYBDX"
    queue = m.shdex.api("GET", "/api/v1/disputes/?state=filed", token=m.shdex.token).json()["results"]
    assert did in [row["id"] for row in queue]
    accepted = dispute_act(m.shdex, m.shdex.token, gid, did, "accept", {"reason": "予以受理"}, operator=True)
    assert accepted["state"] == "accepted" and accepted["deadlines"]["resolve_by"]
    provider_said = {"text": STATEMENTS["provider"], "evidence": ["ticket:SH-MN-1"]}
    assert dispute_act(m.shdex, m.seller, gid, did, "statement", provider_said)["state"] == "mediation"
    # The buyer states its case at GYBDX once the acceptance has arrived there.
    dispute_wait(m.gybdx, m.buyer, gid, did, lambda d: "statement" in d["actions"], "the acceptance")
    buyer_said = {"text": STATEMENTS["buyer"], "evidence": ["log:2026-11-05"]}
    dispute_act(m.gybdx, m.buyer, gid, did, "statement", buyer_said)
    both = {"buyer": 1, "provider": 1}
    dispute_wait(m.shdex, m.seller, gid, did, lambda d: d["statements"] == both, "both statements")

    resolved = dispute_act(m.shdex, m.shdex.token, gid, did, "resolve", RESOLUTION, operator=True)
    assert resolved["state"] == "resolved" and resolved["amounts"]["refund"] == "5000.00"
    evaluation = resolved["evaluation"]
    assert (evaluation["of"], evaluation["dimension"]) == ("provider", "service") and evaluation["id"]

    # The same dispute, derived the same, at both nodes (the buyer's home co-coordinates).
    seen = {
        "SHDEX": resolved,
        "GYBDX": dispute_wait(m.gybdx, m.buyer, gid, did, lambda d: d["state"] == "resolved", "resolution"),
    }
    co = dispute_call(m.gybdx, m.gybdx.token, f"{gid}/disputes/{did}/", operator=True).json()
    assert co["my_roles"] == ["co_coordinator"] and co["state"] == "resolved"
    for code, dispute in seen.items():
        assert dispute["outcome"]["kind"] == "partial_refund", code
        assert (
            dispute["outcome"]["refund_amount"] == "5000.00" and dispute["outcome"]["against"] == "provider"
        )
        assert dispute["amounts"] == {"deal": "20000.00", "claimed": None, "refund": "5000.00"}, code
        assert dispute["statements"] == both and dispute["ignored_steps"] == 0 and dispute["rejected"] == []
        assert dispute["evaluation"] == evaluation, code
    steps = {code: [(s["id"], s["origin"], s["action"]) for s in d["steps"]] for code, d in seen.items()}
    assert steps["GYBDX"] == steps["SHDEX"], steps
    assert [a for _, _, a in steps["SHDEX"]] == ["file", "accept", "statement", "statement", "resolve"]
    assert [o for _, o, _ in steps["SHDEX"]] == ["GYBDX", "SHDEX", "SHDEX", "GYBDX", "SHDEX"]

    # Each party, at its home, was told of every step someone else took (those from the other node too).
    def told(node: Node, token: str) -> list[tuple[str, str]]:
        listed = node.api("GET", "/api/v1/notifications/?page_size=100", headers=_bearer(token)).json()
        notes = [n for n in listed["results"] if n["subject_gid"] == did]
        return sorted((n["payload"]["step"], n["payload"]["by"]) for n in notes)

    assert told(m.shdex, m.seller) == [
        ("accept", "coordinator"),
        ("file", "buyer"),
        ("resolve", "coordinator"),
        ("statement", "buyer"),
    ]
    told_buyer = [("accept", "coordinator"), ("resolve", "coordinator"), ("statement", "provider")]
    wait_until(lambda: told(m.gybdx, m.buyer) == told_buyer, REPLICATION, message="the buyer's notifications")

    # The resolution moves the deal on (SHDEX's `outcome` step, written with it): accepted at both nodes,
    # then settled by SHDEX net of the refund, the same settlement seen at GYBDX.
    assert deal_get(m.shdex, m.seller, gid)["state"] == "accepted"
    at_gybdx = deal_wait(m.gybdx, m.buyer, gid, _state("accepted"), "the outcome at the buyer's node")
    outcome = next(s for s in at_gybdx["steps"] if s["kind"] == "outcome")
    assert (outcome["origin"], outcome["role"], outcome["body"]["kind"], outcome["body"]["dispute"]) == (
        "SHDEX",
        "coordinator",
        "partial_refund",
        did,
    )
    settled = deal_act(m.shdex, m.shdex.token, gid, "settlement", operator=True)
    at_gybdx = deal_wait(m.gybdx, m.buyer, gid, _state("settled"), "the settlement")
    for deal in (settled, at_gybdx):
        body = next(s for s in deal["steps"] if s["kind"] == "settlement")["body"]
        assert body["amount"] == "15000.00", body

    # BJIDX holds none of it, yet its trust view of the provider shows SHDEX's evaluation for this deal.
    _check_dispute_outside_the_audience(m, gid, did, [s for s, _, _ in steps["SHDEX"]])

    def shown_at_bjidx():
        trust = m.bjidx.api("GET", f"/api/v1/participants/{m.seller_uscc}/trust/").json()
        return [e for d in trust["evaluations"] for e in d["evaluations"] if e["id"] == evaluation["id"]]

    shown = wait_until(shown_at_bjidx, REPLICATION, message="SHDEX's evaluation at BJIDX")
    assert [(e["issuer_id"], e["issuer_type"], e["score"], e["evidence_ref"]) for e in shown] == [
        ("SHDEX", "exchange", 40, f"deal:{gid}")
    ], shown


def test_an_accepted_deal_s_dispute_settles_net_of_its_refund_across_nodes(nodes, market):
    """The buyer accepts the delivery, then files a dispute at GYBDX: SHDEX refuses to settle while it is
    open, accepts and resolves it with a partial refund, and its settlement (seen at GYBDX too) is the
    price less the refund, each exchange's fee on that net amount."""
    m = market
    gid = deal_to_delivery(m)
    assert deal_act(m.gybdx, m.buyer, gid, "acceptance", {"result": "accepted"})["state"] == "accepted"
    filing = json.loads((DOCS / "deal-dispute.json").read_text("utf-8"))
    filed = dispute_call(m.gybdx, m.buyer, f"{gid}/disputes/", filing)
    assert filed.status_code == 201, filed.text
    did = filed.json()["id"]
    dispute_wait(
        m.shdex, m.shdex.token, gid, did, lambda d: "accept" in d["actions"], "the filing", operator=True
    )
    deal_wait(m.shdex, m.shdex.token, gid, _state("accepted"), "the acceptance", operator=True)
    waiting = m.shdex.api("POST", f"/api/v1/deals/{gid}/settlement/", token=m.shdex.token, json={})
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "dispute.open", waiting.text

    dispute_act(m.shdex, m.shdex.token, gid, did, "accept", {"reason": "予以受理"}, operator=True)
    resolved = dispute_act(m.shdex, m.shdex.token, gid, did, "resolve", RESOLUTION, operator=True)
    assert resolved["amounts"] == {"deal": "20000.00", "claimed": "5000.00", "refund": "5000.00"}
    settled = deal_act(m.shdex, m.shdex.token, gid, "settlement", operator=True)
    assert settled["state"] == "settled"
    expected = {
        "amount": "15000.00",
        "currency": "CNY",
        "fees": {("SHDEX", "listing", "150.00"), ("GYBDX", "buyer", "75.00")},  # 1 % and 0.5 % of the net
    }
    at_gybdx = deal_wait(m.gybdx, m.buyer, gid, _state("settled"), "the settlement")
    for deal in (settled, at_gybdx):
        body = next(s for s in deal["steps"] if s["kind"] == "settlement")["body"]
        fees = {(f["exchange"], f["basis"], f["amount"]) for f in body["fees"]}
        assert {"amount": body["amount"], "currency": body["currency"], "fees": fees} == expected, body
    seen = dispute_wait(m.gybdx, m.buyer, gid, did, lambda d: d["state"] == "resolved", "the resolution")
    assert seen["amounts"]["refund"] == "5000.00" and seen["evaluation"] == resolved["evaluation"]


def test_a_rejection_s_dispute_withdrawn_at_the_buyer_s_node_accepts_the_deal_across_nodes(nodes, market):
    """Deal flow 1.2: the buyer rejects at GYBDX (which files the dispute there), then withdraws it at GYBDX;
    SHDEX, the coordinator, derives the withdrawal and writes the `withdrawn` outcome: the deal is accepted at
    both nodes and SHDEX settles the full price."""
    m = market
    gid = deal_to_delivery(m)
    deal_act(m.gybdx, m.buyer, gid, "acceptance", {"result": "rejected", "reason": REJECTION})
    did = dispute_call(m.gybdx, m.buyer, f"{gid}/disputes/").json()[0]["id"]
    withdrawn = dispute_act(m.gybdx, m.buyer, gid, did, "withdraw", {"reason": "已与卖方协商一致"})
    assert withdrawn["state"] == "withdrawn"
    at_shdex = deal_wait(m.shdex, m.seller, gid, _state("accepted"), "the withdrawal's outcome at SHDEX")
    outcome = next(s for s in at_shdex["steps"] if s["kind"] == "outcome")
    assert (outcome["origin"], outcome["body"]["kind"], outcome["body"]["dispute"]) == (
        "SHDEX",
        "withdrawn",
        did,
    )
    deal_wait(m.gybdx, m.buyer, gid, _state("accepted"), "the outcome at the buyer's node")
    settled = deal_act(m.shdex, m.shdex.token, gid, "settlement", operator=True)
    assert next(s for s in settled["steps"] if s["kind"] == "settlement")["body"]["amount"] == "20000.00"
