"""The transaction flow (standards.deal_flow): the state derived from a deal's steps, the same whatever order
the steps arrive in; the deterministic rule for crossing steps; steps the flow does not allow are ignored and
counted; the step standard (standards.deal_steps) refuses malformed bodies and secrets."""

import datetime as dt
import itertools
import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.exceptions import ValidationFailed
from standards.deal_contract import contract_digest, contract_document, contract_text
from standards.deal_delivery import secret_like
from standards.deal_flow import ALLOWED, derive
from standards.deal_steps import order_clean, step_body_clean
from standards.usage_policy import policy_within

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
BUYER, PROVIDER = "91310115AY4CL12T2E", "91310000MA1FL8XK2Y"
ORDER = {
    "purpose": "充电设施规划研究",
    "usage_policy": {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], "duration_days": 365},
    },
    "delivery_method": "file",
}
OFFER = {
    "price": "20000.00",
    "currency": "CNY",
    "usage_policy": {
        "permissions": ["use", "analyse", "derive"],
        "prohibitions": ["redistribute", "resell"],
        "constraints": {"purpose": ["research", "internal_analysis"], "territory": ["CN-mainland"]},
    },
    "delivery_method": "file",
    "delivery_days": 10,
    "acceptance_window_hours": 72,
    "fees": [
        {"exchange": "SHDEX", "basis": "listing", "bp": 100},
        {"exchange": "GYBDX", "basis": "buyer", "bp": 50},
    ],
    "message": "",
}


def _deal():
    return SimpleNamespace(
        gid=f"GYBDX-{uuid.uuid4().hex}",
        origin="GYBDX",
        placed_at=T0,
        product_code="SHDEX-2026-000031-K",
        product_version=1,
        product_exchange="SHDEX",
        product_name="上海市新能源汽车充电桩运行数据集",
        provider_id=PROVIDER,
        provider_home="SHDEX",
        provider_name="上海沪电智联能源科技有限公司",
        buyer_id=BUYER,
        buyer_home="GYBDX",
        buyer_name="贵阳数据应用有限公司",
        request=order_clean(ORDER),
    )


_HOME = {"buyer": "GYBDX", "provider": "SHDEX", "coordinator": "SHDEX"}
_ACTOR = {"buyer": BUYER, "provider": PROVIDER, "coordinator": "SHDEX"}


def step(deal, seq, kind, role, *, minutes=0, body=None, offer_version=None, origin=None, actor=None):
    return SimpleNamespace(
        gid=f"{origin or _HOME[role]}-{uuid.uuid4().hex}",
        deal_gid=deal.gid,
        origin=origin or _HOME[role],
        seq=seq,
        kind=kind,
        role=role,
        actor_id=actor or _ACTOR[role],
        at=T0 + dt.timedelta(minutes=minutes),
        body=step_body_clean(kind, body if body is not None else {}),
        offer_version=offer_version,
    )


def accept(deal, seq, role, offer, version=1, minutes=0):
    digest = contract_digest(contract_document(deal, step_body_clean("offer", offer), version))
    body = {"contract_sha256": digest, "signature": "A" * 86 + "=="}
    return step(deal, seq, "accept", role, minutes=minutes, body=body, offer_version=version)


def agreed_steps(deal):
    return [
        step(deal, 1, "offer", "provider", body=OFFER, offer_version=1, minutes=1),
        accept(deal, 2, "buyer", OFFER, minutes=2),
        accept(deal, 3, "provider", OFFER, minutes=3),
    ]


def compliance(deal, seq, passed=True):
    rule = {"code": "buyer_verified", "passed": passed, "reason": "需方", "reason_en": "buyer"}
    return step(deal, seq, "compliance", "coordinator", body={"passed": passed, "rules": [rule]}, minutes=4)


FILES = [{"name": "a.csv", "size": 10, "sha256": "a" * 64}]


def delivered_steps(deal):
    return [
        *agreed_steps(deal),
        compliance(deal, 4),
        step(deal, 5, "delivery", "provider", body={"method": "file", "files": FILES}, minutes=10),
    ]


