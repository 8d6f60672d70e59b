"""The usage policy standard v1 (数据使用策略): what a buyer may do with a product, as a structured
document (ODRL-inspired: permitted and prohibited actions, constraints on purpose, territory, duration, users,
deletion and de-identification). A product's offer carries one, an order asks for one, the contract holds the
agreed one and the compliance check before delivery tests the requested use against the offered one
(`policy_within`); vocabularies and limits are in `standards.usage_policy_terms`.
Documents from peers are untrusted input: `policy_clean` validates them like any other. See
docs/standards/usage-policy.md."""

from __future__ import annotations

from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.regions import NATIONWIDE, region_is_valid
from standards.usage_policy_terms import (
    ACTION,
    ACTION_CODES,
    CN,
    CONSTRAINT_KEYS,
    CROSS_BORDER,
    MAINLAND,
    MAX_ACTIONS,
    MAX_DURATION_DAYS,
    MAX_PURPOSES,
    MAX_REMARKS,
    MAX_TERRITORIES,
    MAX_USERS,
    PURPOSE,
    PURPOSE_CODES,
    TERRITORY,
    TERRITORY_WORDS,
    TOP_KEYS,
    choices,
    codes_schema,
    limit_schema,
    territory_contains,
    titled,
)

POLICY_VERSION = "1.0"
SCHEMA_ID = "https://registry.invalid/standards/usage-policy/1.0"

Breach = tuple[str, str, str, str]  # (field, code, zh, en)


# --- validation ------------------------------------------------------------------------------------------


def _territory_valid(code: object) -> bool:
    return isinstance(code, str) and (
        code in TERRITORY_WORDS or (code != NATIONWIDE and region_is_valid(code))
    )


def _codes(value: Any, path: str, *, valid, limit: int, required: bool, errors: list[FieldError]) -> list:
    if not isinstance(value, list) or len(value) > limit:
        errors.append(
            FieldError(path, "type", f"须为最多{limit}项的列表", f"Must be a list of at most {limit} codes")
        )
        return []
    bad = [i for i, code in enumerate(value) if not valid(code)]
    for i in bad:
        shown = value[i] if isinstance(value[i], str) else type(value[i]).__name__
        errors.append(
            FieldError(f"{path}.{i}", "invalid_choice", f"未知的取值：{shown}", f"Unknown value {shown!r}")
        )
    if required and not value:
        errors.append(FieldError(path, "required", "至少一项", "At least one value is required"))
    return [] if bad else sorted(set(value))


