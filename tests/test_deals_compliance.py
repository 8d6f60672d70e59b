# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py are imported and taken as arguments
"""The compliance check before delivery (docs/deals.md): the data level's rules (core data never traded,
important data only by sandbox or api and never abroad), and an operator of the coordinating exchange
running the check again on a deal that failed it — and every refusal of that."""

import copy

import pytest
from rest_framework.test import APIClient

from deals.compliance import deal_compliance_run
from deals.models import Deal, DealStep
from participants.models import Participant
from participants.services import participant_set_status
from products.models import Product
from standards.deal_compliance import data_level, level_breaches, offer_breaches
from standards.usage_policy import policy_clean
from tests.deal_world import OFFER, ORDER
from tests.test_deals import (  # noqa: F401 - fixtures
    BUYER,
    PRODUCT,
    URL,
    _error,
    _post,
    agreed,
    buyer,
    ordered,
    provider,
)
from tests.test_deals_offer_rules import _important_product

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
MAINLAND = policy_clean(OFFER["usage_policy"])
ABROAD = policy_clean(
    {**OFFER["usage_policy"], "constraints": {"purpose": ["research"], "territory": ["CN"]}}
)


def _important(level="important"):
    return {**copy.deepcopy(PRODUCT), "classification": {"level": level}}


class TestDataLevelRules:
    def test_the_level_a_descriptor_declares(self):
        assert data_level(_important()) == "important"
        assert data_level(PRODUCT) is None
        assert data_level({"classification": "core"}) is None and data_level(None) is None

    @pytest.mark.parametrize(
        "level, method, policy, codes",
        [
            (None, "file", ABROAD, []),
            ("general", "offline", ABROAD, []),
            ("important", "sandbox", MAINLAND, []),
            ("important", "api", MAINLAND, []),
            ("important", "file", MAINLAND, ["data_level.important_delivery"]),
            ("important", "api", ABROAD, ["data_level.important_cross_border"]),
            (
                "important",
                "offline",
                ABROAD,
                ["data_level.important_delivery", "data_level.important_cross_border"],
            ),
            ("core", "sandbox", MAINLAND, ["data_level.core"]),
        ],
    )
    def test_core_never_important_only_by_sandbox_or_api_within_the_mainland(
        self, level, method, policy, codes
    ):
        descriptor = _important(level) if level else PRODUCT
        breaches = level_breaches(
            descriptor, method=method, policy=policy, method_field="m", policy_field="p"
        )
        assert [code for _, code, _, _ in breaches] == codes
        assert all(zh and en for _, _, zh, en in breaches)

    def test_an_offer_within_the_product_has_no_breach(self):
        assert offer_breaches({**OFFER, "usage_policy": MAINLAND}, PRODUCT) == []
        # A descriptor that declares nothing reads as the strict case: no method, personal information.
        assert [b[1] for b in offer_breaches(OFFER, {})] == [
            "not_offered",
            "policy.delete_at_end_required",
            "policy.deidentified_only_required",
        ]


def _agree(buyer, provider, product_code, order, offer):
    deal = buyer.post(URL, {"product": product_code, "request": order}, format="json")
    assert deal.status_code == 201, deal.content
    deal = deal.json()
    assert _post(provider, deal, "offers", offer).status_code == 201
    assert _post(buyer, deal, "accept").status_code == 201
    assert _post(provider, deal, "accept").status_code == 201
    return deal


def _rules(gid):
    step = DealStep.objects.filter(deal_gid=gid, kind="compliance").last()
    return {r["code"]: r["passed"] for r in step.body["rules"]}


def _declare_core(code):
    """The product's data as core data (which its listing would refuse: here it changed after the order)."""
    product = Product.objects.get(code=code)
    Product.objects.filter(pk=product.pk).update(
        descriptor={**product.descriptor, "classification": {"level": "core"}}
    )


