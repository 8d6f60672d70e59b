# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py are imported and taken as arguments
"""Disputes of deals at one node (SHDEX holds every role here: buyer, provider and the coordinating exchange,
whose operator is alice): filing, every transition, every refusal (wrong actor, wrong state, bad body) in the
one error shape, who reads a dispute, the outcome's evaluation, a rejected delivery filing one, the
settlement waiting for it and deducting the refund, notifications, the operators' queue with its overdue
flag on a frozen clock, the vocabularies, and the figures for the stats."""

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from deals.dispute_followups import disputes_followup
from deals.dispute_services import dispute_take
from deals.models import Deal, Dispute, DisputeStep
from deals.stats import deal_stats
from demands.models import Notification, WebhookDelivery, WebhookSubscription
from federation.models import Entry
from participants.models import Evaluation
from participants.principal import ParticipantPrincipal
from participants.selectors import participant_get
from products.sample_data import make_uscc
from tests.factories import register_provider
from tests.test_deals import (  # noqa: F401 - fixtures
    BUYER,
    PRODUCT,
    _error,
    _login,
    _post,
    agreed,
    buyer,
    delivered,
    ordered,
    provider,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
SELLER = PRODUCT["provider"]["uscc"]
CST = dt.timezone(dt.timedelta(hours=8))
FILING = json.loads(
    (Path(__file__).resolve().parents[1] / "docs/examples/deal-dispute.json").read_text("utf-8")
)
RESOLUTION = {
    "outcome": {"kind": "partial_refund", "refund_amount": "5000.00", "summary": "部分数据缺失，退款"}
}


def _url(deal, dispute=None, action=None):
    url = f"/api/v1/deals/{deal['id']}/disputes/"
    if dispute is not None:
        url += f"{dispute['id']}/"
    if action is not None:
        url += f"{action}/"
    return url


def _act(client, deal, dispute, action, body=None):
    return client.post(_url(deal, dispute, action), body or {}, format="json")


@pytest.fixture
def filed(agreed, buyer):
    response = buyer.post(_url(agreed), FILING, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def accepted(agreed, filed, alice_api):
    response = _act(alice_api, agreed, filed, "accept", {"reason": "材料齐全，予以受理"})
    assert response.status_code == 201, response.content
    return response.json()


class TestFiling:
    def test_a_party_files_on_a_deal_with_a_contract(self, agreed, filed, buyer):
        assert filed["state"] == "filed" and filed["filed_by"] == "buyer" and filed["category"] == "quality"
        assert filed["amounts"] == {"deal": "20000.00", "claimed": "5000.00", "refund": None}
        assert filed["steps"][0]["body"]["evidence"] == FILING["evidence"]
        assert filed["coordinator"] == filed["co_coordinator"] == "SHDEX"
        assert filed["deadlines"]["accept_by"] and filed["deadlines"]["resolve_by"] is None
        assert filed["overdue"] is False and filed["my_roles"] == ["buyer"]
        assert filed["actions"] == ["message", "withdraw"]  # escalate waits for an overdue coordinator
        assert filed["id"] == filed["steps"][0]["id"] and filed["steps"][0]["applied"] is True
        assert [d["id"] for d in buyer.get(_url(agreed)).json()] == [filed["id"]]
        assert Dispute.objects.get(gid=filed["id"]).state == "filed"

    def test_no_dispute_before_a_contract(self, ordered, buyer):
        response = buyer.post(_url(ordered), FILING, format="json")
        assert response.status_code == 409
        assert _error(response) == ("dispute.no_contract", {("deal", "dispute.no_contract")})

    def test_one_open_dispute_at_a_time(self, agreed, filed, provider):
        response = provider.post(_url(agreed), {**FILING, "category": "payment"}, format="json")
        assert response.status_code == 409 and _error(response)[0] == "dispute.open"
        assert response.json()["error"]["dispute"] == filed["id"]

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"category": "boredom"}, "category", "invalid_choice"),
            ({"description": "  "}, "description", "length"),
            ({"claim_amount": "20000.01"}, "claim_amount", "range"),
            ({"claim_amount": "1.234"}, "claim_amount", "amount"),
            ({"evidence": ["x" * 201]}, "evidence", "type"),
            ({"verdict": "mine"}, "verdict", "unknown_field"),
        ],
    )
    def test_a_bad_filing_is_400_naming_the_field(self, agreed, buyer, change, field, code):
        response = buyer.post(_url(agreed), {**FILING, **change}, format="json")
        assert response.status_code == 400 and (field, code) in _error(response)[1], response.content
        assert not DisputeStep.objects.exists()

    def test_an_operator_does_not_file(self, agreed, alice_api):
        response = alice_api.post(_url(agreed), FILING, format="json")
        assert response.status_code == 403 and _error(response)[0] == "dispute.wrong_role"


