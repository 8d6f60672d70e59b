"""Signed change-log entries: RFC 8785 canonical JSON of the envelope, signed with the origin's key."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import rfc8785
from django.conf import settings

from core.text import unstorable_path
from core.threads import process_pool
from federation import keys

ENVELOPE_FIELDS = ("gid", "origin", "payload", "seq", "type", "version")
_CODE = re.compile(r"^[A-Z]{4,8}$")
_TYPE = re.compile(r"^[a-z_]{1,32}$")
MAX_GID = 96


class EnvelopeError(ValueError):
    pass


def _needs_jcs(value: Any) -> bool:
    """True where json.dumps could differ from RFC 8785: floats (number formatting) and keys outside the
    Basic Multilingual Plane (JCS sorts keys by UTF-16 code units, Python by code points). Iterative: it runs
    for every entry signed or verified."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if not key.isascii() and max(map(ord, key)) > 0xFFFF:
                    return True
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind is float:
            return True
    return False


def canonical(envelope: dict[str, Any]) -> str:
    """RFC 8785 canonical JSON. Without floats or astral-plane keys, sorted compact JSON (orjson, or
    json.dumps for what orjson refuses: integers beyond 64 bits, lone surrogates, non-string keys) is the
    same text, several times faster than the pure-Python JCS encoder, which handles every other case.
    tests/test_canonical_json.py checks all three agree."""
    if _needs_jcs(envelope):
        return rfc8785.dumps(envelope).decode("utf-8")
    try:
        return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(
            envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )


def envelope_body(*, origin: str, seq: int, record_type: str, gid: str, version: int, payload: dict) -> str:
    """Canonical body of a new entry of this node (what its signature covers)."""
    return canonical(
        {
            "origin": origin,
            "seq": seq,
            "type": record_type,
            "gid": gid,
            "version": version,
            "payload": payload,
        }
    )


