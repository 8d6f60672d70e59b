"""The fields of a registration that never leave its home node (PIPL data minimisation): contact persons,
phone, email and documents, and their rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from core.exceptions import FieldError


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def private_fields_clean(data: dict) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    clean: dict = {}
    if "contacts" in data:
        contacts = data["contacts"]
        ok = isinstance(contacts, list) and len(contacts) <= 10
        ok = ok and all(
            isinstance(c, dict)
            and set(c) <= {"name", "title", "phone", "email"}
            and isinstance(c.get("name"), str)
            and 0 < len(c["name"]) <= 60
            and all(isinstance(v, str) and len(v) <= 120 for v in c.values())
            for c in contacts
        )
        if not ok:
            errors.append(
                _err(
                    "contacts",
                    "format",
                    "联系人为最多10个对象，每个含 name（必填）、title、phone、email",
                    "contacts is a list of at most 10 objects with name (required), title, phone, email",
                )
            )
        else:
            clean["contacts"] = contacts
    if "phone" in data:
        phone = data["phone"]
        if (
            not isinstance(phone, str)
            or len(phone) > 32
            or (phone and not all(c in "0123456789+-() " for c in phone))
        ):
            errors.append(
                _err("phone", "format", "电话号码格式无效", "phone may hold digits, spaces and + - ( )")
            )
        else:
            clean["phone"] = phone
    if "email" in data:
        email = data["email"]
        try:
            if not isinstance(email, str):
                raise DjangoValidationError("type")
            if email:
                validate_email(email)
            clean["email"] = email
        except DjangoValidationError:
            errors.append(_err("email", "format", "电子邮箱格式无效", "email is not a valid address"))
    if "documents" in data:
        documents = data["documents"]
        ok = isinstance(documents, list) and len(documents) <= 20
        ok = ok and all(
            isinstance(d, dict)
            and set(d) <= {"title", "ref"}
            and all(isinstance(d.get(k), str) and 0 < len(d[k]) <= 200 for k in ("title", "ref"))
            for d in documents
        )
        if not ok:
            errors.append(
                _err(
                    "documents",
                    "format",
                    "证明材料为最多20个对象，每个含 title 与 ref",
                    "documents is a list of at most 20 objects with title and ref",
                )
            )
        else:
            clean["documents"] = documents
    return clean, errors
