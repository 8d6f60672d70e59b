"""The wire format across versions: a node running the code of an older commit and a node running this tree
replicate every record type to each other, in both directions.

The older code is the last commit before issue 18 (a replicated record is a declared type), extracted from
this repository with `git archive`; it runs with this interpreter and its packages. SHDEX runs it, BJIDX runs
this tree, each with web, worker and beat. Everything below is made through the API at one node and compared,
field by field, with what the other node serves: participants and their verification, participant
recognitions, evaluations (issued and revoked), products (listed and edited) with the home recognition and the
other node's automatic one, demands network-wide and with a reach (a sealed stub and a fetch by the audience,
nothing for a node outside it), responses and the demander's decisions (private records, fetched by their
audience). At the end the anti-entropy digests of both origins, asked of each node over the signed federation
API with the other node's key, are equal, every public record type present; nothing is quarantined, no fetch
pending, and `sync verify` at each node finds nothing to repair.

Nodes of the older tree are driven only through its command-line interface and HTTP API (the harness does the
same for them): this tree's module paths need not exist there.

Until the refactor lands, this tree may still be that commit: the test then runs the same code twice, and it
proves the compatibility promise only from the first commit that changes the replication code.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
import random
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests

from federation.repair import digests_agree
from products.sample_data import make_uscc
from tests.multinode.harness import ROOT, Federation, HarnessError, Node, Signer, wait_until
from tests.multinode.test_demands import DEMAND, PRODUCT, RESPONSE, _as
from tests.multinode.test_demands import _register as register_participant
from tests.multinode.test_participants import EVALUATION
from tests.multinode.test_replication import caught_up

pytestmark = pytest.mark.multinode

# The last commit before issue 18, the declared-replica refactor ("a replicated record is a declared type").
OLD_COMMIT = "f18053a7d481f8e453835683e29da92ccba8c9a1"
OLD, NEW = "SHDEX", "BJIDX"  # SHDEX runs OLD_COMMIT, BJIDX this tree
CODES = (OLD, NEW)
REPLICATION = 30  # seconds allowed for a change to reach the other node (it takes about one)
# The public record types the network has today, as named in the anti-entropy digests (docs/federation.md).
PUBLIC_TYPES = {
    "product",
    "recognition",
    "participant",
    "participant_recognition",
    "evaluation",
    "demand",
    "sealed",
}


# --- the older tree ---------------------------------------------------------------------------------------
def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120, check=False)  # noqa: S603,S607


def extract_old_tree(dest: Path) -> Path:
    """OLD_COMMIT's files under `dest` (`git archive`), or skip when this checkout cannot give them."""
    here = Path(__file__).resolve().parent
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the older commit cannot be extracted")
    top = _git("rev-parse", "--show-toplevel", cwd=here)
    if top.returncode != 0:
        pytest.skip(f"{here} is not in a git checkout: {top.stderr.decode(errors='replace').strip()}")
    repo = Path(top.stdout.decode().strip())
    if _git("cat-file", "-e", f"{OLD_COMMIT}^{{commit}}", cwd=repo).returncode != 0:
        pytest.skip(f"commit {OLD_COMMIT} is not in {repo} (a shallow clone?): fetch its history to run this")
    archive = _git("archive", "--format=tar", OLD_COMMIT, cwd=repo)
    if archive.returncode != 0:
        raise HarnessError(f"git archive {OLD_COMMIT}: {archive.stderr.decode(errors='replace')}")
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    if not (dest / "manage.py").is_file():
        raise HarnessError(f"{OLD_COMMIT} extracted to {dest} has no manage.py")
    return dest


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """SHDEX on OLD_COMMIT's code and BJIDX on this tree's, peered with each other, web, worker and beat."""
    base = tmp_path_factory.mktemp("wire-compat")
    old_root = extract_old_tree(base / "old-src")
    federation = Federation((OLD, NEW), base / "nodes", roots={OLD: old_root})
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


@pytest.fixture
def pair(mixed, request):
    yield mixed[OLD], mixed[NEW]
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call")
    )
    if failed:
        print(f"\n===== logs of the nodes after {request.node.name} =====\n{mixed.logs_tail(80)}")


# --- reading both ends ------------------------------------------------------------------------------------
def _get(node: Node, path: str, *, token: str | None = None, headers: dict | None = None) -> dict | None:
    response = node.api("GET", path, token=token, headers=dict(headers or {}), timeout=10)
    return response.json() if response.status_code == 200 else None


def _without(data: dict | None, *local: str) -> dict | None:
    """`data` without the fields each node keeps for itself."""
    return None if data is None else {k: v for k, v in data.items() if k not in local}


