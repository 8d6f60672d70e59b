"""一地注册，全国互信 between real nodes (gunicorn + Celery worker + beat each) on loopback: a participant
registered at SHDEX is known everywhere, its token works everywhere until it is suspended at home, one USCC
registered at two nodes at once ends with the same winner everywhere, evaluations issued at one node show in
the trust view at another, and no private field ever leaves the home node."""

from __future__ import annotations

import copy
import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from products.sample_data import descriptor as sample_descriptor
from products.sample_data import make_uscc
from tests.multinode.harness import Node, wait_until

pytestmark = pytest.mark.multinode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
PARTICIPANT = json.loads((DOCS / "participant.json").read_text("utf-8"))
EVALUATION = json.loads((DOCS / "evaluation.json").read_text("utf-8"))
# the phones' digits with their spaces: a bare "5555" occurs in timestamps
PRIVATE_MARKERS = ("王敏", " 5555 0", "pushu-example.cn", "DOC-2026-0001", "营业执照副本")
REPLICATION = 30  # seconds allowed for a change to reach every node (it takes about one)


def _uscc(seed: int, region: str = "310000") -> str:
    return make_uscc(random.Random(seed), region)


def _register(node: Node, body: dict, *, verify: bool = True) -> dict:
    response = node.api("POST", "/api/v1/participants/", token=node.token, json=body)
    assert response.status_code == 201, response.text
    if verify:
        response = node.api(
            "POST",
            f"/api/v1/participants/{body['uscc']}/verification/",
            token=node.token,
            json={"status": "verified"},
        )
        assert response.status_code == 200, response.text
    return response.json()


def _verification(node: Node, uscc: str, status: str, reason: str) -> None:
    response = node.api(
        "POST",
        f"/api/v1/participants/{uscc}/verification/",
        token=node.token,
        json={"status": status, "reason": reason},
    )
    assert response.status_code == 200, response.text


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_registered_at_shdex_known_everywhere_duplicate_refused_token_works_until_suspended(nodes):
    """The product GYBDX listed for the SHDEX merchant is suspended with it, and listed again after."""
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    body = copy.deepcopy(PARTICIPANT)
    body["uscc"] = _uscc(101)
    body["account"] = {"username": "merchant-101", "password": "Qz8-violet-harbor"}
    _register(shdex, body)
    for node in (bjidx, gybdx):
        replica = node.wait_participant(body["uscc"], REPLICATION)
        assert replica["home_exchange"] == "SHDEX" and replica["legal_name"] == body["legal_name"]
        assert replica["private"] is None

    # Registering the same company at BJIDX: 409 naming its home exchange.
    again = {**body, "account": None}
    again.pop("account")
    response = bjidx.api("POST", "/api/v1/participants/", token=bjidx.token, json=again)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["home_exchange"] == "SHDEX"

    # A token from SHDEX works at GYBDX without GYBDX calling SHDEX: the merchant lists a draft there.
    login = shdex.api("POST", "/api/v1/auth/token/", json=body["account"])
    assert login.status_code == 200, login.text
    access = login.json()["access"]
    draft = sample_descriptor(random.Random(5))
    draft["provider"] = {"name": body["legal_name"], "uscc": body["uscc"]}
    created = gybdx.api("POST", "/api/v1/products/", json={"descriptor": draft}, headers=_bearer(access))
    assert created.status_code == 201, created.text
    assert created.json()["exchange"] == "GYBDX"
    code = created.json()["code"]
    for path, payload in (("submit/", None), ("review/", {"decision": "approve"})):  # GYBDX lists it
        response = gybdx.api("POST", f"/api/v1/products/{code}/{path}", token=gybdx.token, json=payload)
        assert response.status_code == 200, response.text
    assert response.json()["status"] == "listed"

    # Suspended at SHDEX: GYBDX refuses the same token within the replication latency.
    _verification(shdex, body["uscc"], "suspended", "资质复核")

    def refused():
        r = gybdx.api("GET", f"/api/v1/products/{code}/", headers=_bearer(access))
        return r.status_code == 401

    wait_until(refused, REPLICATION, message="GYBDX to refuse the suspended participant's token")
    assert gybdx.wait_participant(body["uscc"], REPLICATION, status="suspended")["in_good_standing"] is False

    # ... and GYBDX suspends the product it listed for that merchant; the suspension replicates to SHDEX.
    def suspended_at(node: Node):
        def check():
            r = node.api("GET", f"/api/v1/products/{code}/")
            return r.status_code == 200 and r.json()["status"] == "suspended" and r.json()

        return check

    held = wait_until(suspended_at(gybdx), REPLICATION, message="GYBDX to suspend the merchant's product")
    assert "suspended or revoked" in held["status_reasons"][0]
    wait_until(suspended_at(shdex), REPLICATION, message="SHDEX to see GYBDX's product suspended")

    # Verified again at SHDEX: GYBDX lists the product again by itself.
    _verification(shdex, body["uscc"], "verified", "复核通过")

    def listed_again():
        r = gybdx.api("GET", f"/api/v1/products/{code}/")
        return r.status_code == 200 and r.json()["status"] == "listed"

    wait_until(listed_again, REPLICATION, message="GYBDX to list the merchant's product again")


