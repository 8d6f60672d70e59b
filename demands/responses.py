"""Responses to demands (一地提出，全国响应): a supplier answers at any node, the demander decides at the node
where the demand was posted; both replicate only to the nodes of the response's audience."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict, FieldError, Forbidden, ValidationFailed
from demands.models import DecisionStatus, Demand, DemandResponse, DemandStatus, Notification, ResponseStatus
from demands.notifications import notify
from demands.replicas import DECISION, RESPONSE
from demands.services import require_origin
from participants.principal import ParticipantPrincipal
from products.models import Product, ProductStatus
from standards.demand import response_clean


def _e(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _offered_product_errors(products: object, *, responder: str) -> list[FieldError]:
    """The products an offer names must be listed ones of the responder's (checked where it is made; a
    list that is not one of codes is refused by the response standard)."""
    if not isinstance(products, list) or not all(isinstance(c, str) for c in products) or not products:
        return []
    errors: list[FieldError] = []
    owners = dict(Product.objects.filter(code__in=products).values_list("code", "provider_uscc"))
    listed = set(
        Product.objects.filter(code__in=products, status=ProductStatus.LISTED).values_list("code", flat=True)
    )
    for i, code in enumerate(products):
        if code not in owners or code not in listed:
            errors.append(
                _e(f"products.{i}", "not_listed", "不是已上架的产品", f"{code} is not a listed product")
            )
        elif owners[code] != responder:
            errors.append(
                _e(f"products.{i}", "not_provider", "只能提供自己的产品", f"{code} is not your product")
            )
    return errors


def _response_terms(data: dict, *, responder: str) -> dict:
    """The response standard's rules, and the products offered, every broken rule reported at once."""
    found = _offered_product_errors(data.get("products"), responder=responder)
    try:
        clean = response_clean(data)
    except ValidationFailed as exc:
        raise ValidationFailed([*exc.errors, *found]) from None
    if found:
        raise ValidationFailed(found)
    return clean


@transaction.atomic
def response_create(*, actor: Any, demand: Demand, data: dict) -> DemandResponse:
    """A verified supplier (data merchant or service provider) responds, at any node."""
    if not isinstance(actor, ParticipantPrincipal) or not (
        actor.has_role("data_merchant") or actor.has_role("service_provider")
    ):
        raise Forbidden(
            message="只有已核验的数商或服务机构可以响应需求",
            message_en="Only a verified data merchant or service provider responds to demands",
            code="role_required",
        )
    if actor.status != "verified":
        raise Forbidden(
            message="该市场主体尚未通过核验或已暂停",
            message_en="The participant is not verified",
            code="not_verified",
        )
    if actor.participant_id == demand.demander_id:
        raise Forbidden(
            message="不能响应自己的需求",
            message_en="A demander does not respond to itself",
            code="own_demand",
        )
    if demand.status != DemandStatus.OPEN or demand.deadline <= timezone.now():
        raise Conflict(
            message="需求已关闭、撤回或过期，不再接受响应",
            message_en="The demand is closed, withdrawn or expired: it takes no more responses",
            code="demand_not_open",
        )
    clean = _response_terms(data, responder=actor.participant_id)
    response = DemandResponse.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        demand_gid=demand.gid,
        demand_origin=demand.origin,
        demander_id=demand.demander_id,
        demander_home=demand.demander_home,
        responder_id=actor.participant_id,
        responder_home=actor.home,
        responder_name=actor.legal_name,
        created_at=timezone.now(),
        **clean,
    )
    RESPONSE.publish([response])
    response_arrived(response)
    return response


def response_arrived(response: DemandResponse) -> None:
    """A response is known here (made here or fetched): the demander, if registered here, is notified; the
    responder too, if registered here and the demand is already closed (the closing came first)."""
    demand = Demand.objects.filter(gid=response.demand_gid).first()
    if demand is None:
        return  # the demand arrives later: demand_followups notifies then
    if response.demander_home == settings.NODE_CODE:
        notify(
            participant_id=response.demander_id,
            kind=Notification.Kind.RESPONSE,
            demand=demand,
            subject_gid=response.gid,
            payload={"demand": demand.gid, "response": response.gid, "responder": response.responder_name},
        )
    if demand.status != DemandStatus.OPEN and response.responder_home == settings.NODE_CODE:
        notify(
            participant_id=response.responder_id,
            kind=Notification.Kind.CLOSED,
            demand=demand,
            payload={"demand": demand.gid, "title": demand.title, "status": demand.status},
        )


def demand_followups(gid: str) -> None:
    """After a demand (version) arrived or changed here: responses that were here before it now notify.
    Idempotent: a notification exists once."""
    for response in DemandResponse.objects.filter(demand_gid=gid):
        response_arrived(response)


def response_visible(actor: Any, response: DemandResponse) -> bool:
    """The demander, the responder, and the operators of their exchanges (and of the nodes involved)."""
    if isinstance(actor, ParticipantPrincipal):
        return actor.participant_id in {response.demander_id, response.responder_id}
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if getattr(actor, "is_superuser", False):
        return True
    exchange = getattr(actor, "exchange_id", None)
    return exchange is not None and exchange == settings.NODE_CODE and exchange in response.audience


@transaction.atomic
def response_withdraw(*, actor: Any, response: DemandResponse) -> DemandResponse:
    require_origin(response.origin, "response")
    if not (isinstance(actor, ParticipantPrincipal) and actor.participant_id == response.responder_id):
        raise Forbidden(
            message="只有响应方可以撤回", message_en="Only the responder withdraws", code="not_owner"
        )
    response = DemandResponse.objects.select_for_update().get(pk=response.pk)
    if response.status == ResponseStatus.WITHDRAWN:
        raise Conflict(message="已撤回", message_en="Already withdrawn", code="already_withdrawn")
    response.status = ResponseStatus.WITHDRAWN
    response.version += 1
    response.save()
    RESPONSE.publish([response])
    return response


@transaction.atomic
def response_decide(
    *, actor: Any, response: DemandResponse, decision: str, reason: str = ""
) -> DemandResponse:
    """The demander shortlists, accepts or declines, at the node where the demand was posted."""
    require_origin(response.demand_origin, "demand's responses")
    if not (isinstance(actor, ParticipantPrincipal) and actor.participant_id == response.demander_id):
        raise Forbidden(
            message="只有需求方可以处理响应", message_en="Only the demander decides", code="not_owner"
        )
    if decision not in {DecisionStatus.SHORTLISTED, DecisionStatus.ACCEPTED, DecisionStatus.DECLINED}:
        raise ValidationFailed(
            [
                _e(
                    "decision",
                    "invalid_choice",
                    "须为 shortlisted、accepted 或 declined",
                    "shortlisted, accepted or declined",
                )
            ]
        )
    response = DemandResponse.objects.select_for_update().get(pk=response.pk)
    if response.status == ResponseStatus.WITHDRAWN:
        raise Conflict(message="响应已撤回", message_en="The response was withdrawn", code="withdrawn")
    if response.decision in {DecisionStatus.ACCEPTED, DecisionStatus.DECLINED}:
        raise Conflict(
            message="已作出最终决定", message_en="A final decision was already made", code="decided"
        )
    response.decision, response.decision_reason = decision, (reason or "")[:500]
    response.decided_at = timezone.now()
    response.decision_version += 1
    response.save()
    DECISION.publish([response])
    return response