class TestHappyPath:
    def test_order_offer_accepts_make_a_contract(self):
        deal = _deal()
        assert derive(deal, []).state == "ordered"
        steps = agreed_steps(deal)
        assert derive(deal, steps[:1]).state == "negotiating"
        assert derive(deal, steps[:2]).state == "negotiating"
        d = derive(deal, steps)
        assert d.state == "agreed" and d.offer_version == 1
        assert d.contract_sha256 == contract_digest(d.contract(deal))
        assert d.deadlines["delivery_by"] == T0 + dt.timedelta(minutes=3, days=10)
        assert d.actions == {"buyer": ["cancel"], "provider": [], "coordinator": ["compliance", "terminate"]}

    def test_every_transition_to_closed(self):
        deal = _deal()
        steps = delivered_steps(deal)
        assert derive(deal, steps[:4]).state == "cleared"
        d = derive(deal, steps)
        assert d.state == "delivered"
        assert d.deadlines["acceptance_by"] == T0 + dt.timedelta(minutes=10, hours=72)
        steps.append(
            step(deal, 6, "receipt", "buyer", body={"files": [{"name": "a.csv", "sha256": "a" * 64}]})
        )
        steps[-1].at = T0 + dt.timedelta(minutes=20)
        assert derive(deal, steps).state == "received"
        steps.append(step(deal, 7, "acceptance", "buyer", body={"result": "accepted"}, minutes=30))
        assert derive(deal, steps).state == "accepted"
        settlement = {"amount": "20000.00", "currency": "CNY", "fees": []}
        steps.append(step(deal, 8, "settlement", "coordinator", body=settlement, minutes=40))
        assert derive(deal, steps).state == "settled"
        steps.append(
            step(deal, 9, "evaluation", "buyer", body={"evaluation": f"GYBDX-{'1' * 32}"}, minutes=50)
        )
        d = derive(deal, steps)
        assert d.state == "settled" and d.actions["buyer"] == [] and d.actions["provider"] == ["evaluation"]
        steps.append(
            step(deal, 10, "evaluation", "provider", body={"evaluation": f"SHDEX-{'2' * 32}"}, minutes=55)
        )
        assert derive(deal, steps).state == "closed"
        assert derive(deal, steps).times["closed"] == T0 + dt.timedelta(minutes=55)

    def test_failed_compliance_and_a_second_check(self):
        deal = _deal()
        steps = [*agreed_steps(deal), compliance(deal, 4, passed=False)]
        assert derive(deal, steps).state == "compliance_failed"
        assert derive(deal, [*steps, compliance(deal, 5)]).state == "cleared"

    def test_rejection_within_the_window(self):
        deal = _deal()
        steps = [
            *delivered_steps(deal),
            step(
                deal, 6, "acceptance", "buyer", body={"result": "rejected", "reason": "字段缺失"}, minutes=60
            ),
        ]
        assert derive(deal, steps).state == "rejected"


class TestNegotiation:
    def test_a_counter_supersedes_the_offer_and_old_accepts_do_not_count(self):
        deal = _deal()
        counter = {**OFFER, "price": "18000.00"}
        steps = [
            step(deal, 1, "offer", "provider", body=OFFER, offer_version=1),
            accept(deal, 2, "buyer", OFFER),
            step(deal, 3, "counter", "buyer", body=counter, offer_version=2),
            accept(deal, 4, "provider", OFFER, version=1),  # of the old offer: ignored
        ]
        d = derive(deal, steps)
        assert (d.state, d.offer_version, d.offer["price"], d.offer["by"]) == (
            "negotiating",
            2,
            "18000.00",
            "buyer",
        )
        assert len(d.ignored) == 1
        steps += [
            accept(deal, 5, "provider", counter, version=2),
            accept(deal, 6, "buyer", counter, version=2),
        ]
        assert derive(deal, steps).agreed_offer["price"] == "18000.00"

    def test_an_accept_of_another_document_is_ignored(self):
        deal = _deal()
        tampered = {**OFFER, "price": "1.00"}
        steps = [
            step(deal, 1, "offer", "provider", body=OFFER, offer_version=1),
            accept(deal, 2, "buyer", tampered),
        ]
        d = derive(deal, steps)
        assert d.accepts == {} and d.ignored == [steps[1].gid]


