"""The machine profile of a product's sample (样例数据自动画像): measurable indicators computed from sample
records and the descriptor's data dictionary (`fields`, descriptor 1.1) — per field the non-null, conformance
and distinct ratios; overall the row count, the duplicate-row rate and the sample's freshness against the
declared update frequency. Computed, not assessed: no one vouches for it. Pure (no database, no clock: the
caller passes `now`). Every indicator is defined in docs/standards/quality-profile.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence

from standards.descriptor_dictionary import _DATE, _DATETIME

STANDARD = "quality-profile"
VERSION = "1.0"
STANDARD_VERSION = f"{STANDARD}/{VERSION}"
KIND = "machine_profile"
SOURCES = ("inline", "csv", "jsonl")  # the descriptor's inline records, an uploaded CSV or JSON lines file
MAX_ROWS = 10_000
MAX_UNDECLARED = 20  # undeclared field names listed (the count is complete)
PLACES = 4  # ratios are rounded to this many decimal places

# The age a sample's newest date may have and still be fresh, in days, per update frequency: one period and
# one day of grace. `irregular` and `one_off` promise no period: freshness is not judged (fresh = null).
ALLOWED_AGE_DAYS: dict[str, int] = {
    "realtime": 1,
    "hourly": 1,
    "daily": 2,
    "weekly": 8,
    "monthly": 32,
    "quarterly": 93,
    "yearly": 367,
}
CHINA = dt.timezone(dt.timedelta(hours=8))  # a date, or a time without a zone, is read as China time

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEAN_TEXT = {"true": True, "false": False}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _in_range(lon: float, lat: float) -> bool:
    return -180 <= lon <= 180 and -90 <= lat <= 90


def _is_geo(value: object) -> bool:
    """A WGS 84 point: `[lon, lat]`, a GeoJSON Point, or the text `"lon,lat"`."""
    if isinstance(value, dict) and value.get("type") == "Point" and len(value) == 2:
        value = value.get("coordinates")
    if isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value):
        return _in_range(value[0], value[1])
    if isinstance(value, str) and value.count(",") == 1:
        lon, lat = (part.strip() for part in value.split(","))
        if _DECIMAL_TEXT.fullmatch(lon) and _DECIMAL_TEXT.fullmatch(lat):
            return _in_range(float(lon), float(lat))
    return False


def _json_conformance(field: Mapping) -> Callable[[object], bool]:
    """Whether a JSON value (inline records, JSON lines) is of the field's declared type and format."""
    kind = field.get("type")
    if kind == "code":
        codes = _inline_codes(field)
        if codes is not None:
            return lambda value: isinstance(value, str) and value in codes
        return lambda value: isinstance(value, str) and 1 <= len(value) <= 64
    return {
        "string": lambda value: isinstance(value, str),
        "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
        "decimal": _number,
        "boolean": lambda value: isinstance(value, bool),
        "date": lambda value: _date_moment(value) is not None,
        "datetime": lambda value: _datetime_moment(value) is not None,
        "geo": _is_geo,
    }.get(kind, lambda value: False)


def _text_conformance(field: Mapping) -> Callable[[object], bool]:
    """Whether a CSV cell (always text) reads as the field's declared type and format."""
    kind = field.get("type")
    if kind == "integer":
        return lambda value: bool(_INTEGER_TEXT.fullmatch(value))
    if kind == "decimal":
        return lambda value: bool(_DECIMAL_TEXT.fullmatch(value)) and math.isfinite(float(value))
    if kind == "boolean":
        return lambda value: value.lower() in _BOOLEAN_TEXT
    return _json_conformance(field)


def _inline_codes(field: Mapping) -> frozenset[str] | None:
    code_list = field.get("code_list")
    codes = code_list.get("codes") if isinstance(code_list, dict) else None
    if not isinstance(codes, list):
        return None
    return frozenset(e["code"] for e in codes if isinstance(e, dict) and isinstance(e.get("code"), str))


def _identity(value: object) -> object:
    """A hashable stand-in equal for equal JSON values (numbers by value, booleans apart from numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, list) and all(type(v) in (int, float) for v in value):
        return ("list", *value)  # a coordinate pair, without the cost of JSON text
    return ("json", json.dumps(value, sort_keys=True, ensure_ascii=False))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, PLACES) if whole else None


def _date_moment(value: object) -> dt.datetime | None:
    """The start of the day a conforming `date` value names, in China time; None if it does not conform."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), CHINA)
    except ValueError:
        return None


