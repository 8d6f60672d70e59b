"""Deals at one node (SHDEX holds every role here: buyer, provider and coordinator are all its own): the
order, negotiation, the contract and its signatures, the compliance check, delivery, receipt, acceptance and
its window, settlement, evaluations; every refusal in the one error shape; who reads a deal."""

import copy
import datetime as dt
import json
import random
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.exceptions import Conflict
from core.queue import Queued
from deals.acceptance import deals_auto_accept
from deals.compliance import deal_compliance_run
from deals.models import Deal, DealStep
from deals.services import deal_step_take
from demands.models import Notification
from federation.models import Entry, PrivateEntry
from participants.models import Evaluation, Participant
from participants.principal import ParticipantPrincipal
from participants.services import participant_set_status
from participants.tokens import access_token_issue
from products.models import ProductStatus
from products.sample_data import make_uscc
from tests.deal_world import FILES, OFFER, ORDER
from tests.factories import make_product, register_provider

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
PRODUCT = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
URL = "/api/v1/deals/"
BUYER = "91310115AY4CL12T2E"
ABROAD = {"permissions": ["use"], "constraints": {"purpose": ["research"], "territory": ["cross_border"]}}


def _login(username, password):
    """A participant user's client with an access token as its home node issues one (POST /auth/token/
    does the same after checking the password, which the tests need not pay for each time)."""
    user = User.objects.get(username=username)
    token, _ = access_token_issue(
        username=username, participant_id=user.participant_id, roles=[], generation=user.token_generation
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _error(response):
    body = response.json()["error"]
    return body["code"], {(e["field"], e["code"]) for e in body["errors"]}


@pytest.fixture
def provider(db, alice):
    p = PRODUCT["provider"]
    register_provider(p["uscc"], p["name"], account={"username": "seller", "password": "Qz8-seller-canyon"})
    client = _login("seller", "Qz8-seller-canyon")
    client.product = make_product(actor=alice, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)
    return client


@pytest.fixture
def buyer(db):
    register_provider(
        BUYER,
        "上海浦数智能科技有限公司",
        roles=("demander",),
        account={"username": "buyer", "password": "Qz8-buyer-harbor"},
    )
    return _login("buyer", "Qz8-buyer-harbor")


@pytest.fixture
def ordered(buyer, provider):
    response = buyer.post(URL, {"product": provider.product.code, "request": ORDER}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _post(client, deal, action, body=None):
    return client.post(f"{URL}{deal['id']}/{action}/", body or {}, format="json")


@pytest.fixture
def agreed(ordered, buyer, provider):
    assert _post(provider, ordered, "offers", OFFER).status_code == 201
    assert _post(buyer, ordered, "accept", {"offer_version": 1}).status_code == 201
    response = _post(provider, ordered, "accept")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def delivered(agreed, provider):
    assert deal_compliance_run(agreed["id"])
    response = _post(provider, agreed, "deliveries", {"method": "file", "files": FILES})
    assert response.status_code == 201, response.content
    return response.json()


class TestOrder:
    def test_a_verified_demander_orders_a_listed_product_and_it_is_private(self, ordered, buyer, provider):
        assert ordered["state"] == "ordered" and ordered["origin"] == "SHDEX"
        assert ordered["audience"] == ["SHDEX"] and ordered["my_roles"] == ["buyer"]
        assert ordered["actions"] == ["cancel"]
        stub = Entry.objects.get(record_type="sealed", gid=f"deal:{ordered['id']}")
        assert json.loads(stub.body)["payload"]["audience"] == ["SHDEX"]
        assert ORDER["purpose"] not in " ".join(Entry.objects.values_list("body", flat=True))
        assert PrivateEntry.objects.filter(gid=ordered["id"], record_type="deal").exists()
        assert provider.get(f"{URL}{ordered['id']}/").json()["actions"] == ["cancel", "offer"]

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"purpose": ""}, "request.purpose", "required"),
            ({"extra": 1}, "request.extra", "unknown_field"),
            ({"delivery_method": "sandbox"}, "request.delivery_method", "not_offered"),
            ({"usage_policy": []}, "request.usage_policy", "type"),
            (
                {"usage_policy": {**ORDER["usage_policy"], "permissions": ["fly"]}},
                "request.usage_policy.permissions.0",
                "invalid_choice",
            ),
        ],
    )
    def test_bad_orders_are_400_naming_the_field(self, buyer, provider, change, field, code):
        response = buyer.post(
            URL, {"product": provider.product.code, "request": {**ORDER, **change}}, format="json"
        )
        assert response.status_code == 400 and (field, code) in _error(response)[1]

    def test_only_verified_demanders_order_listed_products(self, buyer, provider, alice_api, alice):
        code = provider.product.code
        assert provider.post(URL, {"product": code, "request": ORDER}, format="json").status_code == 403
        assert alice_api.post(URL, {"product": code, "request": ORDER}, format="json").status_code == 403
        draft = make_product(
            actor=alice, descriptor={**copy.deepcopy(PRODUCT), "name": "上海市充电桩功率数据集"}
        )
        response = buyer.post(URL, {"product": draft.code, "request": ORDER}, format="json")
        assert response.status_code == 409 and _error(response)[0] == "product_not_listed"
        assert APIClient().post(URL, {"product": code, "request": ORDER}, format="json").status_code == 401


