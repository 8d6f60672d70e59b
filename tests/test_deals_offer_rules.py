# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py are imported and taken as arguments
"""What an offer may say (docs/deals.md, "Negotiation"): nothing the product does not allow — its delivery
methods, its own usage policy, its data level — refused with a 400 naming the field and the rule; and an
order that takes up an accepted demand response carries that response's terms, which the provider's first
offer defaults to and keeps to."""

import copy
import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from core.exceptions import ValidationFailed
from deals.models import Deal, DealStep
from demands.models import DecisionStatus, DemandResponse
from products.models import ProductStatus
from standards.deal_compliance import offer_breaches
from standards.deal_steps import order_clean, step_body_clean
from tests.deal_world import OFFER, ORDER
from tests.factories import make_product
from tests.test_deals import (  # noqa: F401 - fixtures
    BUYER,
    PRODUCT,
    URL,
    _error,
    _post,
    buyer,
    ordered,
    provider,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
SELLER = PRODUCT["provider"]["uscc"]


def _policy(**constraints):
    return {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], **constraints},
    }


class TestOfferWithinTheProduct:
    @pytest.mark.parametrize(
        "change, field, code",
        [
            ({"delivery_method": "sandbox"}, "delivery_method", "not_offered"),
            (
                {"usage_policy": {**OFFER["usage_policy"], "constraints": {"purpose": ["research"],
                                                                          "territory": ["cross_border"]}}},
                "usage_policy.constraints.territory",
                "policy.cross_border_not_allowed",
            ),
            (
                {"usage_policy": {**OFFER["usage_policy"], "constraints": {"purpose": ["research"],
                                                                          "territory": ["810000"]}}},
                "usage_policy.constraints.territory",
                "policy.territory_not_allowed",
            ),
            (
                {"usage_policy": {"permissions": ["use", "redistribute"],
                                  "constraints": {"purpose": ["research"], "territory": ["CN-mainland"]}}},
                "usage_policy.permissions",
                "policy.action_prohibited",
            ),
        ],
    )  # fmt: skip
    def test_an_offer_granting_more_than_the_product_allows_is_400(
        self, ordered, provider, change, field, code
    ):
        response = _post(provider, ordered, "offers", {**OFFER, **change})
        assert response.status_code == 400, response.content
        assert (field, code) in _error(response)[1]
        assert not DealStep.objects.filter(deal_gid=ordered["id"]).exists()
        assert _post(provider, ordered, "offers", OFFER).status_code == 201

    def test_a_counter_is_held_to_the_product_too(self, ordered, buyer, provider):
        assert _post(provider, ordered, "offers", OFFER).status_code == 201
        abroad = {**OFFER["usage_policy"], "constraints": {"purpose": ["research"], "territory": ["CN"]}}
        response = _post(buyer, ordered, "offers", {**OFFER, "usage_policy": abroad})
        assert response.status_code == 400
        assert ("usage_policy.constraints.territory", "policy.territory_not_allowed") in _error(response)[1]

    def test_personal_information_must_be_used_deidentified_and_deleted(self, buyer, alice, provider):
        descriptor = copy.deepcopy(PRODUCT)
        descriptor["name"] = "个人出行画像去标识化数据集"
        descriptor["compliance"]["personal_information"] = {
            "category": "deidentified",
            "status": "passed",
            "evidence_ref": "SHDEX-PI-2024-0001",
        }
        product = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        order = {**ORDER, "usage_policy": _policy(deidentified_only=True, delete_at_end=True)}
        deal = buyer.post(URL, {"product": product.code, "request": order}, format="json")
        assert deal.status_code == 201, deal.content
        response = _post(provider, deal.json(), "offers", OFFER)
        assert response.status_code == 400
        assert {
            ("usage_policy.constraints.deidentified_only", "policy.deidentified_only_required"),
            ("usage_policy.constraints.delete_at_end", "policy.delete_at_end_required"),
        } <= _error(response)[1]
        duties = {"deidentified_only": True, "delete_at_end": True}
        policy = {**OFFER["usage_policy"], "constraints": {**OFFER["usage_policy"]["constraints"], **duties}}
        assert _post(provider, deal.json(), "offers", {**OFFER, "usage_policy": policy}).status_code == 201