def _datetime_moment(value: object) -> dt.datetime | None:
    """The moment a conforming `datetime` value names (no zone: China time); None if it does not conform."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


_MOMENTS = {"date": _date_moment, "datetime": _datetime_moment}


def _field_profile(field: Mapping, values: dict[object, tuple[object, int]], rows: int, textual: bool):
    """One field's indicators from its distinct non-null values (identity -> (value, occurrences))."""
    conforms = (_text_conformance if textual else _json_conformance)(field)
    non_null = conforming = 0
    newest: tuple[dt.datetime, str] | None = None
    kind = field.get("type")
    moment_of = _MOMENTS.get(kind)
    for value, count in values.values():
        non_null += count
        if moment_of is not None:  # a date or datetime conforms when it names a moment: parsed once
            moment = moment_of(value)
            if moment is not None:
                conforming += count
                if newest is None or moment > newest[0]:
                    newest = (moment, value)
        elif conforms(value):
            conforming += count
    profile = {
        "name": field["name"],
        "type": kind,
        "non_null": non_null,
        "non_null_ratio": _ratio(non_null, rows),
        "conforming": conforming,
        "conformance_ratio": _ratio(conforming, non_null),
        "distinct": len(values),
        "distinct_ratio": _ratio(len(values), non_null),
    }
    return profile, newest


def _freshness(newest: tuple[dt.datetime, str, str] | None, update_frequency: str | None, now: dt.datetime):
    allowed = ALLOWED_AGE_DAYS.get(update_frequency or "")
    if newest is None:
        return {
            "update_frequency": update_frequency,
            "field": None,
            "newest": None,
            "age_days": None,
            "allowed_age_days": allowed,
            "ratio": None,
            "fresh": None,
        }
    moment, text, name = newest
    age = round((now - moment).total_seconds() / 86400, 2)
    return {
        "update_frequency": update_frequency,
        "field": name,
        "newest": text,
        "age_days": age,
        "allowed_age_days": allowed,
        "ratio": None if allowed is None else round(age / allowed, PLACES),
        "fresh": None if allowed is None else age <= allowed,
    }


def _dictionary(fields: object) -> list[Mapping]:
    if not isinstance(fields, list):
        return []
    seen: set[str] = set()
    usable = []
    for field in fields:
        name = field.get("name") if isinstance(field, dict) else None
        if isinstance(name, str) and name not in seen:
            seen.add(name)
            usable.append(field)
    return usable


def profile_compute(
    records: Sequence[Mapping],
    fields: object,
    update_frequency: str | None,
    *,
    now: dt.datetime,
    source: str = "inline",
) -> dict:
    """The indicators of `records` (at most MAX_ROWS objects) against the data dictionary `fields`.

    `source`: where the records come from, one of SOURCES; `csv` cells are text, read as the declared type
    (`"12"` is an integer); the others are JSON values, which must have the declared JSON type, as in the
    descriptor's sample check. `now` (aware) is the time of the computation and of the freshness.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    textual = source == "csv"
    if len(records) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} records are profiled")
    dictionary = _dictionary(fields)
    names = {field["name"] for field in dictionary}
    distinct: dict[str, dict[object, tuple[object, int]]] = {name: {} for name in names}
    rows_seen: set[frozenset] = set()
    undeclared: set[str] = set()
    for record in records:
        identity = []
        for key, value in record.items():
            kind = type(value)
            if kind is str:  # the common case first, inline: this loop is the profile's cost
                if not value or ((value[0].isspace() or value[-1].isspace()) and not value.strip()):
                    continue
                ident = value
            elif value is None:
                continue
            elif kind is int or kind is float:
                ident = value  # a number is never equal to a string; booleans (equal to 1, 0) are not here
            else:
                ident = _identity(value)
            identity.append((key, ident))
            bucket = distinct.get(key)
            if bucket is None:
                undeclared.add(str(key))
                continue
            held = bucket.get(ident)
            bucket[ident] = (value, 1) if held is None else (held[0], held[1] + 1)
        rows_seen.add(frozenset(identity))
    rows = len(records)
    profiles, newest = [], None
    for field in dictionary:
        profile, field_newest = _field_profile(field, distinct[field["name"]], rows, textual)
        profiles.append(profile)
        if field_newest is not None and (newest is None or field_newest[0] > newest[0]):
            newest = (*field_newest, field["name"])
    duplicates = rows - len(rows_seen)
    return {
        "computed": True,
        "kind": KIND,
        "standard": STANDARD_VERSION,
        "computed_at": now.astimezone(dt.UTC).isoformat(),
        "source": source,
        "rows": rows,
        "duplicate_rows": duplicates,
        "duplicate_row_rate": _ratio(duplicates, rows),
        "fields": profiles,
        "undeclared_fields": sorted(undeclared)[:MAX_UNDECLARED],
        "undeclared_field_count": len(undeclared),
        "freshness": _freshness(newest, update_frequency, now),
    }
