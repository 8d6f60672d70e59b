"""What a node adds to a step it writes, per kind, before the deal standard checks the body
(`standards.deal_steps.step_body_clean`): the offer version, the exchanges' fee rates an offer carries, the
node's signature of the contract in an accept, the files a receipt finds missing or different, the amounts of
a settlement; and the time rules of the acceptance window."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from core.exceptions import Conflict, FieldError, ValidationFailed
from deals.dispute_selectors import deal_open_dispute, deal_refunded
from deals.models import Deal
from deals.offers import offer_check, offer_defaults
from deals.selectors import exchange_fee_rates
from federation import keys
from standards.deal_contract import contract_digest, contract_document, signed_message
from standards.deal_flow import Derived
from standards.deal_steps import step_body_clean

CENT = Decimal("0.01")


def _fees(deal: Deal) -> list[dict]:
    listing, _ = exchange_fee_rates(deal.product_exchange)
    _, buyer = exchange_fee_rates(deal.buyer_home)
    return [
        {"exchange": deal.product_exchange, "basis": "listing", "bp": listing},
        {"exchange": deal.buyer_home, "basis": "buyer", "bp": buyer},
    ]


def _offer(deal: Deal, derived: Derived, body: dict, kind: str) -> dict:
    """An offer carries the fee rates as the provider's node knows them; a counter keeps the offer's."""
    fees = _fees(deal) if kind == "offer" else derived.offer["fees"]
    return {"currency": "CNY", "message": "", **offer_defaults(deal, derived, body, kind), "fees": fees}


def _accept(deal: Deal, derived: Derived, offer_version: int | None) -> dict:
    if offer_version is not None and offer_version != derived.offer_version:
        raise Conflict(
            message=f"只能接受当前报价（第 {derived.offer_version} 版）",
            message_en=f"Only the current offer (version {derived.offer_version}) can be accepted",
            code="stale_offer",
            extra={"offer_version": derived.offer_version},
        )
    digest = contract_digest(contract_document(deal, derived.offer, derived.offer_version))
    return {"contract_sha256": digest, "signature": keys.sign(signed_message(digest))}


def _receipt(derived: Derived, body: dict) -> dict:
    """For a file delivery, the files whose digest the buyer computed differently, or did not receive (the
    body is checked first: what the buyer sent is untrusted)."""
    if isinstance(body, dict) and "mismatches" in body:
        raise ValidationFailed([FieldError("mismatches", "read_only", "由节点计算", "Computed by the node")])
    clean = step_body_clean("receipt", body)
    delivered = {f["name"]: f["sha256"] for f in (derived.delivery or {}).get("files", [])}
    if delivered and "files" in clean:
        got = {f["name"]: f["sha256"] for f in clean["files"]}
        clean["mismatches"] = sorted(name for name, digest in delivered.items() if got.get(name) != digest)
    return clean


def settlement_amounts(offer: dict, refunded: Decimal = Decimal("0.00")) -> dict:
    """The agreed price less what resolved disputes refunded, and each exchange's fee on that amount
    (rounded half up to the cent)."""
    price = max(Decimal(offer["price"]) - refunded, Decimal("0.00"))
    fees = [
        {**fee, "amount": f"{(price * fee['bp'] / 10000).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"}
        for fee in offer["fees"]
    ]
    return {"amount": f"{price:.2f}", "currency": offer["currency"], "fees": fees}


def _settlement(deal: Deal, derived: Derived) -> dict:
    dispute = deal_open_dispute(deal)
    if dispute is not None:
        raise Conflict(
            message="交易有未结的纠纷，待其处理后再结算",
            message_en="The deal has an open dispute: settle it once the dispute is closed",
            code="dispute.open",
            extra={"dispute": dispute.gid},
        )
    return settlement_amounts(derived.agreed_offer, deal_refunded(deal))


def _window(derived: Derived, kind: str, now: dt.datetime) -> None:
    due = derived.deadlines["acceptance_by"]
    if kind == "acceptance" and due is not None and now > due:
        raise Conflict(
            message="验收期已过，视为验收通过",
            message_en="The acceptance window has ended: the delivery counts as accepted",
            code="window_closed",
            extra={"acceptance_by": due.isoformat()},
        )
    if kind == "auto_accept" and (due is None or now < due):
        raise Conflict(
            message="验收期尚未结束", message_en="The acceptance window is still open", code="window_open"
        )


def step_prepare(
    kind: str, *, deal: Deal, derived: Derived, body: dict, offer_version: int | None, now: dt.datetime
) -> tuple[int | None, dict]:
    """(offer version, cleaned body) of a step this node writes; raises ValidationFailed or Conflict."""
    version: int | None = None
    if kind in {"offer", "counter"}:
        version, body = derived.offer_version + 1, _offer(deal, derived, body, kind)
    elif kind == "accept":
        version, body = derived.offer_version, _accept(deal, derived, offer_version)
    elif kind == "receipt":
        body = _receipt(derived, body)
    elif kind == "settlement":
        body = _settlement(deal, derived)
    elif kind in {"acceptance", "auto_accept"}:
        _window(derived, kind, now)
    clean = step_body_clean(kind, body)
    if kind in {"offer", "counter"}:
        offer_check(deal, derived, kind, clean)
    if kind == "delivery" and clean["method"] != derived.agreed_offer["delivery_method"]:
        raise ValidationFailed(
            [
                FieldError(
                    "method",
                    "not_agreed",
                    "须为合同约定的交付方式",
                    "Must be the contract's delivery method",
                )
            ]
        )
    return version, clean