def wait_same(what: str, at_origin, at_replica, *, ready=lambda value: True, timeout: float = REPLICATION):
    """Wait until `at_replica()` gives what `at_origin()` gives and `ready` accepts it; fail showing both."""
    last: dict = {}

    def same():
        last["origin"], last["replica"] = at_origin(), at_replica()
        return last["origin"] is not None and ready(last["origin"]) and last["origin"] == last["replica"]

    try:
        wait_until(same, timeout, interval=0.3, message=what)
    except HarnessError as exc:
        raise AssertionError(
            f"{exc}\n  at the origin:  {last.get('origin')!r}\n  at the replica: {last.get('replica')!r}"
        ) from None
    return last["origin"]


def digests_asked(asker: Node, asked: Node, *, base_dir: Path) -> dict:
    """`asked`'s digests of both origins as `asker` gets them: a signed `GET digests/` with its own key."""
    key_file = asker.data_dir / "node_key.pem"  # node_init's default under the node's data directory
    signer = Signer(asker.code, base_dir, key=(key_file.read_text(), asker.public_key))
    url = f"{asked.url}/federation/v1/digests/?origins={OLD},{NEW}"
    [headers] = signer.sign([("GET", url, None)])
    response = requests.get(url, headers={**headers, "Accept": "application/json"}, timeout=30)
    assert response.status_code == 200, (asker.code, asked.code, response.status_code, response.text[:500])
    return response.json()["digests"]


# Every installed app's module file, as the node imports it.
APP_FILES = (
    "import json\nfrom django.apps import apps\n"
    "print(json.dumps([a.module.__file__ for a in apps.get_app_configs()]))"
)


def _other(pair: tuple[Node, Node], node: Node) -> Node:
    return pair[1] if node is pair[0] else pair[0]


