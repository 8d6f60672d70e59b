"""Sealed stubs: what the public log carries in place of a record with an audience (federation.private).

A stub is the entry of type `sealed`, gid `<type>:<gid>`, payload `{type, gid, audience}`: it says that a
record of that type exists, with its version and the exchanges that may hold it, never its content.
"""

from __future__ import annotations

import re

from core.exceptions import FieldError, ValidationFailed
from federation.envelope import is_exchange_code

SEALED = "sealed"
_TYPE = re.compile(r"^[a-z_]{1,32}$")


def sealed_stub(record_type: str, gid: str, audience) -> tuple[str, dict]:
    """(gid, payload) of the stub that stands in the public log for a private record."""
    return f"{record_type}:{gid}", {"type": record_type, "gid": gid, "audience": sorted(set(audience))}


def _bad(field: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, "invalid", en, en)])


def stub_check(gid: str, payload: dict, *, known: bool) -> dict:
    """A peer's stub checked as untrusted input (`known`: its record type is one this node knows)."""
    if set(payload) != {"type", "gid", "audience"}:
        raise _bad("", "a sealed stub has exactly type, gid and audience")
    record_type, inner, audience = payload["type"], payload["gid"], payload["audience"]
    if not isinstance(record_type, str) or not _TYPE.match(record_type):
        raise _bad("type", "type must be a record type name")
    if not known or record_type == SEALED:
        raise _bad("type", f"{record_type!r} is not a record type known here")
    if not isinstance(inner, str) or not 1 <= len(inner) <= 60 or gid != f"{record_type}:{inner}":
        raise _bad("gid", "gid must be <type>:<gid>")
    if (
        not isinstance(audience, list)
        or not 1 <= len(audience) <= 24
        or not all(is_exchange_code(c) for c in audience)
        or audience != sorted(set(audience))
    ):
        raise _bad("audience", "audience must be a sorted list of 1 to 24 exchange codes")
    return payload