def test_simultaneous_registration_of_one_uscc_ends_with_one_winner_everywhere(nodes):
    bjidx, gybdx = nodes["BJIDX"], nodes["GYBDX"]
    uscc = _uscc(202, "520100")

    def register(node: Node):
        body = copy.deepcopy(PARTICIPANT)
        body.update(uscc=uscc, legal_name=f"{node.code} 登记的同一家公司")
        body.pop("account")
        return node.api("POST", "/api/v1/participants/", token=node.token, json=body).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(register, (bjidx, gybdx)))
    assert 201 in statuses and set(statuses) <= {201, 409}, statuses

    def verdicts():
        seen = {}
        for node in nodes:
            rows = node.api("GET", f"/api/v1/participants/?q={uscc}").json()["results"]
            if len(rows) != statuses.count(201):
                return None
            winner = node.api("GET", f"/api/v1/participants/{uscc}/").json()["home_exchange"]
            losers = sorted(
                (r["home_exchange"], (r["duplicate_of"] or {}).get("home_exchange")) for r in rows
            )
            seen[node.code] = (winner, losers)
        return seen if len(set(map(json.dumps, seen.values()))) == 1 else None

    seen = wait_until(verdicts, REPLICATION, message="every node to hold both registrations, one winner")
    winner, rows = seen["SHDEX"]
    assert [home for home, dup in rows if dup is None] == [winner]
    assert all(dup == winner for home, dup in rows if home != winner)
    print(f"registrations {statuses}; winner {winner} at every node")


def test_evaluation_issued_at_gybdx_shows_in_the_trust_view_at_shdex_until_revoked(nodes):
    shdex, gybdx = nodes["SHDEX"], nodes["GYBDX"]
    body = copy.deepcopy(PARTICIPANT)
    body["uscc"] = _uscc(303)
    body.pop("account")
    _register(shdex, body)
    gybdx.wait_participant(body["uscc"], REPLICATION)

    issued = gybdx.api(
        "POST", "/api/v1/evaluations/", token=gybdx.token, json={**EVALUATION, "subject": body["uscc"]}
    )
    assert issued.status_code == 201, issued.text
    evaluation = issued.json()
    assert evaluation["issuer_id"] == "GYBDX"

    def trust_at_shdex():
        return shdex.api("GET", f"/api/v1/participants/{body['uscc']}/trust/").json()

    def shows():
        trust = trust_at_shdex()
        ids = [e["id"] for d in trust["evaluations"] for e in d["evaluations"]]
        return (
            evaluation["id"] in ids and set(trust["recognised_by"]) == {"SHDEX", "BJIDX", "GYBDX"} and trust
        )

    trust = wait_until(shows, REPLICATION, message="the evaluation and three recognitions at SHDEX")
    assert trust["evaluations"][0]["dimension"] == "data_quality"

    revoked = gybdx.api(
        "POST",
        f"/api/v1/evaluations/{evaluation['id']}/revoke/",
        token=gybdx.token,
        json={"reason": "依据有误"},
    )
    assert revoked.status_code == 200, revoked.text
    wait_until(lambda: trust_at_shdex()["evaluations"] == [], REPLICATION, message="the revocation at SHDEX")
    # SHDEX cannot revoke what GYBDX issued.
    response = shdex.api(
        "POST", f"/api/v1/evaluations/{evaluation['id']}/revoke/", token=shdex.token, json={"reason": "x"}
    )
    assert response.status_code == 403