def test_a_party_registered_here_is_notified_once_per_turn_that_waits_for_it(ordered, buyer, provider):
    def deal_notes(participant):
        return list(
            Notification.objects.filter(participant_id=participant, kind="deal").values_list(
                "demand_version", "payload__actions"
            )
        )

    seller = PRODUCT["provider"]["uscc"]
    assert deal_notes(seller) == [(0, ["offer"])] and deal_notes(BUYER) == []
    _post(provider, ordered, "offers", OFFER)
    assert deal_notes(BUYER) == [(1, ["accept", "counter"])]
    assert [n["kind"] for n in buyer.get("/api/v1/notifications/").json()["results"]] == ["deal"]
    _post(buyer, ordered, "accept")
    assert deal_notes(seller) == [(2, ["accept", "offer"]), (0, ["offer"])]  # not for its own offer


class TestNegotiationAndContract:
    def test_offer_accepts_and_a_contract_signed_by_the_home_nodes(self, agreed, buyer, bob_api, anon):
        assert agreed["state"] == "agreed" and agreed["offer_version"] == 1
        assert agreed["agreed_offer"]["fees"] == [
            {"exchange": "SHDEX", "basis": "listing", "bp": 100},
            {"exchange": "SHDEX", "basis": "buyer", "bp": 50},
        ]
        contract = buyer.get(f"{URL}{agreed['id']}/contract/").json()
        assert contract["sha256"] == agreed["contract_sha256"] and contract["valid"] is True
        assert [(s["role"], s["node"], s["valid"]) for s in contract["signatures"]] == [
            ("buyer", "SHDEX", True),
            ("provider", "SHDEX", True),
        ]
        text = buyer.get(f"{URL}{agreed['id']}/contract/?as=text")
        assert text["Content-Type"].startswith("text/plain")
        assert (
            "数据产品交易合同" in text.content.decode() and agreed["contract_sha256"] in text.content.decode()
        )
        assert bob_api.get(f"{URL}{agreed['id']}/contract/").status_code == 404

    def test_a_counter_offer_makes_a_new_version_and_stale_accepts_are_refused(
        self, ordered, buyer, provider
    ):
        _post(provider, ordered, "offers", OFFER)
        counter = _post(buyer, ordered, "offers", {**OFFER, "price": "18000.00"}).json()
        assert counter["offer_version"] == 2 and counter["offer"]["by"] == "buyer"
        stale = _post(provider, ordered, "accept", {"offer_version": 1})
        assert stale.status_code == 409 and _error(stale)[0] == "stale_offer"
        assert _post(provider, ordered, "accept", {"offer_version": 2}).status_code == 201
        again = _post(provider, ordered, "accept")
        assert again.status_code == 409 and _error(again)[0] == "not_allowed_now"
        assert _post(buyer, ordered, "accept").json()["agreed_offer"]["price"] == "18000.00"

    def test_no_contract_before_agreement(self, ordered, buyer):
        response = buyer.get(f"{URL}{ordered['id']}/contract/")
        assert response.status_code == 409 and _error(response)[0] == "no_contract"

    def test_wrong_actor_is_403_and_wrong_state_409(self, ordered, buyer, provider, alice_api):
        assert _post(buyer, ordered, "deliveries", {"method": "file", "files": FILES}).status_code == 403
        response = _post(provider, ordered, "deliveries", {"method": "file", "files": FILES})
        assert response.status_code == 409 and _error(response)[0] == "not_allowed_now"
        assert _post(alice_api, ordered, "offers", OFFER).status_code == 403
        assert _post(provider, ordered, "settlement").status_code == 403


