"""Records with an audience (federation.private): the public log carries a sealed stub, only the audience
fetches the full entry, a private type in the public log is refused, and the private endpoint answers 404 to
any node outside the audience. Also: a demand whose reach leaves this node out is not kept here."""

import json
import uuid

import pytest
from django.test import Client

from demands.models import Demand
from federation import keys
from federation.apply import apply_page
from federation.models import Entry, PrivateEntry, PrivateFetch, QuarantinedEntry
from federation.outbox import Change, publish
from federation.peers import peer_add
from federation.signatures import sign_request
from federation.stubs import SEALED, sealed_stub
from tests.loopback import serve
from tests.test_federation_apply import ORIGIN, _public_b64, bjidx_key, item  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

DEMAND_PAYLOAD = {
    "demander": "91310115AY4CL12T2E",
    "demander_home": "BJIDX",
    "demander_name": "北京需求方有限公司",
    "title": "北京市交通出行数据采购",
    "description": "采购北京市交通出行相关数据，用于城市治理研究。",
    "industry": "G",
    "product_forms": ["dataset"],
    "spatial_coverage": ["110000"],
    "temporal_coverage": {"start": None, "end": None},
    "update_frequency": "",
    "budget": {"min": 0, "max": 1000, "currency": "CNY"},
    "deadline": "2027-01-01T00:00:00+00:00",
    "delivery_methods": [],
    "compliance_requirements": [],
    "status": "open",
    "status_reason": "",
    "posted_at": "2026-11-01T00:00:00+00:00",
    "closed_at": None,
}


def test_a_stub_for_this_node_queues_a_fetch_and_one_for_others_does_not(bjidx_key):  # noqa: F811
    mine, theirs = uuid.uuid4().hex, uuid.uuid4().hex
    stubs = [
        sealed_stub("demand_response", f"BJIDX-{mine}", ["BJIDX", "SHDEX"]),
        sealed_stub("demand_response", f"BJIDX-{theirs}", ["BJIDX", "GYBDX"]),
    ]
    items = [
        item(bjidx_key, seq=seq, record_type=SEALED, gid=gid, payload=payload)
        for seq, (gid, payload) in enumerate(stubs, start=1)
    ]
    applied, last = apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0)
    assert (applied, last) == (2, 2)
    assert list(PrivateFetch.objects.values_list("gid", "state")) == [(f"BJIDX-{mine}", "pending")]
    assert Entry.objects.filter(origin=ORIGIN, record_type=SEALED).count() == 2  # both kept for relaying


def test_a_private_type_in_the_public_log_is_quarantined(bjidx_key):  # noqa: F811
    gid = f"BJIDX-{uuid.uuid4().hex}"
    bad = item(bjidx_key, seq=1, record_type="demand_response", gid=gid, payload={"id": gid})
    apply_page(origin=ORIGIN, items=[bad], source=ORIGIN, after=0)
    assert "private record type in the public log" in QuarantinedEntry.objects.get().reason


def test_a_stub_with_a_bad_audience_is_quarantined(bjidx_key):  # noqa: F811
    gid, payload = sealed_stub("demand_response", f"BJIDX-{uuid.uuid4().hex}", ["SHDEX"])
    payload["audience"] = ["shdex", "<script>"]
    apply_page(
        origin=ORIGIN,
        items=[item(bjidx_key, seq=1, record_type=SEALED, gid=gid, payload=payload)],
        source=ORIGIN,
        after=0,
    )
    assert "audience" in QuarantinedEntry.objects.get().reason and not PrivateFetch.objects.exists()


def _signed_get(path, code):
    from django.conf import settings

    original, settings.NODE_CODE = settings.NODE_CODE, code
    try:
        signed = sign_request("GET", "http://testserver" + path, {}, None)
    finally:
        settings.NODE_CODE = original
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items()}
    return Client().get(path, **extra)


