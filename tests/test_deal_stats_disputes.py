# ruff: noqa: F811 - the deal fixtures of tests/test_deals.py and tests/test_deal_replication.py are arguments
"""The dispute figures of /stats/deals/ stay exact while read from what the stats keep (`Deal.disputed`
counted in the deals' index scan, `Dispute.resolution_s` walked to its median): after each step of the real
flow — a dispute filed on an accepted deal, accepted, resolved —, after a peer's dispute step applied here
(also one that arrives before its deal), and after the migration that added the columns. Each time against
figures recomputed from the rows the old way (the disputes joined to their deals, the median in Python)."""

import datetime as dt
import importlib
import statistics
import uuid

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from deals.models import Deal, Dispute
from deals.replicas import DEAL, DISPUTE_STEP, STEP
from deals.services import deal_step_take
from deals.stats import deal_stats
from federation.applied import Applied, AppliedBatch, receivers_of
from federation.payloads import time_text
from standards.deal_disputes import OPEN_STATES
from tests.test_deal_disputes import FILING, RESOLUTION, _act, _url
from tests.test_deal_replication import BUYER as BJIDX_BUYER
from tests.test_deal_replication import _accept_payload, deal  # noqa: F401 - fixture
from tests.test_deals import _post, agreed, buyer, delivered, ordered, provider  # noqa: F401 - fixtures
from tests.test_federation_apply import bjidx_key  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
FIGURES = ("disputed", "dispute_rate", "acceptance_rate", "median_dispute_resolution_s", "overdue_disputes")


def _recomputed(exchange: str | None = None, now: dt.datetime | None = None) -> dict:
    """The dispute figures from the rows, without the kept columns: the oracle."""
    now = now or timezone.now()
    deals = list(Deal.objects.all())
    disputes = list(Dispute.objects.all())
    if exchange:
        deals = [d for d in deals if exchange in (d.product_exchange, d.buyer_home)]
        disputes = [d for d in disputes if exchange in (d.coordinator, d.co_coordinator)]
    disputed = {d.deal_gid for d in disputes}
    delivered = sum(d.delivered_at is not None for d in deals)
    accepted = sum(d.accepted_at is not None for d in deals)
    accepted_disputed = sum(d.accepted_at is not None and d.gid in disputed for d in deals)
    contracted = sum(d.order_to_contract_s is not None for d in deals)
    times = [(d.closed_at - d.filed_at).total_seconds() for d in disputes if d.state == "resolved"]
    return {
        "disputed": len(disputed),
        "dispute_rate": round(len(disputed) / contracted, 4) if contracted else None,
        "acceptance_rate": round((accepted - accepted_disputed) / delivered, 4) if delivered else None,
        "median_dispute_resolution_s": round(statistics.median(times), 3) if times else None,
        "overdue_disputes": sum(d.state in OPEN_STATES and d.due_at < now for d in disputes if d.due_at),
    }


def _figures(exchange: str | None = None) -> dict:
    stats = deal_stats(exchange=exchange)
    return {name: stats[name] for name in FIGURES}


def test_a_dispute_on_an_accepted_deal_counts_until_resolved(delivered, buyer, alice_api):
    accepted = _post(buyer, delivered, "acceptance", {"result": "accepted"})
    assert accepted.status_code == 201 and accepted.json()["state"] == "accepted"
    before = _figures()
    assert before == _recomputed()
    assert (before["disputed"], before["acceptance_rate"]) == (0, 1.0)
    assert Deal.objects.get(gid=delivered["id"]).disputed is False

    filed = buyer.post(_url(delivered), FILING, format="json")
    assert filed.status_code == 201, filed.content
    dispute = filed.json()
    assert Deal.objects.get(gid=delivered["id"]).disputed is True
    after = _figures()
    assert after == _recomputed()
    # Accepted, then disputed: no longer counted as a clean acceptance.
    assert (after["disputed"], after["dispute_rate"], after["acceptance_rate"]) == (1, 1.0, 0.0)
    assert after["median_dispute_resolution_s"] is None

    assert _act(alice_api, delivered, dispute, "accept").status_code == 201
    assert Dispute.objects.get(gid=dispute["id"]).resolution_s is None  # open: no resolution time
    assert _act(alice_api, delivered, dispute, "resolve", RESOLUTION).status_code == 201
    row = Dispute.objects.get(gid=dispute["id"])
    assert row.state == "resolved" and row.resolution_s == (row.closed_at - row.filed_at).total_seconds()
    resolved = _figures()
    assert resolved == _recomputed() and resolved["disputed"] == 1  # a resolved dispute still counts
    assert resolved["median_dispute_resolution_s"] == round(row.resolution_s, 3)
    assert _figures("SHDEX") == _recomputed("SHDEX") and _figures("BJIDX")["disputed"] == 0


