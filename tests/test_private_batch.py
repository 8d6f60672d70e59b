# ruff: noqa: F811 - the fixtures of tests/test_deal_replication.py are imported and taken as arguments
"""Private records fetched in batches (federation.private_batch, docs/federation.md *Private records*): the
due fetches go to a source in ONE signed `POST /federation/v1/private/`, what verifies is applied in one
transaction, what a source did not serve (or served wrong) is told apart and asked of the next source; a
peer without the batch endpoint (404) is asked record by record; the endpoint serves a record only to a node
of its audience."""

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from deals.models import DealStep, DisputeStep
from federation import keys, replica
from federation.models import Peer, PrivateEntry, PrivateFetch
from federation.outbox import Change, publish
from federation.peers import peer_add
from federation.private import PRIVATE_BATCH_MAX, private_fetch_due
from federation.signatures import sign_request
from tests.loopback import serve
from tests.test_deal_replication import _accept_payload, _principal, deal  # noqa: F401
from tests.test_dispute_replication import FILING, _filing, agreed  # noqa: F401
from tests.test_federation_apply import ORIGIN, _public_b64, bjidx_key, item  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
BATCH = "/federation/v1/private/"


def _fetch(gid, audience=("BJIDX", "SHDEX")):
    return PrivateFetch.objects.create(
        origin=ORIGIN,
        record_type="dispute_step",
        gid=gid,
        version=1,
        audience=list(audience),
        next_attempt_at=timezone.now(),
    )


def _entries(wanted: dict):
    """A batch answer: the entries of `wanted` (gid → signed item) that the request names, in its order."""

    def post(path, body):
        assert path == BATCH
        gids = [r["gid"] for r in body["records"]]
        return 200, {"entries": [wanted[g] for g in gids if g in wanted]}

    return post


def test_the_due_fetches_go_in_one_request_and_each_is_told_apart(agreed, bjidx_key):
    good = [_filing(agreed) for _ in range(2)]
    forged_gid, forged = _filing(agreed)
    bad_gid, bad = _filing(agreed, body={**FILING, "category": "boredom"})
    absent_gid = f"BJIDX-{uuid.uuid4().hex}"
    forger = Ed25519PrivateKey.generate()
    served = {
        gid: item(bjidx_key, seq=n, gid=gid, record_type="dispute_step", payload=p)
        for n, (gid, p) in enumerate(good, 1)
    }
    served[forged_gid] = item(forger, seq=3, gid=forged_gid, record_type="dispute_step", payload=forged)
    served[bad_gid] = item(bjidx_key, seq=4, gid=bad_gid, record_type="dispute_step", payload=bad)
    seen = []
    with serve(lambda path: (500, {}), seen, post=_entries(served)) as url:
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=url)
        for gid in [*served, absent_gid]:
            _fetch(gid)
        assert private_fetch_due() == 2
    assert [path for path, _ in seen] == [BATCH]  # one request for the five records
    fetches = {f.gid: f for f in PrivateFetch.objects.all()}
    assert {fetches[g].state for g, _ in good} == {"done"}
    assert "signature" in fetches[forged_gid].last_error
    assert "category: invalid_choice" in fetches[bad_gid].last_error
    assert "not served" in fetches[absent_gid].last_error
    for gid in (forged_gid, bad_gid, absent_gid):
        assert (fetches[gid].state, fetches[gid].attempts) == ("pending", 1)
    assert set(DisputeStep.objects.values_list("gid", flat=True)) == {g for g, _ in good}
    assert set(PrivateEntry.objects.filter(origin=ORIGIN).values_list("gid", flat=True)) == {
        g for g, _ in good
    }


def test_a_peer_without_the_batch_endpoint_is_asked_record_by_record(agreed, bjidx_key):
    filings = [_filing(agreed) for _ in range(2)]
    served = {
        gid: item(bjidx_key, seq=n, gid=gid, record_type="dispute_step", payload=p)
        for n, (gid, p) in enumerate(filings, 1)
    }
    seen = []
    answer = lambda path: (200, served[path.rstrip("/").rsplit("/", 1)[-1]])  # noqa: E731
    with serve(answer, seen, post=lambda path, body: (404, {"code": "not_found"})) as url:
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=url)
        for gid in served:
            _fetch(gid)
        assert private_fetch_due() == 2
    paths = [path for path, _ in seen]
    assert paths[0] == BATCH and len(paths) == 3  # asked once in a batch, then each by its own path
    assert all(p.startswith("/federation/v1/private/BJIDX/dispute_step/") for p in paths[1:])
    assert set(PrivateFetch.objects.values_list("state", flat=True)) == {"done"}


def test_what_the_origin_does_not_serve_is_asked_of_the_next_audience_node(agreed, bjidx_key):
    gid, payload = _filing(agreed)
    entry = item(bjidx_key, seq=1, gid=gid, record_type="dispute_step", payload=payload)
    at_origin, at_gybdx = [], []
    with (
        serve(lambda path: (500, {}), at_origin, post=_entries({})) as origin_url,
        serve(lambda path: (500, {}), at_gybdx, post=_entries({gid: entry})) as gybdx_url,
    ):
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=origin_url)
        peer_add(code="GYBDX", base_url=gybdx_url, public_key=keys.public_key_b64())
        _fetch(gid, audience=("BJIDX", "GYBDX", "SHDEX"))
        assert private_fetch_due() == 1
    assert len(at_origin) == len(at_gybdx) == 1
    assert PrivateFetch.objects.get().state == "done" and DisputeStep.objects.get().gid == gid