def test_the_private_endpoint_serves_the_audience_only(settings):
    # This test node's own key stands for the peers' keys: requests are signed "as" BJIDX and as GYBDX.
    for code in ("BJIDX", "GYBDX"):
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    from django.db import transaction

    gid = f"SHDEX-{uuid.uuid4().hex}"
    with transaction.atomic():
        publish([Change("demand_response", gid, 1, {"secret": "价格面议"}, audience=("BJIDX", "SHDEX"))])
    stub = Entry.objects.get(record_type=SEALED)
    assert "价格面议" not in stub.body and PrivateEntry.objects.get(gid=gid).audience == ["BJIDX", "SHDEX"]
    path = f"/federation/v1/private/SHDEX/demand_response/{gid}/"
    served = _signed_get(path, "BJIDX")
    assert served.status_code == 200 and json.loads(served.content)["entry"]["payload"] == {
        "secret": "价格面议"
    }
    assert _signed_get(path, "GYBDX").status_code == 404
    assert Client().get(path).status_code == 401


def test_a_demand_whose_reach_leaves_this_node_out_is_not_kept(bjidx_key):  # noqa: F811
    gids = [f"BJIDX-{uuid.uuid4().hex}" for _ in range(2)]
    items = [
        item(
            bjidx_key,
            seq=i + 1,
            record_type="demand",
            gid=gid,
            payload={**DEMAND_PAYLOAD, "id": gid, "reach": reach},
        )
        for i, (gid, reach) in enumerate(zip(gids, (["GYBDX"], ["SHDEX"]), strict=True))
    ]
    apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0)
    assert list(Demand.objects.values_list("gid", flat=True)) == [gids[1]]
    assert not QuarantinedEntry.objects.exists()


def test_a_demand_from_a_peer_is_checked_like_one_posted_here(bjidx_key):  # noqa: F811
    gid = f"BJIDX-{uuid.uuid4().hex}"
    bad = {**DEMAND_PAYLOAD, "id": gid, "reach": [], "budget": {"min": 5, "max": 1}, "title": "最好的数据"}
    apply_page(
        origin=ORIGIN,
        items=[item(bjidx_key, seq=1, record_type="demand", gid=gid, payload=bad)],
        source=ORIGIN,
        after=0,
    )
    reason = QuarantinedEntry.objects.get().reason
    assert "budget.max" in reason and "title" in reason and not Demand.objects.exists()


def test_a_fetched_entry_whose_apply_raises_is_recorded_and_the_other_fetches_go_on(
    bjidx_key,  # noqa: F811
    monkeypatch,
):
    """A served private entry that makes its record type's apply raise (a check that let a hostile value
    through) fails that fetch with the exception in `last_error`, retried later; the other due fetches are
    still made."""
    from django.utils import timezone

    from federation import replica
    from federation.private import private_fetch_due

    gids = [f"BJIDX-{uuid.uuid4().hex}" for _ in range(2)]
    served = {
        f"/federation/v1/private/BJIDX/demand_response/{gid}/": item(
            bjidx_key,
            seq=n,
            gid=gid,
            record_type="demand_response",
            payload={"id": gid, "note": "odd"},
        )
        for n, gid in enumerate(gids, start=1)
    }

    def raising(origin, batch, *, repair=False, prepared=None):
        raise TypeError(f"unhashable type: 'list' in {batch[0][2]['note']}")

    monkeypatch.setattr(replica.get("demand_response"), "apply_batch", raising)
    with serve(lambda path: (200, served[path])) as url:
        peer_add(code=ORIGIN, base_url=url, public_key=_public_b64(bjidx_key))
        for gid in gids:
            PrivateFetch.objects.create(
                origin=ORIGIN,
                record_type="demand_response",
                gid=gid,
                version=1,
                audience=[ORIGIN, "SHDEX"],
                next_attempt_at=timezone.now(),
            )
        assert private_fetch_due() == 0
    for fetch in PrivateFetch.objects.all():
        assert (fetch.state, fetch.attempts) == ("pending", 1)
        assert "TypeError: unhashable type: 'list' in odd" in fetch.last_error
    assert not PrivateEntry.objects.exists()
