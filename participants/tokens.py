"""Participant access tokens that every node accepts without calling the home node.

An access token is a JWT (RFC 7519) signed with EdDSA (Ed25519, RFC 8037) by the home node's key; its `kid`
header and `iss` claim name the home exchange. Any node verifies it with that exchange's public key from its
peer directory (or its own key), checks the expiry, and then the registration's standing in its own replica,
so a suspension at home is refused everywhere within the replication latency.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import jwt
from django.conf import settings

from federation import keys
from federation.models import Peer

ALGORITHM = "EdDSA"
TOKEN_TYPE = "participant+jwt"  # noqa: S105 - a JWT typ header, not a secret
LEEWAY = 5  # seconds of clock difference tolerated between nodes
KEY_CACHE_SECONDS = 30.0


class TokenInvalid(Exception):
    """Why a token is refused (shown to the caller in the 401)."""


@dataclass(frozen=True)
class Claims:
    issuer: str  # the home exchange
    participant_id: str
    username: str
    roles: tuple[str, ...]
    expires_at: int
    token_id: str
    generation: int = 0  # the user's token generation when it was issued (checked at its home node)


@dataclass
class _KeyCache:
    loaded_at: float = 0.0
    keys: dict = field(default_factory=dict)


_cache = _KeyCache()


def _public_key(issuer: str):
    """The public key of `issuer`'s node: this node's own, or an enabled peer's; cached for a few seconds
    so that a verification does not cost a query (a removed or disabled peer stops counting after that)."""
    if issuer == settings.NODE_CODE:
        return keys.private_key().public_key()
    now = time.monotonic()
    if now - _cache.loaded_at > KEY_CACHE_SECONDS:
        _cache.keys = {
            code: keys.public_key_from_b64(b64)
            for code, b64 in Peer.objects.filter(enabled=True).values_list("exchange_id", "public_key")
        }
        _cache.loaded_at = now
    return _cache.keys.get(issuer)


def key_cache_clear() -> None:
    _cache.loaded_at = 0.0
    _cache.keys = {}


def access_token_issue(
    *, username: str, participant_id: str, roles: list[str], generation: int = 0, ttl: int | None = None
) -> tuple[str, int]:
    """Sign an access token for a participant user of this node. Returns (token, expires_at)."""
    now = int(time.time())
    expires_at = now + (ttl or settings.PARTICIPANT_ACCESS_TTL)
    claims = {
        "iss": settings.NODE_CODE,
        "sub": username,
        "pid": participant_id,
        "roles": sorted(roles),
        "iat": now,
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    token = jwt.encode(
        claims,
        keys.private_key(),
        algorithm=ALGORITHM,
        headers={"kid": settings.NODE_CODE, "typ": TOKEN_TYPE},
    )
    return token, expires_at


def looks_like_access_token(raw: str) -> bool:
    return raw.count(".") == 2 and raw.startswith("eyJ")


def access_token_verify(raw: str) -> Claims:
    """Verify signature, issuer and expiry; raises TokenInvalid. Standing is checked by the caller."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise TokenInvalid("malformed token") from exc
    issuer = header.get("kid")
    if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE or not isinstance(issuer, str):
        raise TokenInvalid("not a participant token")
    key = _public_key(issuer)
    if key is None:
        raise TokenInvalid(f"issuer {issuer[:8]!r} is not a node this node trusts")
    try:
        claims = jwt.decode(
            raw,
            key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "pid", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenInvalid("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenInvalid("signature does not verify with the issuer's key") from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"invalid token: {exc}") from exc
    pid, sub, roles, gen = claims["pid"], claims["sub"], claims.get("roles", []), claims.get("gen", 0)
    if not (isinstance(pid, str) and isinstance(sub, str) and isinstance(roles, list)):
        raise TokenInvalid("invalid claims")
    if isinstance(gen, bool) or not isinstance(gen, int):
        raise TokenInvalid("invalid claims")
    return Claims(
        issuer=issuer,
        participant_id=pid,
        username=sub,
        roles=tuple(r for r in roles if isinstance(r, str)),
        expires_at=int(claims["exp"]),
        token_id=str(claims["jti"]),
        generation=gen,
    )
