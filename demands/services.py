"""Every write to a demand or a response goes through these functions: who may do it, the standard's rules,
a raised version and the change published in the same transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from demands.matching import demands_matched
from demands.models import DecisionStatus, Demand, DemandResponse, DemandStatus, Notification, ResponseStatus
from demands.replication import demand_change, search_text
from federation.outbox import Change, publish
from participants.principal import ParticipantPrincipal
from products.models import Product, ProductStatus
from standards.demand import demand_clean

RESPONSE = "demand_response"
DECISION = "response_decision"
MAX_MESSAGE = 2000


def _e(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _participant(actor: Any, *, role: str, what_zh: str, what_en: str) -> ParticipantPrincipal:
    if not isinstance(actor, ParticipantPrincipal):
        raise Forbidden(
            message=f"只有已核验的市场主体可以{what_zh}",
            message_en=f"Only a verified participant {what_en}",
            code="not_participant",
        )
    if actor.status != "verified":
        raise Forbidden(
            message="该市场主体尚未通过核验或已暂停",
            message_en="The participant is not verified",
            code="not_verified",
        )
    if not actor.has_role(role):
        raise Forbidden(
            message=f"需要“{role}”角色",
            message_en=f"This needs the {role} role",
            code="role_required",
            extra={"role": role},
        )
    return actor


def _require_origin(record_origin: str, what_en: str) -> None:
    if record_origin != settings.NODE_CODE:
        raise Forbidden(
            message=f"该记录属于 {record_origin} 节点，只能在该节点修改",
            message_en=f"This {what_en} belongs to the {record_origin} node; change it there",
            code="not_owner",
            extra={"origin": record_origin},
        )


# --- Demands ------------------------------------------------------------------------------------------------
@transaction.atomic
def demand_post(*, actor: Any, data: dict) -> Demand:
    """A verified demander posts a demand at this node (with its nationwide token, at any node)."""
    demander = _participant(actor, role="demander", what_zh="发布需求", what_en="posts demands")
    now = timezone.now()
    clean = demand_clean(data, now=now)
    demand = Demand(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        demander_id=demander.participant_id,
        demander_home=demander.home,
        demander_name=demander.legal_name,
        posted_at=now,
        search_text=search_text(clean),
        **clean,
    )
    demand.save()
    publish([demand_change(demand)])
    demands_matched([demand])
    return demand


def _may_change_demand(actor: Any, demand: Demand) -> bool:
    if isinstance(actor, ParticipantPrincipal):
        return actor.participant_id == demand.demander_id
    from participants.services import is_home_operator

    return actor is not None and getattr(actor, "is_authenticated", False) and is_home_operator(actor)


@transaction.atomic
def demand_set_status(*, actor: Any, demand: Demand, status: str, reason: str = "") -> Demand:
    """Withdraw or close an open demand (its demander, or an operator of the exchange where it was posted)."""
    _require_origin(demand.origin, "demand")
    if actor is not None and not _may_change_demand(actor, demand):
        raise Forbidden(
            message="只有需求方可以修改该需求",
            message_en="Only the demander changes this demand",
            code="not_owner",
        )
    if status not in {DemandStatus.WITHDRAWN, DemandStatus.CLOSED, DemandStatus.EXPIRED}:
        raise ValidationFailed(
            [_e("status", "invalid_choice", "状态须为 withdrawn 或 closed", "status is withdrawn or closed")]
        )
    if len(reason or "") > 500:
        raise ValidationFailed([_e("reason", "max_length", "最多500字", "At most 500 characters")])
    demand = Demand.objects.select_for_update().get(pk=demand.pk)
    if demand.status != DemandStatus.OPEN:
        raise Conflict(
            message=f"需求已是 {demand.status} 状态",
            message_en=f"The demand is already {demand.status}",
            code="not_open",
        )
    demand.status, demand.status_reason = status, reason or ""
    demand.closed_at = timezone.now()
    demand.version += 1
    demand.save()
    publish([demand_change(demand)])
    demands_matched([demand])  # tells every responder registered here; other nodes do it on apply
    return demand


def demands_expire(*, now=None) -> int:
    """This node's open demands past their deadline become expired (a new version that replicates)."""
    now = now or timezone.now()
    count = 0
    for demand in Demand.objects.filter(
        origin=settings.NODE_CODE, status=DemandStatus.OPEN, deadline__lte=now
    )[:500]:
        try:
            demand_set_status(
                actor=None, demand=demand, status=DemandStatus.EXPIRED, reason="deadline passed"
            )
            count += 1
        except Conflict:
            pass
    return count


# A demand version changed this long ago and still not matched lost its task (a broker failure): the tick
# queues it again. Younger ones are left to the task queued when they changed, so a busy worker's queue does
# not fill with copies of the same match.
UNMATCHED_AFTER = timedelta(seconds=60)


