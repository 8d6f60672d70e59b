"""Who may change a registration: only its home node, and there its exchange's operators, or the participant
itself (with its token, from any node) for what is not vetted."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.models import User
from core.exceptions import Forbidden
from participants.models import Participant
from participants.principal import ParticipantPrincipal


def is_home_operator(actor: Any) -> bool:
    """An operator of this node's exchange, or the node's admin (None: the node itself, from a command)."""
    if actor is None:
        return True
    if not isinstance(actor, User) or not actor.is_active:
        return False
    return actor.is_superuser or actor.role == User.Role.ADMIN or actor.exchange_id == settings.NODE_CODE


def require_home(participant: Participant) -> None:
    if participant.home_id != settings.NODE_CODE:
        raise Forbidden(
            message=f"该市场主体登记于 {participant.home_id}，只能在其登记交易所的节点修改",
            message_en=f"This participant is registered at {participant.home_id}; only that node changes it",
            code="not_owner",
            extra={"home_exchange": participant.home_id},
        )


def participant_can_manage(actor: Any, participant: Participant) -> bool:
    """Its home exchange's operators, and the participant's own users (with a token from any node): the users
    of this registration — the USCC **and** its home exchange —, never those of another registration of the
    same company (another exchange's, or a later one after this was revoked)."""
    if is_home_operator(actor):
        return True
    return (
        isinstance(actor, ParticipantPrincipal)
        and actor.participant_id == participant.participant_id
        and actor.home == participant.home_id
    )


def can_read_private(actor: Any, participant: Participant) -> bool:
    return (
        participant.home_id == settings.NODE_CODE
        and actor is not None
        and actor.is_authenticated
        and (participant_can_manage(actor, participant))
    )
