"""Reads of demands, responses and notifications for one caller (the portal's consoles; the API's views keep
their own querysets): the same audience rules as the API (`responses.response_visible`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from demands.models import Demand, DemandResponse, Notification
from demands.responses import response_visible
from participants.principal import ParticipantPrincipal


def _participant_id(actor: Any) -> str | None:
    return actor.participant_id if isinstance(actor, ParticipantPrincipal) else None


def demand_get(gid: str) -> Demand | None:
    return Demand.objects.filter(gid=gid).first()


def demands_of(actor: Any) -> QuerySet[Demand]:
    """The demands the caller posted (a participant principal), newest first."""
    pid = _participant_id(actor)
    if pid is None:
        return Demand.objects.none()
    return Demand.objects.filter(demander_id=pid).order_by("-id")


def responses_visible(actor: Any, demand: Demand) -> list[DemandResponse]:
    """The responses to `demand` the caller may see (its demander, a responder, their operators)."""
    rows = DemandResponse.objects.filter(demand_gid=demand.gid).order_by("created_at")
    return [r for r in rows if response_visible(actor, r)]


def response_get(actor: Any, demand: Demand, rid: str) -> DemandResponse | None:
    response = DemandResponse.objects.filter(gid=rid, demand_gid=demand.gid).first()
    return response if response is not None and response_visible(actor, response) else None


def responses_by(actor: Any) -> QuerySet[DemandResponse]:
    """The responses the caller sent (a participant principal), newest first."""
    pid = _participant_id(actor)
    if pid is None:
        return DemandResponse.objects.none()
    return DemandResponse.objects.filter(responder_id=pid).order_by("-created_at")


def notifications_for(actor: Any) -> QuerySet[Notification]:
    """The caller's notifications at its home node, newest first."""
    pid = _participant_id(actor)
    if pid is None:
        return Notification.objects.none()
    return Notification.objects.filter(participant_id=pid).order_by("-id")


def notifications_unread(actor: Any) -> int:
    return notifications_for(actor).filter(read_at__isnull=True).count()