def demands_unmatched(limit: int = 200) -> list[str]:
    from django.db.models import F

    return list(
        Demand.objects.filter(
            notified_version__lt=F("version"), updated_at__lt=timezone.now() - UNMATCHED_AFTER
        )
        .order_by("updated_at")
        .values_list("gid", flat=True)[:limit]
    )


# --- Responses ----------------------------------------------------------------------------------------------
def response_payload(r: DemandResponse) -> dict:
    return {
        "id": r.gid,
        "demand": r.demand_gid,
        "demand_origin": r.demand_origin,
        "demander": r.demander_id,
        "demander_home": r.demander_home,
        "responder": r.responder_id,
        "responder_home": r.responder_home,
        "responder_name": r.responder_name,
        "kind": r.kind,
        "products": list(r.products),
        "proposal": r.proposal,
        "price": int(r.price) if r.price == r.price.to_integral_value() else str(r.price),
        "delivery_days": r.delivery_days,
        "message": r.message,
        "status": r.status,
        "created_at": r.created_at.isoformat(),
    }


def decision_payload(r: DemandResponse) -> dict:
    return {
        "response": r.gid,
        "demand": r.demand_gid,
        "decision": r.decision,
        "reason": r.decision_reason,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
    }


def response_change(r: DemandResponse) -> Change:
    return Change(RESPONSE, r.gid, r.version, response_payload(r), audience=tuple(r.audience))


def decision_change(r: DemandResponse) -> Change:
    return Change(DECISION, r.gid, r.decision_version, decision_payload(r), audience=tuple(r.audience))


def response_clean(data: dict, *, responder: str) -> dict:
    errors: list[FieldError] = []
    kind = data.get("kind")
    if kind not in DemandResponse.Kind.values:
        errors.append(_e("kind", "invalid_choice", "类型须为 offer 或 proposal", "kind is offer or proposal"))
    products = data.get("products") or []
    if not isinstance(products, list) or len(products) > 20 or not all(isinstance(c, str) for c in products):
        errors.append(_e("products", "type", "最多20个产品编码", "At most 20 product codes"))
        products = []
    if kind == "offer" and not products:
        errors.append(_e("products", "required", "报价须列出产品", "An offer names listed products"))
    if products:
        mine = dict(Product.objects.filter(code__in=products).values_list("code", "provider_uscc"))
        listed = set(
            Product.objects.filter(code__in=products, status=ProductStatus.LISTED).values_list(
                "code", flat=True
            )
        )
        for i, code in enumerate(products):
            if code not in mine or code not in listed:
                errors.append(
                    _e(f"products.{i}", "not_listed", "不是已上架的产品", f"{code} is not a listed product")
                )
            elif mine[code] != responder:
                errors.append(
                    _e(f"products.{i}", "not_provider", "只能提供自己的产品", f"{code} is not your product")
                )
    proposal = data.get("proposal") or ""
    if not isinstance(proposal, str) or len(proposal) > 4000:
        errors.append(_e("proposal", "max_length", "最多4000字", "At most 4000 characters"))
    elif kind == "proposal" and len(proposal.strip()) < 10:
        errors.append(
            _e("proposal", "required", "方案须至少10个字", "A proposal needs at least 10 characters")
        )
    try:
        price = Decimal(str(data.get("price")))
        if (
            not price.is_finite()
            or price < 0
            or price > Decimal("1000000000")
            or price != price.quantize(Decimal("0.01"))
        ):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.append(
            _e("price", "range", "价格须为0到10亿元、最多两位小数", "price is 0 to 1e9 CNY, two decimals")
        )
        price = None
    days = data.get("delivery_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        errors.append(_e("delivery_days", "range", "交付天数须为1–3650", "delivery_days is 1 to 3650"))
    message = data.get("message") or ""
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        errors.append(
            _e("message", "max_length", f"最多{MAX_MESSAGE}字", f"At most {MAX_MESSAGE} characters")
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "kind": kind,
        "products": list(dict.fromkeys(products)),
        "proposal": proposal,
        "price": price,
        "delivery_days": days,
        "message": message,
    }


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
    clean = response_clean(data, responder=actor.participant_id)
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
    publish([response_change(response)])
    response_arrived(response)
    return response


def response_arrived(response: DemandResponse) -> None:
    """A response is known here (made here or fetched): the demander, if registered here, is notified; the
    responder too, if registered here and the demand is already closed (the closing came first)."""
    from demands.notifications import notify

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
    _require_origin(response.origin, "response")
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
    publish([response_change(response)])
    return response


@transaction.atomic
def response_decide(
    *, actor: Any, response: DemandResponse, decision: str, reason: str = ""
) -> DemandResponse:
    """The demander shortlists, accepts or declines, at the node where the demand was posted."""
    _require_origin(response.demand_origin, "demand's responses")
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
    publish([decision_change(response)])
    return response


def response_get(gid: str) -> DemandResponse:
    response = DemandResponse.objects.filter(gid=gid).first()
    if response is None:
        raise NotFound(message="没有该响应", message_en="No such response", code="not_found")
    return response
