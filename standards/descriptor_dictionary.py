"""The data dictionary (数据字典) of a descriptor 1.1: what the schema cannot say about `fields` (names unique
ignoring case, codes of an inline code list unique) and its normalization. Type-tolerant like the rest of
the validator: anything of the wrong shape is left for the schema to report."""

from __future__ import annotations

from core.exceptions import FieldError
from standards.descriptor_messages import field_error

_FIELD_TEXT = ("name", "label", "type", "unit", "description")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _normalize_code_list(code_list: object) -> object:
    if not isinstance(code_list, dict):
        return code_list
    copied = dict(code_list)
    if "standard" in copied:
        copied["standard"] = _strip(copied["standard"])
    codes = copied.get("codes")
    if isinstance(codes, list | tuple):
        copied["codes"] = [
            {key: _strip(value) for key, value in entry.items()} if isinstance(entry, dict) else entry
            for entry in codes
        ]
    return copied


def _normalize_field(field: object) -> object:
    if not isinstance(field, dict):
        return field
    copied = {key: (_strip(value) if key in _FIELD_TEXT else value) for key, value in field.items()}
    if "code_list" in copied:
        copied["code_list"] = _normalize_code_list(copied["code_list"])
    return copied


def dictionary_normalize(fields: object) -> object:
    """A copy of `fields` with every string of the standard stripped (the caller's input is never shared)."""
    if not isinstance(fields, list | tuple):
        return fields
    return [_normalize_field(field) for field in fields]


def _duplicate_name(path: str, name: str) -> FieldError:
    return field_error(
        path,
        "unique",
        f"数据字典中字段名“{name}”重复（不区分大小写）",
        f"{path}: the field name {name} is already used (names are compared ignoring case)",
    )


def _duplicate_code(path: str, code: str) -> FieldError:
    return field_error(
        path, "unique", f"代码表中代码“{code}”重复", f"{path}: the code {code} is already in the list"
    )


def _code_list_errors(code_list: object, path: str) -> list[FieldError]:
    codes = code_list.get("codes") if isinstance(code_list, dict) else None
    if not isinstance(codes, list):
        return []
    errors, seen = [], set()
    for index, entry in enumerate(codes):
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            continue
        if code in seen:
            errors.append(_duplicate_code(f"{path}.codes.{index}.code", code[:64]))
        seen.add(code)
    return errors


def dictionary_errors(fields: object) -> list[FieldError]:
    """The data dictionary's rules beyond the schema: unique field names, unique codes in a code list."""
    if not isinstance(fields, list):
        return []
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, field in enumerate(fields):
        if not isinstance(field, dict):
            continue
        name = field.get("name")
        if isinstance(name, str):
            if name.casefold() in names:
                errors.append(_duplicate_name(f"fields.{index}.name", name[:64]))
            names.add(name.casefold())
        errors += _code_list_errors(field.get("code_list"), f"fields.{index}.code_list")
    return errors