class TestTransitions:
    def test_accept_statements_messages_and_a_partial_refund(
        self, agreed, accepted, buyer, provider, alice_api
    ):
        assert accepted["state"] == "accepted" and accepted["deadlines"]["resolve_by"]
        assert accepted["my_roles"] == ["coordinator"]
        assert accepted["actions"] == ["escalate", "message", "resolve"]
        statement = {"text": "缺失三天数据", "evidence": ["log:2026-11-05"]}
        mediation = _act(buyer, agreed, accepted, "statement", statement).json()
        assert mediation["state"] == "mediation" and mediation["statements"] == {"buyer": 1, "provider": 0}
        _act(provider, agreed, accepted, "statement", {"text": "源系统停机，已补数"})
        assert (
            _act(alice_api, agreed, accepted, "message", {"text": "请双方于周五前补充材料"}).status_code
            == 201
        )
        resolved = _act(alice_api, agreed, accepted, "resolve", RESOLUTION).json()
        assert resolved["state"] == "resolved" and resolved["closed_at"]
        assert (
            resolved["outcome"]["refund_amount"] == "5000.00" and resolved["outcome"]["against"] == "provider"
        )
        assert resolved["amounts"]["refund"] == "5000.00" and resolved["messages"] == 1
        assert resolved["allowed"] == [] and resolved["actions"] == []
        evaluation = Evaluation.objects.get(gid=resolved["evaluation"]["id"])
        assert resolved["evaluation"] == {"of": "provider", "dimension": "service", "id": evaluation.gid}
        assert (evaluation.issuer_type, evaluation.issuer_id, evaluation.subject_id) == (
            "exchange",
            "SHDEX",
            SELLER,
        )
        assert (evaluation.dimension, evaluation.score, evaluation.evidence_ref) == (
            "service",
            40,
            f"deal:{agreed['id']}",
        )
        assert "部分退款" in evaluation.summary and "缺失" not in evaluation.summary  # no private detail
        # Public, so the trust view shows it nationwide (published in the log every node pulls).
        assert Entry.objects.filter(record_type="evaluation", gid=evaluation.gid).exists()
        trust = APIClient().get(f"/api/v1/participants/{SELLER}/trust/").json()
        shown = {e["id"] for d in trust["evaluations"] for e in d["evaluations"]}
        assert evaluation.gid in shown
        again = _act(buyer, agreed, accepted, "statement", {"text": "补充"})
        assert again.status_code == 409 and _error(again)[0] == "dispute.wrong_state"

    def test_a_dismissal_evaluates_no_one(self, agreed, accepted, alice_api):
        body = {"outcome": {"kind": "dismissed", "summary": "证据不足"}}
        resolved = _act(alice_api, agreed, accepted, "resolve", body).json()
        assert resolved["state"] == "resolved" and resolved["evaluation"] is None
        assert not Evaluation.objects.exists()

    def test_a_usage_violation_upheld_is_a_compliance_evaluation(self, agreed, buyer, alice_api):
        dispute = buyer.post(_url(agreed), {**FILING, "category": "usage_violation"}, format="json").json()
        _act(alice_api, agreed, dispute, "accept")
        body = {"outcome": {"kind": "full_refund", "summary": "全额退款"}}
        resolved = _act(alice_api, agreed, dispute, "resolve", body).json()
        assert resolved["outcome"]["refund_amount"] == "20000.00"
        assert Evaluation.objects.get().dimension == "compliance" and Evaluation.objects.get().score == 20

    def test_the_filer_withdraws(self, agreed, filed, buyer):
        withdrawn = _act(buyer, agreed, filed, "withdraw", {"reason": "已与卖方协商解决"}).json()
        assert withdrawn["state"] == "withdrawn" and withdrawn["closed_at"] and withdrawn["overdue"] is False

    def test_the_coordinator_escalates(self, agreed, filed, alice_api):
        body = {"venue": "arbitration", "reference": "（2026）沪仲字第118号"}
        escalated = _act(alice_api, agreed, filed, "escalate", body).json()
        assert escalated["state"] == "escalated"
        assert escalated["escalation"] == {**body, "by": "coordinator"}


