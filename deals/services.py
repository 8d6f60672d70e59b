"""Writes of deals (交易): the order, and every step, each by the node that owns it (docs/deals.md).

The order is written where the buyer places it (any node); a step is written at the home node of whoever
takes it — the buyer's steps at the buyer's home, the provider's at the provider's home, the coordinator's at
the product's exchange — after the flow (`standards.deal_flow`) allows it in the state this node derives. Each
write publishes its record in its transaction (private: only the deal's audience receives it).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from deals.dispute_services import dispute_file_on_rejection
from deals.followups import deals_followup
from deals.models import Deal, DealStep
from deals.replicas import DEAL, STEP
from deals.selectors import deal_roles, deal_steps
from deals.steps import step_prepare
from demands.models import DecisionStatus, DemandResponse
from participants.models import ParticipantStatus
from participants.principal import ParticipantPrincipal
from participants.selectors import participant_get
from products.models import Product, ProductStatus
from standards.deal_flow import KIND_ROLES, Derived, derive, role_actor, role_origin
from standards.deal_steps import order_clean


def _e(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _buyer(actor: Any) -> ParticipantPrincipal:
    if not isinstance(actor, ParticipantPrincipal) or not actor.has_role("demander"):
        raise Forbidden(
            message="只有具备需方角色的已核验市场主体可以下单",
            message_en="Only a verified participant with the demander role places an order",
            code="role_required",
        )
    if actor.status != ParticipantStatus.VERIFIED:
        raise Forbidden(
            message="该市场主体尚未通过核验或已暂停",
            message_en="The participant is not verified",
            code="not_verified",
        )
    return actor


def _response_terms(gid: str | None, *, buyer: str, product: Product) -> tuple[dict | None, list[FieldError]]:
    """The terms of the demand response an order takes up — (terms, errors): it must be held here (the
    order carries what it promised, so it is placed where the response is: at the buyer's home node), and
    be the buyer's accepted response of this provider offering this product."""
    if gid is None:
        return None, []
    response = DemandResponse.objects.filter(gid=gid).first()
    if response is None:
        return None, [
            _e(
                "request.demand_response",
                "not_held",
                "本节点未持有该需求响应：请在需方所在交易所的节点下单",
                "This node does not hold the response: order at the buyer's home node",
            )
        ]
    if (
        response.demander_id != buyer
        or response.responder_id != product.provider_uscc
        or product.code not in response.products
        or response.decision != DecisionStatus.ACCEPTED
    ):
        return None, [
            _e(
                "request.demand_response",
                "mismatch",
                "须为本需方已接受的、该供方对该产品的响应",
                "Must be a response you accepted, by this provider, offering this product",
            )
        ]
    return {"price": f"{response.price:.2f}", "delivery_days": response.delivery_days}, []


@transaction.atomic
def deal_order(*, actor: Any, product_code: str, request: dict) -> Deal:
    """A verified demander orders a listed product, at any node (that node owns the order)."""
    buyer = _buyer(actor)
    product = Product.objects.filter(code=product_code).first()
    if product is None:
        raise NotFound(message="产品不存在", message_en="No such product", code="not_found")
    if product.status != ProductStatus.LISTED:
        raise Conflict(
            message="产品未上架", message_en="The product is not listed", code="product_not_listed"
        )
    provider = participant_get(product.provider_uscc)
    if provider is None or provider.status != ParticipantStatus.VERIFIED:
        raise Conflict(
            message="产品的供方未通过核验或已暂停",
            message_en="The product's provider is not verified",
            code="provider_not_verified",
        )
    if provider.participant_id == buyer.participant_id:
        raise Forbidden(
            message="不能购买自己的产品", message_en="You cannot buy your own product", code="own_product"
        )
    if isinstance(request, dict) and "response_terms" in request:
        raise ValidationFailed(
            [
                _e(
                    "request.response_terms",
                    "read_only",
                    "由节点从需求响应读取",
                    "Read by the node from the response",
                )
            ]
        )
    try:
        clean = order_clean(request)
    except ValidationFailed as exc:
        raise exc.prefixed("request") from None
    terms, errors = _response_terms(clean["demand_response"], buyer=buyer.participant_id, product=product)
    if terms is not None:
        clean["response_terms"] = terms
    if clean["delivery_method"] not in (product.descriptor or {}).get("delivery_methods", []):
        errors.append(
            _e(
                "request.delivery_method",
                "not_offered",
                "该产品不提供此交付方式",
                "The product is not delivered so",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    deal = Deal.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        product_code=product.code,
        product_version=product.version,
        product_exchange=product.exchange_id,
        product_name=product.name,
        provider_id=provider.participant_id,
        provider_home=provider.home_id,
        provider_name=provider.legal_name,
        buyer_id=buyer.participant_id,
        buyer_home=buyer.home,
        buyer_name=buyer.legal_name,
        placed_at=timezone.now().replace(microsecond=0),
        request=clean,
    )
    DEAL.publish([deal])
    deals_followup([deal.gid])
    return deal


def _role(actor: Any, deal: Deal, kind: str) -> str:
    """The role `actor` takes `kind` in; 403 if it has none in this deal (the node itself acts as the
    coordinator: its tasks)."""
    if actor is None:
        return "coordinator"
    roles = deal_roles(actor, deal) & KIND_ROLES[kind]
    if not roles:
        raise Forbidden(
            message="只有交易双方或协调交易所的运营人员可以执行此操作",
            message_en="Only the deal's parties, or the coordinating exchange's operators, take this step",
            code="not_party",
        )
    if isinstance(actor, ParticipantPrincipal) and actor.status != ParticipantStatus.VERIFIED:
        raise Forbidden(
            message="该市场主体尚未通过核验或已暂停", message_en="Not verified", code="not_verified"
        )
    return sorted(roles)[0]


def deal_step_check(*, actor: Any, deal: Deal, kind: str) -> tuple[str, Deal, list[DealStep], Derived]:
    """Whether `actor` may take a step of `kind` in `deal` at this node now: (role, the deal locked, its
    steps, its derived state); else 403 (not a party, or not this node's step) or 409 (not in this state).
    Call inside a transaction."""
    role = _role(actor, deal, kind)
    owner = role_origin(deal, role)
    if owner != settings.NODE_CODE:
        raise Forbidden(
            message=f"此步骤由 {owner} 节点记录，请在该节点操作",
            message_en=f"The {role}'s steps are taken at the {owner} node",
            code="not_owner",
            extra={"node": owner},
        )
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    steps = deal_steps(deal)
    derived = derive(deal, steps)
    if kind not in derived.actions[role]:
        raise Conflict(
            message=f"交易当前状态（{derived.state}）不允许此操作",
            message_en=f"The deal is {derived.state}: a {role} cannot {kind} now",
            code="not_allowed_now",
            extra={"state": derived.state, "allowed": derived.actions[role]},
        )
    return role, deal, steps, derived


@transaction.atomic
def deal_step_take(
    *, actor: Any, deal: Deal, kind: str, body: dict | None = None, offer_version: int | None = None, now=None
) -> DealStep:
    """Take a step of `kind` in `deal`: at the node that owns the actor's steps, when the flow allows it."""
    role, deal, steps, derived = deal_step_check(actor=actor, deal=deal, kind=kind)
    now = now or timezone.now()
    version, clean = step_prepare(
        kind, deal=deal, derived=derived, body=body or {}, offer_version=offer_version, now=now
    )
    step = DealStep.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        deal_gid=deal.gid,
        audience=deal.audience,
        seq=len(steps) + 1,
        kind=kind,
        role=role,
        actor_id=role_actor(deal, role),
        at=now,
        offer_version=version,
        body=clean,
    )
    if step.gid not in derive(deal, [*steps, step]).applied:  # pragma: no cover - the checks above hold it
        raise Conflict(
            message="步骤未被流程接受", message_en="The flow does not take this step", code="not_applied"
        )
    STEP.publish([step])
    deals_followup([deal.gid])
    if kind == "acceptance" and clean["result"] == "rejected":
        dispute_file_on_rejection(deal, step)
    return step
