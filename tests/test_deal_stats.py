"""GET /api/v1/stats/deals/: exact figures on a fixed set of deals taken through the real flow (the services,
each step at a chosen time), the per-exchange rule, who may read it, and its refusal of a bad exchange."""

import copy
import datetime as dt
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from deals.compliance import compliance_body
from deals.models import Deal
from deals.services import deal_order, deal_step_take
from deals.stats import deal_stats
from participants.principal import ParticipantPrincipal
from products.models import ProductStatus
from tests.deal_world import FILES, OFFER, ORDER
from tests.factories import make_product, register_provider

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
PRODUCT = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
URL = "/api/v1/stats/deals/"
BUYER = "91310115AY4CL12T2E"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
FIGURE_COLUMNS = (
    "agreed_at",
    "delivered_at",
    "accepted_at",
    "order_to_contract_s",
    "contract_to_acceptance_s",
    "delivery_by",
    "price_cents",
)


@pytest.fixture
def parties(alice):
    seller = PRODUCT["provider"]
    register_provider(seller["uscc"], seller["name"])
    register_provider(BUYER, "上海浦数智能科技有限公司", roles=("demander",))
    product = make_product(actor=alice, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)
    buyer = ParticipantPrincipal(
        BUYER, "SHDEX", "buyer", ("demander",), (), "上海浦数智能科技有限公司", "verified"
    )
    provider = ParticipantPrincipal(
        seller["uscc"], "SHDEX", "seller", ("data_merchant",), (), seller["name"], "verified"
    )
    return {"buyer": buyer, "provider": provider, "product": product}


class Flow:
    """One deal, ordered at `start`, each step taken at `start + offset` by the party who owns it."""

    def __init__(self, parties: dict, start: dt.datetime):
        self.parties, self.start = parties, start
        deal = deal_order(actor=parties["buyer"], product_code=parties["product"].code, request=ORDER)
        Deal.objects.filter(pk=deal.pk).update(placed_at=start)  # the order's time, before any offer
        self.gid = deal.gid

    def step(self, who: str | None, kind: str, at: dt.timedelta, body: dict | None = None) -> "Flow":
        deal = Deal.objects.get(gid=self.gid)
        if kind == "compliance":
            body = compliance_body(deal)
        actor = None if who is None else self.parties[who]
        deal_step_take(actor=actor, deal=deal, kind=kind, body=body, now=self.start + at)
        return self

    def contract(self, price: str, at: dt.timedelta) -> "Flow":
        """Offer at `at` - 2 h, the buyer accepts at - 1 h, the provider at `at` (the contract); cleared."""
        self.step("provider", "offer", at - 2 * HOUR, {**OFFER, "price": price})
        self.step("buyer", "accept", at - HOUR).step("provider", "accept", at)
        return self.step(None, "compliance", at + HOUR)

    def deliver(self, at: dt.timedelta) -> "Flow":
        return self.step("provider", "delivery", at, {"method": "file", "files": FILES})

    @property
    def deal(self) -> Deal:
        return Deal.objects.get(gid=self.gid)


@pytest.fixture
def deals(parties):
    """Seven deals, ordered 60 days ago: every figure below is computed by hand from these."""
    t0 = (timezone.now() - 60 * DAY).replace(microsecond=0)
    Flow(parties, t0)  # ordered
    Flow(parties, t0).step("provider", "offer", HOUR, OFFER).step(
        "buyer", "cancel", 2 * HOUR, {"reason": "预算"}
    )
    settled = Flow(parties, t0).contract("1000.00", 2 * HOUR).deliver(DAY)
    settled.step("buyer", "acceptance", 2 * DAY, {"result": "accepted"}).step(None, "settlement", 3 * DAY)
    rejected = Flow(parties, t0).contract("2000.50", 4 * HOUR).deliver(DAY)
    rejected.step("buyer", "acceptance", 2 * DAY, {"result": "rejected", "reason": "字段缺失"})
    Flow(parties, t0).contract("300.25", 6 * HOUR)  # cleared, never delivered: 10 days to deliver, overdue
    auto = Flow(parties, t0).contract("500.00", 8 * HOUR).deliver(DAY)
    auto.step(None, "auto_accept", DAY + 73 * HOUR)  # the 72-hour window passed unanswered
    cancelled = Flow(parties, t0).contract("9999.99", HOUR)
    cancelled.step("buyer", "cancel", 2 * DAY, {"reason": "需求变更"})  # after the contract: no value
    return {"settled": settled, "auto": auto, "t0": t0}