def test_an_entry_whose_apply_raises_fails_alone(agreed, bjidx_key, monkeypatch):
    """One transaction for the batch; when the apply raises (a check that let a hostile value through), each
    entry is applied in a transaction of its own, so only the one that raises fails."""
    (good_gid, good), (odd_gid, odd) = _filing(agreed), _filing(agreed, body={**FILING, "description": "odd"})
    served = {
        good_gid: item(bjidx_key, seq=1, gid=good_gid, record_type="dispute_step", payload=good),
        odd_gid: item(bjidx_key, seq=2, gid=odd_gid, record_type="dispute_step", payload=odd),
    }
    record = replica.get("dispute_step")
    original = record.apply_batch

    def raising(origin, batch, **kwargs):
        if any(payload["body"]["description"] == "odd" for _, _, payload in batch):
            raise TypeError("unhashable type: 'list'")
        return original(origin, batch, **kwargs)

    monkeypatch.setattr(record, "apply_batch", raising)
    with serve(lambda path: (500, {}), post=_entries(served)) as url:
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=url)
        for gid in served:
            _fetch(gid)
        assert private_fetch_due() == 1
    fetches = {f.gid: f for f in PrivateFetch.objects.all()}
    assert fetches[good_gid].state == "done"
    assert fetches[odd_gid].state == "pending" and "TypeError: unhashable" in fetches[odd_gid].last_error
    assert list(DisputeStep.objects.values_list("gid", flat=True)) == [good_gid]


def _signed_post(body, code, path=BATCH):
    """POST `body` to this node's `path`, signed as peer `code` (with this node's own key pair)."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    original, settings.NODE_CODE = settings.NODE_CODE, code
    try:
        signed = sign_request("POST", "http://testserver" + path, headers, raw)
    finally:
        settings.NODE_CODE = original
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if k != "Content-Type"}
    return Client().post(path, raw, content_type="application/json", **extra)


def test_the_batch_endpoint_serves_each_record_to_its_audience_only():
    for code in ("BJIDX", "GYBDX"):  # this node's own key stands for the peers'
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    theirs, others, absent = (f"SHDEX-{uuid.uuid4().hex}" for _ in range(3))
    with transaction.atomic():
        publish(
            [
                Change("demand_response", theirs, 1, {"secret": "甲"}, audience=("BJIDX", "SHDEX")),
                Change("demand_response", others, 1, {"secret": "乙"}, audience=("GYBDX", "SHDEX")),
            ]
        )
    wanted = [
        {"origin": "SHDEX", "type": "demand_response", "gid": gid} for gid in (absent, others, theirs, theirs)
    ]
    answer = _signed_post({"records": wanted}, "BJIDX")
    assert answer.status_code == 200
    entries = json.loads(answer.content)["entries"]
    assert [e["entry"]["gid"] for e in entries] == [theirs] and entries[0]["entry"]["payload"] == {
        "secret": "甲"
    }
    assert [
        e["entry"]["gid"] for e in json.loads(_signed_post({"records": wanted}, "GYBDX").content)["entries"]
    ] == [others]
    too_many = _signed_post({"records": wanted[:1] * (PRIVATE_BATCH_MAX + 1)}, "BJIDX")
    assert too_many.status_code == 400 and "records" in too_many.content.decode()
    malformed = _signed_post({"records": [{"origin": "shdex", "type": "x", "gid": "g"}]}, "BJIDX")
    assert malformed.status_code == 400 and "origin" in malformed.content.decode()
    unsigned = Client().post(BATCH, {"records": wanted}, content_type="application/json")
    assert unsigned.status_code == 401


def test_a_step_of_a_later_deal_flow_is_refused_in_its_fetch_and_the_batch_goes_on(deal, bjidx_key):
    """What a node on an older deal flow does with a step kind it does not know (deal flow 1.0 and
    `outcome`, 1.1 and `withdrawn`), seen on this code with a kind no flow has yet: refused with the field
    and the rule in the fetch's `last_error`, retried later, never applied, never a crash; the valid step
    beside it applies."""
    accept_gid, accept = _accept_payload(deal, signer=bjidx_key)
    later_gid = f"BJIDX-{uuid.uuid4().hex}"
    later = {**accept, "id": later_gid, "seq": 3, "kind": "arbitration", "offer_version": None, "body": {}}
    served = {
        accept_gid: item(bjidx_key, seq=5, gid=accept_gid, record_type="deal_step", payload=accept),
        later_gid: item(bjidx_key, seq=6, gid=later_gid, record_type="deal_step", payload=later),
    }
    with serve(lambda path: (500, {}), post=_entries(served)) as url:
        Peer.objects.filter(exchange_id=ORIGIN).update(base_url=url)
        for gid in served:
            PrivateFetch.objects.create(
                origin=ORIGIN, record_type="deal_step", gid=gid, version=1, audience=deal.audience,
                next_attempt_at=timezone.now(),
            )  # fmt: skip
        assert private_fetch_due() == 1
    fetches = {f.gid: f for f in PrivateFetch.objects.all()}
    assert fetches[accept_gid].state == "done"
    assert (fetches[later_gid].state, fetches[later_gid].attempts) == ("pending", 1)
    assert "invalid payload: kind: invalid_choice" in fetches[later_gid].last_error
    assert not DealStep.objects.filter(gid=later_gid).exists()
