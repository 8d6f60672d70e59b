"""The product descriptor standard v1: its JSON Schema and the validation every node runs on every descriptor.

One function, `descriptor_validate`, serves the API, the bulk importer and the federation apply path, so a
descriptor accepted at one exchange is accepted at all of them. Input is untrusted: whatever is passed in, the
only exception that leaves this module is `ValidationFailed`, carrying every broken rule at once (schema and
semantic), sorted by field path.

Speed matters (the importer validates 100,000 descriptors), so a valid descriptor is checked by a schema
compiled with fastjsonschema; only an invalid one pays for jsonschema's full error list.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from core.exceptions import FieldError, ValidationFailed
from standards.regions import region_is_valid
from standards.uscc import PATTERN as USCC_PATTERN
from standards.uscc import uscc_compact, uscc_format_errors
from standards.vocabularies import VOCABULARIES, Term

logger = logging.getLogger(__name__)

DESCRIPTOR_VERSION = "1.0"
SCHEMA_ID = "https://registry.invalid/standards/product-descriptor/1.0"

MAX_PRICE = 10**10
# Anything beyond these is garbage: a descriptor is at most 4 levels deep (sample records aside), its longest
# list has 50 items, its widest object (a sample record) 50 fields.
MAX_NESTING = 32
MAX_CONTAINER_SIZE = 1000
MAX_VALUES = 20_000
MAX_RECORD_NESTING = 5
MAX_UNKNOWN_FIELDS_REPORTED = 20

_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_REGION_PATTERN = "^[0-9]{6}$"
_URL_PATTERN = "^https://[^\\s/?#]+[^\\s]*$"


# --- the schema ------------------------------------------------------------------------------------------


def _field(zh: str, en: str, schema: dict, about_zh: str = "", about_en: str = "") -> dict:
    node = {"title": f"{zh} / {en}", **schema}
    if about_zh:
        node["description"] = f"{about_zh} / {about_en}"
    return node


def _text(
    zh: str, en: str, min_length: int, max_length: int, *, nullable: bool = False, **extra: Any
) -> dict:
    kind: str | list[str] = ["string", "null"] if nullable else "string"
    return _field(zh, en, {"type": kind, "minLength": min_length, "maxLength": max_length}, **extra)


def _choice(zh: str, en: str, vocabulary: str, **extra: Any) -> dict:
    codes = [term.code for term in VOCABULARIES[vocabulary]]
    return _field(zh, en, {"type": "string", "enum": codes}, **extra)


def _object(zh: str, en: str, properties: dict, *, optional: Iterable[str] = (), **extra: Any) -> dict:
    required = [name for name in properties if name not in set(optional)]
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return _field(zh, en, schema, **extra)


def _price(zh: str, en: str) -> dict:
    return _field(
        zh,
        en,
        {"type": "number", "minimum": 0, "maximum": MAX_PRICE},
        "人民币元，最多两位小数",
        "yuan, at most 2 decimals",
    )


def _status() -> dict:
    return _choice("状态", "status", "compliance_status")


def _evidence() -> dict:
    return _text(
        "证明材料编号",
        "evidence reference",
        0,
        200,
        nullable=True,
        about_zh="合规证明文件的编号，如 SHDEX-LEGAL-2024-0137",
        about_en="reference of the supporting document, e.g. SHDEX-LEGAL-2024-0137",
    )


def _item(zh: str, en: str, **first: dict) -> dict:
    return _object(zh, en, {**first, "status": _status(), "evidence_ref": _evidence()})


def _involved() -> dict:
    return _field("是否涉及", "involved", {"type": "boolean"})


@cache
def _schema() -> dict:
    properties = {
        "descriptor_version": _field(
            "描述标准版本", "descriptor version", {"type": "string", "const": DESCRIPTOR_VERSION}
        ),
        "name": _text(
            "产品名称", "name", 1, 60, about_zh="须符合产品命名规则", about_en="must follow the naming rule"
        ),
        "summary": _text("产品简介", "summary", 10, 2000),
        "provider": _object(
            "数据提供方",
            "provider",
            {
                "name": _text("提供方名称", "provider name", 2, 100),
                "uscc": _field(
                    "统一社会信用代码",
                    "unified social credit code",
                    {"type": "string", "pattern": USCC_PATTERN},
                    "18位，GB 32100-2015，含校验位",
                    "18 characters per GB 32100-2015, with check character",
                ),
            },
        ),
        "product_form": _choice("产品形态", "product form", "product_form"),
        "industry": _choice(
            "行业门类", "industry", "industry", about_zh="GB/T 4754-2017 门类", about_en="section"
        ),
        "keywords": _field(
            "关键词",
            "keywords",
            {"type": "array", "minItems": 1, "maxItems": 10, "items": _text("关键词", "keyword", 1, 20)},
        ),
        "data_source": _object(
            "数据来源",
            "data source",
            {
                "type": _choice("来源类型", "source type", "data_source_type"),
                "description": _text("来源说明", "source description", 1, 1000),
            },
        ),
        "spatial_coverage": _field(
            "覆盖地域",
            "spatial coverage",
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": _field(
                    "行政区划代码",
                    "region code",
                    {"type": "string", "pattern": _REGION_PATTERN},
                    "GB/T 2260 代码，100000 表示全国",
                    "GB/T 2260 code, 100000 for nationwide",
                ),
            },
        ),
        "temporal_coverage": _object(
            "时间范围",
            "temporal coverage",
            {
                "start": _field("开始日期", "start date", {"type": "string", "pattern": _DATE_PATTERN}),
                "end": _field(
                    "结束日期",
                    "end date",
                    {"type": ["string", "null"], "pattern": _DATE_PATTERN},
                    "null 表示持续更新",
                    "null while ongoing",
                ),
            },
        ),
        "update_frequency": _choice("更新频率", "update frequency", "update_frequency"),
        "delivery_methods": _field(
            "交付方式",
            "delivery methods",
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "uniqueItems": True,
                "items": _choice("交付方式", "delivery method", "delivery_method"),
            },
        ),
        "pricing": _object(
            "价格",
            "pricing",
            {
                "model": _choice("计价方式", "pricing model", "pricing_model"),
                "currency": _field("币种", "currency", {"type": "string", "const": "CNY"}),
                "min": _price("最低价格", "minimum price"),
                "max": _price("最高价格", "maximum price"),
            },
        ),
        "usage_restrictions": _text("使用限制", "usage restrictions", 0, 2000),
        "compliance": _object(
            "合规信息",
            "compliance",
            {
                "source_legality": _item("数据来源合法性", "source legality"),
                "authorization": _item("数据权属与授权", "authorization"),
                "personal_information": _item(
                    "个人信息保护",
                    "personal information",
                    category=_choice("个人信息类别", "category", "personal_information"),
                ),
                "important_data": _item("重要数据", "important data", involved=_involved()),
                "cross_border_transfer": _item("数据出境", "cross-border transfer", involved=_involved()),
                "security_assessment": _item("安全评估", "security assessment"),
            },
        ),
        "sample": _object(
            "样例",
            "sample",
            {
                "description": _text("样例说明", "sample description", 1, 1000),
                "url": _field(
                    "样例地址",
                    "sample URL",
                    {"type": ["string", "null"], "maxLength": 2000, "pattern": _URL_PATTERN},
                ),
                "records": _field(
                    "样例记录",
                    "sample records",
                    {
                        "type": "array",
                        "maxItems": 5,
                        "items": _field("样例记录", "sample record", {"type": "object", "maxProperties": 50}),
                    },
                ),
            },
            optional=("url", "records"),
        ),
    }
    root = _object(
        "数据产品描述",
        "product descriptor",
        properties,
        optional=("usage_restrictions", "sample"),
        about_zh="数据交易机构互认互通：统一数据产品描述标准 v1",
        about_en="Data Exchange Mutual Recognition Initiative: common product descriptor standard v1",
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **root}


def descriptor_json_schema() -> dict:
    """The JSON Schema served at `GET /api/v1/standards/product-descriptor/` (a copy callers may mutate)."""
    return copy.deepcopy(_schema())


@cache
def _fast_validator():
    return fastjsonschema.compile(_schema(), use_formats=False)


@cache
def _full_validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


# --- labels and messages ---------------------------------------------------------------------------------


@cache
def _labels() -> dict[str, str]:
    """Chinese label of every field, by generic path (`keywords.*`), read from the schema titles."""
    labels: dict[str, str] = {}

    def walk(node: dict, path: str) -> None:
        labels[path] = node["title"].split(" / ")[0]
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}.*" if path else "*")

    walk(_schema(), "")
    return labels


@cache
def _choices_by_path() -> dict[str, tuple[Term, ...]]:
    by_codes = {tuple(t.code for t in terms): terms for terms in VOCABULARIES.values()}
    found: dict[str, tuple[Term, ...]] = {}

    def walk(node: dict, path: str) -> None:
        if "enum" in node:
            found[path] = by_codes[tuple(node["enum"])]
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}.*" if path else "*")

    walk(_schema(), "")
    return found


_FORMAT_HINTS = {
    "provider.uscc": ("应为18位统一社会信用代码", "expected an 18-character unified social credit code"),
    "spatial_coverage.*": ("应为6位行政区划代码", "expected a 6-digit GB/T 2260 code"),
    "temporal_coverage.start": ("应为 YYYY-MM-DD 格式的日期", "expected a date as YYYY-MM-DD"),
    "temporal_coverage.end": ("应为 YYYY-MM-DD 格式的日期", "expected a date as YYYY-MM-DD"),
    "sample.url": ("应为 https 地址", "expected an https URL"),
}
_TYPE_NAMES = {
    "string": ("字符串", "a string"),
    "number": ("数值", "a number"),
    "integer": ("整数", "an integer"),
    "boolean": ("布尔值", "a boolean"),
    "object": ("对象", "an object"),
    "array": ("数组", "an array"),
    "null": ("空值", "null"),
}


def _generic(parts: Iterable[str]) -> str:
    return ".".join("*" if part.isdigit() else part for part in parts)


def _label(path: str) -> str:
    labels = _labels()
    parts = path.split(".") if path else []
    while parts:
        label = labels.get(_generic(parts))
        if label is not None:
            return label
        parts.pop()
    return labels[""]


def _display(path: str) -> str:
    return path or "descriptor"


def _error(path: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(path, code, zh, en)


def _choice_error(path: str, allowed: list[Any]) -> FieldError:
    terms = _choices_by_path().get(_generic(path.split(".")))
    if terms is not None:
        zh_values = "、".join(f"{t.code}（{t.zh}）" for t in terms)
        en_values = ", ".join(t.code for t in terms)
    else:
        zh_values = en_values = ", ".join(str(value) for value in allowed)
    return _error(
        path,
        "invalid_choice",
        f"{_label(path)}必须是以下之一：{zh_values}",
        f"{_display(path)} must be one of: {en_values}",
    )


# --- schema errors ---------------------------------------------------------------------------------------


def _join(path: str, key: object) -> str:
    text = str(key)
    if len(text) > 64:
        text = text[:64] + "…"
    return f"{path}.{text}" if path else text


def _schema_field_errors(error: SchemaError) -> Iterator[FieldError]:
    path = ".".join(str(part) for part in error.absolute_path)
    keyword, value, label, shown = error.validator, error.validator_value, _label(path), _display(path)
    if keyword == "required":
        for name in value:
            if name not in error.instance:
                child = _join(path, name)
                yield _error(child, "required", f"缺少必填字段：{_label(child)}", f"{child} is required")
    elif keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [key for key in error.instance if key not in known]
        for key in unknown[:MAX_UNKNOWN_FIELDS_REPORTED]:
            child = _join(path, key)
            yield _error(
                child,
                "unknown_field",
                f"{label}中不允许出现字段“{child}”（描述标准 v1 未定义该字段）",
                f"{child} is not a field of product descriptor v1",
            )
    elif keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        zh = "或".join(_TYPE_NAMES[k][0] for k in kinds)
        en = " or ".join(_TYPE_NAMES[k][1] for k in kinds)
        yield _error(path, "type", f"{label}必须是{zh}", f"{shown} must be {en}")
    elif keyword in ("enum", "const"):
        yield _choice_error(path, list(value) if keyword == "enum" else [value])
    elif keyword == "minLength":
        yield _error(
            path,
            "min_length",
            f"{label}至少需要{value}个字符",
            f"{shown} must have at least {value} characters",
        )
    elif keyword == "maxLength":
        yield _error(
            path, "max_length", f"{label}最多{value}个字符", f"{shown} must have at most {value} characters"
        )
    elif keyword == "minItems":
        yield _error(
            path, "min_items", f"{label}至少需要{value}项", f"{shown} must have at least {value} items"
        )
    elif keyword == "maxItems":
        yield _error(path, "max_items", f"{label}最多{value}项", f"{shown} must have at most {value} items")
    elif keyword == "maxProperties":
        yield _error(
            path, "max_items", f"{label}最多{value}个字段", f"{shown} must have at most {value} fields"
        )
    elif keyword == "uniqueItems":
        yield _error(path, "unique", f"{label}不能有重复项", f"{shown} must not repeat an item")
    elif keyword in ("pattern", "format"):
        if _generic(path.split(".")) == "provider.uscc":
            return  # the USCC check below says precisely what is wrong
        zh, en = _FORMAT_HINTS.get(_generic(path.split(".")), ("格式不正确", "has the wrong format"))
        yield _error(path, "format", f"{label}格式不正确：{zh}", f"{shown} is malformed: {en}")
    elif keyword == "minimum":
        yield _error(path, "min_value", f"{label}不能小于{value}", f"{shown} must be at least {value}")
    elif keyword == "maximum":
        yield _error(path, "max_value", f"{label}不能大于{value}", f"{shown} must be at most {value}")
    else:  # a keyword the schema does not use today; keep the error rather than lose it
        yield _error(path, keyword, f"{label}不符合规则（{keyword}）", f"{shown} breaks the rule {keyword}")


def _shape_error(data: object) -> FieldError | None:
    """Refuse input too deep, too wide or too big to be a descriptor, before jsonschema walks it.

    Iterative, because input may be nested 10^5 levels; bounded, because a peer could send a list of a million
    items and jsonschema would report (and format) an error for each of them.
    """
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    visited = 0
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[tuple[object, object]] = value.items()
        elif isinstance(value, list | tuple):
            children = enumerate(value)
        else:
            continue
        if depth >= MAX_NESTING:
            return _error(path, "max_depth", "数据嵌套层级过深", f"{_display(path)} is nested too deeply")
        if len(value) > MAX_CONTAINER_SIZE:
            return _error(
                path,
                "max_items",
                f"{_label(path)}包含的项数过多（超过{MAX_CONTAINER_SIZE}）",
                f"{_display(path)} has more than {MAX_CONTAINER_SIZE} items",
            )
        visited += len(value)
        if visited > MAX_VALUES:
            return _error(
                "", "too_large", "产品描述过大", f"the descriptor has more than {MAX_VALUES} values"
            )
        stack.extend((child, _join(path, key), depth + 1) for key, child in children)
    return None


def _slow_errors(data: object) -> list[FieldError]:
    shape = _shape_error(data)
    if shape is not None:
        return [shape]
    errors = [e for error in _full_validator().iter_errors(data) for e in _schema_field_errors(error)]
    return errors + _semantic_errors(data)


# --- semantic rules the schema cannot say ----------------------------------------------------------------


_USCC_RE = re.compile(USCC_PATTERN)


def _uscc_errors(value: str) -> list[FieldError]:
    return uscc_format_errors(value, "provider.uscc")[1]


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(_DATE_PATTERN, value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _temporal_errors(coverage: dict) -> list[FieldError]:
    errors, dates = [], {}
    for key in ("start", "end"):
        value = coverage.get(key)
        if isinstance(value, str) and re.fullmatch(_DATE_PATTERN, value):
            dates[key] = _date(value)
            if dates[key] is None:
                path = f"temporal_coverage.{key}"
                errors.append(
                    _error(path, "format", f"{_label(path)}不是有效日期", f"{path} is not a calendar date")
                )
    if dates.get("start") and dates.get("end") and dates["end"] < dates["start"]:
        errors.append(
            _error(
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
                _error(path, "type", f"{_label(path)}必须是有效数值", f"{path} must be a finite number")
            )
            continue
        numbers[key] = value
        if 0 <= value <= MAX_PRICE and _decimals(value) > 2:
            errors.append(
                _error(
                    path,
                    "decimal_places",
                    f"{_label(path)}最多两位小数",
                    f"{path} must have at most 2 decimals",
                )
            )
    if "min" in numbers and "max" in numbers and numbers["min"] > numbers["max"]:
        errors.append(
            _error(
                "pricing.max", "range.order", "最高价格不能低于最低价格", "pricing.max is below pricing.min"
            )
        )
    if pricing.get("model") == "free":
        for key, value in numbers.items():
            if value != 0:
                path = f"pricing.{key}"
                errors.append(
                    _error(
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
        errors += _uscc_errors(provider["uscc"])
    coverage = data.get("spatial_coverage")
    if isinstance(coverage, list):
        for index, code in enumerate(coverage):
            if isinstance(code, str) and re.fullmatch(_REGION_PATTERN, code) and not region_is_valid(code):
                path = f"spatial_coverage.{index}"
                errors.append(
                    _error(
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


_SCALARS = (str, int, float, bool, type(None))


def _bounded_copy(value: object, depth: int) -> object:
    """A plain copy of JSON-like data; _TooDeep past `depth` levels (so the recursion stays bounded)."""
    if isinstance(value, dict):
        if all(isinstance(child, _SCALARS) for child in value.values()):
            return dict(value)  # the usual flat record, copied in one step
        if depth <= 0:
            raise _TooDeep
        return {key: _bounded_copy(child, depth - 1) for key, child in value.items()}
    if isinstance(value, list | tuple):
        if depth <= 0:
            raise _TooDeep
        return [_bounded_copy(child, depth - 1) for child in value]
    return value


def _copy_records(records: list | tuple) -> tuple[list, list[FieldError]]:
    copied, errors = [], []
    for index, record in enumerate(records):
        try:
            copied.append(_bounded_copy(record, MAX_RECORD_NESTING))
        except _TooDeep:
            path = f"sample.records.{index}"
            errors.append(_error(path, "max_depth", "样例记录嵌套层级过深", f"{path} is nested too deeply"))
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
        _fast_validator()(data)
    except Exception:  # JsonSchemaValueException, or the compiled code tripping over odd input
        return False
    return True


def descriptor_validate(data: object) -> dict:
    """Return a normalized copy of a valid descriptor, or raise ValidationFailed listing every broken rule.

    Field paths are relative to the descriptor root; the caller prefixes them (`descriptor.`).
    """
    _fast_validator()  # compiled outside the guard below: a broken schema must fail loudly, not refuse all
    try:
        normalized, errors = _normalize(data)
        if not errors and _fast_path_ok(normalized):
            errors = _semantic_errors(normalized)
        else:
            errors += _slow_errors(normalized)
    except Exception:
        # Input this module cannot even walk (a failing __eq__, a recursion limit): refuse it, never crash.
        logger.warning("descriptor validation failed on unexpected input", exc_info=True)
        errors = [_error("", "invalid", "产品描述无法解析", "the descriptor cannot be read")]
    if errors:
        unique = {(e.field, e.code, e.message_en): e for e in errors}
        raise ValidationFailed(sorted(unique.values(), key=_sort_key))
    assert isinstance(normalized, dict)
    return normalized
