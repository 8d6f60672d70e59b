"""The standard versions an entry says it was made under, checked against the standards this node knows
(`standards.versions`). A record type names them with its `standards` hook (a product: its descriptor
version). An entry under a version this node does not know is refused with the code `unknown_standard`: the
feed's apply quarantines it with that reason (`federation.apply.refusal_reason`), and
`federation.unknown_standards` applies it again once the node knows the version; a private record's fetch
records the error and tries again later, like any fetch."""

from __future__ import annotations

from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.versions import UNKNOWN_STANDARD, VERSION_PATTERN, standard_get, standard_knows


def claims_unknown(claims: Any) -> list[tuple[str, str]]:
    """(code, version) of each claim naming a version this node does not know. A claim whose version is not
    a version string is no claim (the type's field checks refuse it)."""
    if not isinstance(claims, dict):
        return []
    return [
        (code, version)
        for code, version in claims.items()
        if isinstance(version, str) and VERSION_PATTERN.match(version) and not standard_knows(code, version)
    ]


def standards_check(claims: Any) -> None:
    """Raise ValidationFailed with code `unknown_standard` if a claim names a version this node does not
    know."""
    unknown = claims_unknown(claims)
    if not unknown:
        return
    errors, texts = [], []
    for code, version in unknown:
        state = standard_get(code)
        known = ", ".join(state.standard.versions_known) if state else "none"
        text = f"{code} {version} is a version of the standard this node does not know (it knows {known})"
        texts.append(text)
        errors.append(FieldError(f"standards.{code}", UNKNOWN_STANDARD, text, text))
    message = "; ".join(texts)
    raise ValidationFailed(errors, message=message, message_en=message, code=UNKNOWN_STANDARD)