def test_the_median_resolution_over_several_disputes_and_exchanges(delivered, buyer, alice_api):
    """Three resolved disputes on three deals (one its own, two copies held as replicas with other
    coordinators): the walk of the kept column gives the median the rows give, nationwide and per
    exchange, with an odd and an even number of them."""
    filed = buyer.post(_url(delivered), FILING, format="json").json()
    _act(alice_api, delivered, filed, "accept")
    _act(alice_api, delivered, filed, "resolve", RESOLUTION)
    own = Dispute.objects.get(gid=filed["id"])
    template = Deal.objects.filter(gid=delivered["id"]).values()[0]
    for i, (exchange, days) in enumerate((("BJIDX", 2), ("GZDEX", 9))):
        gid = f"{exchange}-{uuid.uuid4().hex}"
        fields = {k: v for k, v in template.items() if k != "id"}
        Deal.objects.create(**{**fields, "gid": gid, "origin": exchange, "product_exchange": exchange})
        Dispute.objects.create(
            gid=f"{exchange}-{i}{'0' * 31}", deal_gid=gid, coordinator=exchange, co_coordinator="SHDEX",
            state="resolved", category="quality", filed_by="buyer", filed_at=own.filed_at,
            closed_at=own.filed_at + dt.timedelta(days=days), resolution_s=days * 86400.0,
        )  # fmt: skip
        Deal.objects.filter(gid=gid).update(disputed=True)
    for exchange in (None, "SHDEX", "BJIDX", "GZDEX", "TJNBD"):
        assert _figures(exchange) == _recomputed(exchange), exchange
    assert _figures()["median_dispute_resolution_s"] == 2 * 86400  # own (seconds) < 2 d < 9 d
    assert _figures("BJIDX")["median_dispute_resolution_s"] == 2 * 86400


def _filing(held: Deal, **change) -> tuple[str, dict]:
    gid = f"BJIDX-{uuid.uuid4().hex}"
    body = {k: FILING[k] for k in ("category", "description", "claim_amount", "evidence")}
    payload = {
        "id": gid,
        "deal": held.gid,
        "dispute": gid,
        "audience": held.audience,
        "action": "file",
        "role": "buyer",
        "actor": BJIDX_BUYER,
        "at": time_text(timezone.now()),
        "body": body,
    }
    return gid, {**payload, **change}


@pytest.fixture
def contracted(deal, bjidx_key):
    """The BJIDX buyer's deal here, with a contract: its accept arrived from BJIDX, the provider's here."""
    gid, payload = _accept_payload(deal, signer=bjidx_key)
    with transaction.atomic():
        assert STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    deal_step_take(actor=deal.provider, deal=deal, kind="accept")
    deal.refresh_from_db()
    assert deal.state == "agreed" and deal.disputed is False
    return deal


def test_a_peers_filing_applied_here_counts(contracted):
    gid, payload = _filing(contracted)
    with transaction.atomic():
        assert DISPUTE_STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    assert Deal.objects.get(gid=contracted.gid).disputed is True
    figures = _figures()
    assert figures == _recomputed() and (figures["disputed"], figures["dispute_rate"]) == (1, 1.0)
    assert _figures("BJIDX") == _recomputed("BJIDX") and _figures("BJIDX")["disputed"] == 1


def test_a_filing_before_its_deal_counts_when_the_deal_comes(contracted):
    """The filing arrives while the deal is not held here (nothing to count yet); the deal's arrival derives
    its disputes and marks it."""
    gid, payload = _filing(contracted)
    snapshot = Deal.objects.filter(pk=contracted.pk).values()[0]
    Deal.objects.filter(pk=contracted.pk).delete()
    with transaction.atomic():
        assert DISPUTE_STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    assert not Dispute.objects.exists() and _figures()["disputed"] == 0
    Deal.objects.create(**snapshot)
    arrived = AppliedBatch(DEAL, "SHDEX", [Applied(contracted.gid, 1, {}, {}, True, frozenset())])
    for receive in receivers_of(DEAL.name):  # what the apply does once the deal's row is written
        receive(arrived)
    assert Deal.objects.get(gid=contracted.gid).disputed is True
    assert _figures() == _recomputed() and _figures()["disputed"] == 1


def test_the_migration_marks_the_disputed_deals_and_the_resolution_times(delivered, buyer, alice_api):
    filed = buyer.post(_url(delivered), FILING, format="json").json()
    _act(alice_api, delivered, filed, "accept")
    _act(alice_api, delivered, filed, "resolve", RESOLUTION)
    kept = (Deal.objects.get(gid=delivered["id"]).disputed, Dispute.objects.get().resolution_s)
    assert kept[0] is True and kept[1] > 0
    Deal.objects.update(disputed=False)
    Dispute.objects.update(resolution_s=None)
    migration = importlib.import_module("deals.migrations.0005_deal_disputed_resolution")
    migration.fill(django_apps, None)
    assert (Deal.objects.get(gid=delivered["id"]).disputed, Dispute.objects.get().resolution_s) == kept