def test_exact_figures_on_a_fixed_set_of_deals(deals, anon):
    assert deals["settled"].deal.state == "settled" and deals["auto"].deal.state == "accepted"
    response = anon.get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["node"] == "SHDEX" and body["exchange"] is None
    assert body["deals"] == 7
    assert {state: n for state, n in body["by_state"].items() if n} == {
        "ordered": 1,
        "cancelled": 2,
        "settled": 1,
        "rejected": 1,
        "cleared": 1,
        "accepted": 1,
    }
    assert len(body["by_state"]) == 13  # every state, 0 included
    # Contracts not cancelled since: 1000.00 + 2000.50 + 300.25 + 500.00 (the cancelled 9999.99 left out).
    assert body["contracted"] == 4 and body["value"] == {"CNY": "3800.75"}
    # Order to contract: 1 h (cancelled later), 2 h, 4 h, 6 h, 8 h -> 4 h.
    assert body["median_order_to_contract_s"] == 4 * 3600
    # Contract to accepted delivery: 2 d - 2 h = 46 h (the buyer), 1 d + 73 h - 8 h = 89 h (auto) -> 67.5 h.
    assert body["median_contract_to_acceptance_s"] == 67.5 * 3600
    assert (body["delivered"], body["accepted"], body["acceptance_rate"]) == (3, 2, 0.6667)
    assert body["overdue_deliveries"] == 1
    # The rejection filed a dispute (2 d after the order, long past its 3 working days to be accepted).
    assert body["disputed"] == 1 and body["dispute_rate"] == 0.2  # 1 of the 5 that reached a contract
    assert body["median_dispute_resolution_s"] is None  # none resolved
    assert body["overdue_disputes"] == 1
    assert deals["settled"].gid not in response.content.decode()  # figures, never a deal


@pytest.mark.parametrize("exchange", [None, "SHDEX"])
def test_figures_are_computed_in_three_statements(deals, exchange):
    with CaptureQueriesContext(connection) as queries:
        figures = deal_stats(exchange=exchange)
    assert len(queries) == 3 and figures["deals"] == 7


def test_a_delivery_is_overdue_only_once_its_deadline_passed(deals):
    # The cleared deal's contract was at t0 + 6 h, with 10 days to deliver.
    due = deals["t0"] + 6 * HOUR + 10 * DAY
    assert deal_stats(now=due - dt.timedelta(seconds=1))["overdue_deliveries"] == 0
    assert deal_stats(now=due + dt.timedelta(seconds=1))["overdue_deliveries"] == 1


def test_the_figures_kept_on_a_deal_follow_its_steps(deals):
    deal = deals["auto"].deal
    t0 = deals["t0"]
    assert (deal.agreed_at, deal.delivered_at) == (t0 + 8 * HOUR, t0 + DAY)
    assert deal.accepted_at == t0 + DAY + 73 * HOUR
    assert deal.delivery_by == t0 + 8 * HOUR + 10 * DAY
    assert (deal.price_cents, deal.currency) == (50000, "CNY")
    assert deal.order_to_contract_s == 8 * 3600
    assert deal.contract_to_acceptance_s == (DAY + 65 * HOUR).total_seconds()


def test_empty_figures_are_zero_or_null(anon, db):
    body = anon.get(URL).json()
    assert body["deals"] == 0 and set(body["by_state"].values()) == {0}
    assert body["value"] == {} and body["contracted"] == 0
    assert body["median_order_to_contract_s"] is None and body["acceptance_rate"] is None


def _held(gid_hex: str, product_exchange: str, buyer_home: str, **figures) -> Deal:
    """A deal as a replica from another node would be held here (the stats read only the columns)."""
    return Deal.objects.create(
        gid=f"{buyer_home}-{gid_hex * 32}",
        origin=buyer_home,
        product_code=f"{product_exchange}-2026-000001-X",
        product_version=1,
        product_exchange=product_exchange,
        product_name="数据集",
        provider_id=PRODUCT["provider"]["uscc"],
        provider_home=product_exchange,
        provider_name="供方",
        buyer_id=BUYER,
        buyer_home=buyer_home,
        buyer_name="需方",
        placed_at=timezone.now() - DAY,
        **figures,
    )


def test_per_exchange_the_deals_whose_product_it_lists_or_whose_buyer_it_brought(anon, db):
    now = timezone.now()

    def agreed(seconds: int) -> dict:
        return {"agreed_at": now - DAY + dt.timedelta(seconds=seconds), "order_to_contract_s": seconds}

    contracted = {"state": "cleared", "price_cents": 123456, "currency": "CNY"}
    _held("a", "BJIDX", "SHDEX", **contracted, **agreed(100))  # SHDEX brought the buyer
    _held("b", "BJIDX", "GZDEX", state="cancelled", **agreed(300))  # SHDEX: the provider's home
    _held("c", "SHDEX", "SHDEX", **{**contracted, "price_cents": 100}, **agreed(1000))
    figures = {
        code: anon.get(URL, {"exchange": code}).json() for code in ("SHDEX", "BJIDX", "GZDEX", "TJNBD")
    }
    assert {code: f["deals"] for code, f in figures.items()} == {
        "SHDEX": 2,
        "BJIDX": 2,
        "GZDEX": 1,
        "TJNBD": 0,
    }
    assert figures["SHDEX"]["exchange"] == "SHDEX" and figures["SHDEX"]["value"] == {"CNY": "1235.56"}
    assert figures["GZDEX"]["value"] == {} and figures["BJIDX"]["by_state"]["cleared"] == 1
    assert figures["SHDEX"]["by_state"]["cleared"] == 2
    assert figures["GZDEX"]["contracted"] == 0  # cancelled after its contract
    medians = {code: f["median_order_to_contract_s"] for code, f in figures.items()}
    assert medians == {"SHDEX": 550, "BJIDX": 200, "GZDEX": 300, "TJNBD": None}
    assert anon.get(URL).json()["deals"] == 3
    assert anon.get(URL).json()["median_order_to_contract_s"] == 300
    assert anon.get(URL, {"exchange": "shdex"}).json()["deals"] == 2  # a code in any case


