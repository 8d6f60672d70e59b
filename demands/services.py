"""Every write to a demand goes through these functions: who may do it, the demand standard's rules, a raised
version and the change published in the same transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from demands.matching import demands_matched
from demands.models import Demand, DemandStatus, Notification
from demands.replicas import DEMAND
from participants.permissions import is_home_operator
from participants.principal import ParticipantPrincipal
from standards.demand import demand_clean, demand_search_text


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


def require_origin(record_origin: str, what_en: str) -> None:
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
        search_text=demand_search_text(clean["title"], clean["description"]),
        **clean,
    )
    demand.save()
    DEMAND.publish([demand])
    demands_matched([demand.gid])
    return demand


def _may_change_demand(actor: Any, demand: Demand) -> bool:
    if isinstance(actor, ParticipantPrincipal):
        return actor.participant_id == demand.demander_id
    return actor is not None and getattr(actor, "is_authenticated", False) and is_home_operator(actor)


@transaction.atomic
def demand_set_status(*, actor: Any, demand: Demand, status: str, reason: str = "") -> Demand:
    """Withdraw or close an open demand (its demander, or an operator of the exchange where it was posted)."""
    require_origin(demand.origin, "demand")
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
    DEMAND.publish([demand])
    demands_matched([demand.gid])  # tells every responder registered here; other nodes do it on apply
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
    """Demands whose current version this node has not matched a minute after it changed."""
    return list(
        Demand.objects.filter(
            notified_version__lt=F("version"), updated_at__lt=timezone.now() - UNMATCHED_AFTER
        )
        .order_by("updated_at")
        .values_list("gid", flat=True)[:limit]
    )


def notification_read(*, actor: Any, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (its participant, at its home node); another's is 404."""
    pid = actor.participant_id if isinstance(actor, ParticipantPrincipal) else None
    notification = Notification.objects.filter(pk=notification_id, participant_id=pid).first()
    if notification is None:
        raise NotFound(message="资源不存在", message_en="Not found", code="not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
