"""Malformed input at every write endpoint and every query parameter of the published API schema: never a
500, always the one error shape, and a refused request leaves nothing written.

The bodies are the documented examples (docs/examples/) and the schema's own fields, each mutated one value at
a time (wrong types, null, empty, huge, NUL characters, lone surrogates, out-of-range numbers, a missing or an
unknown key) with a fixed seed, plus whole bodies that are not what the endpoint takes (not an object, not
JSON, nested ten thousand deep). Each request runs against the same world (a draft, a submitted, a listed and
a replicated product, a registration, an evaluation, a demand with a response, a webhook) inside a savepoint
that is rolled back afterwards, so every mutation meets the state the valid body was written for.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from federation import keys
from federation.peers import peer_add
from federation.signatures import sign_request
from participants.models import RegistrationConflict
from products.models import ProductStatus
from tests.deal_world import deal_client, deal_fill, deal_world
from tests.factories import make_foreign_product, make_product, random_descriptor, register_provider
from tests.quality_world import body as quality_body

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SEED = 20261128
MUTATIONS_PER_OPERATION = 45


def _uscc(seed: int) -> str:
    from products.sample_data import make_uscc

    return make_uscc(random.Random(seed), "310000")


DEMANDER, NEWCOMER = _uscc(501), _uscc(502)
JSON = "application/json"

# Values that a field of any type may receive from a careless or hostile client.
NASTY = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**70),
    10**400,
    1.5,
    -0.0,
    1e308,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff文",
    "x" * 20_000,
    "数" * 3000,
    "\u202e\u200b",
    "'; DROP TABLE products_product; --",
    "%s%s%n",
    "../../etc/passwd",
    "2026-13-45",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01",
    "NaN",
    "-1",
    "１２３",
    [],
    [None],
    ["\x00"],
    list(range(2000)),
    {},
    {"": None},
    {"\x00": 1},
    [[[[[]]]]],
    json.loads("[" * 300 + "]" * 300),
    {"a": json.loads('{"b":' * 250 + "1" + "}" * 250)},
]

# Whole bodies that are not a JSON object of the endpoint's fields.
RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b"1",
    b'"text"',
    b"{",
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b"\xff\xfe\x00",
    b'{"a": "\\ud800"}',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    json.dumps({f"k{i}": i for i in range(5_000)}).encode(),
]

# Query-parameter values for every list filter, page and cursor.
NASTY_QUERY = [
    "",
    "\x00",
    "%00",
    "a\x00b",
    "\ud800",
    "-1",
    "0",
    "99999999999999999999999",
    "1e9",
    "x" * 5000,
    "数据" * 500,
    "' OR 1=1 --",
    "SHDEX,BJIDX",
    "true",
    "[]",
    "*",
    "\\",
    '"',
    "(",
    "AND OR NOT",
    "-",
]

PATH_VALUES = ["0", "-1", "99999999999999999999", "x" * 300, "%00", "..", "数据", "SHDEX-2026-000001-X"]

# Tables a refused request must leave as they were.
WATCHED = [
    "products.Product",
    "products.ProductVersion",
    "products.Recognition",
    "federation.Entry",
    "federation.PrivateEntry",
    "participants.Participant",
    "participants.Evaluation",
    "demands.Demand",
    "demands.DemandResponse",
    "participants.ParticipantPrivate",
    "participants.StatusChange",
    "products.ProductRegion",
    "accounts.RefreshToken",
    "demands.WebhookSubscription",
    "demands.Notification",
    "accounts.User",
    "federation.SyncState",
]


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def _login(username: str, password: str) -> APIClient:
    client = APIClient()
    pair = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert pair.status_code == 200, pair.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The world logs in three accounts per test: a fast hasher (these passwords protect nothing)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(alice, alice_api, settings):
    """One of every record a write endpoint acts on, and the client that may act on it."""
    settings.WEBHOOK_ALLOWED_PRIVATE_URLS = frozenset({"http://127.0.0.1:9/hook", "http://127.0.0.1:9/other"})
    product = _example("product-descriptor.json")
    provider = product["provider"]
    register_provider(
        provider["uscc"], provider["name"], account={"username": "seller", "password": "Qz8-seller-canyon"}
    )
    register_provider(
        DEMANDER,
        "上海浦数智能科技有限公司",
        roles=("demander",),
        account={"username": "buyer", "password": "Qz8-buyer-harbor"},
    )
    listed = make_product(actor=alice, descriptor=copy.deepcopy(product), status=ProductStatus.LISTED)
    drafts = []
    for status in (
        ProductStatus.DRAFT,
        ProductStatus.SUBMITTED,
        ProductStatus.SUBMITTED,
        ProductStatus.SUSPENDED,
    ):
        d = random_descriptor()
        d["provider"] = copy.deepcopy(provider)
        drafts.append(make_product(actor=alice, descriptor=d, status=status))
    foreign = make_foreign_product()
    seller, buyer = _login("seller", "Qz8-seller-canyon"), _login("buyer", "Qz8-buyer-harbor")
    refresh = APIClient().post(
        "/api/v1/auth/token/", {"username": "buyer", "password": "Qz8-buyer-harbor"}, format="json"
    )
    new_product = random_descriptor()
    new_product["provider"] = copy.deepcopy(provider)

    demand_body = _example("demand.json")
    demand_body["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
    demand = buyer.post("/api/v1/demands/", demand_body, format="json")
    assert demand.status_code == 201, demand.content
    response_body = _example("demand-response.json")
    response_body["products"] = [listed.code]
    answer = seller.post(f"/api/v1/demands/{demand.json()['id']}/responses/", response_body, format="json")
    assert answer.status_code == 201, answer.content

    participant_body = _example("participant.json")
    participant = alice_api.post("/api/v1/participants/", participant_body, format="json")
    assert participant.status_code == 201, participant.content
    verified = alice_api.post(
        f"/api/v1/participants/{participant_body['uscc']}/verification/",
        {"status": "verified"},
        format="json",
    )
    assert verified.status_code == 200, verified.content
    evaluation_body = _example("evaluation.json")
    evaluation = alice_api.post("/api/v1/evaluations/", evaluation_body, format="json")
    assert evaluation.status_code == 201, evaluation.content
    hook = seller.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/hook"}, format="json")
    assert hook.status_code == 201, hook.content
    now = datetime.datetime.now(datetime.UTC)
    conflict = RegistrationConflict.objects.create(
        participant_id=participant_body["uscc"],
        reason="verified_displacement",
        standing_home="SHDEX",
        challenger_home="BJIDX",
        standing_registered_at=now,
        challenger_registered_at=now - datetime.timedelta(minutes=1),
    )

    rejected = {"decision": "reject", "reasons": ["资料不全"]}
    clients = {"alice": alice_api, "seller": seller, "buyer": buyer}
    deal_paths, deal_bodies = deal_world(clients, listed.code)
    report = alice_api.post(f"/api/v1/products/{listed.code}/quality-reports/", quality_body(), format="json")
    assert report.status_code == 201, report.content
    return {
        "clients": {"alice": alice_api, "seller": seller, "buyer": buyer, "anon": APIClient()},
        "path": {
            "{id}": demand.json()["id"],
            "{rid}": answer.json()["id"],
            "{participant}": participant_body["uscc"],
            "{conflict}": conflict.pk,
            "{evaluation}": evaluation.json()["id"],
            "{webhook}": hook.json()["id"],
            "{draft}": drafts[0].code,
            "{submitted}": drafts[1].code,
            "{withdrawable}": drafts[2].code,
            "{suspended}": drafts[3].code,
            "{listed}": listed.code,
            "{foreign}": foreign.code,
            "{quality_report}": report.json()["id"],
            **deal_paths,
        },
        "bodies": {
            "/api/v1/auth/token/": {"username": "seller", "password": "Qz8-seller-canyon"},
            "/api/v1/auth/token/refresh/": {"refresh": refresh.json()["refresh"]},
            "/api/v1/auth/password/": {
                "current_password": "Qz8-buyer-harbor",
                "new_password": "Qz8-buyer-harbor-2",
            },
            "/api/v1/participants/conflicts/{id}/decision/": {"decision": "keep", "note": "已核实"},
            "/api/v1/demands/": demand_body,
            "/api/v1/demands/{id}/responses/": response_body,
            "/api/v1/demands/{id}/responses/{rid}/decision/": {
                "decision": "shortlisted",
                "reason": "价格合适",
            },
            "/api/v1/evaluations/": {**evaluation_body, "dimension": "credit"},
            "/api/v1/evaluations/{id}/revoke/": {"reason": "评估有误"},
            "/api/v1/participants/": {
                **participant_body,
                "uscc": NEWCOMER,
                "account": {"username": "newcomer", "password": "Qz8-new-comer-9"},
            },
            "/api/v1/participants/{id}/": {"description": "新的简介", "phone": "021-55551234"},
            "/api/v1/participants/{id}/accounts/": {"username": "another", "password": "Qz8-an-other-9"},
            "/api/v1/participants/{id}/verification/": {"status": "suspended", "reason": "核查"},
            "/api/v1/products/": {"descriptor": new_product},
            "/api/v1/products/{code}/": {"descriptor": drafts[0].descriptor, "expected_version": 1},
            ("PATCH", "/api/v1/products/{code}/"): {
                "descriptor": {
                    "usage_restrictions": "仅限需方内部研究使用，不得转售，不得用于识别特定个人。"
                },
                "expected_version": 1,
            },
            "/api/v1/products/{code}/delist/": {"reasons": ["停止供应"]},
            "/api/v1/products/{code}/suspend/": {"reasons": ["核查中"]},
            "/api/v1/products/{code}/reinstate/": {"reasons": ["核查完毕"]},
            "/api/v1/products/{code}/recognition/": {"status": "refused", "reasons": ["资料不全"]},
            "/api/v1/products/{code}/review/": rejected,
            "/api/v1/products/{code}/submit/": {"expected_version": 1},
            "/api/v1/products/{code}/withdraw/": {},
            "/api/v1/standards/naming/check/": {
                "name": product["name"],
                "product_form": product["product_form"],
                "spatial_coverage": product["spatial_coverage"],
                "provider_uscc": provider["uscc"],
            },
            "/api/v1/standards/product-code/check/": {"code": listed.code},
            "/api/v1/standards/product-descriptor/validate/": {"descriptor": product},
            "/api/v1/webhooks/": {"url": "http://127.0.0.1:9/other"},
            "/api/v1/demands/{id}/close/": {"reason": "已找到"},
            "/api/v1/demands/{id}/withdraw/": {"reason": "不再需要"},
            "/api/v1/exchanges/{code}/recognition-policy/": {"quality_report_required": True},
            "/api/v1/products/{code}/quality-reports/": quality_body(score=70, reference="ZJ-2026-0043"),
            "/api/v1/quality-reports/{id}/withdraw/": {"reason": "评估有误"},
            **deal_bodies,
        },
    }


# Which client writes where, and which record a path's parameter names.
def _who(path: str) -> str:
    if deal_client(path):
        return deal_client(path)
    if path == "/api/v1/auth/password/":
        return "buyer"
    if path.startswith(("/api/v1/auth/", "/api/v1/standards/")):
        return "anon"
    if path.startswith("/api/v1/webhooks/") or path == "/api/v1/demands/{id}/responses/":
        return "seller"
    if path.startswith("/api/v1/demands/"):
        return "buyer"
    return "alice"


def _product_record(path: str) -> str:
    for suffix, record in (
        ("/review/", "{submitted}"),
        ("/delist/", "{listed}"),
        ("/suspend/", "{listed}"),
        ("/reinstate/", "{suspended}"),
        ("/withdraw/", "{withdrawable}"),
        ("/recognition/", "{foreign}"),
        ("/versions/", "{listed}"),
        ("/quality-reports/", "{listed}"),
    ):
        if path.endswith(suffix) or f"{suffix}{{version}}" in path:
            return record
    return "{draft}"


def _fill(path: str, world: dict) -> str:
    values = world["path"]
    if deal_fill(path, values):
        return deal_fill(path, values)
    if "/participants/conflicts/" in path:
        path = path.replace("{id}", str(values["{conflict}"]))
    elif "/participants/" in path:
        path = path.replace("{id}", str(values["{participant}"]))
    elif "/evaluations/" in path:
        path = path.replace("{id}", str(values["{evaluation}"]))
    elif "/webhooks/" in path:
        path = path.replace("{id}", str(values["{webhook}"]))
    elif path.startswith("/api/v1/quality-reports/"):
        path = path.replace("{id}", str(values["{quality_report}"]))
    path = path.replace("{code}", values[_product_record(path)]).replace("{version}", "1")
    return path.replace("{id}", str(values["{id}"])).replace("{rid}", str(values["{rid}"]))


def _operations(prefix: str = "/api/") -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, item in sorted(schema["paths"].items())
        if path.startswith(prefix)
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value, the root included."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutations(body: dict, rng: random.Random, count: int):
    """`count` bodies, each `body` with one change: a value replaced, a key dropped or a key added."""
    spots = [(path, value) for path, value in _paths(body) if path]
    objects = [path for path, value in _paths(body) if isinstance(value, dict)]
    for _ in range(count):
        mutated = copy.deepcopy(body)
        kind = rng.random()
        if kind < 0.75 and spots:
            path, _ = rng.choice(spots)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = copy.deepcopy(rng.choice(NASTY))
            yield f"set {'.'.join(map(str, path))}", mutated
        elif kind < 0.9 and spots:
            path, _ = rng.choice(spots)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
            yield f"drop {'.'.join(map(str, path))}", mutated
        else:
            path = rng.choice(objects)
            parent = mutated
            for step in path:
                parent = parent[step]
            parent[rng.choice(["extra", "\x00", "id", "version", "exchange", "__proto__"])] = rng.choice(
                NASTY
            )
            yield f"add a key in {'.'.join(map(str, path)) or 'the body'}", mutated


def _encode(body) -> bytes:
    # Lone surrogates and NUL are sent as JSON escapes, as a client's serialiser would write them.
    return json.dumps(body, ensure_ascii=True).encode()


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WATCHED}


def _check(response, what: str, before: dict[str, int]) -> list[str]:
    """What is wrong with `response` to a malformed request (an empty list when nothing is)."""
    status = response.status_code
    if status >= 500:
        return [f"{what}: {status} {response.content[:300]!r}"]
    if status < 400:
        return []
    problems = []
    try:
        error = response.json()["error"]
        assert error["status"] == status
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and isinstance(error["message_en"], str)
        assert isinstance(error["errors"], list)
        for item in error["errors"]:
            assert {"field", "code", "message", "message_en"} <= set(item)
        if status == 400 and error["code"] == "validation_error":
            assert error["errors"], "a validation error lists the rules broken"
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        problems.append(f"{what}: {status} not in the error shape ({exc}): {response.content[:300]!r}")
    after = _counts()
    if after != before:
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        problems.append(f"{what}: refused with {status} but wrote {changed}")
    return problems


def _send(client: APIClient, method: str, path: str, data: bytes, *, content_type=JSON):
    return client.generic(method, path, data, content_type=content_type)


def _probe(
    client, method: str, url: str, data: bytes, what: str, content_type="application/json"
) -> list[str]:
    """Send one request in a savepoint rolled back afterwards (every request meets the same world); returns
    what is wrong with the answer."""
    with transaction.atomic():
        before = _counts()
        problems = _check(_send(client, method, url, data, content_type=content_type), what, before)
        transaction.set_rollback(True)
    return problems


# JSON bodies (a sample file's upload, a raw CSV or JSON lines body: tests/test_product_profiles.py)
WRITE_OPERATIONS = [
    (m, p)
    for m, p, op in _operations()
    if "requestBody" in op and "application/json" in op["requestBody"]["content"]
]
READ_OPERATIONS = [
    (m, p)
    for m, p, op in _operations()
    if m == "GET" and any(param["in"] == "query" for param in op.get("parameters", []))
]
PARAMETERS = {(m, p): op.get("parameters", []) for m, p, op in _operations()}


@pytest.mark.parametrize(("method", "path"), WRITE_OPERATIONS, ids=[f"{m} {p}" for m, p in WRITE_OPERATIONS])
def test_malformed_bodies_are_refused_in_the_error_shape_and_write_nothing(world, method, path):
    client = world["clients"][_who(path)]
    url = _fill(path, world)
    bodies = world["bodies"]
    base = copy.deepcopy(bodies.get((method, path), bodies.get(path, {})))
    rng = random.Random(f"{SEED}{method}{path}")
    problems: list[str] = []

    # The valid body itself is accepted: the mutations below each break one thing of a body that works.
    with transaction.atomic():
        valid = _send(client, method, url, _encode(base))
        transaction.set_rollback(True)
    assert valid.status_code < 300, (url, valid.content)

    cases = [(f"raw body {raw[:30]!r}", raw) for raw in RAW_BODIES]
    cases += [(what, _encode(body)) for what, body in _mutations(base, rng, MUTATIONS_PER_OPERATION)]
    for what, data in cases:
        problems += _probe(client, method, url, data, f"{method} {url} {what}")
    # The wrong media type and a body over the limit.
    for what, data, content_type in (
        ("form body", b"a=1&b=2", "application/x-www-form-urlencoded"),
        ("text body", b"hello", "text/plain"),
        ("oversized body", b'{"x": "' + b"a" * 300_000 + b'"}', "application/json"),
    ):
        problems += _probe(client, method, url, data, f"{method} {url} {what}", content_type)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("method", "path"), READ_OPERATIONS, ids=[f"{m} {p}" for m, p in READ_OPERATIONS])
def test_malformed_query_parameters_are_refused_in_the_error_shape(world, method, path):
    client = world["clients"]["alice"]
    url = _fill(path, world)
    rng = random.Random(f"{SEED}{path}")
    problems = []
    names = [p["name"] for p in PARAMETERS[(method, path)] if p["in"] == "query"]
    for name in [*names, "unknown", "page"]:
        for value in [*rng.sample(NASTY_QUERY, 8), "\x00", "99999999999999999999999"]:
            before = _counts()
            query = f"{quote(name)}={quote(value.encode('utf-8', 'surrogatepass'))}"
            response = client.generic("GET", f"{url}?{query}")
            problems += _check(response, f"GET {url}?{name}={value[:20]!r}", before)
    assert not problems, "\n".join(problems)


def test_malformed_path_parameters_are_404_or_400_in_the_error_shape(world):
    problems = []
    templated = [(m, p) for m, p, _ in _operations() if "{" in p]
    for method, path in templated:
        client = world["clients"][_who(path)]
        for value in PATH_VALUES:
            url = path
            for name in ("{id}", "{rid}", "{code}", "{version}"):
                url = url.replace(name, value)
            data = _encode(world["bodies"].get(path, {})) if method != "GET" else b""
            problems += _probe(client, method, url, data, f"{method} {url[:80]}")
    assert not problems, "\n".join(problems)


def _as_peer(settings, method: str, path: str, data: bytes = b""):
    """`method path` signed with BJIDX's key on file (this test node's own pair), as BJIDX's node sends it."""
    from django.test import Client

    settings.NODE_CODE, original = "BJIDX", settings.NODE_CODE
    try:
        headers = sign_request(
            method, f"http://testserver{path}", {"Content-Type": JSON} if data else {}, data or None
        )
    finally:
        settings.NODE_CODE = original
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    return Client().generic(method, path, data, content_type=JSON, **extra)