class TestRefusals:
    @pytest.mark.parametrize(
        ("kind", "role", "body"),
        [
            ("offer", "buyer", OFFER),  # the buyer does not offer
            ("delivery", "provider", {"method": "file", "files": FILES}),  # not agreed yet
            ("settlement", "coordinator", {"amount": "1.00", "currency": "CNY", "fees": []}),
            ("acceptance", "buyer", {"result": "accepted"}),
        ],
    )
    def test_a_step_the_state_does_not_allow_is_ignored_and_counted(self, kind, role, body):
        deal = _deal()
        version = 1 if kind in {"offer", "counter"} else None
        bad = step(deal, 1, kind, role, body=body, offer_version=version)
        d = derive(deal, [bad])
        assert (d.state, d.applied, d.ignored) == ("ordered", [], [bad.gid])

    def test_a_step_from_the_wrong_node_or_actor_is_ignored(self):
        deal = _deal()
        forged = step(deal, 1, "offer", "provider", body=OFFER, offer_version=1, origin="BJIDX")
        impostor = step(deal, 1, "offer", "provider", body=OFFER, offer_version=1, actor=BUYER)
        assert derive(deal, [forged, impostor]).state == "ordered"

    def test_an_answer_after_the_window_is_ignored_and_auto_accept_only_after_it(self):
        deal = _deal()
        steps = delivered_steps(deal)
        late = step(
            deal,
            6,
            "acceptance",
            "buyer",
            body={"result": "rejected", "reason": "晚了"},
            minutes=10 + 73 * 60,
        )
        early = step(deal, 6, "auto_accept", "coordinator", minutes=60)
        assert derive(deal, [*steps, late]).state == "delivered"
        assert derive(deal, [*steps, early]).state == "delivered"
        auto = step(deal, 6, "auto_accept", "coordinator", minutes=10 + 72 * 60)
        assert derive(deal, [*steps, auto]).state == "accepted"

    def test_the_same_step_twice_is_applied_once(self):
        deal = _deal()
        steps = agreed_steps(deal)
        assert derive(deal, [*steps, steps[1]]).state == "agreed"

    def test_terminate_is_allowed_in_every_state_but_final_ones(self):
        for (state, role), kinds in ALLOWED.items():
            if role == "coordinator":
                assert ("terminate" in kinds) == (
                    state not in {"settled", "closed", "cancelled", "terminated"}
                )


def _cancel(deal, seq, role="buyer", minutes=0):
    return step(deal, seq, "cancel", role, body={"reason": "预算取消"}, minutes=minutes)


class TestCrossing:
    def test_a_cancellation_and_an_acceptance_crossing_resolve_alike_in_every_order(self):
        deal = _deal()
        offer, buyer_accept = agreed_steps(deal)[:2]
        # The provider accepts while the buyer cancels: both written on the same basis (seq 3); the
        # provider's acceptance even carries the earlier time.
        crossing = [accept(deal, 3, "provider", OFFER, minutes=1), _cancel(deal, 3, minutes=9)]
        states = set()
        for order in itertools.permutations([offer, buyer_accept, *crossing]):
            d = derive(deal, list(order))
            states.add((d.state, tuple(d.applied), tuple(sorted(d.ignored))))
        assert len(states) == 1
        ((state, _applied, ignored),) = states
        assert state == "cancelled" and ignored == (crossing[0].gid,)

    def test_a_cancellation_after_delivery_was_seen_does_not_undo_it(self):
        deal = _deal()
        steps = delivered_steps(deal)
        late_cancel = _cancel(deal, 6, minutes=11)  # the buyer saw the delivery: seq 6
        for order in itertools.permutations([*steps[-2:], late_cancel]):
            assert derive(deal, [*steps[:-2], *order]).state == "delivered"

    def test_two_crossing_offers_the_same_version_keep_the_earlier(self):
        deal = _deal()
        first = step(deal, 1, "offer", "provider", body=OFFER, offer_version=1, minutes=1)
        counter = {**OFFER, "price": "1000.00"}
        second = step(
            deal, 2, "offer", "provider", body={**OFFER, "price": "30000.00"}, offer_version=2, minutes=5
        )
        other = step(deal, 2, "counter", "buyer", body=counter, offer_version=2, minutes=3)
        for order in itertools.permutations([first, second, other]):
            d = derive(deal, list(order))
            assert (d.offer_version, d.offer["price"], len(d.ignored)) == (2, "1000.00", 1)