# --- the test ---------------------------------------------------------------------------------------------
def test_old_and_new_code_replicate_every_record_type_both_ways(pair, mixed):
    old, new = pair
    nodes = (old, new)

    # 0. Each node runs the code it was given: SHDEX the extracted commit, BJIDX this tree. (Nothing here or
    # below imports a module of the nodes' code inside a node: its paths may differ between the two trees.)
    assert not old.root.is_relative_to(ROOT.resolve())
    for node, root in ((old, old.root), (new, ROOT.resolve())):
        apps = node.shell_json(APP_FILES)
        ours = [f for f in apps if "site-packages" not in Path(f).parts]
        assert len(ours) >= 5 and all(Path(f).resolve().is_relative_to(root) for f in ours), (node.code, apps)

    # 1. Participants: a data merchant and a demander registered and verified at each node, each with a login.
    rng = random.Random(18018)
    people: dict[str, dict] = {}
    for node, region, city in ((old, "310000", "上海"), (new, "110000", "北京")):
        tag = node.code.lower()
        for role, name in (
            ("data_merchant", f"{city}互通数据服务有限公司"),
            ("demander", f"{city}互通采购有限公司"),
        ):
            uscc = make_uscc(rng, region)
            token = register_participant(
                node, uscc=uscc, name=name, roles=[role], username=f"{tag}{role[:6]}"
            )
            people[f"{node.code}:{role}"] = {"uscc": uscc, "token": token, "home": node}

    for person in people.values():
        home, uscc = person["home"], person["uscc"]
        there = _other(pair, home)
        path = f"/api/v1/participants/{uscc}/"
        registration = wait_same(
            f"registration {uscc} of {home.code} at {there.code}",
            lambda home=home, path=path: _without(_get(home, path), "updated_at", "private"),
            lambda there=there, path=path: _without(_get(there, path), "updated_at", "private"),
            ready=lambda r: r["status"] == "verified",
        )
        assert registration["home_exchange"] == home.code and registration["verified_at"]
        assert registration["duplicate_of"] is None and registration["in_good_standing"] is True
        # Each exchange's recognition of the participant, replicated: the same two verdicts at both nodes.
        trust = f"/api/v1/participants/{uscc}/trust/"

        def recognitions(node: Node, trust=trust) -> dict | None:
            data = _get(node, trust)
            if data is None:
                return None
            return {r["exchange"]: _without(r, "updated_at") for r in data["recognitions"]} | {
                "recognised_by": sorted(data["recognised_by"])
            }

        verdicts = wait_same(
            f"recognitions of {uscc} at both nodes",
            lambda home=home: recognitions(home),
            lambda there=there: recognitions(there),
            ready=lambda r: r["recognised_by"] == sorted(CODES),
        )
        for code in CODES:
            assert verdicts[code]["status"] == "recognised" and verdicts[code]["home"] == home.code, verdicts

    # 2. Evaluations: each exchange evaluates the other node's data merchant; visible there; then revoked.
    today = datetime.datetime.now(datetime.UTC).date()
    evaluations = {}
    for node in nodes:
        subject = people[f"{_other(pair, node).code}:data_merchant"]["uscc"]
        body = {
            **EVALUATION,
            "subject": subject,
            "valid_from": today.isoformat(),
            "valid_until": (today + datetime.timedelta(days=180)).isoformat(),
            "summary": f"{node.code}对该数商数据产品的完整性与时效性进行了抽样评估，整体良好。",
        }
        issued = node.api("POST", "/api/v1/evaluations/", token=node.token, json=body)
        assert issued.status_code == 201, issued.text
        evaluations[node.code] = issued.json()
    for node in nodes:
        evaluation, there = evaluations[node.code], _other(pair, node)
        path = f"/api/v1/evaluations/{evaluation['id']}/"
        held = wait_same(
            f"evaluation {evaluation['id']} at {there.code}",
            lambda node=node, path=path: _get(node, path),
            lambda there=there, path=path: _get(there, path),
        )
        assert (held["issuer_id"], held["origin"], held["status"], held["version"]) == (
            node.code,
            node.code,
            "active",
            1,
        )
        assert held["score"] == EVALUATION["score"] and held["current"] is True
        shown = _get(there, f"/api/v1/participants/{evaluation['subject']}/trust/")
        assert evaluation["id"] in [e["id"] for d in shown["evaluations"] for e in d["evaluations"]]
        revoked = node.api(
            "POST", f"{path}revoke/", token=node.token, json={"reason": f"{node.code}复核撤销"}
        )
        assert revoked.status_code == 200, revoked.text
    for node in nodes:
        path, there = f"/api/v1/evaluations/{evaluations[node.code]['id']}/", _other(pair, node)
        held = wait_same(
            f"revocation of {path} at {there.code}",
            lambda node=node, path=path: _get(node, path),
            lambda there=there, path=path: _get(there, path),
            ready=lambda e: e["status"] == "revoked",
        )
        assert (held["version"], held["revoked_reason"]) == (2, f"{node.code}复核撤销")

    # 3. Products: each node lists one for its data merchant, then edits it; the other node holds it at the
    # same version with the same descriptor, and each node's recognition reaches the other one.
    products, listed_versions = {}, {}
    for node, name in ((old, "上海市公共充电桩运行数据集"), (new, "上海市充电场站负荷数据集")):
        merchant = people[f"{node.code}:data_merchant"]
        descriptor = copy.deepcopy(PRODUCT)
        descriptor["provider"] = {
            "name": f"{'上海' if node is old else '北京'}互通数据服务有限公司",
            "uscc": merchant["uscc"],
        }
        descriptor["name"] = name
        listed = node.list_product(descriptor)
        assert (listed["status"], listed["exchange"]) == ("listed", node.code)
        products[node.code] = listed["code"]
        listed_versions[node.code] = listed["version"]
    for node in nodes:
        node.patch_summary(
            products[node.code],
            f"{node.code}更新：覆盖上海市公共充电桩的运行数据，按日更新，用于检验跨版本复制。",
        )
    replicated = ("code", "name", "summary", "exchange", "provider", "product_form", "industry",
                  "update_frequency", "price", "status", "version", "listed_at", "descriptor",
                  "descriptor_version", "status_reasons", "delisted_at")  # fmt: skip

    def product(node: Node, code: str) -> dict | None:
        data = _get(node, f"/api/v1/products/{code}/")
        if data is None:
            return None
        fields = {k: data[k] for k in replicated}
        # `computed` (this tree's reads: a verdict computed, not held) is no replicated field.
        fields["recognitions"] = {
            r["exchange"]: _without(r, "updated_at", "computed") for r in data["recognitions"]
        }
        return fields

    for node in nodes:
        code, there = products[node.code], _other(pair, node)
        held = wait_same(
            f"product {code} of {node.code} with both recognitions at {there.code}",
            lambda node=node, code=code: product(node, code),
            lambda there=there, code=code: product(there, code),
            ready=lambda p, v=listed_versions[node.code] + 1, there=there: (
                p["version"] == v and there.code in p["recognitions"]
            ),
        )
        assert held["descriptor"]["summary"].startswith(f"{node.code}更新") and held["status"] == "listed"
        home, auto = held["recognitions"][node.code], held["recognitions"][there.code]
        assert (home["status"], home["decided_by"]) == ("recognised", "home"), home
        assert (auto["status"], auto["decided_by"]) == ("recognised", "auto"), auto
        # Decided on the listed version or the edited one (a node publishes only a changed decision).
        assert listed_versions[node.code] <= auto["product_version"] <= held["version"], auto

    # 4. Demands: each demander posts a network-wide demand, one reaching the other node, one reaching an
    # exchange with no node here (the other node must not hold it).
    deadline = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
    demands: dict[str, dict] = {}
    for node in nodes:
        buyer, there = people[f"{node.code}:demander"], _other(pair, node)
        for kind, reach, title in (
            ("public", [], f"{node.code}充电桩运行数据采购"),
            ("reach", [there.code], f"{node.code}定向港口物流数据采购"),
            ("outside", ["GYBDX"], f"{node.code}贵州气象观测数据采购"),
        ):
            body = {**DEMAND, "title": title, "reach": reach, "deadline": deadline}
            if node is old:
                body["budget"] = {"min": "50000.50", "max": 200000, "currency": "CNY"}
            posted = node.api("POST", "/api/v1/demands/", json=body, **_as(buyer["token"]))
            assert posted.status_code == 201, posted.text
            demands[f"{node.code}:{kind}"] = posted.json()

    def demand(node: Node, gid: str) -> dict | None:
        return _without(_get(node, f"/api/v1/demands/{gid}/"), "first_matched_at")

    for node in nodes:
        there = _other(pair, node)
        for kind in ("public", "reach"):
            gid = demands[f"{node.code}:{kind}"]["id"]
            held = wait_same(
                f"{kind} demand {gid} at {there.code}",
                lambda node=node, gid=gid: demand(node, gid),
                lambda there=there, gid=gid: demand(there, gid),
            )
            assert (held["origin"], held["version"], held["status"]) == (node.code, 1, "open")
            assert held["reach"] == ([] if kind == "public" else [there.code])
        if node is old:
            assert demand(there, demands[f"{node.code}:public"]["id"])["budget"]["min"] == 50000.5

    # 5. Responses (private: demand origin, demander home, response origin, responder home) and decisions.
    # BJIDX's merchant proposes for SHDEX's demand, at BJIDX; SHDEX's offers its product for BJIDX's demand,
    # at SHDEX.
    responses = {}
    for node in nodes:
        demand_gid = demands[f"{_other(pair, node).code}:public"]["id"]
        seller = people[f"{node.code}:data_merchant"]
        body = dict(RESPONSE)
        if node is old:
            body = {**body, "kind": "offer", "products": [products[node.code]], "price": "98000.50"}
        made = node.api("POST", f"/api/v1/demands/{demand_gid}/responses/", json=body, **_as(seller["token"]))
        assert made.status_code == 201, made.text
        responses[node.code] = made.json()

    def response(node: Node, demand_gid: str, rid: str, token: str) -> dict | None:
        return _get(node, f"/api/v1/demands/{demand_gid}/responses/{rid}/", headers=_as(token)["headers"])

    def wait_response(made_at: Node, ready=lambda r: True, what: str = "response") -> dict:
        made = responses[made_at.code]
        there = _other(pair, made_at)
        buyer = people[f"{there.code}:demander"]["token"]  # the demander's token is accepted at both nodes
        return wait_same(
            f"{what} {made['id']} of {made_at.code} at {there.code}",
            lambda: response(made_at, made["demand"], made["id"], buyer),
            lambda: response(there, made["demand"], made["id"], buyer),
            ready=ready,
        )

    for node in nodes:
        held = wait_response(node)
        assert (held["origin"], held["responder_home"], held["version"], held["decision"]) == (
            node.code,
            node.code,
            1,
            "",
        )
        if node is old:
            assert (held["kind"], held["products"], held["price"]) == (
                "offer",
                [products[OLD]],
                98000.5,
            ), held
        else:
            assert (held["kind"], held["message"]) == ("proposal", RESPONSE["message"]), held

    # SHDEX's demander shortlists, then accepts, BJIDX's proposal (at SHDEX); BJIDX's declines SHDEX's offer.
    decisions = {
        OLD: [("shortlisted", "方案可行"), ("accepted", "选定该方案")],
        NEW: [("declined", "预算不符")],
    }
    for node in nodes:
        made = responses[_other(pair, node).code]
        buyer = people[f"{node.code}:demander"]["token"]
        for decision, reason in decisions[node.code]:
            decided = node.api(
                "POST",
                f"/api/v1/demands/{made['demand']}/responses/{made['id']}/decision/",
                json={"decision": decision, "reason": reason},
                **_as(buyer),
            )
            assert decided.status_code == 200, decided.text
    for node in nodes:
        decision, reason = decisions[_other(pair, node).code][-1]
        held = wait_response(
            node, ready=lambda r, decision=decision: r["decision"] == decision, what="decision on response"
        )
        assert (held["decision"], held["decision_reason"]) == (decision, reason) and held["decided_at"]
        seller = people[f"{node.code}:data_merchant"]["token"]
        mine = response(node, held["demand"], held["id"], seller)
        assert mine is not None and mine["decision"] == decision, mine

    # 6. Status changes: each demander closes its public demand and withdraws its demand with a reach.
    for node in nodes:
        buyer = people[f"{node.code}:demander"]["token"]
        for kind, action in (("public", "close"), ("reach", "withdraw")):
            gid = demands[f"{node.code}:{kind}"]["id"]
            changed = node.api(
                "POST", f"/api/v1/demands/{gid}/{action}/", json={"reason": "已完成"}, **_as(buyer)
            )
            assert changed.status_code == 200, changed.text
    for node in nodes:
        there = _other(pair, node)
        for kind, status in (("public", "closed"), ("reach", "withdrawn")):
            gid = demands[f"{node.code}:{kind}"]["id"]
            held = wait_same(
                f"{status} demand {gid} at {there.code}",
                lambda node=node, gid=gid: demand(node, gid),
                lambda there=there, gid=gid: demand(there, gid),
                ready=lambda d, status=status: d["status"] == status,
            )
            assert (held["version"], held["status_reason"]) == (2, "已完成") and held["closed_at"]

    # 7. Both logs applied at both nodes; the demand reaching GYBDX only is not held by the other node.
    for node in nodes:
        there = _other(pair, node)
        caught_up(there, node, REPLICATION)
        outside = demands[f"{node.code}:outside"]["id"]
        assert there.api("GET", f"/api/v1/demands/{outside}/").status_code == 404
        assert node.api("GET", f"/api/v1/demands/{outside}/").status_code == 200

    def settled(node: Node) -> dict | None:
        status = node.sync_status()
        return status if status["private_fetches_pending"] == 0 else None

    for node in nodes:
        status = wait_until(
            lambda node=node: settled(node), REPLICATION, message=f"{node.code}'s private fetches"
        )
        assert status["quarantined_total"] == 0, status
        assert all(o["quarantined"] == 0 for o in status["origins"]), status

    # 8. Anti-entropy: each node's digests of both origins, asked over the signed federation API as the other
    # node would ask them; the two answers are equal and cover every public record type.
    answers = {}
    for node in nodes:
        there = _other(pair, node)
        answers[there.code] = digests_asked(node, there, base_dir=mixed.base_dir)
    for origin in CODES:
        at_old, at_new = answers[OLD][origin], answers[NEW][origin]
        # Equal as anti-entropy compares them: a type this tree added and nobody wrote yet (count 0) aside.
        assert digests_agree(at_old, at_new), (
            f"digests of {origin} differ:\n  {OLD}: {at_old}\n  {NEW}: {at_new}"
        )
        assert set(at_old) >= PUBLIC_TYPES, sorted(at_old)
        counts = {name: at_old[name]["count"] for name in PUBLIC_TYPES}
        # Each origin made 1 product, 2 recognitions (its own product's and the other's), 1 evaluation,
        # 1 network-wide demand, and the sealed stubs of its 2 demands with a reach (reaching the other node,
        # reaching GYBDX), 1 response and 1 decision.
        exact = {name: counts[name] for name in ("product", "recognition", "evaluation", "demand", "sealed")}
        assert exact == {"product": 1, "recognition": 2, "evaluation": 1, "demand": 1, "sealed": 4}, origin
        assert counts["participant"] >= 2 and counts["participant_recognition"] >= 4, (origin, counts)

    # `sync verify` (the anti-entropy check a node runs on demand) finds both origins equal, nothing repaired.
    for node in nodes:
        rows = [
            json.loads(line)
            for line in node.manage("sync", "verify", timeout=120).splitlines()
            if line.startswith("{")
        ]
        assert {(r["origin"], r["status"]) for r in rows} == {(OLD, "equal"), (NEW, "equal")}, (
            node.code,
            rows,
        )

    # Standards (docs/standards/versions.md): the older node announces none in its anti-entropy answer, so the
    # newer one shows its standards as unknown, never as differing.
    status = pair[1].sync_status()
    old_peer = next(p for p in status["peers"] if p["code"] == OLD)
    assert (old_peer["standards"], old_peer["standards_status"]) == (None, "unknown"), old_peer
    assert status["peers_standards_differ"] == [], status["peers_standards_differ"]
