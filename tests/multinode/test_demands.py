"""一地提出，全国响应 between real nodes: a demand posted at GYBDX reaches SHDEX and BJIDX, a SHDEX supplier
whose product matches is notified once, responds from SHDEX, the demander sees the response at GYBDX, and
BJIDX never receives it; withdrawal and expiry propagate."""

from __future__ import annotations

import copy
import datetime
import json
import random
import time
from pathlib import Path

import pytest

from products.sample_data import make_uscc
from tests.multinode.harness import Node, wait_until

pytestmark = pytest.mark.multinode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
DEMAND = json.loads((DOCS / "demand.json").read_text("utf-8"))
# The example's deadline is a fixed date; the tests post it with one that is always ahead.
DEMAND["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
RESPONSE = json.loads((DOCS / "demand-response.json").read_text("utf-8"))
PARTICIPANT = json.loads((DOCS / "participant.json").read_text("utf-8"))
PRODUCT = json.loads((DOCS / "product-descriptor.json").read_text("utf-8"))
REPLICATION = 30


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


def _as(token: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def test_demand_posted_at_gybdx_answered_from_shdex_never_seen_by_bjidx(nodes):
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    rng = random.Random(5005)
    buyer = _register(
        gybdx,
        uscc=make_uscc(rng, "520100"),
        name="贵阳数据采购有限公司",
        roles=["demander"],
        username="buyer5",
    )
    # The supplier: the example product's provider is registered at SHDEX (the federation does it); give it a
    # login by registering a second data merchant whose product is the example's, renamed.
    seller_uscc = make_uscc(rng, "310000")
    seller = _register(
        shdex, uscc=seller_uscc, name="上海充电数据服务有限公司", roles=["data_merchant"], username="seller5"
    )
    product = copy.deepcopy(PRODUCT)
    product["provider"] = {"name": "上海充电数据服务有限公司", "uscc": seller_uscc}
    product["name"] = "上海市公共充电桩运行数据集"
    listed = shdex.list_product(product)
    for node in (gybdx,):  # the demand's node must hold the product to match it
        wait_until(
            lambda node=node: node.api("GET", f"/api/v1/products/{listed['code']}/").status_code == 200,
            REPLICATION,
            message="the product at GYBDX",
        )

    posted = gybdx.api("POST", "/api/v1/demands/", json=DEMAND, **_as(buyer))
    assert posted.status_code == 201, posted.text
    demand = posted.json()
    for node in (shdex, bjidx):
        wait_until(
            lambda node=node: node.api("GET", f"/api/v1/demands/{demand['id']}/").status_code == 200,
            REPLICATION,
            message=f"the demand at {node.code}",
        )
    matches = gybdx.api("GET", f"/api/v1/demands/{demand['id']}/matches/").json()["results"]
    assert matches[0]["product"] == listed["code"], matches[:3]

    # SHDEX notifies its supplier once (its token works at SHDEX, its home).
    def notified():
        rows = shdex.api("GET", "/api/v1/notifications/", **_as(seller)).json()["results"]
        return [r for r in rows if r["demand_gid"] == demand["id"] and r["kind"] == "match"]

    assert len(wait_until(notified, REPLICATION, message="the match notification at SHDEX")) == 1
    time.sleep(3)  # beat ticks and repeated matching must not notify again
    assert len(notified()) == 1

    # The supplier responds from SHDEX; the demander sees it at GYBDX.
    response = shdex.api("POST", f"/api/v1/demands/{demand['id']}/responses/", json=RESPONSE, **_as(seller))
    assert response.status_code == 201, response.text
    rid = response.json()["id"]

    def seen_at_gybdx():
        rows = gybdx.api("GET", f"/api/v1/demands/{demand['id']}/responses/", **_as(buyer)).json()["results"]
        return [r for r in rows if r["id"] == rid]

    seen = wait_until(seen_at_gybdx, REPLICATION, message="the response at GYBDX")
    assert seen[0]["message"] == RESPONSE["message"]
    decided = gybdx.api(
        "POST",
        f"/api/v1/demands/{demand['id']}/responses/{rid}/decision/",
        json={"decision": "shortlisted"},
        **_as(buyer),
    )
    assert decided.status_code == 200, decided.text
    wait_until(
        lambda: (
            shdex.api("GET", f"/api/v1/demands/{demand['id']}/responses/{rid}/", **_as(seller)).json()[
                "decision"
            ]
            == "shortlisted"
        ),
        REPLICATION,
        message="the decision at SHDEX",
    )

    # BJIDX holds the sealed stub (it is in the public log) and nothing of the response itself.
    wait_until(
        lambda: bjidx.origin_state("SHDEX")["cursor"] >= shdex.own_seq(), REPLICATION, message="BJIDX synced"
    )
    held = bjidx.shell_json(
        "import json\nfrom federation.models import Entry, PrivateEntry, PrivateFetch\n"
        "from demands.models import DemandResponse\n"
        f"rid = {rid!r}\n"
        "print(json.dumps({'responses': DemandResponse.objects.count(),"
        " 'private': PrivateEntry.objects.count(),"
        " 'fetches': PrivateFetch.objects.count(),"
        " 'stub': Entry.objects.filter(gid='demand_response:' + rid).count(),"
        " 'bodies': ' '.join(Entry.objects.values_list('body', flat=True))}))"
    )
    assert held["responses"] == 0 and held["private"] == 0 and held["fetches"] == 0 and held["stub"] == 1
    assert RESPONSE["message"] not in held["bodies"] and RESPONSE["proposal"] not in held["bodies"]
    # Asked directly with BJIDX's signature, SHDEX answers 404.
    probe = bjidx.shell_json(
        "import json\nfrom federation.http import PeerError, peer_request\n"
        "from federation.models import Peer\n"
        f"path = '/federation/v1/private/SHDEX/demand_response/{rid}/'\n"
        "try:\n    peer_request(Peer.objects.get(pk='SHDEX'), 'GET', path); print(json.dumps('served'))\n"
        "except PeerError as exc:\n    print(json.dumps(str(exc)))"
    )
    assert probe != "served" and "404" in probe

    # Closing at GYBDX: the responder is told at SHDEX; withdrawal/closing propagate everywhere.
    closed = gybdx.api(
        "POST", f"/api/v1/demands/{demand['id']}/close/", json={"reason": "已选定"}, **_as(buyer)
    )
    assert closed.status_code == 200, closed.text
    for node in (shdex, bjidx):
        wait_until(
            lambda node=node: (
                node.api("GET", f"/api/v1/demands/{demand['id']}/").json()["status"] == "closed"
            ),
            REPLICATION,
            message=f"closed at {node.code}",
        )
    wait_until(
        lambda: any(
            r["kind"] == "demand_closed"
            for r in shdex.api("GET", "/api/v1/notifications/", **_as(seller)).json()["results"]
        ),
        REPLICATION,
        message="the closing notification at SHDEX",
    )
    late = shdex.api("POST", f"/api/v1/demands/{demand['id']}/responses/", json=RESPONSE, **_as(seller))
    assert late.status_code == 409


def test_expiry_at_the_deadline_propagates(nodes):
    gybdx, bjidx = nodes["GYBDX"], nodes["BJIDX"]
    buyer = _register(
        gybdx,
        uscc=make_uscc(random.Random(6006), "520100"),
        name="贵阳过期测试有限公司",
        roles=["demander"],
        username="buyer6",
    )
    posted = gybdx.api(
        "POST", "/api/v1/demands/", json={**DEMAND, "title": "贵阳市气象观测数据采购"}, **_as(buyer)
    )
    assert posted.status_code == 201, posted.text
    gid = posted.json()["id"]
    wait_until(
        lambda: bjidx.api("GET", f"/api/v1/demands/{gid}/").status_code == 200,
        REPLICATION,
        message="at BJIDX",
    )
    # The deadline passes (moved into the past in GYBDX's database); its beat expires it within a tick.
    gybdx.shell_json(
        "import json, datetime\nfrom django.utils import timezone\nfrom demands.models import Demand\n"
        f"Demand.objects.filter(gid={gid!r})"
        ".update(deadline=timezone.now() - datetime.timedelta(seconds=1))\n"
        "print(json.dumps(1))"
    )
    wait_until(
        lambda: bjidx.api("GET", f"/api/v1/demands/{gid}/").json()["status"] == "expired",
        40,
        message="expired at BJIDX",
    )


def test_a_demand_with_a_chosen_reach_reaches_only_those_nodes(nodes):
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    buyer = _register(
        gybdx, uscc=make_uscc(random.Random(7007), "520100"), name="贵阳定向采购有限公司", roles=["demander"],
        username="buyer7",
    )  # fmt: skip
    body = {
        **DEMAND,
        "title": "上海市港口物流数据定向采购",
        "description": "仅面向上海数据交易所征集港口物流与集装箱周转数据，其他交易所不应收到本需求内容。",
        "reach": ["SHDEX"],
    }
    posted = gybdx.api("POST", "/api/v1/demands/", json=body, **_as(buyer))
    assert posted.status_code == 201, posted.text
    gid = posted.json()["id"]
    wait_until(
        lambda: shdex.api("GET", f"/api/v1/demands/{gid}/").status_code == 200,
        REPLICATION,
        message="at SHDEX",
    )
    wait_until(
        lambda: bjidx.origin_state("GYBDX")["cursor"] >= gybdx.own_seq(), REPLICATION, message="BJIDX synced"
    )
    assert bjidx.api("GET", f"/api/v1/demands/{gid}/").status_code == 404
    held = bjidx.shell_json(
        "import json\nfrom federation.models import Entry\nfrom demands.models import Demand\n"
        f"print(json.dumps([Demand.objects.filter(gid={gid!r}).count(), "
        f"Entry.objects.filter(gid='demand:' + {gid!r}).count(), "
        "' '.join(Entry.objects.values_list('body', flat=True))]))"
    )
    assert held[0] == 0 and held[1] == 1 and body["description"] not in held[2]