class TestCancelAndTerminate:
    def test_either_party_cancels_before_the_contract_only_the_buyer_after(self, agreed, buyer, provider):
        response = _post(provider, agreed, "cancel", {"reason": "库存不足"})
        assert response.status_code == 409
        cancelled = _post(buyer, agreed, "cancel", {"reason": "预算取消"}).json()
        assert cancelled["state"] == "cancelled" and cancelled["actions"] == []
        assert Deal.objects.get(gid=agreed["id"]).state == "cancelled"

    def test_the_coordinator_terminates_with_a_reason(self, ordered, alice_api, bob_api):
        response = _post(alice_api, ordered, "terminate", {"reason": ""})
        assert response.status_code == 400 and ("reason", "required") in _error(response)[1]
        assert _post(bob_api, ordered, "terminate", {"reason": "违规"}).status_code == 404
        assert (
            _post(alice_api, ordered, "terminate", {"reason": "涉嫌违规交易"}).json()["state"] == "terminated"
        )


class TestComplianceAndDelivery:
    def test_agreement_queues_the_check_and_a_suspended_party_fails_it(
        self, ordered, buyer, provider, django_capture_on_commit_callbacks
    ):
        _post(provider, ordered, "offers", OFFER)
        _post(buyer, ordered, "accept")
        with django_capture_on_commit_callbacks() as queued:
            _post(provider, ordered, "accept")
        assert [(q.name, q.args) for q in queued if isinstance(q, Queued)] == [
            ("deals.tasks.deal_compliance", (ordered["id"],))
        ]
        participant_set_status(
            actor=None,
            participant=Participant.objects.get(participant_id=BUYER),
            status="suspended",
            reason="核查",
        )
        assert deal_compliance_run(ordered["id"])
        step = DealStep.objects.get(deal_gid=ordered["id"], kind="compliance")
        failed = {r["code"] for r in step.body["rules"] if not r["passed"]}
        assert failed == {"buyer_verified"} and step.body["passed"] is False
        assert Deal.objects.get(gid=ordered["id"]).state == "compliance_failed"
        assert not deal_compliance_run(ordered["id"])  # idempotent: checked already

    def test_cross_border_use_of_a_product_that_forbids_it_fails_the_check(self, buyer, provider):
        deal = buyer.post(
            URL,
            {"product": provider.product.code, "request": {**ORDER, "usage_policy": ABROAD}},
            format="json",
        ).json()
        _post(provider, deal, "offers", OFFER)
        _post(buyer, deal, "accept")
        _post(provider, deal, "accept")
        deal_compliance_run(deal["id"])
        step = DealStep.objects.get(deal_gid=deal["id"], kind="compliance")
        rules = {r["code"]: r["passed"] for r in step.body["rules"]}
        assert rules["policy.cross_border_not_allowed"] is False and rules["recognised"] is True
        assert Deal.objects.get(gid=deal["id"]).state == "compliance_failed"

    def test_delivery_receipt_with_a_mismatch_and_acceptance(self, delivered, buyer):
        assert delivered["state"] == "delivered"
        assert delivered["deadlines"]["acceptance_by"] is not None
        wrong = [{"name": FILES[0]["name"], "sha256": "4" * 64}]
        received = _post(buyer, delivered, "receipt", {"files": wrong}).json()
        assert received["state"] == "received"
        assert received["steps"][-1]["body"]["mismatches"] == [FILES[0]["name"]]
        rejected = _post(buyer, delivered, "acceptance", {"result": "rejected"})
        assert ("reason", "required") in _error(rejected)[1]
        done = _post(
            buyer, delivered, "acceptance", {"result": "rejected", "reason": "文件校验值不符"}
        ).json()
        assert done["state"] == "rejected"

    def test_a_delivery_by_another_method_or_naming_a_secret_is_refused(self, agreed, provider):
        deal_compliance_run(agreed["id"])
        api = {
            "method": "api",
            "endpoint": "https://x.example.cn",
            "credential_ref": "REF-1",
            "quota": 1,
            "valid_until": "2027-01-01",
        }
        response = _post(provider, agreed, "deliveries", api)
        assert ("method", "not_agreed") in _error(response)[1]
        response = _post(
            provider, agreed, "deliveries", {**api, "credential_ref": "sk-live-0123456789abcdef"}
        )
        assert ("credential_ref", "secret") in _error(response)[1]

    def test_the_window_closes_then_auto_accept_writes_once(self, delivered, buyer):
        deal = Deal.objects.get(gid=delivered["id"])
        later = timezone.now() + dt.timedelta(hours=73)
        assert deals_auto_accept(now=timezone.now()) == 0
        principal = ParticipantPrincipal(
            BUYER, "SHDEX", "buyer", ("demander",), (), "上海浦数智能科技有限公司", "verified"
        )
        with pytest.raises(Conflict) as exc:
            deal_step_take(
                actor=principal, deal=deal, kind="acceptance", body={"result": "accepted"}, now=later
            )
        assert exc.value.code == "window_closed"
        assert deals_auto_accept(now=later) == 1 and deals_auto_accept(now=later) == 0
        assert buyer.get(f"{URL}{deal.gid}/").json()["state"] == "accepted"


