"""The replicated record types of deals (federation.replica).

A deal (the order) and its steps are private records: their audience is the node where the order was
placed, the buyer's home, the provider's home and the product's exchange (the coordinating exchange); every
other node holds only their sealed stubs. An exchange's fee rates (`exchange_terms`) are public.

An `accept` step carries its node's signature of the contract's digest: a peer's accept whose signature does
not verify with that node's key is refused, and so is one whose digest is not the contract this node builds
from the deal and the offer it accepts, when both are here (when they are not yet, the flow ignores an
accept of another document: `standards.deal_flow`).
"""

from __future__ import annotations

import re
from typing import Any

from core.exceptions import ValidationFailed
from deals.models import Deal, DealStep, DisputeStep, ExchangeTerms
from federation import keys, wire
from federation.payloads import payload_error
from federation.replica import ReplicaType, register
from federation.selectors import origin_public_key
from standards.deal_contract import contract_digest, contract_document, signed_message
from standards.deal_dispute_steps import ACTION as DISPUTE_ACTIONS
from standards.deal_dispute_steps import ROLE as DISPUTE_ROLES
from standards.deal_dispute_steps import dispute_step_clean
from standards.deal_flow import KIND_ROLES
from standards.deal_steps import KINDS, ROLES, order_clean, step_body_clean
from standards.members import member_codes
from standards.uscc import uscc_errors

_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
_PRODUCT_CODE = re.compile(r"[A-Z]{2,8}-\d{4}-\d{6}-[0-9A-Z*]")


def _uscc(payload: dict, name: str) -> str:
    _, errors = uscc_errors(payload[name], name)
    if errors:
        raise ValidationFailed(errors)
    return payload[name]


def _member(payload: dict, name: str) -> str:
    if payload[name] not in member_codes():
        raise payload_error(name, "format", f"{name} must be a member exchange's code")
    return payload[name]


def _own_gid(payload: dict, gid: str, origin: str) -> None:
    if payload["id"] != gid or not _GID.fullmatch(gid) or not gid.startswith(origin + "-"):
        raise payload_error("id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid")


