"""The participant standard's rules: the public fields of a registration (its profile). Used for
registrations made here and for registrations that arrive from peers (untrusted input); the USCC itself is
checked by `standards.uscc`."""

from __future__ import annotations

from core.exceptions import FieldError
from standards import participant_vocabularies as vocab

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_REASON = 500


def _error(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _choices(value: object, field: str, allowed: frozenset[str], *, required: bool) -> tuple[list, list]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [], [_error(field, "type", "必须是字符串列表", "Must be a list of strings")]
    errors = [
        _error(
            f"{field}.{i}", "invalid_choice", f"未知的取值：{v}", f"Unknown value {v!r}; see the vocabulary"
        )
        for i, v in enumerate(value)
        if v not in allowed
    ]
    if required and not value:
        errors.append(_error(field, "required", "至少选择一项", "At least one value is required"))
    if len(set(value)) != len(value):
        errors.append(_error(field, "unique", "取值不得重复", "Values must not repeat"))
    return sorted(set(value)), errors


# What each role must and may name: (role, field, the role's own error, another role's error).
_ROLE_FIELDS = (
    (
        "data_merchant",
        "business_categories",
        ("数商须填写业务类别", "A data merchant names its business categories"),
        ("只有数商填写业务类别", "Only data merchants have business categories"),
    ),
    (
        "service_provider",
        "services",
        ("第三方服务机构须填写服务类别", "A service provider names its services"),
        ("只有第三方服务机构填写服务类别", "Only service providers have services"),
    ),
)


def _role_errors(roles: list[str], categories: list[str], services: list[str]) -> list[FieldError]:
    """A data merchant names its business categories and a service provider its services; no one else."""
    errors = []
    named = {"business_categories": categories, "services": services}
    for role, field, missing, foreign in _ROLE_FIELDS:
        if role in roles and not named[field]:
            errors.append(_error(field, "required", *missing))
        if role not in roles and named[field]:
            errors.append(_error(field, "role", *foreign))
    return errors


def profile_errors(data: dict) -> tuple[dict, list[FieldError]]:
    """Validate the public profile fields of a registration; returns the cleaned profile and the errors.

    `data` holds legal_name, entity_type, roles, business_categories, services and description.
    """
    errors: list[FieldError] = []
    clean: dict = {}
    name = data.get("legal_name")
    if not isinstance(name, str) or not name.strip():
        errors.append(_error("legal_name", "required", "必须填写法定名称", "The legal name is required"))
    elif len(name.strip()) > MAX_NAME:
        errors.append(
            _error("legal_name", "max_length", f"最多 {MAX_NAME} 字", f"At most {MAX_NAME} characters")
        )
    else:
        clean["legal_name"] = name.strip()
    entity_type = data.get("entity_type")
    if not isinstance(entity_type, str) or entity_type not in vocab.codes(vocab.ENTITY_TYPE):
        errors.append(
            _error(
                "entity_type", "invalid_choice", "未知的主体类型", "Unknown entity type; see the vocabulary"
            )
        )
    else:
        clean["entity_type"] = entity_type
    roles, e = _choices(data.get("roles"), "roles", vocab.codes(vocab.ROLE), required=True)
    errors += e
    clean["roles"] = roles
    categories, e = _choices(
        data.get("business_categories", []),
        "business_categories",
        vocab.codes(vocab.BUSINESS_CATEGORY),
        required=False,
    )
    errors += e
    services, e = _choices(data.get("services", []), "services", vocab.codes(vocab.SERVICE), required=False)
    errors += e
    if not e and not errors:
        errors += _role_errors(roles, categories, services)
    clean["business_categories"], clean["services"] = categories, services
    description = data.get("description", "")
    if not isinstance(description, str):
        errors.append(_error("description", "type", "必须是字符串", "Must be a string"))
    elif len(description) > MAX_DESCRIPTION:
        errors.append(
            _error(
                "description",
                "max_length",
                f"最多 {MAX_DESCRIPTION} 字",
                f"At most {MAX_DESCRIPTION} characters",
            )
        )
    else:
        clean["description"] = description
    return clean, errors
