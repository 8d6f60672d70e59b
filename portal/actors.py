"""Who a signed-in person is, as the API's services and selectors expect the caller (`actor`): an exchange
operator or admin is the `accounts.User` itself; a participant user is the same ParticipantPrincipal a
participant access token gives the API (participants.authentication), with the same standing check on every
request, so a suspended, revoked or duplicate registration, a changed password or ended sessions end the
portal's session too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import logout

from accounts.models import User
from participants.principal import ParticipantPrincipal
from participants.selectors import standing_for_token

SESSION_GENERATION = "portal_token_generation"
_CACHE = "_portal_actor"


def principal_for(user: User) -> ParticipantPrincipal | None:
    """The participant principal of a participant user of this node, or None when its registration is not
    in good standing here."""
    standing = standing_for_token(participant_id=user.participant_id, home=settings.NODE_CODE)
    if standing is None:
        return None
    return ParticipantPrincipal(
        participant_id=user.participant_id,
        home=settings.NODE_CODE,
        username=user.username,
        roles=tuple(standing["roles"]),
        services=tuple(standing["services"]),
        legal_name=standing["legal_name"],
        status=standing["status"],
    )


def _resolve(request) -> Any:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if user.role != User.Role.PARTICIPANT:
        return user
    principal = None
    if request.session.get(SESSION_GENERATION) == user.token_generation:
        principal = principal_for(user)
    if principal is None:  # the password changed, its sessions were ended, or its standing is gone
        logout(request)
    return principal


def actor(request) -> Any:
    """The caller to hand to services and selectors: None (anonymous), a User (operator, admin) or a
    ParticipantPrincipal; resolved once per request."""
    if not hasattr(request, _CACHE):
        setattr(request, _CACHE, _resolve(request))
    return getattr(request, _CACHE)


def is_operator(who: Any) -> bool:
    return bool(who is not None and getattr(who, "is_operator", False))


def has_role(who: Any, role: str) -> bool:
    return isinstance(who, ParticipantPrincipal) and who.has_role(role)