def _whole(value: Any, path: str, high: int, errors: list[FieldError]) -> int | None:
    """None (no limit) or a whole number 1..high; 30.0 counts as 30, as it does in JSON Schema."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        errors.append(
            FieldError(
                path, "range", f"须为1–{high}的整数或 null", f"A whole number from 1 to {high}, or null"
            )
        )
        return None
    return value


def _flag(value: Any, path: str, errors: list[FieldError]) -> bool:
    if not isinstance(value, bool):
        errors.append(FieldError(path, "type", "须为 true 或 false", "Must be true or false"))
        return False
    return value


def _unknown(data: dict, known: tuple[str, ...], path: str, errors: list[FieldError]) -> None:
    for key in sorted((k for k in data if k not in known), key=str)[:20]:
        errors.append(
            FieldError(f"{path}.{key}", "unknown_field", "未定义的字段", "Not a field of the policy")
        )


def _constraints(value: Any, path: str, errors: list[FieldError]) -> dict:
    if not isinstance(value, dict):
        errors.append(FieldError(path, "type", "须为对象", "Must be an object"))
        value = {}
    _unknown(value, CONSTRAINT_KEYS, path, errors)
    return {
        "purpose": _codes(
            value.get("purpose"),
            f"{path}.purpose",
            valid=lambda c: isinstance(c, str) and c in PURPOSE_CODES,
            limit=MAX_PURPOSES,
            required=True,
            errors=errors,
        ),
        "territory": _codes(
            value.get("territory"),
            f"{path}.territory",
            valid=_territory_valid,
            limit=MAX_TERRITORIES,
            required=True,
            errors=errors,
        ),
        "duration_days": _whole(
            value.get("duration_days"), f"{path}.duration_days", MAX_DURATION_DAYS, errors
        ),
        "max_users": _whole(value.get("max_users"), f"{path}.max_users", MAX_USERS, errors),
        "delete_at_end": _flag(value.get("delete_at_end", False), f"{path}.delete_at_end", errors),
        "deidentified_only": _flag(
            value.get("deidentified_only", False), f"{path}.deidentified_only", errors
        ),
    }


def policy_clean(value: Any, *, field: str = "usage_policy") -> dict:
    """Validate a usage policy (from a user or a peer) and return it normalised: every key present, lists
    sorted without duplicates, defaults filled (no prohibitions, no duration or user limit, no deletion or
    de-identification duty, empty remarks). Raises ValidationFailed naming every broken rule."""
    errors: list[FieldError] = []
    if not isinstance(value, dict):
        raise ValidationFailed(
            [FieldError(field, "type", "使用策略须为对象", "The usage policy must be an object")]
        )
    _unknown(value, TOP_KEYS, field, errors)
    if value.get("version", POLICY_VERSION) != POLICY_VERSION:
        errors.append(
            FieldError(
                f"{field}.version", "invalid_choice", "版本须为 1.0", f"version must be {POLICY_VERSION}"
            )
        )

    def is_action(code: object) -> bool:
        return isinstance(code, str) and code in ACTION_CODES

    permissions = _codes(
        value.get("permissions"),
        f"{field}.permissions",
        valid=is_action,
        limit=MAX_ACTIONS,
        required=True,
        errors=errors,
    )
    prohibitions = _codes(
        value.get("prohibitions", []),
        f"{field}.prohibitions",
        valid=is_action,
        limit=MAX_ACTIONS,
        required=False,
        errors=errors,
    )
    for action in sorted(set(permissions) & set(prohibitions)):
        errors.append(
            FieldError(
                f"{field}.prohibitions",
                "conflict",
                f"同一行为不能既被允许又被禁止：{action}",
                f"{action!r} is both permitted and prohibited",
            )
        )
    constraints = _constraints(value.get("constraints"), f"{field}.constraints", errors)
    remarks = value.get("remarks", "")
    if not isinstance(remarks, str) or len(remarks) > MAX_REMARKS:
        errors.append(
            FieldError(
                f"{field}.remarks", "max_length", f"最多{MAX_REMARKS}字", f"At most {MAX_REMARKS} characters"
            )
        )
        remarks = ""
    if errors:
        raise ValidationFailed(errors)
    return {
        "version": POLICY_VERSION,
        "permissions": permissions,
        "prohibitions": prohibitions,
        "constraints": constraints,
        "remarks": remarks.strip(),
    }


# --- a requested use against an offered policy -------------------------------------------------------------


def _limit_breach(requested: int | None, offered: int | None) -> bool:
    return offered is not None and (requested is None or requested > offered)


def policy_within(requested: dict, offered: dict, *, field: str = "usage_policy") -> list[Breach]:
    """Every way a requested use breaks what an offer allows, as (field, code, zh, en); empty when it is
    within. Both documents are cleaned first (a bad one raises ValidationFailed, the offer's errors under
    `offered_policy`). Lists hold what is asked; absent limits mean "unlimited", so an unlimited request
    breaks a limited offer."""
    asked = policy_clean(requested, field=field)
    allowed = policy_clean(offered, field="offered_policy")
    breaches: list[Breach] = []
    for action in asked["permissions"]:
        if action in allowed["prohibitions"]:
            breaches.append(
                (f"{field}.permissions", "policy.action_prohibited",
                 f"该行为被禁止：{action}", f"The offer prohibits {action!r}")
            )  # fmt: skip
        elif action not in allowed["permissions"]:
            breaches.append(
                (f"{field}.permissions", "policy.action_not_permitted",
                 f"该行为未获许可：{action}", f"The offer does not permit {action!r}")
            )  # fmt: skip
    c, o, path = asked["constraints"], allowed["constraints"], f"{field}.constraints"
    for purpose in c["purpose"]:
        if purpose not in o["purpose"]:
            breaches.append(
                (f"{path}.purpose", "policy.purpose_not_allowed",
                 f"用途不在许可范围内：{purpose}", f"The offer does not allow the purpose {purpose!r}")
            )  # fmt: skip
    for place in c["territory"]:
        if any(territory_contains(outer, place) for outer in o["territory"]):
            continue
        if place == CROSS_BORDER:
            breaches.append(
                (f"{path}.territory", "policy.cross_border_not_allowed",
                 "该产品不允许数据出境", "The offer does not allow a cross-border transfer")
            )  # fmt: skip
        else:
            breaches.append(
                (f"{path}.territory", "policy.territory_not_allowed",
                 f"使用地域超出许可范围：{place}", f"{place!r} lies outside the territory the offer allows")
            )  # fmt: skip
    if _limit_breach(c["duration_days"], o["duration_days"]):
        breaches.append(
            (f"{path}.duration_days", "policy.duration_exceeded",
             f"使用期限最长{o['duration_days']}天", f"The offer allows at most {o['duration_days']} days")
        )  # fmt: skip
    if _limit_breach(c["max_users"], o["max_users"]):
        breaches.append(
            (f"{path}.max_users", "policy.users_exceeded",
             f"使用人数最多{o['max_users']}人", f"The offer allows at most {o['max_users']} users")
        )  # fmt: skip
    for duty, zh, en in (
        ("delete_at_end", "须承诺到期删除数据", "The offer requires deletion at the end of the use"),
        ("deidentified_only", "须承诺仅使用去标识化数据", "The offer requires de-identified use only"),
    ):
        if o[duty] and not c[duty]:
            breaches.append((f"{path}.{duty}", f"policy.{duty}_required", zh, en))
    return breaches


# --- the JSON Schema -------------------------------------------------------------------------------------


def policy_schema() -> dict:
    """The JSON Schema served at `GET /api/v1/standards/usage-policy/`, built afresh on each call. It says
    every rule of `policy_clean` JSON Schema can say; the two it cannot (a region code must be a known one; an
    action may not be both permitted and prohibited) are in the descriptions."""
    territory = {
        "anyOf": [
            choices(TERRITORY),
            {"type": "string", "pattern": "^[0-9]{6}$", "not": {"const": NATIONWIDE}},
        ]
    }
    constraints = {
        "purpose": codes_schema(
            "用途",
            "purposes",
            choices(PURPOSE),
            MAX_PURPOSES,
            required=True,
        ),
        "territory": titled(
            "使用地域",
            "territory",
            {"type": "array", "minItems": 1, "maxItems": MAX_TERRITORIES, "items": territory},
            "CN、CN-mainland、cross_border 或 GB/T 2260 代码（须为已知区划，100000 请用 CN）；重复项会被去除",
            "CN, CN-mainland, cross_border or a known GB/T 2260 code (100000: use CN); duplicates dropped",
        ),
        "duration_days": limit_schema("使用期限（天）", "duration in days", MAX_DURATION_DAYS),
        "max_users": limit_schema("最多使用人数", "maximum number of users", MAX_USERS),
        "delete_at_end": titled("到期删除", "delete at the end", {"type": "boolean", "default": False}),
        "deidentified_only": titled(
            "仅限去标识化使用", "de-identified use only", {"type": "boolean", "default": False}
        ),
    }
    properties = {
        "version": titled("版本", "version", {"type": "string", "const": POLICY_VERSION}),
        "permissions": codes_schema(
            "允许的行为", "permitted actions", choices(ACTION), MAX_ACTIONS, required=True
        ),
        "prohibitions": titled(
            "禁止的行为", "prohibited actions",
            {"type": "array", "maxItems": MAX_ACTIONS, "items": choices(ACTION), "default": []},
            "不得与允许的行为重叠", "must not repeat a permitted action",
        ),
        "constraints": titled(
            "约束", "constraints",
            {"type": "object", "properties": constraints, "required": ["purpose", "territory"],
             "additionalProperties": False},
        ),
        "remarks": titled("备注", "remarks", {"type": "string", "maxLength": MAX_REMARKS, "default": ""}),
    }  # fmt: skip
    root = titled(
        "数据使用策略", "usage policy",
        {"type": "object", "properties": properties, "required": ["permissions", "constraints"],
         "additionalProperties": False},
        "数据交易机构互认互通：统一数据使用策略标准 v1",
        "Data Exchange Mutual Recognition Initiative: common usage policy standard v1",
    )  # fmt: skip
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **root}


# --- the policy a product without one allows -------------------------------------------------------------


def _item(descriptor: dict, name: str) -> dict:
    compliance = descriptor.get("compliance")
    item = compliance.get(name) if isinstance(compliance, dict) else None
    return item if isinstance(item, dict) else {}


def _cross_border_allowed(descriptor: dict) -> bool:
    transfer = _item(descriptor, "cross_border_transfer")
    return (
        transfer.get("involved") is True
        and transfer.get("status") == "passed"
        and _item(descriptor, "security_assessment").get("status") == "passed"
    )


def policy_from_descriptor(descriptor: dict) -> dict:
    """The usage policy a product allows when its provider has set none, derived from its descriptor's
    declarations (safe on a half-valid descriptor: whatever is not declared is read as the stricter case).

    Use, analysis and derivation for any purpose; no redistribution or resale; within mainland China unless
    the product declares a cross-border transfer with it and the security assessment passed; with personal
    information (any category but `none`): de-identified use only, deletion at the end, no linking with other
    data, and with consent-based personal information no model training. The descriptor's usage restrictions
    become the remarks."""
    descriptor = descriptor if isinstance(descriptor, dict) else {}
    category = _item(descriptor, "personal_information").get("category")
    personal = category != "none"
    permissions = {"use", "analyse", "derive", "train_model", "link_with_other_data"}
    if personal:
        permissions -= {"link_with_other_data"}
    if category != "deidentified" and personal:
        permissions -= {"train_model"}
    territory = [CN, CROSS_BORDER] if _cross_border_allowed(descriptor) else [MAINLAND]
    remarks = descriptor.get("usage_restrictions")
    remarks = remarks.strip() if isinstance(remarks, str) else ""
    if len(remarks) > MAX_REMARKS:
        remarks = remarks[: MAX_REMARKS - 1] + "…"
    return policy_clean(
        {
            "permissions": sorted(permissions),
            "prohibitions": sorted(ACTION_CODES - permissions),
            "constraints": {
                "purpose": sorted(PURPOSE_CODES),
                "territory": territory,
                "delete_at_end": personal,
                "deidentified_only": personal,
            },
            "remarks": remarks,
        }
    )
