"""Participants (一地注册，全国互信): registration, USCC rules, verification, duplicates, private fields,
tokens, providers of products, evaluations and the trust view — at one node, through the API."""

import copy
import datetime
import json
import time
from contextlib import contextmanager
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from federation import keys
from federation.models import Entry
from federation.peers import peer_add
from participants import tokens
from participants.models import Evaluation, Participant, ParticipantRecognition
from participants.replicas import PARTICIPANT
from products.models import Product, ProductStatus, Recognition
from products.tasks import follow_providers
from registry.celery import app
from tests.factories import make_foreign_product, make_product, random_descriptor, register_provider

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "docs" / "examples" / "participant.json").read_text("utf-8"))
EVALUATION = json.loads((ROOT / "docs" / "examples" / "evaluation.json").read_text("utf-8"))
URL = "/api/v1/participants/"
NODE_URL = "/api/v1/node/"
# the phones' digits with their spaces: a bare "5555" occurs in timestamps
PRIVATE_MARKERS = ("王敏", " 5555 0", "pushu-example.cn", "DOC-2026-0001", "营业执照副本")


def _body(**overrides) -> dict:
    body = copy.deepcopy(EXAMPLE)
    body.update(overrides)
    return body


def _uscc(region="310000", seed=1) -> str:
    import random

    from products.sample_data import make_uscc

    return make_uscc(random.Random(seed), region)


def _errors(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["error"]["errors"]}