def _important_product(alice):
    descriptor = copy.deepcopy(PRODUCT)
    descriptor.update(
        descriptor_version="1.1",
        name="城市充电桩实时负荷重要数据",
        classification={"level": "important"},
        delivery_methods=["sandbox", "api"],
    )
    descriptor["compliance"]["important_data"] = {
        "involved": True,
        "status": "passed",
        "evidence_ref": "SHDEX-IMP-2024-0007",
    }
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


def test_an_offer_of_important_data_by_file_or_abroad_is_400(buyer, provider, alice):
    product = _important_product(alice)
    deal = buyer.post(
        URL, {"product": product.code, "request": {**ORDER, "delivery_method": "sandbox"}}, format="json"
    )
    assert deal.status_code == 201, deal.content
    offer = {**OFFER, "delivery_method": "file"}
    offer["usage_policy"] = {
        **OFFER["usage_policy"],
        "constraints": {"purpose": ["research"], "territory": ["CN"]},
    }
    errors = _error(_post(provider, deal.json(), "offers", offer))[1]
    assert {
        ("delivery_method", "not_offered"),
        ("delivery_method", "data_level.important_delivery"),
        ("usage_policy.constraints.territory", "data_level.important_cross_border"),
    } <= errors
    assert _post(provider, deal.json(), "offers", {**OFFER, "delivery_method": "sandbox"}).status_code == 201


# --- an order that takes up a demand response ------------------------------------------------------------


def _response(product_code, *, demander=BUYER, responder=SELLER, decision=DecisionStatus.ACCEPTED, **extra):
    """A response to a demand as it is held at the demander's home node (here)."""
    origin = settings.NODE_CODE
    return DemandResponse.objects.create(
        gid=f"{origin}-{uuid.uuid4().hex}",
        origin=origin,
        demand_gid=f"{origin}-{uuid.uuid4().hex}",
        demand_origin=origin,
        demander_id=demander,
        demander_home=origin,
        responder_id=responder,
        responder_home=origin,
        responder_name=PRODUCT["provider"]["name"],
        kind=DemandResponse.Kind.OFFER,
        products=[product_code],
        price=Decimal("18000.00"),
        delivery_days=7,
        created_at=timezone.now() - dt.timedelta(days=1),
        decision=decision,
        **extra,
    )


def _order(buyer, product, **request):
    return buyer.post(URL, {"product": product.code, "request": {**ORDER, **request}}, format="json")