def _name(payload: dict, name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not 0 < len(value) <= 120:
        raise payload_error(name, "type", f"{name} must be a name of at most 120 characters")
    return value


def _audience(payload: dict, origin: str) -> list[str]:
    audience = payload["audience"]
    if (
        not isinstance(audience, list)
        or not audience
        or not set(audience) <= member_codes()
        or origin not in audience
        or audience != sorted(set(audience))
    ):
        raise payload_error("audience", "format", "audience: the sorted member codes, its origin among them")
    return audience


class DealReplica(ReplicaType):
    """The order, owned by the node where it was placed; written once."""

    name = "deal"
    what = "a deal payload"
    model = Deal
    key = "gid"
    private = True
    fields = (
        wire.value("id", column="gid"),
        wire.value("product", column="product_code"),
        wire.integer("product_version", 1, 10**9, "product_version must be a positive whole number"),
        *(wire.value(name) for name in ("product_exchange", "product_name")),
        wire.value("provider", column="provider_id"),
        *(wire.value(name) for name in ("provider_home", "provider_name")),
        wire.value("buyer", column="buyer_id"),
        *(wire.value(name) for name in ("buyer_home", "buyer_name")),
        wire.time("placed_at", required=True),
        wire.value("request"),
    )

    def standards(self, payload: dict) -> dict[str, Any]:
        request = payload.get("request")
        policy = request.get("usage_policy") if isinstance(request, dict) else None
        return {"usage_policy": policy.get("version")} if isinstance(policy, dict) else {}

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        _own_gid(payload, gid, origin)
        if not isinstance(payload["product"], str) or not _PRODUCT_CODE.fullmatch(payload["product"]):
            raise payload_error("product", "format", "product must be a product code")
        values.update(
            gid=gid,
            product_code=payload["product"],
            product_exchange=_member(payload, "product_exchange"),
            product_name=_name(payload, "product_name"),
            provider_id=_uscc(payload, "provider"),
            provider_home=_member(payload, "provider_home"),
            provider_name=_name(payload, "provider_name"),
            buyer_id=_uscc(payload, "buyer"),
            buyer_home=_member(payload, "buyer_home"),
            buyer_name=_name(payload, "buyer_name"),
        )
        if not payload["product"].startswith(values["product_exchange"] + "-"):
            raise payload_error("product_exchange", "mismatch", "product_exchange must be the product's home")
        try:
            values["request"] = order_clean(payload["request"])
        except ValidationFailed as exc:
            raise exc.prefixed("request") from None

    def audience(self, record) -> tuple[str, ...]:
        return tuple(
            sorted({record.origin, record.buyer_home, record.provider_home, record.product_exchange})
        )


def _role_refusal(payload: dict, origin: str) -> None:
    """A step of a kind its role never takes (a party's `outcome`), or a coordinator's step of a deal held
    here from a node other than the product's exchange, is refused (the flow would ignore it anyway)."""
    if payload["role"] not in KIND_ROLES.get(payload["kind"], ()):
        raise payload_error("role", "not_allowed", f"a {payload['role']} never takes this kind of step")
    if payload["role"] == "coordinator":
        deal = Deal.objects.filter(gid=payload["deal"]).only("product_exchange").first()
        if deal is not None and deal.product_exchange != origin:
            raise payload_error("actor", "not_coordinator", "the coordinator is the product's exchange")


class StepReplica(ReplicaType):
    """A step of a deal, owned by the home node of whoever took it; written once."""

    name = "deal_step"
    what = "a deal step payload"
    model = DealStep
    key = "gid"
    private = True
    fields = (
        wire.value("id", column="gid"),
        wire.value("deal", column="deal_gid"),
        wire.listed("audience"),
        wire.integer("seq", 1, 10**6, "seq must be a positive whole number"),
        wire.choice("kind", frozenset(KINDS)),
        wire.choice("role", frozenset(ROLES)),
        wire.value("actor", column="actor_id"),
        wire.time("at", required=True),
        wire.value("offer_version"),
        wire.value("body"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        _own_gid(payload, gid, origin)
        deal = payload["deal"]
        if not isinstance(deal, str) or not _GID.fullmatch(deal):
            raise payload_error("deal", "format", "deal must be a deal id")
        audience = _audience(payload, origin)
        if payload["role"] == "coordinator":
            if payload["actor"] != origin:
                raise payload_error("actor", "mismatch", "a coordinator's step names its own exchange")
        else:
            _uscc(payload, "actor")
        _role_refusal(payload, origin)
        version = payload["offer_version"]
        needs_version = payload["kind"] in {"offer", "counter", "accept"}
        if needs_version != (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
            raise payload_error(
                "offer_version", "type", "offer/counter/accept name an offer version; others none"
            )
        try:
            body = step_body_clean(payload["kind"], payload["body"])
        except ValidationFailed as exc:
            raise exc.prefixed("body") from None
        values.update(
            gid=gid,
            deal_gid=deal,
            audience=audience,
            actor_id=payload["actor"],
            offer_version=version,
            body=body,
        )

    def audience(self, record) -> tuple[str, ...]:
        return tuple(record.audience)

    def apply_batch(self, origin, items, *, repair=False, prepared=None) -> dict:
        """Accept steps are refused unless their node's signature of the contract verifies (and the contract
        is the one this node builds, when it holds the deal and the offer); the others apply as declared."""
        errors: dict[str, ValidationFailed] = {}
        kept = []
        for item in items:
            refused = accept_refusal(origin, item[2]) if item[2].get("kind") == "accept" else None
            if refused is None:
                kept.append(item)
            else:
                errors[item[0]] = refused
        return {**errors, **super().apply_batch(origin, kept, repair=repair, prepared=prepared)}


def accept_refusal(origin: str, payload: dict) -> ValidationFailed | None:
    """Why an accept step of `origin` is refused here: a signature that does not verify, or a digest other
    than the contract of the deal and offer held here."""
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    digest, signature = body.get("contract_sha256"), body.get("signature")
    key = origin_public_key(origin)
    if not isinstance(digest, str) or not isinstance(signature, str) or key is None:
        return payload_error("body.signature", "signature", "the accept carries no verifiable signature")
    if not keys.verify(key, signed_message(digest), signature):
        return payload_error("body.signature", "signature", "the contract signature does not verify")
    deal = Deal.objects.filter(gid=payload.get("deal")).first()
    if deal is None:
        return None  # the deal comes later: the flow ignores an accept of another document then
    offers = DealStep.objects.filter(
        deal_gid=deal.gid, kind__in=["offer", "counter"], offer_version=payload.get("offer_version")
    )
    digests = {contract_digest(contract_document(deal, o.body, o.offer_version)) for o in offers}
    if digests and digest not in digests:
        return payload_error(
            "body.contract_sha256", "mismatch", "the digest is not the contract of this offer"
        )
    return None


class TermsReplica(ReplicaType):
    """An exchange's fee rates, owned by that exchange's node."""

    name = "exchange_terms"
    digest_when_empty = False  # newer than the first protocol: older peers know no such type
    what = "an exchange terms payload"
    model = ExchangeTerms
    key = "exchange_code"
    origin_field = "exchange_code"
    verbatim = False
    fields = (
        wire.value("exchange", column="exchange_code"),
        wire.integer("listing_fee_bp", 0, 10000, "listing_fee_bp: 0 to 10000 basis points"),
        wire.integer("buyer_fee_bp", 0, 10000, "buyer_fee_bp: 0 to 10000 basis points"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["exchange"] != origin or gid != origin:
            raise payload_error("exchange", "owner", "an exchange publishes only its own terms")
        values["exchange_code"] = origin


_EXCHANGE_ROLES = frozenset({"coordinator", "co_coordinator"})


def dispute_body(step: dict) -> dict:
    """The JSON body of a cleaned dispute step (`dispute_step_clean`): the action's own fields, amounts as
    exact decimal strings; the action, role and time travel beside it."""
    body = {k: v for k, v in step.items() if k not in {"action", "role", "at"}}
    if body.get("claim_amount") is not None:
        body["claim_amount"] = f"{body['claim_amount']:.2f}"
    if "outcome" in body:
        outcome = body["outcome"]
        body["outcome"] = {
            "kind": outcome["kind"],
            "refund_amount": f"{outcome['refund_amount']:.2f}",
            "summary": outcome["summary"],
        }
        if outcome.get("redeliver_within_days") is not None:
            body["outcome"]["redeliver_within_days"] = outcome["redeliver_within_days"]
        if outcome.get("compensation_amount") is not None:
            body["outcome"]["compensation_amount"] = f"{outcome['compensation_amount']:.2f}"
    return body


class DisputeStepReplica(ReplicaType):
    """A step of a deal's dispute, owned by the home node of whoever took it; written once. Its body is
    checked by the dispute standard (`dispute_step_clean`); whether it may follow the others is decided when
    the dispute is derived (`standards.deal_disputes.dispute_derive`), where its role must also agree with
    its origin (deals.dispute_selectors)."""

    name = "dispute_step"
    digest_when_empty = False  # newer than the first protocol: older peers know no such type
    what = "a dispute step payload"
    model = DisputeStep
    key = "gid"
    private = True
    fields = (
        wire.value("id", column="gid"),
        wire.value("deal", column="deal_gid"),
        wire.value("dispute", column="dispute_gid"),
        wire.listed("audience"),
        wire.choice("action", frozenset(t.code for t in DISPUTE_ACTIONS)),
        wire.choice("role", frozenset(t.code for t in DISPUTE_ROLES)),
        wire.value("actor", column="actor_id"),
        wire.time("at", required=True),
        wire.value("body"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        _own_gid(payload, gid, origin)
        for name in ("deal", "dispute"):
            if not isinstance(payload[name], str) or not _GID.fullmatch(payload[name]):
                raise payload_error(name, "format", f"{name} must be a global id")
        if (payload["action"] == "file") != (payload["dispute"] == gid):
            raise payload_error("dispute", "mismatch", "a dispute is the id of its file step, and only that")
        audience = _audience(payload, origin)
        if payload["role"] in _EXCHANGE_ROLES:
            if payload["actor"] != origin:
                raise payload_error("actor", "mismatch", "an exchange's step names its own exchange")
        else:
            _uscc(payload, "actor")
        body = payload["body"]
        if not isinstance(body, dict):
            raise payload_error("body", "type", "body must be an object")
        step = {**body, "action": payload["action"], "role": payload["role"], "at": payload["at"]}
        try:
            clean = dispute_body(dispute_step_clean(step))
        except ValidationFailed as exc:
            raise exc.prefixed("body") from None
        evaluation = body.get("evaluation")
        if payload["action"] == "resolve" and evaluation is not None:
            if not isinstance(evaluation, str) or not _GID.fullmatch(evaluation):
                raise payload_error("body.evaluation", "format", "evaluation must be an evaluation's id")
            clean["evaluation"] = evaluation
        values.update(
            gid=gid,
            deal_gid=payload["deal"],
            dispute_gid=payload["dispute"],
            audience=audience,
            actor_id=payload["actor"],
            body=clean,
        )

    def audience(self, record) -> tuple[str, ...]:
        return tuple(record.audience)


DEAL = register(DealReplica())
STEP = register(StepReplica())
TERMS = register(TermsReplica())
DISPUTE_STEP = register(DisputeStepReplica())