@pytest.fixture
def registered(alice_api):
    response = alice_api.post(URL, _body(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def verified(alice_api, registered):
    response = alice_api.post(f"{URL}{registered['id']}/verification/", {"status": "verified"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _login(client, username="pushu-admin", password=EXAMPLE["account"]["password"]):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def _bearer(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class TestRegistration:
    def test_operator_registers_the_example_pending_with_region_from_the_uscc(self, registered):
        assert registered["id"] == EXAMPLE["uscc"] and registered["home_exchange"] == "SHDEX"
        assert registered["status"] == "pending" and registered["region"] == "310115"
        assert registered["roles"] == ["data_merchant", "demander"]
        assert registered["private"]["contacts"][0]["name"] == "王敏"  # its operator sees private fields

    def test_self_registration_needs_an_account(self, anon):
        no_account = _body()
        no_account.pop("account")
        response = anon.post(URL, no_account, format="json")
        assert response.status_code == 400 and ("account", "required") in _errors(response)
        response = anon.post(URL, _body(), format="json")
        assert response.status_code == 201 and response.json()["status"] == "pending"
        assert response.json()["private"] is None  # anonymous readers never see private fields

    def test_an_operator_of_another_exchange_cannot_register_here(self, bob_api):
        response = bob_api.post(URL, _body(), format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_owner"

    @pytest.mark.parametrize(
        ("uscc", "code"),
        [
            ("91310115AY4CL12T2", "uscc.length"),
            ("91310115AY4CL12T2EX", "uscc.length"),
            ("91310115AY4CLI2T2E", "uscc.format"),  # I is not in the alphabet
            ("9131011SAY4CL12T2E", "uscc.format"),  # the first eight are digits
            ("91310115AY4CL12T2X", "uscc.checksum"),
            ("91310115AY4CL12T3H", "uscc.organisation_code"),  # character 18 right, 17 wrong
        ],
    )
    def test_invalid_uscc_is_400_naming_the_rule(self, alice_api, uscc, code):
        response = alice_api.post(URL, _body(uscc=uscc), format="json")
        assert response.status_code == 400
        assert ("uscc", code) in _errors(response)
        assert not Participant.objects.exists()

    def test_a_letter_registration_authority_is_accepted(self, alice_api):
        """GB 32100-2015 assigns letters too (N: rural collective economic organisations), which python-stdnum
        alone refuses: the region still comes from characters 3–8."""
        from stdnum.cn import uscc as stdnum_uscc

        body = "N2310115MA1FL8XK2"
        code = body + stdnum_uscc.calc_check_digit(body)
        response = alice_api.post(URL, _body(uscc=code), format="json")
        assert response.status_code == 201, response.content
        assert response.json()["id"] == code and response.json()["region"] == "310115"

    def test_structure_authority_and_region(self, alice_api):
        from stdnum.cn import uscc as stdnum_uscc

        body = "01310115AY4CL12T2"
        authority = body + stdnum_uscc.calc_check_digit(body)
        response = alice_api.post(URL, _body(uscc=authority), format="json")
        assert ("uscc", "uscc.authority") in _errors(response)
        body = "91990000AY4CL12T2"  # region 990000 is not a GB/T 2260 code
        region = body + stdnum_uscc.calc_check_digit(body)
        response = alice_api.post(URL, _body(uscc=region), format="json")
        assert ("uscc", "uscc.region") in _errors(response)

    def test_vocabulary_and_role_rules_name_each_field(self, alice_api):
        response = alice_api.post(
            URL,
            _body(entity_type="company", roles=["data_merchant", "seller"], business_categories=[]),
            format="json",
        )
        assert response.status_code == 400
        assert {("entity_type", "invalid_choice"), ("roles.1", "invalid_choice")} <= _errors(response)
        response = alice_api.post(
            URL, _body(roles=["service_provider"], business_categories=[]), format="json"
        )
        assert ("services", "required") in _errors(response)
        response = alice_api.post(URL, _body(email="not-an-email", unknown=1), format="json")
        assert response.status_code == 400 and ("unknown", "unknown_field") in _errors(response)

    def test_duplicate_uscc_is_409_naming_its_home_exchange(self, registered, alice_api):
        response = alice_api.post(
            URL, _body(account={"username": "other", "password": "Another-pass-94"}), format="json"
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "duplicate_registration" and "SHDEX" in error["message_en"]

    def test_duplicate_of_a_replica_names_the_other_exchange(self, alice_api):
        _peer_key("BJIDX")
        _apply_replica(EXAMPLE["uscc"], home="BJIDX")
        response = alice_api.post(URL, _body(), format="json")
        assert response.status_code == 409 and "BJIDX" in response.json()["error"]["message_en"]

    def test_a_registration_of_a_node_that_is_no_peer_blocks_nothing(self, alice_api):
        _apply_replica(EXAMPLE["uscc"], home="BJIDX")  # BJIDX is not (or no longer) a peer here
        response = alice_api.post(URL, _body(), format="json")
        assert response.status_code == 201, response.content
        assert alice_api.get(f"{URL}{EXAMPLE['uscc']}/").json()["home_exchange"] == "SHDEX"

    def test_search_and_filters(self, alice_api, anon):
        alice_api.post(URL, _body(), format="json")
        provider = _body(
            uscc=_uscc("520100", 3),
            legal_name="贵阳云数评估有限公司",
            roles=["service_provider"],
            business_categories=[],
            services=["quality_assessment"],
        )
        provider.pop("account")
        assert alice_api.post(URL, provider, format="json").status_code == 201

        def ids(response):
            assert response.status_code == 200, response.content
            return [p["id"] for p in response.json()["results"]]

        assert ids(anon.get(URL, {"q": "浦数"})) == [EXAMPLE["uscc"]]
        assert ids(anon.get(URL, {"q": EXAMPLE["uscc"][:10].lower()})) == [EXAMPLE["uscc"]]
        assert ids(anon.get(URL, {"role": "service_provider"})) == [provider["uscc"]]
        assert ids(anon.get(URL, {"region": "310000"})) == [EXAMPLE["uscc"]]
        assert ids(anon.get(URL, {"region": "520100"})) == [provider["uscc"]]
        assert ids(anon.get(URL, {"home": "SHDEX", "status": "pending", "role": "demander"})) == [
            EXAMPLE["uscc"]
        ]
        assert anon.get(URL, {"role": "nobody"}).status_code == 400
        assert anon.get(URL, {"region": "999999"}).status_code == 400


@contextmanager
def _follow_ups(capture):
    """Run the block, check that it queued this exchange's products' follow-up to run on commit, then run
    that task (in this process, the way the worker would; the other callbacks, wake-ups to peers, are not)."""
    with capture() as callbacks:
        yield
    ours = [c for c in callbacks if getattr(c, "name", "") == "products.tasks.follow_providers"]
    assert ours, "no follow-up of the products queued"
    app.conf.task_always_eager = True
    try:
        for callback in ours:
            callback()
    finally:
        app.conf.task_always_eager = False


def _apply_replica(uscc, *, home="BJIDX", status="verified", registered_at=None, version=1, **profile):
    """Apply a registration as if it arrived from `home`'s node (the path replicated payloads take)."""
    from django.db import transaction

    payload = {
        "id": uscc,
        "home": home,
        "legal_name": profile.get("legal_name", "北京示例数据有限公司"),
        "entity_type": "enterprise",
        "region": uscc[2:8],
        "roles": profile.get("roles", ["data_merchant"]),
        "business_categories": profile.get("business_categories", ["data_products"]),
        "services": profile.get("services", []),
        "description": "",
        "status": status,
        "status_reason": "",
        "registered_at": (registered_at or timezone.now()).isoformat(),
        "verified_at": None,
    }
    with transaction.atomic():
        errors = PARTICIPANT.apply_batch(home, [(uscc, version, payload)])
    assert not errors, errors
    return payload


class TestVerification:
    def test_lifecycle_with_reasons_replicates_each_change(self, alice_api, registered):
        pid = registered["id"]
        steps = [
            ("verified", ""),
            ("suspended", "资质核查中"),
            ("verified", "核查通过"),
            ("revoked", "主体注销"),
        ]
        for status, reason in steps:
            response = alice_api.post(
                f"{URL}{pid}/verification/", {"status": status, "reason": reason}, format="json"
            )
            assert response.status_code == 200, response.content
            assert response.json()["status"] == status
            entry = Entry.objects.get(record_type="participant", gid=pid)
            payload = json.loads(entry.body)["payload"]
            assert payload["status"] == status and payload["status_reason"] == reason
        assert [c.to_status for c in Participant.objects.get().status_changes.all()] == [
            "pending",
            "verified",
            "suspended",
            "verified",
            "revoked",
        ]
        response = alice_api.post(f"{URL}{pid}/verification/", {"status": "verified"}, format="json")
        assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"

    def test_suspension_needs_a_reason_and_a_home_operator(self, alice_api, bob_api, verified, anon):
        pid = verified["id"]
        response = alice_api.post(f"{URL}{pid}/verification/", {"status": "suspended"}, format="json")
        assert response.status_code == 400 and ("reason", "required") in _errors(response)
        response = bob_api.post(
            f"{URL}{pid}/verification/", {"status": "suspended", "reason": "x"}, format="json"
        )
        assert response.status_code == 403
        assert (
            anon.post(f"{URL}{pid}/verification/", {"status": "suspended"}, format="json").status_code == 401
        )

    def test_a_replica_is_changed_only_at_its_home(self, alice_api):
        uscc = _uscc("110000", 5)
        _apply_replica(uscc, home="BJIDX")
        response = alice_api.post(
            f"{URL}{uscc}/verification/", {"status": "suspended", "reason": "x"}, format="json"
        )
        assert response.status_code == 403 and "BJIDX" in response.json()["error"]["message_en"]
        assert alice_api.patch(f"{URL}{uscc}/", {"description": "改"}, format="json").status_code == 403

    def test_this_node_recognises_verified_participants_only(self, alice_api, registered):
        pid = registered["id"]
        recognition = ParticipantRecognition.objects.get(participant_id=pid, exchange_id="SHDEX")
        assert recognition.status == "not_recognised"
        alice_api.post(f"{URL}{pid}/verification/", {"status": "verified"}, format="json")
        recognition.refresh_from_db()
        assert recognition.status == "recognised" and recognition.version == 2
        assert Entry.objects.filter(record_type="participant_recognition", gid=f"{pid}@SHDEX").exists()


class TestPrivateFields:
    def test_private_fields_never_leave_the_home_node(self, alice_api, verified, anon, bob_api):
        pid = verified["id"]
        alice_api.patch(f"{URL}{pid}/", {"phone": "+86 21 5555 0199"}, format="json")
        # Every replicated payload of this node, as a peer reads it.
        bodies = " ".join(Entry.objects.values_list("body", flat=True))
        assert pid in bodies
        for marker in PRIVATE_MARKERS:
            assert marker not in bodies
        # Every public response, and another exchange's operator.
        for client in (anon, bob_api):
            for path in (f"{URL}{pid}/", URL, f"{URL}{pid}/trust/", f"{URL}?q=浦数"):
                text = client.get(path).content.decode()
                assert pid in text
                for marker in PRIVATE_MARKERS:
                    assert marker not in text, (path, marker)
        own = alice_api.get(f"{URL}{pid}/").json()["private"]
        assert own["phone"] == "+86 21 5555 0199" and own["documents"][0]["ref"] == "DOC-2026-0001"

    def test_payload_schema_is_explicit(self, verified):
        assert set(PARTICIPANT.payload(Participant.objects.get())) == {
            "id",
            "home",
            "legal_name",
            "entity_type",
            "region",
            "roles",
            "business_categories",
            "services",
            "description",
            "status",
            "status_reason",
            "registered_at",
            "verified_at",
        }


class TestDuplicates:
    def test_the_earlier_registration_wins_on_every_node_and_the_loser_is_marked(self, alice_api, registered):
        """Neither verified: the earlier registration stands (a pending one here does not block a peer's)."""
        pid = registered["id"]
        _peer_key("BJIDX")
        earlier = timezone.now() - datetime.timedelta(minutes=5)
        _apply_replica(pid, home="BJIDX", registered_at=earlier, status="pending")
        mine = Participant.objects.get(participant_id=pid, home_id="SHDEX")
        theirs = Participant.objects.get(participant_id=pid, home_id="BJIDX")
        assert mine.duplicate_of == "BJIDX" and theirs.duplicate_of == ""
        # The operator sees its registration lost, and to whom.
        listed = alice_api.get(URL, {"duplicate": "true", "home": "SHDEX"}).json()["results"]
        assert [(p["id"], p["duplicate_of"]) for p in listed] == [
            (pid, {"participant_id": pid, "home_exchange": "BJIDX"})
        ]
        # The id stands for the winner; this node's recognition follows it.
        assert alice_api.get(f"{URL}{pid}/").json()["home_exchange"] == "BJIDX"
        assert (
            alice_api.get(f"{URL}{pid}/", {"home": "SHDEX"}).json()["duplicate_of"]["home_exchange"]
            == "BJIDX"
        )
        assert ParticipantRecognition.objects.get(participant_id=pid, exchange_id="SHDEX").home == "BJIDX"
        # This exchange's own registration was displaced: its operators see it in their queue.
        (conflict,) = alice_api.get(f"{URL}conflicts/", {"open": "true"}).json()["results"]
        assert (conflict["reason"], conflict["standing_home"], conflict["challenger_home"]) == (
            "home_displaced",
            "SHDEX",
            "BJIDX",
        )

    def test_a_verified_registration_standing_here_is_not_displaced_by_an_earlier_one(
        self, alice_api, verified
    ):
        """A peer's earlier registration (within the clock skew: a plausible race) would win by the rule; the
        verified one standing here stays, and the operators decide."""
        pid = verified["id"]
        _peer_key("BJIDX")
        _apply_replica(pid, home="BJIDX", registered_at=timezone.now() - datetime.timedelta(minutes=5))
        rows = dict(Participant.objects.filter(participant_id=pid).values_list("home_id", "duplicate_of"))
        assert rows == {"SHDEX": "", "BJIDX": "SHDEX"}
        (conflict,) = alice_api.get(f"{URL}conflicts/", {"open": "true"}).json()["results"]
        assert conflict["reason"] == "verified_displacement" and conflict["challenger_home"] == "BJIDX"
        assert alice_api.get(NODE_URL).json()["registration_conflicts_open"] == 1
        # The operators decide for the other exchange's registration: it stands here from now on.
        decided = alice_api.post(
            f"{URL}conflicts/{conflict['id']}/decision/", {"decision": "replace"}, format="json"
        )
        assert decided.status_code == 200 and decided.json()["decision"] == "replace"
        rows = dict(Participant.objects.filter(participant_id=pid).values_list("home_id", "duplicate_of"))
        assert rows == {"SHDEX": "BJIDX", "BJIDX": ""}
        assert alice_api.get(NODE_URL).json()["registration_conflicts_open"] == 0
        again = alice_api.post(
            f"{URL}conflicts/{conflict['id']}/decision/", {"decision": "keep"}, format="json"
        )
        assert again.status_code == 409

    def test_ties_are_broken_by_exchange_code_and_revoked_registrations_do_not_win(self):
        """Between registrations that are not verified (a verified one standing is kept, below)."""
        pid = _uscc("440300", 9)
        same = timezone.now() - datetime.timedelta(minutes=1)
        _apply_replica(pid, home="SZDEX", registered_at=same, status="pending")
        _apply_replica(pid, home="BJIDX", registered_at=same, status="pending")
        rows = dict(Participant.objects.filter(participant_id=pid).values_list("home_id", "duplicate_of"))
        assert rows == {"BJIDX": "", "SZDEX": "BJIDX"}
        _apply_replica(pid, home="BJIDX", registered_at=same, status="revoked", version=2)
        rows = dict(Participant.objects.filter(participant_id=pid).values_list("home_id", "duplicate_of"))
        assert rows == {"BJIDX": "SZDEX", "SZDEX": ""}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"home": "SHDEX"}, "home"),
            ({"region": "310000"}, "region"),
            ({"roles": ["king"]}, "roles.0"),
            ({"status": "approved"}, "status"),
            ({"registered_at": "yesterday"}, "registered_at"),
            ({"phone": "123"}, ""),
        ],
    )
    def test_a_bad_payload_from_a_peer_is_refused_and_nothing_is_written(self, change, field):
        from django.db import transaction

        pid = _uscc("110000", 11)
        payload = _apply_replica(pid, home="BJIDX")
        bad = {**payload, **change, "legal_name": "被篡改"}
        with transaction.atomic():
            errors = PARTICIPANT.apply_batch("BJIDX", [(pid, 2, bad)])
        assert pid in errors and errors[pid].errors[0].field == field
        assert Participant.objects.get(participant_id=pid).legal_name != "被篡改"


def test_recognitions_from_a_peer_apply_in_one_batch_newer_versions_only(db):
    from participants.models import ParticipantRecognition
    from participants.replicas import PARTICIPANT_RECOGNITION

    a, b, c = _uscc("110000", 21), _uscc("110000", 22), _uscc("110000", 23)

    def rec(pid, status="recognised", home="BJIDX"):
        return {"participant": pid, "exchange": "GYBDX", "home": home, "status": status, "reasons": []}

    assert (
        PARTICIPANT_RECOGNITION.apply_batch("GYBDX", [(f"{a}@GYBDX", 1, rec(a)), (f"{b}@GYBDX", 1, rec(b))])
        == {}
    )
    errors = PARTICIPANT_RECOGNITION.apply_batch(
        "GYBDX",
        [
            (f"{a}@GYBDX", 2, rec(a, "not_recognised")),  # newer: applied
            (f"{b}@GYBDX", 1, rec(b, "not_recognised")),  # same version again: ignored
            (f"{c}@GYBDX", 1, rec(c, home="NOWHERE")),  # not a member exchange: refused
        ],
    )
    assert list(errors) == [f"{c}@GYBDX"] and errors[f"{c}@GYBDX"].errors[0].field == "home"
    rows = dict(ParticipantRecognition.objects.values_list("participant_id", "status"))
    assert rows == {a: "not_recognised", b: "recognised"}
    assert ParticipantRecognition.objects.get(participant_id=a).version == 2


def _peer_key(code="BJIDX") -> Ed25519PrivateKey:
    """Another exchange's node: its key in this node's peer directory."""
    key = Ed25519PrivateKey.generate()
    peer_add(code=code, base_url="http://127.0.0.1:9", public_key=keys.public_key_b64(key.public_key()))
    tokens.key_cache_clear()
    return key


def _foreign_token(key, *, iss="BJIDX", pid, exp_in=600, **overrides):
    now = int(time.time())
    claims = {
        "iss": iss,
        "sub": "merchant",
        "pid": pid,
        "roles": ["data_merchant"],
        "iat": now,
        "exp": now + exp_in,
        "jti": "x" * 32,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": iss, "typ": tokens.TOKEN_TYPE})


class TestTokens:
    def test_login_at_home_gives_a_token_that_works_here(self, anon, verified):
        response = _login(anon)
        assert response.status_code == 200, response.content
        pair = response.json()
        assert pair["home_exchange"] == "SHDEX" and pair["participant_id"] == verified["id"]
        header = jwt.get_unverified_header(pair["access"])
        assert header == {"alg": "EdDSA", "kid": "SHDEX", "typ": tokens.TOKEN_TYPE}
        me = _bearer(anon, pair["access"]).get(f"{URL}{verified['id']}/").json()
        assert me["private"]["email"] == EXAMPLE["email"]  # the participant reads its own private fields

    def test_wrong_password_and_operators_cannot_log_in_here(self, anon, verified, alice):
        assert _login(anon, password="wrong").status_code == 401
        alice.set_password("Alice-pass-9931")
        alice.save()
        assert _login(anon, username="alice", password="Alice-pass-9931").status_code == 401

    def test_password_guessing_at_one_username_is_limited_from_any_address(self, verified):
        from rest_framework.test import APIClient

        for i in range(10):
            client = APIClient(REMOTE_ADDR=f"203.0.113.{i + 1}")  # a new address for every guess
            assert _login(client, password=f"guess-{i}").status_code == 401
        refused = _login(APIClient(REMOTE_ADDR="198.51.100.7"))  # even the right password, for a while
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "throttled" and "Retry-After" in refused
        assert _login(APIClient(REMOTE_ADDR="198.51.100.7"), username="someone-else").status_code == 401

    def test_refresh_rotates_and_is_single_use(self, anon, verified):
        pair = _login(anon).json()
        again = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert again.status_code == 200 and again.json()["refresh"] != pair["refresh"]
        replay = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert replay.status_code == 401

    def test_a_token_signed_by_a_peer_is_accepted_without_calling_it(self, anon):
        pid = _uscc("110000", 21)
        _apply_replica(pid, home="BJIDX", status="verified")
        key = _peer_key("BJIDX")
        response = _bearer(anon, _foreign_token(key, pid=pid)).patch(
            f"{URL}{pid}/", {"description": "x"}, format="json"
        )
        # Authenticated (not 401): refused only because the registration is changed at its home node.
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_owner"

    @pytest.mark.parametrize(
        "case", ["expired", "forged", "unknown_node", "wrong_kid", "none_alg", "garbage"]
    )
    def test_bad_tokens_are_401(self, anon, case):
        pid = _uscc("110000", 22)
        _apply_replica(pid, home="BJIDX", status="verified")
        key = _peer_key("BJIDX")
        token = {
            "expired": lambda: _foreign_token(key, pid=pid, exp_in=-60),
            "forged": lambda: _foreign_token(Ed25519PrivateKey.generate(), pid=pid),
            "unknown_node": lambda: _foreign_token(key, iss="CQDEX", pid=pid),
            "wrong_kid": lambda: jwt.encode(
                {"iss": "SHDEX", "sub": "m", "pid": pid, "iat": 1, "exp": int(time.time()) + 60, "jti": "j"},
                key,
                algorithm="EdDSA",
                headers={"kid": "BJIDX", "typ": tokens.TOKEN_TYPE},
            ),
            "none_alg": lambda: jwt.encode(
                {"iss": "BJIDX", "sub": "m", "pid": pid, "iat": 1, "exp": int(time.time()) + 60, "jti": "j"},
                None,
                algorithm="none",
                headers={"kid": "BJIDX", "typ": tokens.TOKEN_TYPE},
            ),
            "garbage": lambda: "eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        }[case]()
        response = _bearer(anon, token).get(URL)
        assert response.status_code == 401, (case, response.content)
        assert response.json()["error"]["code"] == "authentication_failed"

    def test_a_suspended_or_duplicate_participant_is_refused(self, anon):
        pid = _uscc("110000", 23)
        _apply_replica(pid, home="BJIDX", status="verified")
        key = _peer_key("BJIDX")
        token = _foreign_token(key, pid=pid)
        assert _bearer(anon, token).get(URL).status_code == 200
        _apply_replica(pid, home="BJIDX", status="suspended", version=2)
        assert _bearer(anon, token).get(URL).status_code == 401
        _apply_replica(pid, home="BJIDX", status="verified", version=3)
        assert _bearer(anon, token).get(URL).status_code == 200
        # Suspended at BJIDX, the company's verified registration at GZDEX stands; reinstated at BJIDX, the
        # one standing (verified) is not displaced: BJIDX's registration is a duplicate, its tokens refused.
        _peer_key("GZDEX")
        _apply_replica(pid, home="BJIDX", status="suspended", version=4)
        _apply_replica(pid, home="GZDEX", registered_at=timezone.now() - datetime.timedelta(days=1))
        _apply_replica(pid, home="BJIDX", status="verified", version=5)
        assert Participant.objects.get(participant_id=pid, home_id="BJIDX").duplicate_of == "GZDEX"
        assert _bearer(anon, token).get(URL).status_code == 401  # BJIDX's registration lost to GZDEX's

    def test_a_disabled_peer_no_longer_vouches(self, anon):
        from federation.models import Peer

        pid = _uscc("110000", 24)
        _apply_replica(pid, home="BJIDX", status="verified")
        key = _peer_key("BJIDX")
        Peer.objects.filter(pk="BJIDX").update(enabled=False)
        tokens.key_cache_clear()
        assert _bearer(anon, _foreign_token(key, pid=pid)).get(URL).status_code == 401


class TestProviders:
    def test_submitting_needs_a_verified_data_merchant(self, alice_api, alice):
        descriptor = random_descriptor()
        product = make_product(actor=alice, descriptor=descriptor)  # a draft needs no registration yet
        submit = f"/api/v1/products/{product.code}/submit/"
        response = alice_api.post(submit, {}, format="json")
        assert response.status_code == 400
        assert ("descriptor.provider.uscc", "provider.not_registered") in _errors(response)
        register_provider(descriptor["provider"]["uscc"], descriptor["provider"]["name"], status="pending")
        response = alice_api.post(submit, {}, format="json")
        assert ("descriptor.provider.uscc", "provider.not_verified") in _errors(response)
        Participant.objects.filter(participant_id=descriptor["provider"]["uscc"]).update(status="verified")
        assert alice_api.post(submit, {}, format="json").status_code == 200

    def test_approval_refused_once_the_provider_is_suspended(self, alice_api, alice):
        descriptor = random_descriptor()
        product = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.SUBMITTED)
        Participant.objects.filter(participant_id=descriptor["provider"]["uscc"]).update(status="suspended")
        response = alice_api.post(
            f"/api/v1/products/{product.code}/review/", {"decision": "approve"}, format="json"
        )
        assert response.status_code == 400
        assert ("descriptor.provider.uscc", "provider.not_verified") in _errors(response)

    def test_an_edit_cannot_hand_a_listed_product_to_an_unverified_provider(self, alice_api, alice):
        """What submit and review checked of the provider holds for a new provider named by an edit."""
        product = make_product(actor=alice, descriptor=random_descriptor(), status=ProductStatus.LISTED)
        other = random_descriptor()["provider"]
        edit = {"descriptor": {"provider": other}}  # a merge patch
        url = f"/api/v1/products/{product.code}/"
        response = alice_api.patch(url, edit, format="json")
        assert response.status_code == 400, response.content
        assert ("descriptor.provider.uscc", "provider.not_registered") in _errors(response)
        register_provider(other["uscc"], other["name"], status="pending")
        assert ("descriptor.provider.uscc", "provider.not_verified") in _errors(
            alice_api.patch(url, edit, format="json")
        )
        Participant.objects.filter(participant_id=other["uscc"]).update(status="verified")
        response = alice_api.patch(url, edit, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["descriptor"]["provider"]["uscc"] == other["uscc"]

    def test_a_data_merchant_manages_its_own_products_but_does_not_review_them(
        self, anon, alice_api, verified
    ):
        access = _login(anon).json()["access"]
        merchant = _bearer(anon, access)
        descriptor = random_descriptor()
        descriptor["provider"] = {"name": EXAMPLE["legal_name"], "uscc": EXAMPLE["uscc"]}
        created = merchant.post("/api/v1/products/", {"descriptor": descriptor}, format="json")
        assert created.status_code == 201, created.content
        code = created.json()["code"]
        assert merchant.get(f"/api/v1/products/{code}/").status_code == 200  # its own draft
        assert merchant.post(f"/api/v1/products/{code}/submit/", {}, format="json").status_code == 200
        review = merchant.post(f"/api/v1/products/{code}/review/", {"decision": "approve"}, format="json")
        assert review.status_code == 403
        other = random_descriptor()
        assert merchant.post("/api/v1/products/", {"descriptor": other}, format="json").status_code == 403
        assert (
            alice_api.post(
                f"/api/v1/products/{code}/review/", {"decision": "approve"}, format="json"
            ).status_code
            == 200
        )

    def test_a_data_merchants_edit_of_its_listed_product_goes_live_without_review(
        self, anon, alice_api, verified
    ):
        """As docs/participants.md says: a listed product stays listed through its provider's edit, which
        raises the version (actor kind `provider`) and is published at once; the compliance rules still run
        on it, and a blocking finding refuses it whole; a submitted product cannot be edited."""
        merchant = _bearer(anon, _login(anon).json()["access"])
        descriptor = random_descriptor()
        descriptor["provider"] = {"name": EXAMPLE["legal_name"], "uscc": EXAMPLE["uscc"]}
        code = merchant.post("/api/v1/products/", {"descriptor": descriptor}, format="json").json()["code"]
        merchant.post(f"/api/v1/products/{code}/submit/", {}, format="json")
        edit = {"descriptor": {"summary": "提交审核期间的修改，不应被接受。"}}
        frozen = merchant.patch(f"/api/v1/products/{code}/", edit, format="json")
        assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "invalid_transition"
        alice_api.post(f"/api/v1/products/{code}/review/", {"decision": "approve"}, format="json")
        before = alice_api.get(f"/api/v1/products/{code}/").json()
        changed = {"name": before["name"] + "（升级版）", "pricing": {**descriptor["pricing"], "max": 999999}}
        edited = merchant.patch(f"/api/v1/products/{code}/", {"descriptor": changed}, format="json")
        assert edited.status_code == 200, edited.content
        assert edited.json()["status"] == "listed" and edited.json()["version"] == before["version"] + 1
        assert edited.json()["name"] == changed["name"]
        entry = Entry.objects.get(record_type="product", gid=code)
        assert json.loads(entry.body)["version"] == before["version"] + 1  # published with the edit
        last = alice_api.get(f"/api/v1/products/{code}/versions/").json()["results"][-1]
        assert (last["change"], last["actor"]["kind"]) == ("updated", "provider")
        blocking = {"compliance": {"source_legality": {"status": "failed", "evidence_ref": "LEGAL-1"}}}
        refused = merchant.patch(f"/api/v1/products/{code}/", {"descriptor": blocking}, format="json")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "compliance_blocking"
        assert alice_api.get(f"/api/v1/products/{code}/").json()["version"] == before["version"] + 1

    def test_this_exchanges_products_follow_their_providers_standing(
        self, alice_api, alice, django_capture_on_commit_callbacks
    ):
        """Suspending a provider at home suspends its listed products (a new, replicated version each);
        verifying it again lists them again. A product an operator suspended stays suspended."""
        descriptors = [random_descriptor() for _ in range(3)]
        for d in descriptors[1:]:
            d["provider"] = dict(descriptors[0]["provider"])
        assert len({d["name"] for d in descriptors}) == 3
        provider = descriptors[0]["provider"]["uscc"]
        held = [make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED) for d in descriptors[:2]]
        manual = make_product(actor=alice, descriptor=descriptors[2], status=ProductStatus.SUSPENDED)
        other = make_product(actor=alice, status=ProductStatus.LISTED)
        before = {p.code: p.version for p in [*held, manual, other]}
        capture = django_capture_on_commit_callbacks

        def product(code):
            response = alice_api.get(f"/api/v1/products/{code}/")
            assert response.status_code == 200
            return response.json()

        def published(code):
            entry = Entry.objects.get(record_type="product", gid=code)
            return json.loads(entry.body)["payload"]["status"], json.loads(entry.body)["version"]

        with _follow_ups(capture):
            response = alice_api.post(
                f"{URL}{provider}/verification/",
                {"status": "suspended", "reason": "资质核查中"},
                format="json",
            )
            assert response.status_code == 200, response.content
            assert product(held[0].code)["status"] == "listed"  # until the change commits
        for p in held:
            detail = product(p.code)
            assert detail["status"] == "suspended" and detail["version"] == before[p.code] + 1
            assert "suspended or revoked" in detail["status_reasons"][0]
            assert published(p.code) == ("suspended", before[p.code] + 1)
            stored = Product.objects.get(code=p.code)
            assert stored.provider_hold
            last = stored.versions.order_by("-version").first()
            assert (last.change, last.actor_id) == ("suspended", None)
        assert product(manual.code)["version"] == before[manual.code]
        assert (
            product(other.code)["status"] == "listed" and product(other.code)["version"] == before[other.code]
        )

        # While the provider is suspended, an operator cannot list a held product again.
        response = alice_api.post(f"/api/v1/products/{held[0].code}/reinstate/", {}, format="json")
        assert response.status_code == 400
        assert ("descriptor.provider.uscc", "provider.not_verified") in _errors(response)

        with _follow_ups(capture):
            response = alice_api.post(
                f"{URL}{provider}/verification/", {"status": "verified", "reason": "核查通过"}, format="json"
            )
            assert response.status_code == 200, response.content
        for p in held:
            detail = product(p.code)
            assert (detail["status"], detail["status_reasons"]) == ("listed", [])
            assert detail["version"] == before[p.code] + 2
            assert published(p.code) == ("listed", before[p.code] + 2)
            assert not Product.objects.get(code=p.code).provider_hold
            assert Recognition.objects.get(product_code=p.code, exchange_id="SHDEX").status == "recognised"
        assert product(manual.code)["status"] == "suspended"
        assert product(manual.code)["version"] == before[manual.code]

        # Revocation is final: the products stay suspended until an operator delists them.
        with _follow_ups(capture):
            alice_api.post(
                f"{URL}{provider}/verification/", {"status": "revoked", "reason": "注销"}, format="json"
            )
        assert product(held[0].code)["status"] == "suspended"
        response = alice_api.post(
            f"/api/v1/products/{held[0].code}/delist/", {"reasons": ["提供方已注销"]}, format="json"
        )
        assert response.status_code == 200 and not Product.objects.get(code=held[0].code).provider_hold

    def test_a_peer_suspending_the_provider_suspends_this_exchanges_products(
        self, alice, django_capture_on_commit_callbacks
    ):
        """The provider's home is BJIDX; its product is listed here at SHDEX. The suspension arrives as a
        replicated registration, and this node suspends (then lists again) its own product."""
        capture = django_capture_on_commit_callbacks
        descriptor = random_descriptor()
        uscc = descriptor["provider"]["uscc"]
        _apply_replica(uscc, home="BJIDX", status="verified")
        listed = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        replica = make_foreign_product(exchange_id="BJIDX")  # BJIDX's own products are BJIDX's to change
        Product.objects.filter(pk=replica.pk).update(provider_uscc=uscc)

        first = listed.version
        with _follow_ups(capture):
            _apply_replica(uscc, home="BJIDX", status="suspended", version=2)
        listed.refresh_from_db()
        assert (listed.status, listed.provider_hold, listed.version) == ("suspended", True, first + 1)
        entry = json.loads(Entry.objects.get(record_type="product", gid=listed.code).body)
        assert (entry["origin"], entry["version"], entry["payload"]["status"]) == (
            "SHDEX",
            first + 1,
            "suspended",
        )
        assert Product.objects.get(pk=replica.pk).status == "listed"

        _apply_replica(uscc, home="BJIDX", status="suspended", version=2)  # a duplicate changes nothing
        follow_providers([uscc])  # and a run with nothing to do does nothing
        assert Product.objects.get(pk=listed.pk).version == first + 1
        with _follow_ups(capture):
            _apply_replica(uscc, home="BJIDX", status="verified", version=3)
        listed.refresh_from_db()
        assert (listed.status, listed.provider_hold, listed.version) == ("listed", False, first + 2)

    def test_the_sweep_catches_a_standing_change_whose_follow_up_was_lost(self, alice):
        descriptor = random_descriptor()
        uscc = descriptor["provider"]["uscc"]
        listed = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        other = make_product(actor=alice, status=ProductStatus.LISTED)
        Participant.objects.filter(participant_id=uscc).update(status="suspended")  # no task queued
        follow_providers()  # the beat's sweep: every provider
        listed.refresh_from_db()
        assert (listed.status, listed.provider_hold) == ("suspended", True)
        assert Product.objects.get(pk=other.pk).status == "listed"
        Participant.objects.filter(participant_id=uscc).update(status="verified")
        follow_providers()
        listed.refresh_from_db()
        assert (listed.status, listed.provider_hold) == ("listed", False)
        versions = list(listed.versions.order_by("version").values_list("change", flat=True))
        assert versions[-2:] == ["suspended", "reinstated"]

    def test_existing_products_providers_migrate_to_verified_registrations(self):
        from importlib import import_module

        from django.apps import apps as django_apps

        descriptor = random_descriptor()
        make_product(descriptor=descriptor)
        from products.models import Product

        Product.objects.update(is_home=True)
        migration = import_module("participants.migrations.0002_providers_of_existing_products")
        migration.forwards(django_apps, None)
        row = Participant.objects.get(participant_id=descriptor["provider"]["uscc"])
        assert row.status == "verified" and row.roles == ["data_merchant"] and row.home_id == "SHDEX"
        assert row.legal_name == descriptor["provider"]["name"]
        from participants.identity import participants_publish_unlogged

        assert participants_publish_unlogged() == 1
        assert Entry.objects.filter(record_type="participant", gid=row.participant_id).exists()
        assert participants_publish_unlogged() == 0


class TestEvaluations:
    @pytest.fixture
    def assessor(self, alice_api):
        """A verified third-party quality assessor registered at SHDEX, logged in."""
        body = _body(
            uscc=_uscc("310000", 31),
            legal_name="上海质评数据服务有限公司",
            roles=["service_provider"],
            business_categories=[],
            services=["quality_assessment"],
            account={"username": "assessor", "password": "Assessor-pass-771"},
        )
        assert alice_api.post(URL, body, format="json").status_code == 201
        alice_api.post(f"{URL}{body['uscc']}/verification/", {"status": "verified"}, format="json")
        from rest_framework.test import APIClient

        pair = _login(APIClient(), "assessor", "Assessor-pass-771").json()
        return _bearer(APIClient(), pair["access"]), body["uscc"]

    def test_an_operator_issues_and_the_trust_view_shows_it(self, alice_api, verified, anon):
        response = alice_api.post("/api/v1/evaluations/", EVALUATION, format="json")
        assert response.status_code == 201, response.content
        evaluation = response.json()
        assert evaluation["grade"] == "AA" and evaluation["issuer_type"] == "exchange"
        assert evaluation["issuer_id"] == "SHDEX" and evaluation["current"] is True
        entry = Entry.objects.get(record_type="evaluation", gid=evaluation["id"])
        assert json.loads(entry.body)["payload"]["score"] == 86
        trust = anon.get(f"{URL}{verified['id']}/trust/").json()
        assert [d["dimension"] for d in trust["evaluations"]] == ["data_quality"]
        assert trust["evaluations"][0]["evaluations"][0]["id"] == evaluation["id"]
        assert trust["recognised_by"] == ["SHDEX"]

    def test_a_service_provider_issues_only_with_the_matching_service(self, assessor, verified):
        client, _ = assessor
        assert client.post("/api/v1/evaluations/", EVALUATION, format="json").status_code == 201
        credit = {**EVALUATION, "dimension": "credit"}
        response = client.post("/api/v1/evaluations/", credit, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "issuer_service"

    def test_issuers_without_the_role_and_unknown_subjects(self, anon, verified, alice_api):
        merchant = _bearer(anon, _login(anon).json()["access"])
        response = merchant.post(
            "/api/v1/evaluations/", {**EVALUATION, "subject": _uscc("310000", 41)}, format="json"
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == "issuer_role"
        response = alice_api.post(
            "/api/v1/evaluations/", {**EVALUATION, "subject": _uscc("310000", 42)}, format="json"
        )
        assert response.status_code == 404
        from rest_framework.test import APIClient

        assert APIClient().post("/api/v1/evaluations/", EVALUATION, format="json").status_code == 401

    def test_bad_input_names_the_field(self, alice_api, verified):
        bad = {**EVALUATION, "score": 101, "dimension": "luck", "valid_from": "2026-13-01"}
        response = alice_api.post("/api/v1/evaluations/", bad, format="json")
        assert response.status_code == 400
        assert {"score", "dimension", "valid_from"} <= {f for f, _ in _errors(response)}
        backwards = {**EVALUATION, "valid_from": "2027-01-01", "valid_until": "2026-12-31"}
        assert ("valid_until", "order") in _errors(
            alice_api.post("/api/v1/evaluations/", backwards, format="json")
        )

    def test_revoked_and_expired_evaluations_stop_counting(
        self, alice_api, bob_api, verified, anon, assessor
    ):
        issued = alice_api.post("/api/v1/evaluations/", EVALUATION, format="json").json()
        client, _ = assessor
        theirs = client.post("/api/v1/evaluations/", EVALUATION, format="json").json()
        revoke = f"/api/v1/evaluations/{issued['id']}/revoke/"
        assert client.post(revoke, {"reason": "x"}, format="json").status_code == 403  # not the issuer
        assert alice_api.post(revoke, {"reason": "评估依据有误"}, format="json").status_code == 200
        assert alice_api.post(revoke, {"reason": "again"}, format="json").status_code == 409
        Evaluation.objects.filter(gid=theirs["id"]).update(
            valid_from=datetime.date(2020, 1, 1), valid_until=datetime.date(2021, 1, 1)
        )
        trust = anon.get(f"{URL}{verified['id']}/trust/").json()
        assert trust["evaluations"] == []
        assert (
            anon.get("/api/v1/evaluations/", {"subject": verified["id"], "current": "true"}).json()["count"]
            == 0
        )
        assert anon.get("/api/v1/evaluations/", {"subject": verified["id"]}).json()["count"] == 2

    def test_unknown_participant_trust_is_404(self, anon):
        response = anon.get(f"{URL}{_uscc('310000', 51)}/trust/")
        assert response.status_code == 404 and response.json()["error"]["status"] == 404


def test_participant_vocabularies_are_served_with_both_labels(anon):
    data = anon.get("/api/v1/standards/participant-vocabularies/").json()
    assert {t["code"] for t in data["role"]} == {"data_merchant", "demander", "service_provider"}
    assert all(t["zh"] and t["en"] for t in data["service"])
    assert [g["grade"] for g in data["grade_scale"]] == ["AAA", "AA", "A", "B", "C"]
    assert set(data["dimension_services"]) == {t["code"] for t in data["evaluation_dimension"]}


class TestSelfService:
    def test_a_participant_changes_its_own_profile_and_the_change_replicates(self, anon, verified):
        merchant = _bearer(anon, _login(anon).json()["access"])
        pid = verified["id"]
        response = merchant.patch(
            f"{URL}{pid}/", {"description": "新的简介", "email": "new@pushu-example.cn"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["description"] == "新的简介" and response.json()["version"] == 3
        payload = json.loads(Entry.objects.get(record_type="participant", gid=pid).body)["payload"]
        assert payload["description"] == "新的简介" and "new@" not in json.dumps(payload)
        stale = merchant.patch(f"{URL}{pid}/", {"description": "x", "expected_version": 2}, format="json")
        assert stale.status_code == 409
        # What verification vouches for is changed by the exchange's operators only.
        escalate = merchant.patch(
            f"{URL}{pid}/", {"roles": ["service_provider"], "services": ["credit_rating"]}, format="json"
        )
        assert escalate.status_code == 403 and escalate.json()["error"]["code"] == "operator_only"
        assert escalate.json()["error"]["fields"] == ["roles", "services"]

    def test_a_participant_cannot_change_another_or_verify_itself(self, anon, verified, alice_api):
        other = _body(uscc=_uscc("310000", 61), legal_name="另一家公司")
        other.pop("account")
        alice_api.post(URL, other, format="json")
        merchant = _bearer(anon, _login(anon).json()["access"])
        assert (
            merchant.patch(f"{URL}{other['uscc']}/", {"description": "x"}, format="json").status_code == 403
        )
        response = merchant.post(f"{URL}{other['uscc']}/verification/", {"status": "verified"}, format="json")
        assert response.status_code == 403

    def test_refresh_is_refused_once_suspended(self, anon, alice_api, verified):
        pair = _login(anon).json()
        alice_api.post(
            f"{URL}{verified['id']}/verification/", {"status": "suspended", "reason": "核查"}, format="json"
        )
        response = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert response.status_code == 401
        assert _bearer(anon, pair["access"]).get(URL).status_code == 401


class TestReviewFixes:
    def test_operators_change_vetted_fields_with_the_same_rules(self, alice_api, verified):
        bad = alice_api.patch(f"{URL}{verified['id']}/", {"roles": []}, format="json")
        assert bad.status_code == 400 and ("roles", "required") in _errors(bad)
        ok = alice_api.patch(
            f"{URL}{verified['id']}/", {"legal_name": "上海浦数科技集团有限公司"}, format="json"
        )
        assert ok.status_code == 200 and ok.json()["legal_name"] == "上海浦数科技集团有限公司"

    def test_unauthenticated_writes_get_the_one_error_shape(self, anon, verified):
        for response in (
            anon.patch(f"{URL}{verified['id']}/", {"description": "x"}, format="json"),
            anon.post("/api/v1/evaluations/", EVALUATION, format="json"),
        ):
            assert response.status_code == 401
            assert response.json()["error"]["status"] == 401 and response["WWW-Authenticate"]

    def test_invalid_transition_body_keeps_its_status(self, alice_api, verified):
        body = alice_api.post(
            f"{URL}{verified['id']}/verification/", {"status": "verified"}, format="json"
        ).json()
        assert body["error"]["status"] == 409 and body["error"]["current_status"] == "verified"

    def test_the_409_names_the_winning_registration(self, alice_api):
        pid = _uscc("110000", 71)
        _peer_key("BJIDX"), _peer_key("GZDEX")
        _apply_replica(pid, home="BJIDX", registered_at=timezone.now() - datetime.timedelta(hours=1))
        _apply_replica(pid, home="GZDEX", registered_at=timezone.now())
        response = alice_api.post(URL, _body(uscc=pid), format="json")
        assert response.status_code == 409 and response.json()["error"]["home_exchange"] == "BJIDX"

    def test_a_registration_revoked_elsewhere_frees_the_uscc(self, alice_api):
        pid = _uscc("110000", 72)
        _apply_replica(pid, home="BJIDX", status="revoked")
        body = _body(uscc=pid)
        body.pop("account")
        response = alice_api.post(URL, body, format="json")
        assert response.status_code == 201 and response.json()["home_exchange"] == "SHDEX"
        assert alice_api.get(f"{URL}{pid}/").json()["home_exchange"] == "SHDEX"  # the live one stands

    def test_a_registration_revoked_here_is_taken_over_by_a_new_one(self, alice_api, registered, anon):
        """A revocation frees the USCC everywhere, here too: a squat revoked by the operators does not lock
        the company out. The new registration starts over: a new version, pending, none of the revoked one's
        private fields, and the revoked one's accounts closed."""
        pid = registered["id"]
        revoked = alice_api.post(
            f"{URL}{pid}/verification/", {"status": "revoked", "reason": "squat"}, format="json"
        )
        assert revoked.status_code == 200
        assert _login(anon).status_code == 401  # the squatter's account is closed
        again = _body(account={"username": "again", "password": "Qz8-again-harbor"})
        again.pop("email")
        response = alice_api.post(URL, again, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["version"]) == ("pending", revoked.json()["version"] + 1)
        assert body["private"]["email"] == ""  # not the revoked registration's
        assert _login(anon).status_code == 401
        assert _login(anon, username="again", password="Qz8-again-harbor").status_code == 200

    def test_an_operator_opens_an_account_later(self, alice_api, bob_api, anon):
        body = _body(uscc=_uscc("310000", 73))
        body.pop("account")
        alice_api.post(URL, body, format="json")
        alice_api.post(f"{URL}{body['uscc']}/verification/", {"status": "verified"}, format="json")
        account = {"username": "later", "password": "Qz8-later-harbor"}
        assert bob_api.post(f"{URL}{body['uscc']}/accounts/", account, format="json").status_code == 403
        assert alice_api.post(f"{URL}{body['uscc']}/accounts/", account, format="json").status_code == 201
        assert _login(anon, "later", "Qz8-later-harbor").status_code == 200
        assert alice_api.post(f"{URL}{body['uscc']}/accounts/", account, format="json").status_code == 409

    def test_an_account_with_unknown_keys_is_refused_naming_them(self, alice_api):
        from accounts.models import User

        body = _body(uscc=_uscc("310000", 75))
        body.pop("account")
        alice_api.post(URL, body, format="json")
        account = {"username": "extra", "password": "Qz8-extra-harbor", "is_superuser": True, "role": "admin"}
        response = alice_api.post(f"{URL}{body['uscc']}/accounts/", account, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
        assert _errors(response) == {("is_superuser", "unknown_field"), ("role", "unknown_field")}
        assert not User.objects.filter(username="extra").exists()
        nested = _body(uscc=_uscc("310000", 76), account={**account, "username": "extra2"})
        response = alice_api.post(URL, nested, format="json")
        assert response.status_code == 400
        assert _errors(response) == {
            ("account.is_superuser", "unknown_field"),
            ("account.role", "unknown_field"),
        }
        assert not Participant.objects.filter(participant_id=nested["uscc"]).exists()

    def test_an_account_opened_later_takes_its_password_as_a_login_reads_it(self, alice_api, anon):
        """Surrounding spaces are trimmed from a password at login (and at registration): an account opened
        later is stored the same way, so its user can log in."""
        body = _body(uscc=_uscc("310000", 77))
        body.pop("account")
        alice_api.post(URL, body, format="json")
        alice_api.post(f"{URL}{body['uscc']}/verification/", {"status": "verified"}, format="json")
        account = {"username": "spaced", "password": " Qz8-spaced-harbor "}
        assert alice_api.post(f"{URL}{body['uscc']}/accounts/", account, format="json").status_code == 201
        assert _login(anon, "spaced", " Qz8-spaced-harbor ").status_code == 200

    def test_the_issuing_exchange_revokes_a_providers_evaluation(self, alice_api, verified):
        assessor = _body(
            uscc=_uscc("310000", 74),
            legal_name="质评公司",
            roles=["service_provider"],
            business_categories=[],
            services=["quality_assessment"],
            account={"username": "qa74", "password": "Qz8-qa74-harbor"},
        )
        alice_api.post(URL, assessor, format="json")
        alice_api.post(f"{URL}{assessor['uscc']}/verification/", {"status": "verified"}, format="json")
        from rest_framework.test import APIClient

        client = _bearer(APIClient(), _login(APIClient(), "qa74", "Qz8-qa74-harbor").json()["access"])
        issued = client.post("/api/v1/evaluations/", EVALUATION, format="json").json()
        alice_api.post(
            f"{URL}{assessor['uscc']}/verification/",
            {"status": "suspended", "reason": "资质问题"},
            format="json",
        )
        revoked = alice_api.post(
            f"/api/v1/evaluations/{issued['id']}/revoke/", {"reason": "出具方已暂停"}, format="json"
        )
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    def test_no_one_else_revokes_and_the_schema_says_who_may(self, anon, alice_api, bob_api, verified):
        """The issuer and the issuing node's exchange only: not another exchange's operator, not another
        participant. The published schema states the rule, the exchange's power over providers' evaluations
        included."""
        from drf_spectacular.generators import SchemaGenerator

        subject = _body(uscc=_uscc("310000", 78), legal_name="被评公司", account=None)
        subject.pop("account")
        alice_api.post(URL, subject, format="json")
        issued = alice_api.post(
            "/api/v1/evaluations/", {**EVALUATION, "subject": subject["uscc"]}, format="json"
        )
        assert issued.status_code == 201, issued.content
        revoke = f"/api/v1/evaluations/{issued.json()['id']}/revoke/"
        merchant = _bearer(anon, _login(anon).json()["access"])
        for someone in (bob_api, merchant):
            refused = someone.post(revoke, {"reason": "不是出具方"}, format="json")
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_issuer"
        schema = SchemaGenerator().get_schema(request=None, public=True)
        described = schema["paths"]["/api/v1/evaluations/{id}/revoke/"]["post"]["description"]
        assert (
            "operators of the exchange whose node issued it" in described and "service provider" in described
        )


def _concurrent_writers_operator():
    """For a transactional test of concurrent writers (PostgreSQL only): SHDEX's operator alice. Such a test
    starts from what the previous one left: an earlier one's flush removed the exchanges a migration seeds."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from accounts.models import User

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL only (SQLite serialises writes at BEGIN)")
    importlib.import_module("exchanges.migrations.0002_seed_members").seed(apps, None)
    return User.objects.create(username="alice", role=User.Role.OPERATOR, exchange_id="SHDEX")


@pytest.mark.django_db(transaction=True)
def test_a_registration_waits_for_a_peer_registration_of_the_same_company_being_applied():
    """A registration made here while a peer's registration of the same USCC is being applied (the race the
    multinode test met on PostgreSQL: both saw no registration, both created this node's recognition row and
    one failed with a 500) waits for the apply to commit, then gets the 409 naming the peer's exchange."""
    import threading

    from django.db import connections, transaction

    from core.exceptions import Conflict
    from participants.services import participant_register

    alice = _concurrent_writers_operator()
    _peer_key("BJIDX")  # a registration of a node that is no peer blocks nothing

    pid = _uscc("110000", 77)
    applied, release, outcome = threading.Event(), threading.Event(), {}

    def apply_and_hold():
        try:
            with transaction.atomic():
                _apply_replica(pid, home="BJIDX")
                applied.set()
                release.wait(10)
        finally:
            connections.close_all()

    def register():
        try:
            participant_register(actor=alice, uscc=pid, profile=_body())
            outcome["result"] = "registered"
        except Conflict as exc:
            outcome["result"] = exc.code, exc.extra.get("home_exchange")
        except Exception as exc:  # the failure this test is about: anything but the 409
            outcome["result"] = repr(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=apply_and_hold)
    holder.start()
    assert applied.wait(10)
    registrar = threading.Thread(target=register)
    registrar.start()
    registrar.join(1.0)
    assert registrar.is_alive(), f"the registration did not wait for the apply: {outcome}"
    release.set()
    holder.join(10)
    registrar.join(10)
    assert outcome["result"] == ("duplicate_registration", "BJIDX")
    assert list(Participant.objects.filter(participant_id=pid).values_list("home_id", flat=True)) == ["BJIDX"]
    assert ParticipantRecognition.objects.get(participant_id=pid, exchange_id="SHDEX").home == "BJIDX"


@pytest.mark.django_db(transaction=True)
def test_the_follow_up_and_an_operators_change_of_the_same_products_do_not_deadlock():
    """An operator's change locks its product, then this node's log counter. The follow-up of a provider's
    standing locks all the products it changes before it publishes, so while an operator holds one of
    them it waits, and is not holding the counter the operator waits for (PostgreSQL would break such a
    deadlock by failing one of the two)."""
    import threading

    from django.db import connections, transaction

    from federation.outbox import Change, publish
    from products.standing import products_follow_providers

    alice = _concurrent_writers_operator()
    descriptors = [random_descriptor() for _ in range(2)]
    descriptors[1]["provider"] = dict(descriptors[0]["provider"])
    uscc = descriptors[0]["provider"]["uscc"]
    products = [make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED) for d in descriptors]
    last = max(products, key=lambda p: p.pk)  # locked last by the follow-up
    Participant.objects.filter(participant_id=uscc).update(status="suspended")
    locked, outcome = threading.Event(), {}

    def operator():
        try:
            with transaction.atomic():
                Product.objects.select_for_update().get(pk=last.pk)
                locked.set()
                time.sleep(1.5)  # meanwhile the follow-up starts and waits for this product
                publish([Change("note", "operator", 1, {"n": 1})])  # the log counter, as a product change
            outcome["operator"] = "committed"
        except Exception as exc:
            outcome["operator"] = repr(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=operator)
    thread.start()
    assert locked.wait(10)
    try:
        outcome["follow"] = [p.code for p in products_follow_providers(participant_ids=[uscc])]
    except Exception as exc:
        outcome["follow"] = repr(exc)
    thread.join(10)
    assert outcome == {"operator": "committed", "follow": sorted(p.code for p in products)}
    assert set(Product.objects.filter(pk__in=[p.pk for p in products]).values_list("status", flat=True)) == {
        "suspended"
    }