def test_malformed_bodies_from_a_signed_peer_are_400_and_change_nothing(world, settings):
    """Node-to-node input is untrusted too: a correctly signed wake-up, or batch of private records asked for,
    with a broken body is refused."""
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    rng = random.Random(SEED)
    problems = []
    valid = {
        "/federation/v1/wake/": {"origin": "BJIDX", "seq": 5},
        "/federation/v1/private/": {
            "records": [{"origin": "SHDEX", "type": "deal_step", "gid": "SHDEX-" + "a" * 32}]
        },
    }
    for path, body in valid.items():
        cases = list(RAW_BODIES) + [_encode(mutated) for _, mutated in _mutations(body, rng, 30)]
        for data in cases:
            before = _counts()
            response = _as_peer(settings, "POST", path, data)
            if response.status_code < 300:
                continue  # a mutation that is still a valid request
            problems += _check(response, f"{path} {data[:40]!r}", before)
    assert not problems, "\n".join(problems)


def test_malformed_queries_and_paths_from_a_signed_peer_are_4xx_in_the_error_shape(world, settings):
    """Every node-to-node read (feed, digests, private entries, status) with malformed parameters, signed by a
    known peer: below 500, in the error shape."""
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    rng = random.Random(SEED)
    problems = []
    reads = [
        ("/federation/v1/feed/SHDEX/", ["after", "limit"]),
        ("/federation/v1/feed/{v}/", ["after"]),
        ("/federation/v1/digests/", ["origins"]),
        ("/federation/v1/digests/{v}/", []),
        ("/federation/v1/private/SHDEX/demand_response/{v}/", []),
        ("/federation/v1/private/{v}/{v}/{v}/", []),
        ("/federation/v1/status/", ["origin"]),
    ]
    for template, names in reads:
        for value in [*rng.sample(NASTY_QUERY, 10), "\x00", "99999999999999999999999"]:
            encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
            path = template.replace("{v}", encoded or "x")
            queries = [f"{name}={encoded}" for name in names] or [""]
            for query in queries:
                url = f"{path}?{query}" if query else path
                before = _counts()
                response = _as_peer(settings, "GET", url)
                problems += _check(response, f"GET {url[:80]}", before)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "名\udfff"], ids=["nul", "high", "low"])
def test_unstorable_text_is_refused_naming_its_field(alice_api, example_descriptor, text):
    """Valid JSON that no database column can hold: 400 naming the field, whatever the endpoint."""
    example_descriptor["keywords"][1] = text
    response = _send(alice_api, "POST", "/api/v1/products/", _encode({"descriptor": example_descriptor}))
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["error"]["errors"]] == [
        ("descriptor.keywords.1", "invalid_character")
    ]
    response = alice_api.get("/api/v1/products/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["field"] == "q"
