"""Forms validate through the API's own serializers and services, so a page shows the very errors the API
gives (each field's code and its message in both languages), next to the field, in the visitor's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import translation

from api.errors import field_errors
from core.exceptions import DomainError


def in_language(item: Mapping) -> str:
    """The message of an error-shape item (a field error or the top one) in the active language."""
    english = (translation.get_language() or "").startswith("en")
    return (item.get("message_en") if english else item.get("message")) or item.get("message") or ""


@dataclass
class FormErrors:
    """The errors of one submitted form, in the API's error shape: a top message and field errors."""

    errors: list[dict] = field(default_factory=list)
    message: str = ""
    message_en: str = ""
    status: int = 400

    @classmethod
    def from_serializer(cls, serializer) -> FormErrors:
        return cls(
            errors=field_errors(serializer.errors),
            message="请求数据不符合规则",
            message_en="The request breaks one or more rules",
        )

    @classmethod
    def from_domain(cls, exc: DomainError) -> FormErrors:
        return cls(
            errors=[e.as_dict() for e in exc.errors],
            message=exc.message,
            message_en=exc.message_en,
            status=exc.status,
        )

    def __bool__(self) -> bool:
        return bool(self.errors or self.message)

    @property
    def summary(self) -> str:
        return in_language({"message": self.message, "message_en": self.message_en})

    def for_field(self, name: str) -> list[str]:
        """The messages of one field and of its nested fields (`descriptor.name` under `descriptor`)."""
        return [
            in_language(e) for e in self.errors if e["field"] == name or e["field"].startswith(name + ".")
        ]

    @property
    def fields(self) -> set[str]:
        return {e["field"] for e in self.errors}


def form_data(post: Mapping, serializer_class) -> dict:
    """The submitted values of the serializer's own fields (the CSRF token and `next` are not the API's)."""
    names = serializer_class().fields
    return {name: post[name] for name in names if name in post}


def validate(serializer_class, data: Mapping, **kwargs) -> tuple[dict | None, FormErrors]:
    """The serializer's validated data, or None and the errors the API would give."""
    serializer = serializer_class(data=data, **kwargs)
    if serializer.is_valid():
        return serializer.validated_data, FormErrors()
    return None, FormErrors.from_serializer(serializer)
