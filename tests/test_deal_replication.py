"""Deals between nodes: steps are taken only at the node that owns them; an accept that arrives from a peer
is refused unless its node's signature of the contract verifies and the contract is the one of the offer it
accepts; a deal and its steps reach only the nodes of their audience (sealed stubs elsewhere, the private
endpoint answers 404, digests leave them out)."""

import base64
import copy
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from core.exceptions import Forbidden
from deals.models import Deal, DealStep
from deals.replicas import DEAL, STEP, TERMS
from deals.selectors import deal_derive
from deals.services import deal_order, deal_step_take
from deals.terms import exchange_terms_set
from federation import keys
from federation.apply import apply_page
from federation.models import Entry, Peer, PrivateEntry, PrivateFetch
from federation.payloads import time_text
from federation.peers import peer_add
from federation.selectors import origin_public_key
from federation.stubs import SEALED, sealed_stub
from participants.principal import ParticipantPrincipal
from products.models import ProductStatus
from standards.deal_contract import contract_digest, contract_document, signed_message
from standards.deal_steps import step_body_clean
from tests.factories import make_product, register_provider
from tests.test_deals import OFFER, ORDER, PRODUCT
from tests.test_federation_apply import ORIGIN, _public_b64, bjidx_key, item  # noqa: F401 - fixture
from tests.test_private_records import _signed_get

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
BUYER = "91110000R8A676TY72"  # registered at BJIDX


def _principal(uscc, home, roles, name="北京数据需方有限公司"):
    return ParticipantPrincipal(uscc, home, "user", tuple(roles), (), name, "verified")


@pytest.fixture
def deal(alice, bjidx_key):  # noqa: F811
    """A buyer registered at BJIDX orders here (SHDEX) a product SHDEX lists; the provider offers."""
    p = PRODUCT["provider"]
    register_provider(p["uscc"], p["name"])
    product = make_product(actor=alice, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)
    deal = deal_order(
        actor=_principal(BUYER, "BJIDX", ["demander"]), product_code=product.code, request=ORDER
    )
    provider = _principal(p["uscc"], "SHDEX", ["data_merchant"], p["name"])
    deal_step_take(actor=provider, deal=deal, kind="offer", body=copy.deepcopy(OFFER))
    deal.provider = provider
    return deal


def _accept_payload(deal, *, signer, digest=None, seq=2):
    offer = DealStep.objects.get(deal_gid=deal.gid, kind="offer")
    digest = digest or contract_digest(contract_document(deal, offer.body, 1))
    raw = signer.sign(signed_message(digest))
    gid = f"BJIDX-{uuid.uuid4().hex}"
    return gid, {
        "id": gid,
        "deal": deal.gid,
        "audience": deal.audience,
        "seq": seq,
        "kind": "accept",
        "role": "buyer",
        "actor": BUYER,
        "at": time_text(timezone.now()),
        "offer_version": 1,
        "body": {"contract_sha256": digest, "signature": base64.b64encode(raw).decode()},
    }


def test_the_deal_reaches_only_its_audience(deal):
    assert deal.audience == ["BJIDX", "SHDEX"]
    stubs = Entry.objects.filter(record_type=SEALED).values_list("gid", "body")
    assert {gid.split(":")[0] for gid, _ in stubs} == {"deal", "deal_step"}
    assert all(json.loads(body)["payload"]["audience"] == ["BJIDX", "SHDEX"] for _, body in stubs)
    assert ORDER["purpose"] not in " ".join(body for _, body in stubs)
    assert PrivateEntry.objects.filter(gid=deal.gid).get().audience == ["BJIDX", "SHDEX"]
    assert list(DEAL.live("SHDEX")) == [] and list(STEP.live("SHDEX")) == []  # never in the digests


