import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from exchanges.models import Exchange

TOKEN_PREFIX = "dxr_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_issue(*, user: User, name: str = "default", ttl: timedelta | None = None) -> str:
    """Create a token for the user and return it in clear; it cannot be shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:12],
        key_hash=token_hash(raw),
        expires_at=timezone.now() + (ttl or timedelta(days=settings.API_TOKEN_TTL_DAYS)),
    )
    return raw


@transaction.atomic
def operator_ensure(*, exchange: Exchange, username: str) -> User:
    """Return the operator `username` of `exchange`, creating it (without a usable password) if needed."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"role": User.Role.OPERATOR, "exchange": exchange, "is_staff": True}
    )
    if not created and (user.role != User.Role.OPERATOR or user.exchange_id != exchange.pk):
        raise ValueError(f"user {username!r} exists and is not an operator of {exchange.pk}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
