"""The product descriptor standard v1: its JSON Schema and the validation every node runs on every descriptor.

One function, `descriptor_validate`, serves the API, the bulk importer and the federation apply path, so a
descriptor accepted at one exchange is accepted at all of them. Input is untrusted: whatever is passed in, the
only exception that leaves this module is `ValidationFailed`, carrying every broken rule at once (schema and
semantic), sorted by field path.

Speed matters (the importer validates 100,000 descriptors), so a valid descriptor is checked by a schema
compiled with fastjsonschema; only an invalid one pays for jsonschema's full error list.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Iterable

from core.exceptions import FieldError, ValidationFailed
from standards.descriptor_dictionary import dictionary_errors, dictionary_normalize, sample_errors
from standards.descriptor_messages import field_error, field_label, schema_field_errors, shape_error
from standards.descriptor_schema import (
    DATE_PATTERN,
    DESCRIPTOR_VERSION,
    DESCRIPTOR_VERSIONS,
    MAX_CONTAINER_SIZE,
    MAX_PRICE,
    MAX_RECORD_NESTING,
    MAX_VALUES,
    REGION_PATTERN,
    descriptor_json_schema,
    fast_validator,
    full_validator,
)
from standards.regions import region_is_valid
from standards.uscc import PATTERN as USCC_PATTERN
from standards.uscc import uscc_compact, uscc_format_errors

__all__ = ["DESCRIPTOR_VERSION", "DESCRIPTOR_VERSIONS", "descriptor_json_schema", "descriptor_validate"]

logger = logging.getLogger(__name__)


def _slow_errors(data: object) -> list[FieldError]:
    shape = shape_error(data)
    if shape is not None:
        return [shape]
    errors = [e for error in full_validator().iter_errors(data) for e in schema_field_errors(error)]
    return errors + _semantic_errors(data)


# --- semantic rules the schema cannot say ----------------------------------------------------------------


_USCC_RE = re.compile(USCC_PATTERN)


def _provider_uscc_errors(value: str) -> list[FieldError]:
    return uscc_format_errors(value, "provider.uscc")[1]


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _temporal_errors(coverage: dict) -> list[FieldError]:
    errors, dates = [], {}
    for key in ("start", "end"):
        value = coverage.get(key)
        if isinstance(value, str) and re.fullmatch(DATE_PATTERN, value):
            dates[key] = _date(value)
            if dates[key] is None:
                path = f"temporal_coverage.{key}"
                errors.append(
                    field_error(
                        path, "format", f"{field_label(path)}不是有效日期", f"{path} is not a calendar date"
                    )
                )
    if dates.get("start") and dates.get("end") and dates["end"] < dates["start"]:
        errors.append(
            field_error(
                "temporal_coverage.end",
                "range.order",
                "结束日期不能早于开始日期",
                "the end date is before the start",
            )
        )
    return errors


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pricing_errors(pricing: dict) -> list[FieldError]:
    errors = []
    numbers = {}
    for key in ("min", "max"):
        value, path = pricing.get(key), f"pricing.{key}"
        if not _is_number(value):
            continue
        if isinstance(value, float) and math.isnan(value):
            errors.append(
                field_error(
                    path, "type", f"{field_label(path)}必须是有效数值", f"{path} must be a finite number"
                )
            )
            continue
        numbers[key] = value
        if 0 <= value <= MAX_PRICE and _decimals(value) > 2:
            errors.append(
                field_error(
                    path,
                    "decimal_places",
                    f"{field_label(path)}最多两位小数",
                    f"{path} must have at most 2 decimals",
                )
            )
    if "min" in numbers and "max" in numbers and numbers["min"] > numbers["max"]:
        errors.append(
            field_error(
                "pricing.max", "range.order", "最高价格不能低于最低价格", "pricing.max is below pricing.min"
            )
        )
    if pricing.get("model") == "free":
        for key, value in numbers.items():
            if value != 0:
                path = f"pricing.{key}"
                errors.append(
                    field_error(
                        path, "pricing.free", "免费产品的价格必须为0", f"{path} must be 0 for a free product"
                    )
                )
    return errors


def _decimals(value: int | float) -> int:
    """0 for a whole or 2-decimal amount; more when the amount has more decimals (a finite float is assumed).

    round(x, 2) == x holds exactly when x's shortest decimal form has at most two decimals.
    """
    if isinstance(value, int) or value == round(value, 2):
        return 0
    return 3


def _semantic_errors(data: object) -> list[FieldError]:
    if not isinstance(data, dict):
        return []
    errors: list[FieldError] = []
    provider = data.get("provider")
    if isinstance(provider, dict) and isinstance(provider.get("uscc"), str):
        errors += _provider_uscc_errors(provider["uscc"])
    coverage = data.get("spatial_coverage")
    if isinstance(coverage, list):
        for index, code in enumerate(coverage):
            if isinstance(code, str) and re.fullmatch(REGION_PATTERN, code) and not region_is_valid(code):
                path = f"spatial_coverage.{index}"
                errors.append(
                    field_error(
                        path,
                        "region.unknown",
                        f"未知的行政区划代码：{code}",
                        f"{code} is not a known GB/T 2260 code",
                    )
                )
    if isinstance(data.get("temporal_coverage"), dict):
        errors += _temporal_errors(data["temporal_coverage"])
    if isinstance(data.get("pricing"), dict):
        errors += _pricing_errors(data["pricing"])
    errors += dictionary_errors(data.get("fields"))
    errors += sample_errors(data.get("fields"), data.get("sample"))
    return errors


# --- normalization ---------------------------------------------------------------------------------------


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _strip_fields(value: object, names: Iterable[str]) -> object:
    if not isinstance(value, dict):
        return value
    copied = dict(value)
    for name in names:
        if name in copied:
            copied[name] = _strip(copied[name])
    return copied


def _unique(values: Iterable[object], key=lambda value: value) -> list[object]:
    seen: set[object] = set()
    kept = []
    for value in values:
        if isinstance(value, str):
            marker = key(value)
            if marker in seen:
                continue
            seen.add(marker)
        kept.append(value)
    return kept


def _region_code(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6:
        return f"{value:06d}"
    return _strip(value)


class _TooDeep(Exception):
    pass


class _TooBig(Exception):
    pass


_SCALARS = (str, int, float, bool, type(None))


def _bounded_copy(value: object, depth: int, budget: list[int]) -> object:
    """A plain copy of JSON-like data; _TooDeep past `depth` levels (so the recursion stays bounded), _TooBig
    once more values than `budget[0]` were copied (so a peer cannot make it copy a million values)."""
    if isinstance(value, dict | list | tuple):
        budget[0] -= len(value)
        if budget[0] < 0:
            raise _TooBig
    if isinstance(value, dict):
        if all(isinstance(child, _SCALARS) for child in value.values()):
            return dict(value)  # the usual flat record, copied in one step
        if depth <= 0:
            raise _TooDeep
        return {key: _bounded_copy(child, depth - 1, budget) for key, child in value.items()}
    if isinstance(value, list | tuple):
        if depth <= 0:
            raise _TooDeep
        return [_bounded_copy(child, depth - 1, budget) for child in value]
    return value


def _copy_records(records: list | tuple) -> tuple[list, list[FieldError]]:
    copied, errors, budget = [], [], [MAX_VALUES]
    for index, record in enumerate(records):
        try:
            copied.append(_bounded_copy(record, MAX_RECORD_NESTING, budget))
        except _TooBig:
            too_large = f"the descriptor has more than {MAX_VALUES} values"
            return list(records), [field_error("", "too_large", "产品描述过大", too_large)]
        except _TooDeep:
            path = f"sample.records.{index}"
            errors.append(
                field_error(path, "max_depth", "样例记录嵌套层级过深", f"{path} is nested too deeply")
            )
            copied.append(record)  # refused anyway; kept so the schema reports on the same item
    return copied, errors


def _compact_uscc(value: str) -> str:
    quick = value.strip().upper()
    return quick if _USCC_RE.match(quick) else uscc_compact(value)


_TOP_LEVEL_TEXT = ("descriptor_version", "name", "summary", "product_form", "industry", "update_frequency")
_TOP_LEVEL_TEXT += ("usage_restrictions",)


def _normalize(data: object) -> tuple[object, list[FieldError]]:
    """A copy with strings stripped, the USCC compacted, keywords and regions de-duplicated (order kept).

    Type-tolerant on purpose: whatever has the wrong shape is left as it is for the schema to report. Returns
    the errors found on the way (sample records nested too deeply, which are not copied).
    """
    if not isinstance(data, dict):
        return data, []
    errors: list[FieldError] = []
    out = _strip_fields(data, _TOP_LEVEL_TEXT)
    assert isinstance(out, dict)
    provider = out.get("provider")
    if isinstance(provider, dict):
        provider = _strip_fields(provider, ("name",))
        if isinstance(provider.get("uscc"), str):
            provider["uscc"] = _compact_uscc(provider["uscc"])
        out["provider"] = provider
    if isinstance(out.get("keywords"), list | tuple):
        out["keywords"] = _unique((_strip(k) for k in out["keywords"]), key=str.casefold)
    if isinstance(out.get("spatial_coverage"), list | tuple):
        out["spatial_coverage"] = _unique(_region_code(code) for code in out["spatial_coverage"])
    if isinstance(out.get("delivery_methods"), list | tuple):
        out["delivery_methods"] = [_strip(method) for method in out["delivery_methods"]]
    if "data_source" in out:
        out["data_source"] = _strip_fields(out["data_source"], ("type", "description"))
    if "temporal_coverage" in out:
        out["temporal_coverage"] = _strip_fields(out["temporal_coverage"], ("start", "end"))
    if "pricing" in out:
        out["pricing"] = _strip_fields(out["pricing"], ("model", "currency"))
    compliance = out.get("compliance")
    if isinstance(compliance, dict):
        out["compliance"] = {
            key: _strip_fields(item, ("status", "evidence_ref", "category"))
            for key, item in compliance.items()
        }
    if "fields" in out:
        out["fields"] = dictionary_normalize(out["fields"])
    if "classification" in out:
        out["classification"] = _strip_fields(out["classification"], ("level",))
    sample = out.get("sample")
    if isinstance(sample, dict):
        sample = _strip_fields(sample, ("description", "url"))
        records = sample.get("records")
        if isinstance(records, list | tuple) and len(records) <= MAX_CONTAINER_SIZE:
            sample["records"], errors = _copy_records(records)
        out["sample"] = sample
    return out, errors


# --- the entry point -------------------------------------------------------------------------------------


def _sort_key(error: FieldError) -> tuple:
    parts = error.field.split(".") if error.field else []
    return (tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts), error.code, error.message_en)


def _fast_path_ok(data: object) -> bool:
    try:
        fast_validator()(data)
    except Exception:  # JsonSchemaValueException, or the compiled code tripping over odd input
        return False
    return True


def descriptor_validate(data: object) -> dict:
    """Return a normalized copy of a valid descriptor, or raise ValidationFailed listing every broken rule.

    Field paths are relative to the descriptor root; the caller prefixes them (`descriptor.`).
    """
    fast_validator()  # compiled outside the guard below: a broken schema must fail loudly, not refuse all
    try:
        normalized, errors = _normalize(data)
        if not errors and _fast_path_ok(normalized):
            errors = _semantic_errors(normalized)
        else:
            errors += _slow_errors(normalized)
    except Exception:
        # Input this module cannot even walk (a failing __eq__, a recursion limit): refuse it, never crash.
        logger.warning("descriptor validation failed on unexpected input", exc_info=True)
        errors = [field_error("", "invalid", "产品描述无法解析", "the descriptor cannot be read")]
    if errors:
        unique = {(e.field, e.code, e.message_en): e for e in errors}
        raise ValidationFailed(sorted(unique.values(), key=_sort_key))
    assert isinstance(normalized, dict)
    return normalized