def test_the_private_endpoint_serves_a_deal_to_its_audience_only(deal, settings):
    peer_add(code="GYBDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    Peer.objects.filter(exchange_id="BJIDX").update(public_key=keys.public_key_b64())
    path = f"/federation/v1/private/SHDEX/deal/{deal.gid}/"
    served = _signed_get(path, "BJIDX")
    assert served.status_code == 200 and json.loads(served.content)["entry"]["payload"]["buyer"] == BUYER
    assert _signed_get(path, "GYBDX").status_code == 404


def test_a_stub_for_others_is_kept_and_nothing_fetched(bjidx_key):  # noqa: F811
    gid, payload = sealed_stub("deal", f"BJIDX-{uuid.uuid4().hex}", ["BJIDX", "GYBDX"])
    apply_page(
        origin=ORIGIN,
        items=[item(bjidx_key, seq=1, record_type=SEALED, gid=gid, payload=payload)],
        source=ORIGIN,
        after=0,
    )
    assert not PrivateFetch.objects.exists() and not Deal.objects.exists()


def test_the_buyer_takes_its_steps_at_its_home_node_only(deal):
    buyer = _principal(BUYER, "BJIDX", ["demander"])
    with pytest.raises(Forbidden) as exc:
        deal_step_take(actor=buyer, deal=deal, kind="accept")
    assert exc.value.code == "not_owner" and exc.value.extra == {"node": "BJIDX"}


def test_a_peers_accept_with_a_valid_signature_applies(deal, bjidx_key):  # noqa: F811
    gid, payload = _accept_payload(deal, signer=bjidx_key)
    with transaction.atomic():
        assert STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    deal_step_take(actor=deal.provider, deal=deal, kind="accept")
    deal.refresh_from_db()
    assert deal.state == "agreed" and deal_derive(deal).contract_sha256 == payload["body"]["contract_sha256"]


def test_a_peers_accept_with_a_tampered_signature_or_document_is_refused(deal, bjidx_key):  # noqa: F811
    forged_gid, forged = _accept_payload(deal, signer=Ed25519PrivateKey.generate())
    other = {**copy.deepcopy(OFFER), "price": "1.00", "fees": DealStep.objects.get(kind="offer").body["fees"]}
    cheap = contract_digest(
        contract_document(deal, step_body_clean("offer", {**other, "currency": "CNY"}), 1)
    )
    tampered_gid, tampered = _accept_payload(deal, signer=bjidx_key, digest=cheap)
    with transaction.atomic():
        errors = STEP.apply_batch("BJIDX", [(forged_gid, 1, forged), (tampered_gid, 1, tampered)])
    assert {gid: [(e.field, e.code) for e in err.errors] for gid, err in errors.items()} == {
        forged_gid: [("body.signature", "signature")],
        tampered_gid: [("body.contract_sha256", "mismatch")],
    }
    assert not DealStep.objects.filter(kind="accept").exists()


def test_a_peer_step_for_a_deal_not_yet_here_waits_and_counts_when_it_comes(deal, bjidx_key):  # noqa: F811
    # The deal's steps may arrive before the deal: they are kept, and the deal's state is derived when it
    # comes (here: the accept is applied while the deal row is briefly absent).
    gid, payload = _accept_payload(deal, signer=bjidx_key)
    snapshot = Deal.objects.filter(pk=deal.pk).values()[0]
    Deal.objects.filter(pk=deal.pk).delete()
    with transaction.atomic():
        assert STEP.apply_batch("BJIDX", [(gid, 1, payload)]) == {}
    Deal.objects.create(**snapshot)
    assert deal_derive(Deal.objects.get(gid=deal.gid)).accepts.keys() == {"buyer"}


def test_every_record_read_back_from_its_payload_is_the_record(deal, bjidx_key):  # noqa: F811
    """What a peer of the audience stores from a payload is what the origin holds, column by column."""
    deal_step_take(actor=deal.provider, deal=deal, kind="cancel", body={"reason": "库存不足"})
    terms = exchange_terms_set(actor=None, code="SHDEX", listing_fee_bp=120, buyer_fee_bp=30)
    records = [(DEAL, deal), (TERMS, terms)] + [(STEP, step) for step in DealStep.objects.all()]
    for replica, record in records:
        values, _ = replica.prepare(
            "SHDEX", replica.gid(record), json.loads(json.dumps(replica.payload(record)))
        )
        for column, value in values.items():
            assert getattr(record, column) == value, (replica.name, column)
    assert origin_public_key("BJIDX") == _public_b64(bjidx_key)