class TestRefusals:
    @pytest.mark.parametrize(
        ("who", "action", "body", "status", "code"),
        [
            ("provider", "accept", {}, 403, "dispute.wrong_role"),
            ("buyer", "resolve", RESOLUTION, 403, "dispute.wrong_role"),
            ("provider", "withdraw", {}, 403, "dispute.not_filer"),
            ("buyer", "statement", {"text": "先陈述"}, 409, "dispute.wrong_state"),
            ("alice", "resolve", RESOLUTION, 409, "dispute.wrong_state"),
            ("buyer", "escalate", {"venue": "court"}, 409, "dispute.not_overdue"),
        ],
    )
    def test_a_wrong_actor_or_state_is_refused_naming_the_rule(
        self, agreed, filed, buyer, provider, alice_api, who, action, body, status, code
    ):
        client = {"buyer": buyer, "provider": provider, "alice": alice_api}[who]
        response = _act(client, agreed, filed, action, body)
        assert response.status_code == status and _error(response)[0] == code, response.content
        error = response.json()["error"]
        assert error["message"] and error["message_en"] and error["errors"][0]["code"] == code
        assert DisputeStep.objects.count() == 1

    @pytest.mark.parametrize(
        ("body", "field", "code"),
        [
            (
                {"outcome": {"kind": "partial_refund", "refund_amount": "20000.00", "summary": "x"}},
                "outcome.refund_amount",
                "range",
            ),
            ({"outcome": {"kind": "partial_refund", "summary": "x"}}, "outcome.refund_amount", "required"),
            (
                {"outcome": {"kind": "full_refund", "refund_amount": "1.00", "summary": "x"}},
                "outcome.refund_amount",
                "range",
            ),
            (
                {"outcome": {"kind": "dismissed", "refund_amount": "3.00", "summary": "x"}},
                "outcome.refund_amount",
                "not_allowed",
            ),
            ({"outcome": {"kind": "mercy", "summary": "x"}}, "outcome.kind", "invalid_choice"),
        ],
    )
    def test_a_bad_outcome_is_400(self, agreed, accepted, alice_api, body, field, code):
        response = _act(alice_api, agreed, accepted, "resolve", body)
        assert response.status_code == 400 and (field, code) in _error(response)[1], response.content
        assert not Evaluation.objects.exists()

    def test_an_unknown_dispute_is_404(self, agreed, filed, alice_api):
        other = {"id": agreed["id"]}  # a deal id is no dispute's
        assert _act(alice_api, agreed, other, "accept").status_code == 404
        assert alice_api.get(_url(agreed, other)).status_code == 404


class TestReaders:
    def test_only_parties_and_the_coordinating_exchanges_operators_read(
        self, agreed, filed, bob_api, anon, alice_api
    ):
        assert alice_api.get(_url(agreed, filed)).json()["my_roles"] == ["coordinator"]
        for client in (bob_api,):  # an operator of another exchange: as if nothing existed
            assert client.get(_url(agreed)).status_code == 404
            assert client.get(_url(agreed, filed)).status_code == 404
            assert _act(client, agreed, filed, "message", {"text": "x"}).status_code == 404
        assert anon.get(_url(agreed, filed)).status_code == 401
        assert bob_api.get("/api/v1/disputes/").status_code == 403  # not this node's exchange

    def test_another_participant_gets_404(self, agreed, filed):
        register_provider(
            make_uscc(random.Random(19)),
            "上海另一家公司",
            roles=("demander",),
            account={"username": "stranger", "password": "Qz8-stranger-dune"},
        )
        stranger = _login("stranger", "Qz8-stranger-dune")
        assert stranger.get(_url(agreed, filed)).status_code == 404
        assert stranger.get("/api/v1/disputes/").status_code == 403

    def test_a_dispute_is_never_in_the_public_log(self, agreed, filed):
        public = " ".join(Entry.objects.values_list("body", flat=True))
        assert FILING["description"] not in public and "ticket:SH-2026-118" not in public
        assert Entry.objects.filter(record_type="sealed", gid=f"dispute_step:{filed['id']}").exists()