class TestStepStandard:
    @pytest.mark.parametrize(
        ("kind", "body", "field", "code"),
        [
            ("offer", {**OFFER, "price": 12.5}, "price", "format"),
            ("offer", {**OFFER, "currency": "USD"}, "currency", "invalid_choice"),
            ("offer", {**OFFER, "usage_policy": "anything"}, "usage_policy", "type"),
            ("offer", {**OFFER, "acceptance_window_hours": 0}, "acceptance_window_hours", "range"),
            ("cancel", {"reason": ""}, "reason", "required"),
            ("acceptance", {"result": "rejected"}, "reason", "required"),
            (
                "delivery",
                {"method": "file", "files": [{"name": "a", "size": 1, "sha256": "x"}]},
                "files.0",
                "format",
            ),
            ("accept", {"contract_sha256": "0" * 64, "signature": "x"}, "signature", "format"),
            ("offer", {**OFFER, "extra": 1}, "extra", "unknown_field"),
        ],
    )
    def test_bad_bodies_are_refused_naming_the_field(self, kind, body, field, code):
        with pytest.raises(ValidationFailed) as exc:
            step_body_clean(kind, body)
        assert (field, code) in {(e.field, e.code) for e in exc.value.errors}

    @pytest.mark.parametrize(
        ("credential", "refused"),
        [
            ("VAULT-REF-2026-0042", False),
            ("kms://shdex/deals/abc", False),
            ("sk-live-9f8a7b6c5d4e3f2a1b0c", True),
            ("Bearer eyJhbGciOiJIUzI1NiJ9.abcdef", True),
            ("password=hunter2", True),
            ("Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5", True),
        ],
    )
    def test_an_api_delivery_names_a_credential_never_the_secret(self, credential, refused):
        body = {
            "method": "api",
            "endpoint": "https://api.example.cn/v1/data",
            "credential_ref": credential,
            "quota": 10000,
            "valid_until": "2027-12-31",
        }
        assert secret_like(credential) == refused
        if refused:
            with pytest.raises(ValidationFailed) as exc:
                step_body_clean("delivery", body)
            assert ("credential_ref", "secret") in {(e.field, e.code) for e in exc.value.errors}
        else:
            assert step_body_clean("delivery", body)["credential_ref"] == credential


def test_the_contract_is_canonical_and_rendered_in_chinese():
    deal = _deal()
    offer = step_body_clean("offer", OFFER)
    document = contract_document(deal, offer, 1)
    shuffled = contract_document(deal, dict(reversed(list(offer.items()))), 1)
    assert contract_digest(document) == contract_digest(shuffled)
    assert contract_digest(document) != contract_digest(
        contract_document(deal, {**offer, "price": "1.00"}, 1)
    )
    text = contract_text(document, contract_digest(document), [])
    assert "数据产品交易合同" in text and "20000.00 CNY" in text and deal.gid in text


def test_the_worked_example_of_docs_deals_md_is_valid():
    examples = Path(__file__).resolve().parents[1] / "docs" / "examples"
    order = json.loads((examples / "deal-order.json").read_text("utf-8"))
    offer = json.loads((examples / "deal-offer.json").read_text("utf-8"))
    request = order_clean(order["request"])
    offered = step_body_clean("offer", {**offer, "currency": "CNY", "fees": OFFER["fees"]})
    assert policy_within(request["usage_policy"], offered["usage_policy"]) == []
    assert step_body_clean("delivery", json.loads((examples / "deal-delivery.json").read_text("utf-8")))
    contract = json.loads((examples / "deal-contract.json").read_text("utf-8"))
    assert contract_digest(contract["document"]) == contract["sha256"]
    assert contract["document"]["order"]["usage_policy"] == request["usage_policy"]
    assert contract["document"]["terms"]["usage_policy"] == offered["usage_policy"]