@pytest.mark.parametrize("value", ["NOPE", "SHDEX,BJIDX", "' OR 1=1 --"])
def test_an_unknown_exchange_is_refused_naming_the_parameter(anon, db, value):
    response = anon.get(URL, {"exchange": value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert [(e["field"], e["code"]) for e in error["errors"]] == [("exchange", "unknown_exchange")]


def test_anyone_reads_it_as_the_demand_stats_but_a_bad_token_is_refused(parties, alice_api, anon):
    assert anon.get(URL).status_code == 200
    assert anon.get("/api/v1/stats/demands/").status_code == 200  # the same rule
    assert alice_api.get(URL).status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get(URL).status_code == 401


def test_the_migration_fills_the_figures_of_the_deals_held_before_it(deals):
    columns = ("state", "currency", *FIGURE_COLUMNS)
    kept = sorted(Deal.objects.values_list("gid", *columns))
    Deal.objects.update(**dict.fromkeys(FIGURE_COLUMNS), currency="")
    assert sorted(Deal.objects.values_list("gid", *columns)) != kept
    migration = importlib.import_module("deals.migrations.0002_deal_stats_figures")
    migration.fill_figures(django_apps, None)
    assert sorted(Deal.objects.values_list("gid", *columns)) == kept


def test_dispute_figures_per_exchange_and_the_median_resolution(anon, db):
    """Disputes counted by their coordinating exchanges (the deal's product exchange and buyer's home): the
    median filing-to-resolution time of the resolved ones, the open ones past their deadline, the rate over
    the deals that reached a contract."""
    from deals.figures import resolution_seconds  # lazy: only this test writes the dispute cache directly
    from deals.models import Dispute  # lazy: as above

    now = timezone.now()
    contracted = {
        "agreed_at": now - 20 * DAY,
        "order_to_contract_s": 3600,
        "price_cents": 100,
        "currency": "CNY",
    }
    sh = [_held(h, "SHDEX", "GYBDX", **contracted) for h in "abc"]
    bj = _held("d", "BJIDX", "BJIDX", **contracted)

    def dispute(deal, hex_, state, filed, closed=None, due=None):
        """The cache rows as deals.dispute_followups keeps them (the resolution time, the deal marked)."""
        Dispute.objects.create(
            gid=f"{deal.buyer_home}-{hex_ * 32}", deal_gid=deal.gid, coordinator=deal.product_exchange,
            co_coordinator=deal.buyer_home, state=state, category="quality", filed_by="buyer",
            filed_at=filed, closed_at=closed, due_at=due,
            resolution_s=resolution_seconds(state, filed, closed),
        )  # fmt: skip
        Deal.objects.filter(gid=deal.gid).update(disputed=True)

    dispute(sh[0], "1", "resolved", now - 10 * DAY, closed=now - 8 * DAY)  # 2 days
    dispute(sh[1], "2", "resolved", now - 10 * DAY, closed=now - 6 * DAY)  # 4 days
    dispute(sh[1], "3", "filed", now - 5 * DAY, due=now - DAY)  # overdue, same deal
    dispute(bj, "4", "mediation", now - 5 * DAY, due=now + DAY)  # not yet due
    shdex = anon.get(URL, {"exchange": "SHDEX"}).json()
    assert (shdex["disputed"], shdex["dispute_rate"]) == (2, round(2 / 3, 4))
    assert shdex["median_dispute_resolution_s"] == 3 * 86400 and shdex["overdue_disputes"] == 1
    gybdx = anon.get(URL, {"exchange": "GYBDX"}).json()  # the buyers' home co-coordinates the same three
    assert gybdx["disputed"] == 2 and gybdx["overdue_disputes"] == 1
    everything = anon.get(URL).json()
    assert (everything["disputed"], everything["dispute_rate"], everything["overdue_disputes"]) == (
        3,
        0.75,
        1,
    )
    bjidx = anon.get(URL, {"exchange": "BJIDX"}).json()
    assert bjidx["disputed"] == 1 and bjidx["median_dispute_resolution_s"] is None
