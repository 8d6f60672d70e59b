"""Reading and writing the fields every record type's payload shares: times, dates, short texts, reasons.

A payload from a peer is untrusted input: each reader checks type and size before it parses, and refuses
with a `ValidationFailed` naming the field and the rule (the entry is then quarantined with that reason).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from django.db.models import Choices

from core.exceptions import FieldError, ValidationFailed

MAX_TIME_TEXT = 40
MAX_REASONS = 20
MAX_REASON_TEXT = 500


def payload_error(field: str, code: str, en: str) -> ValidationFailed:
    """The refusal of one payload field (peers read English; the same text serves both languages)."""
    return ValidationFailed([FieldError(field, code, en, en)])


def time_text(value: datetime | None) -> str | None:
    """A time as it travels: ISO 8601 in UTC, or None."""
    return value.astimezone(UTC).isoformat() if value else None


def time_field(payload: dict, name: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 time with a time zone (None allowed unless `required`)."""
    value = payload[name]
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        or_null = "" if required else " or null"
        raise payload_error(name, "type", f"{name} must be an ISO 8601 time{or_null}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise payload_error(name, "format", f"{name} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise payload_error(name, "format", f"{name} must carry a time zone")
    return parsed


def fields_exact(payload: dict, expected: frozenset[str], what: str) -> None:
    """A payload has exactly the fields of its schema, no more, no fewer (`what`: "a product payload")."""
    if set(payload) != expected:
        raise payload_error("", "fields", f"{what} has exactly the fields {sorted(expected)}")


@cache
def _choice_values(choices: type[Choices] | frozenset[str]) -> tuple[frozenset[str], list[str]]:
    if isinstance(choices, frozenset):
        return choices, sorted(choices)
    values = list(choices.values)  # Django recomputes `.values` on every access
    return frozenset(values), values


def choice_field(payload: dict, name: str, choices: type[Choices] | frozenset[str]) -> str:
    """One of `choices` (a Choices class or a set of codes). Anything but a string, lists included, is
    refused, never raised on (`[] in frozenset()` is a TypeError)."""
    value = payload[name]
    allowed, listed = _choice_values(choices)
    if not isinstance(value, str) or value not in allowed:
        raise payload_error(name, "invalid_choice", f"{name} must be one of {listed}")
    return value


def date_field(payload: dict, name: str) -> date:
    """A calendar date YYYY-MM-DD."""
    value = payload[name]
    if not isinstance(value, str) or len(value) != 10:
        raise payload_error(name, "type", f"{name} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise payload_error(name, "format", f"{name} is not a date") from exc


def text_field(payload: dict, name: str, limit: int, *, required: bool = False) -> str:
    """A string of at most `limit` characters (not blank if `required`)."""
    value = payload[name]
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise payload_error(
            name, "type", f"{name} must be a {'non-empty ' if required else ''}string of at most {limit}"
        )
    return value


def reasons_field(value: Any, field: str = "reasons") -> list[str]:
    """A list of at most 20 reasons of at most 500 characters each."""
    if (
        not isinstance(value, list)
        or len(value) > MAX_REASONS
        or not all(isinstance(r, str) and len(r) <= MAX_REASON_TEXT for r in value)
    ):
        limits = f"at most {MAX_REASONS} strings of at most {MAX_REASON_TEXT} characters"
        raise payload_error(field, "type", f"{field} must be a list of {limits}")
    return value