def test_a_rejected_delivery_files_a_dispute_and_the_provider_is_told(delivered, buyer, provider):
    hook = WebhookSubscription.objects.create(
        participant_id=SELLER, url="https://hooks.example.com/x", secret="s"
    )
    response = _post(buyer, delivered, "acceptance", {"result": "rejected", "reason": "文件校验值不符"})
    assert response.status_code == 201 and response.json()["state"] == "rejected"
    disputes = provider.get(_url(delivered)).json()
    assert [(d["state"], d["filed_by"], d["category"]) for d in disputes] == [
        ("filed", "buyer", "not_as_described")
    ]
    step = disputes[0]["steps"][0]
    assert step["body"]["description"] == "文件校验值不符"
    rejection = Deal.objects.get(gid=delivered["id"])
    assert step["body"]["evidence"][0].startswith("deal_step:") and rejection
    notes = Notification.objects.filter(participant_id=SELLER, subject_gid=disputes[0]["id"])
    assert [(n.kind, n.payload["step"], n.payload["by"], n.payload["state"]) for n in notes] == [
        ("deal", "file", "buyer", "filed")
    ]
    assert not Notification.objects.filter(participant_id=BUYER, subject_gid=disputes[0]["id"]).exists()
    # Its webhook delivery is queued like every notification's (demands.notifications).
    assert WebhookDelivery.objects.filter(subscription=hook, notification=notes.get()).exists()


def test_the_settlement_waits_for_an_open_dispute_and_deducts_its_refund(delivered, buyer, alice_api):
    assert _post(buyer, delivered, "acceptance", {"result": "accepted"}).status_code == 201
    dispute = buyer.post(_url(delivered), FILING, format="json").json()
    waiting = _post(alice_api, delivered, "settlement")
    assert waiting.status_code == 409 and _error(waiting)[0] == "dispute.open"
    _act(alice_api, delivered, dispute, "accept")
    _act(alice_api, delivered, dispute, "resolve", RESOLUTION)
    settled = _post(alice_api, delivered, "settlement").json()
    settlement = next(s for s in settled["steps"] if s["kind"] == "settlement")["body"]
    assert settlement["amount"] == "15000.00"
    assert [f["amount"] for f in settlement["fees"]] == ["150.00", "75.00"]


def test_each_party_is_notified_of_the_steps_others_take(agreed, accepted, provider, alice_api):
    _act(provider, agreed, accepted, "statement", {"text": "已补数"})
    notes = Notification.objects.filter(subject_gid=accepted["id"]).order_by("id")
    assert [(n.participant_id, n.payload["step"], n.demand_version) for n in notes] == [
        (SELLER, "file", 1),
        (BUYER, "accept", 2),
        (SELLER, "accept", 2),
        (BUYER, "statement", 3),
    ]
    assert notes.last().payload["actions"] == ["message", "statement", "withdraw"]


class TestQueue:
    def test_the_queue_flags_overdue_disputes_on_a_frozen_clock(self, agreed, buyer, alice_api, monkeypatch):
        deal = Deal.objects.get(gid=agreed["id"])
        principal = _principal_of(buyer)
        filed_at = dt.datetime(2026, 11, 3, 10, 0, tzinfo=CST)  # a Tuesday: accept by Friday 10:00
        step = dispute_take(actor=principal, deal=deal, action="file", data=FILING, now=filed_at)
        dispute = Dispute.objects.get(gid=step.gid)
        assert dispute.due_at == dt.datetime(2026, 11, 6, 10, 0, tzinfo=CST)

        def at(moment):
            monkeypatch.setattr(timezone, "now", lambda: moment)
            return alice_api.get("/api/v1/disputes/?overdue=true").json()["results"]

        assert at(dt.datetime(2026, 11, 6, 9, 59, tzinfo=CST)) == []
        late = at(dt.datetime(2026, 11, 6, 10, 1, tzinfo=CST))
        assert [(d["id"], d["overdue"], d["state"]) for d in late] == [(step.gid, True, "filed")]
        detail = alice_api.get(_url(agreed, {"id": step.gid})).json()
        assert detail["overdue"] is True
        assert buyer.get(_url(agreed, {"id": step.gid})).json()["actions"] == [
            "escalate",
            "message",
            "withdraw",
        ]
        everything = alice_api.get("/api/v1/disputes/?state=filed").json()["results"]
        assert [d["id"] for d in everything] == [step.gid]
        assert alice_api.get("/api/v1/disputes/?state=resolved").json()["results"] == []

    def test_bad_filters_are_400(self, alice_api):
        for query, field in (("state=lost", "state"), ("overdue=maybe", "overdue")):
            response = alice_api.get(f"/api/v1/disputes/?{query}")
            assert response.status_code == 400 and (field, "invalid_choice") in _error(response)[1]


