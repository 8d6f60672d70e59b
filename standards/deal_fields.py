"""Small readers the deal standard's modules share (standards.deal_steps, standards.deal_delivery): each
appends the rule a value breaks to `errors` and returns a usable value, so every broken rule is reported."""

from __future__ import annotations

import re
from typing import Any

from core.exceptions import FieldError

MAX_TEXT = 500
SHA256 = re.compile(r"[0-9a-f]{64}")


def e(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def text(body: dict, name: str, errors: list, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        errors.append(e(name, "type", f"须为最多{limit}字的文本", f"{name} must be text of at most {limit}"))
        return ""
    if required and not value.strip():
        errors.append(e(name, "required", "必填", f"{name} is required"))
    return value.strip()


def whole(body: dict, name: str, low: int, high: int, errors: list) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            e(
                name,
                "range",
                f"须为{low}–{high}的整数",
                f"{name} must be a whole number from {low} to {high}",
            )
        )
        return low
    return value


def choice(body: dict, name: str, allowed, errors: list) -> str:
    value = body.get(name)
    if not isinstance(value, str) or value not in allowed:
        errors.append(
            e(
                name,
                "invalid_choice",
                f"须为：{', '.join(sorted(allowed))}",
                f"{name}: one of {sorted(allowed)}",
            )
        )
        return ""
    return value


def exact(body: Any, names: set[str], errors: list, *, optional: frozenset[str] = frozenset()) -> dict:
    if not isinstance(body, dict):
        errors.append(e("", "type", "须为JSON对象", "The body must be a JSON object"))
        return {}
    for name in sorted(set(body) - names - optional):
        errors.append(e(name, "unknown_field", "未知字段", f"Unknown field {name}"))
    return body