class TestSettlementAndEvaluations:
    @pytest.fixture
    def accepted(self, delivered, buyer):
        assert _post(buyer, delivered, "acceptance", {"result": "accepted"}).status_code == 201
        return delivered

    def test_settlement_records_the_amount_and_each_fee(self, accepted, alice_api, alice):
        response = alice_api.put(
            "/api/v1/exchanges/SHDEX/terms/", {"listing_fee_bp": 200, "buyer_fee_bp": 25}, format="json"
        )
        assert response.status_code == 200 and response.json()["version"] == 1
        settled = _post(alice_api, accepted, "settlement").json()
        # The fees are the rates the offer carried (the defaults then), not today's.
        assert settled["state"] == "settled"
        assert settled["steps"][-1]["body"] == {
            "amount": "20000.00",
            "currency": "CNY",
            "fees": [
                {"exchange": "SHDEX", "basis": "listing", "bp": 100, "amount": "200.00"},
                {"exchange": "SHDEX", "basis": "buyer", "bp": 50, "amount": "100.00"},
            ],
        }

    def test_each_party_evaluates_the_other_and_the_deal_closes(self, accepted, alice_api, buyer, provider):
        body = {"dimension": "service", "score": 88, "summary": "交付及时，数据质量良好"}
        assert _post(buyer, accepted, "evaluations", body).status_code == 409  # not settled yet
        _post(alice_api, accepted, "settlement")
        assert _post(buyer, accepted, "evaluations", body).status_code == 201
        assert _post(buyer, accepted, "evaluations", body).status_code == 409  # once
        closed = _post(provider, accepted, "evaluations", {**body, "dimension": "credit", "score": 90}).json()
        assert closed["state"] == "closed"
        given = Evaluation.objects.get(subject_id=PRODUCT["provider"]["uscc"])
        assert (given.issuer_id, given.evidence_ref, given.score) == (BUYER, f"deal:{accepted['id']}", 88)


class TestVisibility:
    def test_parties_and_audience_operators_read_others_get_404(
        self, ordered, buyer, provider, alice_api, bob_api
    ):
        path = f"{URL}{ordered['id']}/"
        assert buyer.get(path).status_code == 200 and provider.get(path).status_code == 200
        assert alice_api.get(path).json()["my_roles"] == ["coordinator"]
        assert bob_api.get(path).status_code == 404 and APIClient().get(path).status_code == 401
        other = register_provider(
            make_uscc(random.Random(7), "310000"),
            "旁观者公司",
            roles=("demander",),
            account={"username": "o", "password": "Qz8-other-meadow"},
        )
        assert other and _login("o", "Qz8-other-meadow").get(path).status_code == 404
        assert [d["id"] for d in buyer.get(URL).json()["results"]] == [ordered["id"]]
        assert buyer.get(f"{URL}?role=provider").json()["results"] == []
        assert bob_api.get(URL).json()["results"] == []
        assert [d["id"] for d in alice_api.get(f"{URL}?state=ordered").json()["results"]] == [ordered["id"]]
