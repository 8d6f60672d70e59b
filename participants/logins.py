"""Logins of participant users at their home node: an access token every node accepts (participants.tokens)
and a single-use refresh token; accounts opened for participants."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from accounts.models import RefreshToken, User
from core.exceptions import Conflict, FieldError, Forbidden, ValidationFailed
from participants import tokens
from participants.models import Participant
from participants.permissions import is_home_operator, require_home
from participants.principal import ParticipantPrincipal
from participants.selectors import standing_for_token


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def account_clean(account: Any) -> tuple[str, str]:
    if (
        not isinstance(account, dict)
        or not isinstance(account.get("username"), str)
        or not isinstance(account.get("password"), str)
    ):
        raise ValidationFailed(
            [
                _err(
                    "account",
                    "format",
                    "账户须含 username 与 password",
                    "account needs username and password",
                )
            ]
        )
    username, password = account["username"].strip(), account["password"]
    if not username or len(username) > 150 or not all(c.isalnum() or c in "@.+-_" for c in username):
        raise ValidationFailed(
            [
                _err(
                    "account.username",
                    "format",
                    "用户名格式无效",
                    "username may hold letters, digits and @.+-_",
                )
            ]
        )
    if User.objects.filter(username=username).exists():
        raise Conflict(message="用户名已被占用", message_en="This username is taken", code="username_taken")
    password_check(password, username=username, field="account.password")
    return username, password


def password_check(password: Any, *, username: str, field: str) -> None:
    """Django's password validators (at least 8 characters, not common, not all digits, not like the
    username), their messages in both languages; ValidationFailed naming `field` otherwise."""
    if not isinstance(password, str):
        raise ValidationFailed([_err(field, "type", "必须是字符串", "Must be a string")])
    messages = {}
    for language in ("zh-hans", "en"):  # Django formats the messages in the active language
        with translation.override(language):
            try:
                validate_password(password, User(username=username))
            except DjangoValidationError as exc:
                messages[language] = " ".join(exc.messages)
    if messages:
        raise ValidationFailed([_err(field, "weak", messages["zh-hans"], messages["en"])])


def _refresh_issue(user: User, *, session_started_at) -> str:
    raw = "dxr_refresh_" + secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        user=user,
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(seconds=settings.PARTICIPANT_REFRESH_TTL),
        session_started_at=session_started_at,
    )
    return raw


def participant_of(user: User) -> Participant:
    """The registration a participant user of this node acts for, when it is in good standing here (what a
    login needs, by token or by the portal's session); LoginRefused otherwise."""
    participant = Participant.objects.filter(
        participant_id=user.participant_id, home_id=settings.NODE_CODE
    ).first()
    if (
        participant is None
        or standing_for_token(participant_id=participant.participant_id, home=settings.NODE_CODE) is None
    ):
        raise _login_refused("the participant is not in good standing (suspended, revoked or a duplicate)")
    return participant


def _tokens_for(user: User, *, session_started_at=None) -> dict:
    participant = participant_of(user)
    access, expires_at = tokens.access_token_issue(
        username=user.username,
        participant_id=participant.participant_id,
        roles=list(participant.roles),
        generation=user.token_generation,
    )
    return {
        "access": access,
        "token_type": "Bearer",
        "expires_at": expires_at,
        "expires_in": settings.PARTICIPANT_ACCESS_TTL,
        "refresh": _refresh_issue(user, session_started_at=session_started_at or timezone.now()),
        "participant_id": participant.participant_id,
        "home_exchange": settings.NODE_CODE,
    }


def sessions_end(participant_id: str, *, close_accounts: bool = False) -> int:
    """End every session of the participant's users at this node: their refresh tokens are revoked and their
    access tokens refused here from now on (a new token generation); `close_accounts` also deactivates them
    (a revoked registration). Returns how many users."""
    users = User.objects.filter(role=User.Role.PARTICIPANT, participant_id=participant_id)
    RefreshToken.objects.filter(user__in=users, revoked_at__isnull=True, used_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    changes = {"token_generation": F("token_generation") + 1}
    if close_accounts:
        changes["is_active"] = False
    return users.update(**changes)


class LoginRefused(Forbidden):
    status = 401


def _login_refused(en: str) -> LoginRefused:
    return LoginRefused(message="登录失败 / " + en, message_en=en, code="authentication_failed")


def participant_user(*, username: str, password: str) -> User:
    """The participant user of this node these credentials name, in good standing; LoginRefused otherwise."""
    user = authenticate(username=username, password=password)
    if user is None or user.role != User.Role.PARTICIPANT or not user.is_active:
        raise _login_refused("wrong username or password, or not a participant user of this node")
    participant_of(user)
    return user


@transaction.atomic
def login(*, username: str, password: str) -> dict:
    """A participant user logs in at its home node: an access token every node accepts, and a refresh."""
    return _tokens_for(participant_user(username=username, password=password))


@transaction.atomic
def refresh(*, raw: str) -> dict:
    """Exchange a refresh token (used once: it is rotated) for new tokens, within PARTICIPANT_SESSION_MAX of
    the login it descends from."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = RefreshToken.objects.select_for_update().select_related("user").filter(key_hash=digest).first()
    now = timezone.now()
    if (
        token is None
        or token.used_at is not None
        or token.revoked_at is not None
        or token.expires_at <= now
        or not token.user.is_active
    ):
        raise _login_refused("refresh token unknown, already used, revoked or expired")
    started = token.session_started_at or token.created_at
    if now - started > timedelta(seconds=settings.PARTICIPANT_SESSION_MAX):
        raise _login_refused("the session is older than PARTICIPANT_SESSION_MAX: log in again")
    token.used_at = now
    token.save(update_fields=["used_at"])
    return _tokens_for(token.user, session_started_at=started)


@transaction.atomic
def password_change(*, actor: Any, current_password: str, new_password: str) -> dict:
    """A participant user changes its password at its home node. Every session of the user ends (refresh
    tokens revoked, earlier access tokens refused at this node) and new tokens are returned."""
    user = _home_user(actor)
    if user is None or not user.check_password(current_password):
        raise _login_refused("the current password is wrong, or the token is not a user's of this node")
    password_check(new_password, username=user.username, field="new_password")
    user.set_password(new_password)
    user.token_generation += 1
    user.save(update_fields=["password", "token_generation"])
    RefreshToken.objects.filter(user=user, revoked_at__isnull=True, used_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return _tokens_for(user)


def _home_user(actor: Any) -> User | None:
    """The user row behind a participant token, when its home is this node."""
    if not isinstance(actor, ParticipantPrincipal) or actor.home != settings.NODE_CODE:
        return None
    return User.objects.filter(
        username=actor.username,
        participant_id=actor.participant_id,
        role=User.Role.PARTICIPANT,
        is_active=True,
    ).first()


@transaction.atomic
def account_create(*, actor: Any, participant: Participant, account: dict) -> User:
    """A login for a participant registered at this node (e.g. one an operator registered without one)."""
    require_home(participant)
    if not is_home_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以为市场主体开设账户",
            message_en=f"Only operators of {settings.NODE_CODE} open accounts for its participants",
            code="not_owner",
        )
    username, password = account_clean(account)
    user = User(username=username, role=User.Role.PARTICIPANT, participant_id=participant.participant_id)
    user.set_password(password)
    user.save()
    return user