ENTRY_BODIES = (
    "import json\nfrom federation.models import Entry\n"
    "print(json.dumps(list(Entry.objects.values_list('body', flat=True))))"
)


def test_no_private_field_leaves_the_home_node(nodes):
    shdex = nodes["SHDEX"]
    body = copy.deepcopy(PARTICIPANT)
    body["uscc"] = _uscc(404)
    body["account"] = {"username": "merchant-404", "password": "Qz8-amber-canyon"}
    _register(shdex, body)
    shdex.api(
        "PATCH",
        f"/api/v1/participants/{body['uscc']}/",
        token=shdex.token,
        json={"phone": "+86 21 5555 0404"},
    )
    for node in nodes:
        node.wait_participant(body["uscc"], REPLICATION)
    # Every entry every node holds (what feeds serve to peers) and every public response of every node.
    for node in nodes:
        bodies = node.shell_json(ENTRY_BODIES)
        assert any(body["uscc"] in b for b in bodies), node.code
        everything = "\n".join(bodies)
        for path in (
            f"/api/v1/participants/{body['uscc']}/",
            f"/api/v1/participants/?q={body['uscc']}",
            f"/api/v1/participants/{body['uscc']}/trust/",
        ):
            everything += node.api("GET", path).text
        for marker in PRIVATE_MARKERS:
            assert marker not in everything, (node.code, marker)
    # At home, the participant's operator does see them.
    own = shdex.api("GET", f"/api/v1/participants/{body['uscc']}/", token=shdex.token).json()
    assert own["private"]["phone"] == "+86 21 5555 0404"


# --- a rogue member node (issue 23, finding 1) -------------------------------------------------------------
# GYBDX turns rogue: its operator writes straight into its own database and publishes, signed with its own
# valid key, a verified registration of a company registered at SHDEX, claiming 2000-01-01, then signs a
# token for it. What it claims is untrusted input at SHDEX (the victim's home) and at BJIDX (a bystander).
ROGUE_REGISTRATION = """
import datetime, json
from django.db import transaction
from participants.identity import participants_publish
from participants.models import Participant
from participants.tokens import access_token_issue
uscc = "__USCC__"
with transaction.atomic():
    row = Participant.objects.get(participant_id=uscc, home_id="SHDEX")
    row.pk, row._state.adding = None, True
    row.home_id, row.is_home, row.version, row.status = "GYBDX", True, 1, "verified"
    row.registered_at = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    row.verified_at, row.duplicate_of = row.registered_at, ""
    row.first_seen_at = row.standing_since = None
    row.save()
    participants_publish([row])
token, _ = access_token_issue(username="rogue", participant_id=uscc, roles=["data_merchant", "demander"])
print(json.dumps(token))
"""


def _conflicts(node: Node, uscc: str) -> list[dict]:
    response = node.api("GET", "/api/v1/participants/conflicts/", token=node.token, timeout=10)
    assert response.status_code == 200, response.text
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    return [c for c in rows if c["participant_id"] == uscc]


