"""Wire fields: one field of a record type's payload, both ways (federation.replica declares types with them).

`text`, `time`, `date`, `choice`, `reasons` and `integer` read and check a peer's value with the readers of
`federation.payloads`; `value` and `listed` leave reading to the type's `clean` (a field a domain rule checks
as a whole, or against the entry). Each writes the field from a record's column unless told otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.db.models import Choices

from federation.payloads import (
    choice_field,
    date_field,
    payload_error,
    reasons_field,
    text_field,
    time_field,
    time_text,
)


@dataclass(frozen=True)
class Wire:
    """One field of a payload: its name on the wire, the model column it fills (None: only checked, or
    filled by the type's `clean`), how a peer's value is read (None: read by the type's `clean`) and how the
    origin writes it from a record (a model instance or any object with the same attributes)."""

    name: str
    column: str | None
    read: Callable[[dict, str], Any] | None
    write: Callable[[Any], Any]


def _writer(column: str, convert: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    get = attrgetter(column)
    return get if convert is None else (lambda obj: convert(get(obj)))


def value(name: str, column: str | None = None, *, write: Callable[[Any], Any] | None = None) -> Wire:
    """A field the type's `clean` reads (a code, an id, a structure a domain rule checks as a whole)."""
    column = name if column is None else column
    return Wire(name, column or None, None, write or _writer(column))


def listed(name: str, column: str | None = None) -> Wire:
    """A list the type's `clean` checks (vocabulary codes, product codes), written as a plain list."""
    column = column or name
    return Wire(name, column, None, _writer(column, list))


def text(name: str, limit: int, *, required: bool = False, column: str | None = None) -> Wire:
    def read(payload: dict, name: str) -> str:
        return text_field(payload, name, limit, required=required)

    return Wire(name, column or name, read, _writer(column or name))


def time(name: str, *, required: bool = False, column: str | None = None) -> Wire:
    """An ISO 8601 time with a zone, written in UTC (`time_text`)."""

    def read(payload: dict, name: str) -> dt.datetime | None:
        return time_field(payload, name, required=required)

    return Wire(name, column or name, read, _writer(column or name, time_text))


def date(name: str, column: str | None = None) -> Wire:
    return Wire(name, column or name, date_field, _writer(column or name, dt.date.isoformat))


def choice(name: str, choices: type[Choices] | frozenset[str], column: str | None = None) -> Wire:
    def read(payload: dict, name: str) -> str:
        return choice_field(payload, name, choices)

    return Wire(name, column or name, read, _writer(column or name))


def reasons(name: str, column: str | None = None) -> Wire:
    def read(payload: dict, name: str) -> list[str]:
        return reasons_field(payload[name], name)

    return Wire(name, column or name, read, _writer(column or name, lambda v: list(v or [])))


def integer(
    name: str, low: int, high: int, en: str, *, code: str = "range", column: str | None = None
) -> Wire:
    """A whole number from `low` to `high` (booleans refused); `en`: the refusal's text."""

    def read(payload: dict, name: str) -> int:
        number = payload[name]
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise payload_error(name, code, en)
        return number

    return Wire(name, column or name, read, _writer(column or name))