class TestOrderFromAResponse:
    def test_the_order_carries_the_response_terms_and_the_first_offer_defaults_to_them(self, buyer, provider):
        response = _response(provider.product.code)
        created = _order(buyer, provider.product, demand_response=response.gid)
        assert created.status_code == 201, created.content
        request = Deal.objects.get(gid=created.json()["id"]).request
        assert request["demand_response"] == response.gid
        assert request["response_terms"] == {"price": "18000.00", "delivery_days": 7}
        offer = _post(provider, created.json(), "offers", {"acceptance_window_hours": 48})
        assert offer.status_code == 201, offer.content
        body = offer.json()["offer"]
        assert (body["price"], body["delivery_days"], body["delivery_method"]) == ("18000.00", 7, "file")
        assert body["usage_policy"]["constraints"]["purpose"] == ["research"]
        assert body["usage_policy"]["permissions"] == ["analyse", "use"]

    def test_the_first_offer_keeps_to_the_response(self, buyer, provider):
        deal = _order(buyer, provider.product, demand_response=_response(provider.product.code).gid).json()
        narrow = {**OFFER["usage_policy"], "permissions": ["use"]}
        dearer = {
            **OFFER,
            "price": "18000.01",
            "delivery_days": 8,
            "delivery_method": "api",
            "usage_policy": narrow,
        }
        assert _error(_post(provider, deal, "offers", dearer))[1] == {
            ("price", "above_response_price"),
            ("delivery_days", "later_than_response"),
            ("delivery_method", "not_ordered"),
            ("usage_policy.permissions", "policy.action_not_permitted"),
        }
        cheaper = _post(provider, deal, "offers", {**OFFER, "price": "17500.00", "delivery_days": 5})
        assert cheaper.status_code == 201, cheaper.content
        # Later versions are negotiation: a counter, then an offer above the response's price, are taken.
        assert _post(buyer, deal, "offers", {**OFFER, "price": "17000.00"}).status_code == 201
        assert _post(provider, deal, "offers", {**OFFER, "price": "19000.00"}).json()["offer_version"] == 3

    def test_an_order_without_a_response_must_say_every_term(self, ordered, provider):
        errors = _error(_post(provider, ordered, "offers", {"acceptance_window_hours": 48}))[1]
        assert {f for f, _ in errors} >= {"price", "usage_policy", "delivery_method", "delivery_days"}

    @pytest.mark.parametrize(
        "make, code",
        [
            (lambda code: _response(code, decision=DecisionStatus.SHORTLISTED), "mismatch"),
            (lambda code: _response(code, demander="91110108MA01AB2C3D"), "mismatch"),
            (lambda code: _response("SHDEX-2026-000999-X"), "mismatch"),
            (lambda code: None, "not_held"),
        ],
    )
    def test_a_response_not_accepted_by_this_buyer_for_this_product_or_not_held_is_400(
        self, buyer, provider, make, code
    ):
        response = make(provider.product.code)
        gid = response.gid if response else f"BJIDX-{uuid.uuid4().hex}"
        refused = _order(buyer, provider.product, demand_response=gid)
        assert refused.status_code == 400
        assert _error(refused)[1] == {("request.demand_response", code)}
        assert not Deal.objects.exists()

    def test_the_buyer_cannot_write_the_terms(self, buyer, provider):
        response = _response(provider.product.code)
        terms = {"price": "1.00", "delivery_days": 1}
        refused = _order(buyer, provider.product, demand_response=response.gid, response_terms=terms)
        assert _error(refused)[1] == {("request.response_terms", "read_only")}


def test_the_tours_examples_register_a_buyer_and_offer_within_the_example_product(alice_api):
    """README's "Buy a product": the buyer's registration is valid, the example offer grants nothing the
    example product does not allow."""
    examples = Path(__file__).resolve().parents[1] / "docs" / "examples"
    buyer = json.loads((examples / "deal-buyer.json").read_text("utf-8"))
    created = alice_api.post("/api/v1/participants/", buyer, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["roles"] == ["demander"]
    offer = json.loads((examples / "deal-offer.json").read_text("utf-8"))
    clean = step_body_clean(
        "offer", {**offer, "currency": "CNY", "fees": [{"exchange": "SHDEX", "basis": "listing", "bp": 100}]}
    )
    assert offer_breaches(clean, PRODUCT) == []
    assert offer_breaches({**clean, "delivery_method": "offline"}, PRODUCT)


def test_a_peers_order_carries_the_terms_only_with_its_response_and_well_formed():
    """The order replicates with `response_terms` (the deal standard checks a peer's order as any input)."""
    gid = f"GYBDX-{uuid.uuid4().hex}"
    terms = {"price": "18000.00", "delivery_days": 7}
    clean = order_clean({**ORDER, "demand_response": gid, "response_terms": terms})
    assert clean["response_terms"] == terms and clean["demand_response"] == gid
    assert "response_terms" not in order_clean(ORDER)  # an order of older code is unchanged
    with pytest.raises(ValidationFailed) as without:
        order_clean({**ORDER, "response_terms": terms})
    assert {(e.field, e.code) for e in without.value.errors} == {("response_terms", "mismatch")}
    bad = {"price": 18000.5, "delivery_days": 0, "extra": 1}
    with pytest.raises(ValidationFailed) as malformed:
        order_clean({**ORDER, "demand_response": gid, "response_terms": bad})
    assert {(e.field, e.code) for e in malformed.value.errors} == {
        ("response_terms.price", "format"),
        ("response_terms.delivery_days", "range"),
        ("response_terms.extra", "unknown_field"),
    }
