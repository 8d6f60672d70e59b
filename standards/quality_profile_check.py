"""A machine profile as untrusted input (a peer's `product_profile` entry): exactly the shape that
`standards.quality_profile.profile_compute` produces, every count within its bounds and every ratio the one
its counts give. A node checks the shape, not the sample: it never sees a peer's sample, so it cannot
recompute the profile, but it can refuse one that could not have been computed."""

from __future__ import annotations

import datetime as dt
import math
import re

from core.exceptions import FieldError, ValidationFailed
from standards.quality_profile import KIND, MAX_ROWS, MAX_UNDECLARED, PLACES, SOURCES, STANDARD_VERSION
from standards.vocabularies import vocabulary_codes

MAX_FIELDS = 500  # the data dictionary's limit
MAX_UNDECLARED_COUNT = MAX_ROWS * 50
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_TOP = (
    "computed",
    "kind",
    "standard",
    "computed_at",
    "source",
    "rows",
    "duplicate_rows",
    "duplicate_row_rate",
    "fields",
    "undeclared_fields",
    "undeclared_field_count",
    "freshness",
)
_FIELD = (
    "name",
    "type",
    "non_null",
    "non_null_ratio",
    "conforming",
    "conformance_ratio",
    "distinct",
    "distinct_ratio",
)
_FRESHNESS = ("update_frequency", "field", "newest", "age_days", "allowed_age_days", "ratio", "fresh")


class _Refused(Exception):
    def __init__(self, path: str, code: str, en: str) -> None:
        super().__init__(en)
        self.error = FieldError(path, code, f"样例画像不符合规范：{en}", en)


def _exact(value: object, keys: tuple[str, ...], path: str) -> dict:
    if not isinstance(value, dict):
        raise _Refused(path, "type", f"{path or 'profile'} must be an object")
    if set(value) != set(keys):
        extra = sorted(set(value) - set(keys))[:5]
        missing = sorted(set(keys) - set(value))[:5]
        raise _Refused(path, "fields", f"{path or 'profile'}: unknown {extra}, missing {missing}")
    return value


def _count(value: object, high: int, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise _Refused(path, "range", f"{path} must be a whole number from 0 to {high}")
    return value


def _ratio(value: object, part: int, whole: int, path: str) -> None:
    expected = round(part / whole, PLACES) if whole else None
    if expected is None:
        if value is not None:
            raise _Refused(path, "mismatch", f"{path} must be null when there is nothing to divide by")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value != expected:
        en = f"{path} must be {expected} (its counts' quotient, rounded to {PLACES} places)"
        raise _Refused(path, "mismatch", en)


def _text(value: object, limit: int, path: str, *, nullable: bool = True) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or len(value) > limit:
        raise _Refused(path, "type", f"{path} must be a string of at most {limit} characters")


def _field(entry: object, rows: int, path: str) -> str:
    entry = _exact(entry, _FIELD, path)
    name = entry["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _Refused(f"{path}.name", "format", f"{path}.name must be a data dictionary field name")
    if not isinstance(entry["type"], str) or entry["type"] not in vocabulary_codes("field_type"):
        raise _Refused(f"{path}.type", "invalid_choice", f"{path}.type must be a field_type code")
    non_null = _count(entry["non_null"], rows, f"{path}.non_null")
    conforming = _count(entry["conforming"], non_null, f"{path}.conforming")
    distinct = _count(entry["distinct"], non_null, f"{path}.distinct")
    _ratio(entry["non_null_ratio"], non_null, rows, f"{path}.non_null_ratio")
    _ratio(entry["conformance_ratio"], conforming, non_null, f"{path}.conformance_ratio")
    _ratio(entry["distinct_ratio"], distinct, non_null, f"{path}.distinct_ratio")
    return name.casefold()


def _number(value: object, path: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Refused(path, "type", f"{path} must be a finite number or null")
    if abs(value) > 10**7:
        raise _Refused(path, "range", f"{path} is out of range")


def _freshness(value: object) -> None:
    fresh = _exact(value, _FRESHNESS, "freshness")
    frequency = fresh["update_frequency"]
    if frequency is not None and (
        not isinstance(frequency, str) or frequency not in vocabulary_codes("update_frequency")
    ):
        raise _Refused("freshness.update_frequency", "invalid_choice", "not an update_frequency code")
    _text(fresh["field"], 64, "freshness.field")
    _text(fresh["newest"], 40, "freshness.newest")
    _number(fresh["age_days"], "freshness.age_days")
    _number(fresh["ratio"], "freshness.ratio")
    allowed = fresh["allowed_age_days"]
    if allowed is not None:
        _count(allowed, 10_000, "freshness.allowed_age_days")
    if fresh["fresh"] is not None and not isinstance(fresh["fresh"], bool):
        raise _Refused("freshness.fresh", "type", "freshness.fresh must be true, false or null")


def _top(profile: dict) -> int:
    if profile["computed"] is not True or profile["kind"] != KIND:
        raise _Refused("kind", "invalid_choice", f"a machine profile says computed: true, kind: {KIND}")
    if profile["standard"] != STANDARD_VERSION:
        raise _Refused("standard", "unknown_version", f"this node knows only {STANDARD_VERSION}")
    at = profile["computed_at"]
    _text(at, 40, "computed_at", nullable=False)
    try:
        if dt.datetime.fromisoformat(at).tzinfo is None:
            raise ValueError
    except ValueError:
        raise _Refused("computed_at", "type", "computed_at must be an ISO 8601 time with a zone") from None
    if not isinstance(profile["source"], str) or profile["source"] not in SOURCES:
        raise _Refused("source", "invalid_choice", f"source must be one of {', '.join(SOURCES)}")
    rows = _count(profile["rows"], MAX_ROWS, "rows")
    duplicates = _count(profile["duplicate_rows"], rows, "duplicate_rows")
    _ratio(profile["duplicate_row_rate"], duplicates, rows, "duplicate_row_rate")
    return rows


def _undeclared(profile: dict) -> None:
    names = profile["undeclared_fields"]
    if not isinstance(names, list) or len(names) > MAX_UNDECLARED:
        raise _Refused("undeclared_fields", "max_items", f"at most {MAX_UNDECLARED} names")
    for index, name in enumerate(names):
        _text(name, 64, f"undeclared_fields.{index}", nullable=False)
    _count(profile["undeclared_field_count"], MAX_UNDECLARED_COUNT, "undeclared_field_count")
    if profile["undeclared_field_count"] < len(names):
        raise _Refused("undeclared_field_count", "mismatch", "fewer than the names listed")


def profile_check(value: object) -> dict:
    """`value` if it is a well-formed machine profile; ValidationFailed naming the first fault otherwise."""
    try:
        profile = _exact(value, _TOP, "")
        rows = _top(profile)
        fields = profile["fields"]
        if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
            raise _Refused("fields", "max_items", f"fields must be a list of at most {MAX_FIELDS}")
        names = set()
        for index, entry in enumerate(fields):
            name = _field(entry, rows, f"fields.{index}")
            if name in names:
                raise _Refused(f"fields.{index}.name", "unique", "a field name is profiled twice")
            names.add(name)
        _undeclared(profile)
        _freshness(profile["freshness"])
    except _Refused as refused:
        raise ValidationFailed([refused.error]) from None
    return profile
