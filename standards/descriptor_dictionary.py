"""The data dictionary (数据字典) of a descriptor 1.1: what the schema cannot say about `fields` (names unique
ignoring case, codes of an inline code list unique, the sample records agreeing with it) and its
normalization. Type-tolerant like the rest of
the validator: anything of the wrong shape is left for the schema to report."""

from __future__ import annotations

import datetime as dt
import math
import re

from core.exceptions import FieldError
from standards.descriptor_messages import field_error

_FIELD_TEXT = ("name", "label", "type", "unit", "description")
_MAX_RECORDS = 5  # what the schema allows; more is refused there, and not compared here
_MAX_RECORD_FIELDS = 50


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


# --- the sample checked against the dictionary ------------------------------------------------------------


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
# What a sample value of each type is. `code` is checked against an inline code list only; `geo` (no agreed
# encoding yet) is not checked.
_CONFORMS = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "decimal": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "date": _is_date,
    "datetime": _is_datetime,
}
_TYPE_ZH = {"string": "字符串", "integer": "整数", "decimal": "数值", "boolean": "布尔值", "date": "日期"}
_TYPE_ZH["datetime"] = "日期时间（ISO 8601）"


def _mismatch(path: str, zh: str, en: str) -> FieldError:
    return field_error(path, "sample.mismatch", f"样例记录与数据字典不符：{zh}", f"{path}: {en}")


def _inline_codes(field: dict) -> frozenset[str] | None:
    code_list = field.get("code_list")
    codes = code_list.get("codes") if isinstance(code_list, dict) else None
    if not isinstance(codes, list):
        return None
    return frozenset(e["code"] for e in codes if isinstance(e, dict) and isinstance(e.get("code"), str))


def _value_errors(field: dict, value: object, path: str) -> list[FieldError]:
    if value is None:
        if field.get("nullable") is False:
            return [_mismatch(path, "该字段不可为空", "the dictionary says this field is never null")]
        return []
    kind = field.get("type")
    conforms = _CONFORMS.get(kind) if isinstance(kind, str) else None
    if conforms is not None and not conforms(value):
        return [_mismatch(path, f"应为{_TYPE_ZH[kind]}", f"expected a {kind} value")]
    codes = _inline_codes(field) if kind == "code" else None
    if codes is not None and (not isinstance(value, str) or value not in codes):
        return [_mismatch(path, "不在代码表中", "the value is not a code of the field's code list")]
    return []


def _record_errors(by_name: dict[str, dict], record: dict, path: str) -> list[FieldError]:
    errors = []
    for key, value in record.items():
        child = f"{path}.{str(key)[:64]}"
        field = by_name.get(key) if isinstance(key, str) else None
        if field is None:
            errors.append(_mismatch(child, "数据字典中没有该字段", "the data dictionary has no such field"))
        else:
            errors += _value_errors(field, value, child)
    for name, field in by_name.items():
        if name not in record and field.get("nullable") is False:
            errors.append(
                _mismatch(f"{path}.{name}", "缺少不可为空的字段", "a field the dictionary says is never null")
            )
    return errors


def sample_errors(fields: object, sample: object) -> list[FieldError]:
    """Sample records that contradict the data dictionary: a field it does not list, a value not of the
    declared type (or not in an inline code list), a null or missing value of a field declared not
    nullable."""
    records = sample.get("records") if isinstance(sample, dict) else None
    if not isinstance(fields, list) or not isinstance(records, list) or len(records) > _MAX_RECORDS:
        return []
    by_name = {f["name"]: f for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)}
    errors = []
    for index, record in enumerate(records):
        if isinstance(record, dict) and len(record) <= _MAX_RECORD_FIELDS:
            errors += _record_errors(by_name, record, f"sample.records.{index}")
    return errors