def test_a_rogue_peer_s_backdated_registration_displaces_no_one(nodes):
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    body = copy.deepcopy(PARTICIPANT)
    body["uscc"] = uscc = _uscc(505)
    body["account"] = {"username": "merchant-505", "password": "Qz8-cedar-meadow"}
    _register(shdex, body)
    for node in (bjidx, gybdx):
        node.wait_participant(uscc, REPLICATION)
    draft = sample_descriptor(random.Random(505))
    draft["provider"] = {"name": body["legal_name"], "uscc": uscc}
    product = shdex.list_product(draft)["code"]
    wait_until(lambda: bjidx.api("GET", f"/api/v1/products/{product}/").status_code == 200, REPLICATION)

    rogue_token = gybdx.shell_json(ROGUE_REGISTRATION.replace("__USCC__", uscc))

    # The claim reaches both nodes and becomes a conflict for their operators, visible in the node status.
    for node in (shdex, bjidx):
        seen = wait_until(
            lambda node=node: _conflicts(node, uscc), REPLICATION, message=f"a conflict at {node.code}"
        )
        assert {(c["standing_home"], c["challenger_home"], c["decision"]) for c in seen} == {
            ("SHDEX", "GYBDX", "open")
        }, seen
        assert {c["reason"] for c in seen} <= {"verified_displacement", "backdated"}
        assert seen[0]["challenger_registered_at"].startswith("2000-01-01")
        status = node.api("GET", "/api/v1/node/").json()
        assert status["registration_conflicts_open"] >= 1, status
        # The registration that stood still stands; the rogue's is a duplicate of it.
        standing = node.api("GET", f"/api/v1/participants/{uscc}/").json()
        assert (standing["home_exchange"], standing["in_good_standing"]) == ("SHDEX", True), standing
        rows = node.api("GET", f"/api/v1/participants/?q={uscc}").json()["results"]
        assert {(r["home_exchange"], (r["duplicate_of"] or {}).get("home_exchange")) for r in rows} == {
            ("SHDEX", None),
            ("GYBDX", "SHDEX"),
        }, rows
        # The victim's product stays listed.
        assert node.api("GET", f"/api/v1/products/{product}/").json()["status"] == "listed"

    # The rogue's token for the victim's USCC is refused at the victim's home: no private fields, no edits.
    rogue = _bearer(rogue_token)
    assert shdex.api("GET", f"/api/v1/participants/{uscc}/", headers=rogue).status_code == 401
    edit = {"descriptor": {"summary": "被冒名者修改的摘要，不应生效。"}}
    assert shdex.api("PATCH", f"/api/v1/products/{product}/", json=edit, headers=rogue).status_code == 401
    assert bjidx.api("GET", f"/api/v1/products/{product}/", headers=rogue).status_code == 401
    # ... while the real merchant's token works and shows its private fields at home.
    login = shdex.api("POST", "/api/v1/auth/token/", json=body["account"])
    assert login.status_code == 200, login.text
    own = shdex.api("GET", f"/api/v1/participants/{uscc}/", headers=_bearer(login.json()["access"]))
    assert own.status_code == 200 and own.json()["private"]["phone"] == PARTICIPANT["phone"], own.text

    # Removing the rogue peer at BJIDX settles the company again there: the conflict is moot.
    bjidx.manage("peers", "remove", "GYBDX")
    try:
        assert {c["decision"] for c in _conflicts(bjidx, uscc)} == {"moot"}
        assert bjidx.api("GET", "/api/v1/node/").json()["registration_conflicts_open"] == 0
        assert bjidx.api("GET", f"/api/v1/participants/{uscc}/").json()["home_exchange"] == "SHDEX"
    finally:
        bjidx.add_peer(gybdx)


def test_removing_a_peer_frees_the_usccs_its_registrations_held(nodes):
    """What a peer's registrations decided here is undone when it is no longer a peer: a company GYBDX
    registered (and verified) can then be registered at SHDEX."""
    shdex, gybdx = nodes["SHDEX"], nodes["GYBDX"]
    body = copy.deepcopy(PARTICIPANT)
    body["uscc"] = uscc = _uscc(606, "520100")
    body.pop("account")
    _register(gybdx, body)
    shdex.wait_participant(uscc, REPLICATION)
    refused = shdex.api("POST", "/api/v1/participants/", token=shdex.token, json=body)
    assert refused.status_code == 409 and refused.json()["error"]["home_exchange"] == "GYBDX", refused.text
    shdex.manage("peers", "remove", "GYBDX")
    try:
        created = shdex.api("POST", "/api/v1/participants/", token=shdex.token, json=body)
        assert created.status_code == 201, created.text
        standing = shdex.api("GET", f"/api/v1/participants/{uscc}/").json()
        assert standing["home_exchange"] == "SHDEX", standing
    finally:
        shdex.add_peer(gybdx)