class TestTheCheckReadsTheDataLevel:
    def test_important_data_used_abroad_fails_within_the_mainland_passes(self, buyer, provider, alice):
        product = _important_product(alice)
        sandbox = {**OFFER, "delivery_method": "sandbox"}
        order = {**ORDER, "delivery_method": "sandbox"}
        abroad = {
            **order,
            "usage_policy": {
                **ORDER["usage_policy"],
                "constraints": {"purpose": ["research"], "territory": ["CN"]},
            },
        }
        failed = _agree(buyer, provider, product.code, abroad, sandbox)
        assert deal_compliance_run(failed["id"])
        assert _rules(failed["id"])["data_level.important_cross_border"] is False
        assert Deal.objects.get(gid=failed["id"]).state == "compliance_failed"

        cleared = _agree(buyer, provider, product.code, order, sandbox)
        assert deal_compliance_run(cleared["id"])
        rules = _rules(cleared["id"])
        assert rules["data_level"] is True and all(rules.values())
        assert Deal.objects.get(gid=cleared["id"]).state == "cleared"

    def test_core_data_is_never_traded(self, agreed, provider):
        _declare_core(provider.product.code)
        assert deal_compliance_run(agreed["id"])
        rules = _rules(agreed["id"])
        assert rules["data_level.core"] is False and "data_level" not in rules


def _suspend_buyer(status="suspended"):
    participant_set_status(
        actor=None, participant=Participant.objects.get(participant_id=BUYER), status=status, reason="核查"
    )


class TestRunTheCheckAgain:
    def test_an_operator_of_the_coordinator_runs_it_again_after_it_failed(self, agreed, alice_api):
        _suspend_buyer()
        assert deal_compliance_run(agreed["id"])
        assert _rules(agreed["id"])["buyer_verified"] is False
        assert alice_api.get(f"{URL}{agreed['id']}/").json()["actions"] == ["compliance", "terminate"]
        again = _post(alice_api, agreed, "compliance")
        assert again.status_code == 201, again.content
        assert again.json()["state"] == "compliance_failed"  # still suspended: fails again
        _suspend_buyer("verified")
        cleared = _post(alice_api, agreed, "compliance")
        assert cleared.status_code == 201, cleared.content
        assert cleared.json()["state"] == "cleared"
        steps = DealStep.objects.filter(deal_gid=agreed["id"], kind="compliance").order_by("seq")
        assert [s.body["passed"] for s in steps] == [False, False, True]
        assert steps.last().role == "coordinator" and _rules(agreed["id"])["buyer_verified"] is True
        assert _error(_post(alice_api, agreed, "compliance"))[0] == "not_allowed_now"  # cleared

    def test_refused_while_the_node_checks_and_before_agreement(self, agreed, buyer, provider, alice_api):
        assert "compliance" not in alice_api.get(f"{URL}{agreed['id']}/").json()["actions"]
        pending = _post(alice_api, agreed, "compliance")
        assert pending.status_code == 409 and _error(pending)[0] == "check_pending"
        ordered = buyer.post(URL, {"product": provider.product.code, "request": ORDER}, format="json").json()
        before = _post(alice_api, ordered, "compliance")
        assert before.status_code == 409 and _error(before)[0] == "not_allowed_now"
        assert not DealStep.objects.filter(kind="compliance").exists()

    def test_refused_to_the_parties_to_other_exchanges_and_to_the_anonymous(
        self, agreed, buyer, provider, bob_api
    ):
        _declare_core(provider.product.code)  # fails the check (a suspended party could not even log in)
        deal_compliance_run(agreed["id"])
        assert Deal.objects.get(gid=agreed["id"]).state == "compliance_failed"
        for party in (buyer, provider):
            refused = _post(party, agreed, "compliance")
            assert refused.status_code == 403 and _error(refused)[0] == "not_party"
        assert _post(bob_api, agreed, "compliance").status_code == 404  # BJIDX is not in the audience
        assert _post(APIClient(), agreed, "compliance").status_code == 401
        assert DealStep.objects.filter(deal_gid=agreed["id"], kind="compliance").count() == 1