def _envelope_prepare(item: Any, *, origin: str) -> tuple[dict, str, bytes, str]:
    """Everything but the signature check: shape, then the canonical bytes the origin must have signed."""
    if not isinstance(item, dict) or set(item) != {"entry", "signature"}:
        raise EnvelopeError("an item must be an object with exactly entry and signature")
    envelope, signature = item["entry"], item["signature"]
    if not isinstance(envelope, dict) or tuple(sorted(envelope)) != ENVELOPE_FIELDS:
        raise EnvelopeError(f"an entry must have exactly the fields {', '.join(ENVELOPE_FIELDS)}")
    if not isinstance(signature, str) or len(signature) > 100:
        raise EnvelopeError("signature must be a base64 string")
    if envelope["origin"] != origin:
        raise EnvelopeError(f"entry of origin {envelope['origin']!r} in the feed of {origin}")
    for name in ("seq", "version"):
        value = envelope[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise EnvelopeError(f"{name} must be a positive integer")
    if not isinstance(envelope["type"], str) or not _TYPE.match(envelope["type"]):
        raise EnvelopeError("type must be a record type name")
    if not isinstance(envelope["gid"], str) or not 1 <= len(envelope["gid"]) <= MAX_GID:
        raise EnvelopeError(f"gid must be a string of 1 to {MAX_GID} characters")
    if not isinstance(envelope["payload"], dict):
        raise EnvelopeError("payload must be an object")
    try:
        body = canonical(envelope)
    except (TypeError, ValueError, RecursionError, rfc8785.CanonicalizationError) as exc:
        raise EnvelopeError(f"entry cannot be canonicalised: {exc}") from exc
    try:
        data = body.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in a string
        raise EnvelopeError("entry contains text that is not valid Unicode") from exc
    if "\\u0000" in body and unstorable_path(envelope) is not None:  # walked only if the body may hold one
        # PostgreSQL stores no NUL in text or jsonb, SQLite does: refused alike by every node.
        raise EnvelopeError("entry contains a NUL character")
    return envelope, body, data, signature


def _unverified(origin: str) -> EnvelopeError:
    return EnvelopeError(f"signature does not verify with the public key of {origin}")


def envelope_check(item: Any, *, origin: str, public_key: str) -> tuple[dict, str]:
    """Check one feed item from a peer: shape, then the origin's signature. Returns (envelope, body).

    Everything here is untrusted input; any problem raises EnvelopeError with the reason.
    """
    envelope, body, data, signature = _envelope_prepare(item, origin=origin)
    if not keys.verify(public_key, data, signature):
        raise _unverified(origin)
    return envelope, body


# Signatures are checked (and this node's own made: EnvelopeSigner) in chunks on a small thread pool: Ed25519
# releases the GIL, so it runs on another core while this thread canonicalises the next chunk (a fifth of a
# page's apply time was spent in it, on one core). FEDERATION_VERIFY_THREADS=0 does it inline.
VERIFY_CHUNK = 64


def _verifier() -> ThreadPoolExecutor | None:
    threads = settings.FEDERATION["VERIFY_THREADS"]
    return process_pool("verify", threads) if threads > 0 else None


def _verify_chunk(public_key: str, chunk: list[tuple[int, bytes, str]]) -> list[tuple[int, bool]]:
    return [(index, keys.verify(public_key, data, signature)) for index, data, signature in chunk]


def envelopes_check(items: list, *, origin: str, public_key: str) -> list[tuple[dict, str] | EnvelopeError]:
    """`envelope_check` of a whole feed page: one result per item, (envelope, body) or the EnvelopeError."""
    results: list[Any] = [None] * len(items)
    pool = _verifier()

    def submit(chunk: list[tuple[int, bytes, str]]):
        return pool.submit(_verify_chunk, public_key, chunk) if pool else _verify_chunk(public_key, chunk)

    pending = []
    chunk: list[tuple[int, bytes, str]] = []
    for index, item in enumerate(items):
        try:
            envelope, body, data, signature = _envelope_prepare(item, origin=origin)
        except EnvelopeError as exc:
            results[index] = exc
            continue
        results[index] = (envelope, body)
        chunk.append((index, data, signature))
        if len(chunk) >= VERIFY_CHUNK:
            pending.append(submit(chunk))
            chunk = []
    if chunk:
        pending.append(submit(chunk))
    for outcome in pending:
        for index, ok in outcome if isinstance(outcome, list) else outcome.result():
            if not ok:
                results[index] = _unverified(origin)
    return results


def _sign_chunk(bodies: list[str]) -> list[str]:
    return [keys.sign(body.encode("utf-8")) for body in bodies]


class EnvelopeSigner:
    """Signs this node's new entries in chunks on the signature thread pool (the one `envelopes_check` uses)
    while the caller canonicalises the next ones: Ed25519 signing releases the GIL, and an import batch or a
    feed page's own recognitions sign hundreds of entries. `add` the bodies in order, then `signatures()`."""

    def __init__(self) -> None:
        self._pool = _verifier()
        self._chunk: list[str] = []
        self._done: list[Any] = []

    def add(self, body: str) -> None:
        self._chunk.append(body)
        if len(self._chunk) >= VERIFY_CHUNK:
            self._flush()

    def _flush(self) -> None:
        chunk, self._chunk = self._chunk, []
        if chunk:
            self._done.append(self._pool.submit(_sign_chunk, chunk) if self._pool else _sign_chunk(chunk))

    def signatures(self) -> list[str]:
        """One signature per body added, in order."""
        if self._chunk and not self._done:  # a handful: not worth a hand-off
            chunk, self._chunk = self._chunk, []
            self._done.append(_sign_chunk(chunk))
        self._flush()
        return [s for part in self._done for s in (part if isinstance(part, list) else part.result())]


def is_exchange_code(value: Any) -> bool:
    return isinstance(value, str) and bool(_CODE.match(value))
