"""What a descriptor's schema errors say: each field named by its path and its Chinese label (read from the
schema's titles), each rule in both languages, and input too deep or too big refused before the schema
walks it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError

from core.exceptions import FieldError
from standards.descriptor_schema import (
    ADDED_IN,
    MAX_CONTAINER_SIZE,
    MAX_NESTING,
    MAX_UNKNOWN_FIELDS_REPORTED,
    MAX_VALUES,
    schema,
)
from standards.vocabularies import VOCABULARIES, Term

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

    walk(schema(), "")
    return labels


@cache
def _choices_by_path() -> dict[str, tuple[Term, ...]]:
    by_codes = {tuple(t.code for t in terms): terms for terms in VOCABULARIES.values()}
    found: dict[str, tuple[Term, ...]] = {}

    def walk(node: dict, path: str) -> None:
        terms = by_codes.get(tuple(node.get("enum", ())))
        if terms is not None:
            found[path] = terms
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}.*" if path else "*")

    walk(schema(), "")
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


def field_label(path: str) -> str:
    labels = _labels()
    parts = path.split(".") if path else []
    while parts:
        label = labels.get(_generic(parts))
        if label is not None:
            return label
        parts.pop()
    return labels[""]


def display(path: str) -> str:
    return path or "descriptor"


def field_error(path: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(path, code, zh, en)


def choice_error(path: str, allowed: list[Any]) -> FieldError:
    terms = _choices_by_path().get(_generic(path.split(".")))
    if terms is not None:
        zh_values = "、".join(f"{t.code}（{t.zh}）" for t in terms)
        en_values = ", ".join(t.code for t in terms)
    else:
        zh_values = en_values = ", ".join(str(value) for value in allowed)
    return field_error(
        path,
        "invalid_choice",
        f"{field_label(path)}必须是以下之一：{zh_values}",
        f"{display(path)} must be one of: {en_values}",
    )


# --- schema errors ---------------------------------------------------------------------------------------


def join(path: str, key: object) -> str:
    text = str(key)
    if len(text) > 64:
        text = text[:64] + "…"
    return f"{path}.{text}" if path else text


_ADDED_FIELDS = {name: version for version, names in ADDED_IN.items() for name in names}
_CODE_LIST = "fields.*.code_list"


def _not_allowed(path: str) -> FieldError:
    """A field the schema forbids here (`FORBIDDEN`): one a newer version added, or a code list."""
    added_in = _ADDED_FIELDS.get(path)
    if added_in is not None:
        return field_error(
            path,
            "unknown_field",
            f"字段“{path}”自描述标准 {added_in} 起才有，须声明 descriptor_version 为 {added_in} 或更高",
            f"{path} was added in product descriptor {added_in}: "
            f"declare descriptor_version {added_in} or later",
        )
    if _generic(path.split(".")) == _CODE_LIST:
        return field_error(
            path,
            "not_allowed",
            "仅代码型（code）字段可带代码表",
            f"{path} is only allowed on a field of type code",
        )
    return field_error(
        path, "not_allowed", f"{field_label(path)}在此不允许出现", f"{display(path)} is not allowed"
    )


def schema_field_errors(error: SchemaError) -> Iterator[FieldError]:
    path = ".".join(str(part) for part in error.absolute_path)
    keyword, value, label, shown = error.validator, error.validator_value, field_label(path), display(path)
    if keyword == "not":  # FORBIDDEN, the only `not` of the schema
        yield _not_allowed(path)
    elif keyword in ("minProperties", "maxProperties") and _generic(path.split(".")) == _CODE_LIST:
        yield field_error(
            path,
            "code_list.choice",
            "代码表须且只须给出 codes（代码列表）或 standard（标准代码表名称）之一",
            f"{shown} needs exactly one of codes (an inline list) or standard (a named standard code list)",
        )
    elif keyword == "required":
        for name in value:
            if name not in error.instance:
                child = join(path, name)
                yield field_error(
                    child, "required", f"缺少必填字段：{field_label(child)}", f"{child} is required"
                )
    elif keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [key for key in error.instance if key not in known]
        for key in unknown[:MAX_UNKNOWN_FIELDS_REPORTED]:
            child = join(path, key)
            yield field_error(
                child,
                "unknown_field",
                f"{label}中不允许出现字段“{child}”（描述标准 v1 未定义该字段）",
                f"{child} is not a field of product descriptor v1",
            )
    elif keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        zh = "或".join(_TYPE_NAMES[k][0] for k in kinds)
        en = " or ".join(_TYPE_NAMES[k][1] for k in kinds)
        yield field_error(path, "type", f"{label}必须是{zh}", f"{shown} must be {en}")
    elif keyword in ("enum", "const"):
        yield choice_error(path, list(value) if keyword == "enum" else [value])
    elif keyword == "minLength":
        yield field_error(
            path,
            "min_length",
            f"{label}至少需要{value}个字符",
            f"{shown} must have at least {value} characters",
        )
    elif keyword == "maxLength":
        yield field_error(
            path, "max_length", f"{label}最多{value}个字符", f"{shown} must have at most {value} characters"
        )
    elif keyword == "minItems":
        yield field_error(
            path, "min_items", f"{label}至少需要{value}项", f"{shown} must have at least {value} items"
        )
    elif keyword == "maxItems":
        yield field_error(
            path, "max_items", f"{label}最多{value}项", f"{shown} must have at most {value} items"
        )
    elif keyword == "maxProperties":
        yield field_error(
            path, "max_items", f"{label}最多{value}个字段", f"{shown} must have at most {value} fields"
        )
    elif keyword == "uniqueItems":
        yield field_error(path, "unique", f"{label}不能有重复项", f"{shown} must not repeat an item")
    elif keyword in ("pattern", "format"):
        if _generic(path.split(".")) == "provider.uscc":
            return  # the USCC check below says precisely what is wrong
        zh, en = _FORMAT_HINTS.get(_generic(path.split(".")), ("格式不正确", "has the wrong format"))
        yield field_error(path, "format", f"{label}格式不正确：{zh}", f"{shown} is malformed: {en}")
    elif keyword == "minimum":
        yield field_error(path, "min_value", f"{label}不能小于{value}", f"{shown} must be at least {value}")
    elif keyword == "maximum":
        yield field_error(path, "max_value", f"{label}不能大于{value}", f"{shown} must be at most {value}")
    else:  # a keyword the schema does not use today; keep the error rather than lose it
        yield field_error(
            path, keyword, f"{label}不符合规则（{keyword}）", f"{shown} breaks the rule {keyword}"
        )


def shape_error(data: object) -> FieldError | None:
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
            return field_error(path, "max_depth", "数据嵌套层级过深", f"{display(path)} is nested too deeply")
        if len(value) > MAX_CONTAINER_SIZE:
            return field_error(
                path,
                "max_items",
                f"{field_label(path)}包含的项数过多（超过{MAX_CONTAINER_SIZE}）",
                f"{display(path)} has more than {MAX_CONTAINER_SIZE} items",
            )
        visited += len(value)
        if visited > MAX_VALUES:
            return field_error(
                "", "too_large", "产品描述过大", f"the descriptor has more than {MAX_VALUES} values"
            )
        stack.extend((child, join(path, key), depth + 1) for key, child in children)
    return None