def _principal_of(client):
    participant = participant_get(BUYER)
    return ParticipantPrincipal(
        BUYER, participant.home_id, "buyer", ("demander",), (), participant.legal_name, "verified"
    )


def test_the_vocabularies_link_every_code_to_a_term(anon):
    data = anon.get("/api/v1/standards/dispute-vocabularies/").json()
    assert [t["code"] for t in data["action"]] == [
        "file",
        "accept",
        "statement",
        "message",
        "withdraw",
        "escalate",
        "resolve",
        "ruling",
    ]
    assert {t["code"]: t["term"] for t in data["role"]}["coordinator"] == "coordinating-exchange"
    for name in ("category", "state", "action", "role", "outcome", "escalation_venue"):
        assert all(t["term"] and t["zh"] and t["en"] for t in data[name]), name
        for term in {t["term"] for t in data[name]}:
            assert anon.get(f"/api/v1/standards/terms/{term}/").status_code == 200
    assert data["deadlines"] == {"accept_working_days": 3, "resolve_days": 30}
    assert data["roles"]["resolve"] == ["coordinator"] and data["outcome_score"]["full_refund"] == 20


def test_dispute_figures_in_the_deal_stats(agreed, buyer, alice_api, monkeypatch):
    deal = Deal.objects.get(gid=agreed["id"])
    principal = _principal_of(buyer)
    start = dt.datetime(2026, 11, 3, 10, 0, tzinfo=CST)
    first = dispute_take(actor=principal, deal=deal, action="file", data=FILING, now=start)
    assert deal_stats(now=start)["overdue_disputes"] == 0
    late = deal_stats(now=start + dt.timedelta(days=10))
    assert (late["disputed"], late["dispute_rate"], late["overdue_disputes"]) == (1, 1.0, 1)
    assert late["median_dispute_resolution_s"] is None
    first_dispute = {"id": first.gid}
    _act(alice_api, agreed, first_dispute, "accept")
    _act(alice_api, agreed, first_dispute, "resolve", RESOLUTION)
    figures = deal_stats()
    resolved = Dispute.objects.get(gid=first.gid)
    seconds = round((resolved.closed_at - start).total_seconds(), 3)
    assert (figures["disputed"], figures["median_dispute_resolution_s"], figures["overdue_disputes"]) == (
        1,
        seconds,
        0,
    )
    assert deal_stats(exchange="BJIDX")["disputed"] == 0
    assert Decimal(resolved.refund_amount) == Decimal("5000.00")


def test_steps_arriving_together_each_notify_the_party(
    agreed, filed, buyer, provider, alice_api, monkeypatch
):
    """Two steps a peer wrote in a row often arrive in one batch (one derivation here): the party is told of
    each, not only of the last (the buyer missed the coordinator's acceptance when the provider's statement
    came with it)."""
    monkeypatch.setattr(
        "deals.dispute_services.disputes_followup", lambda gids: None
    )  # as if written elsewhere
    _act(alice_api, agreed, filed, "accept", {"reason": "予以受理"})
    _act(provider, agreed, filed, "statement", {"text": "已补数"})
    assert not Notification.objects.filter(participant_id=BUYER, subject_gid=filed["id"]).exists()
    disputes_followup([filed["id"]])  # what the dispute_step receiver does with the batch
    disputes_followup([filed["id"]])  # again (another batch, a redelivery): nothing told twice
    notes = Notification.objects.filter(participant_id=BUYER, subject_gid=filed["id"]).order_by("id")
    assert [(n.payload["step"], n.payload["by"], n.demand_version) for n in notes] == [
        ("accept", "coordinator", 2),
        ("statement", "provider", 3),
    ]
    assert all(n.payload["state"] == "mediation" for n in notes)  # the dispute's state when told
    assert notes.last().payload["actions"] == ["message", "statement", "withdraw"]
