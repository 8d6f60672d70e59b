"""Domain errors. Domain code raises these; `api.errors` turns every one into the one HTTP error shape.

Each error carries a machine code and a message in Simplified Chinese and English; validation errors carry
one entry per broken rule with the path of the field (`descriptor.update_frequency`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str
    message_en: str

    def prefixed(self, prefix: str) -> FieldError:
        path = f"{prefix}.{self.field}" if self.field else prefix
        return FieldError(path, self.code, self.message, self.message_en)

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }


@dataclass
class DomainError(Exception):
    message: str
    message_en: str
    code: str = "error"
    errors: list[FieldError] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    status = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


class ValidationFailed(DomainError):
    """Input breaks a rule of the standard (400)."""

    status = 400

    def __init__(
        self,
        errors: Iterable[FieldError],
        *,
        message: str = "",
        message_en: str = "",
        code: str = "validation_error",
        extra: dict | None = None,
    ):
        errors = list(errors)
        super().__init__(
            message=message or "请求数据不符合规则",
            message_en=message_en or "The request breaks one or more rules",
            code=code,
            errors=errors,
            extra=extra or {},
        )

    def prefixed(self, prefix: str) -> ValidationFailed:
        return ValidationFailed(
            [e.prefixed(prefix) for e in self.errors],
            message=self.message,
            message_en=self.message_en,
            code=self.code,
            extra=self.extra,
        )


class Conflict(DomainError):
    """The request is valid but clashes with the record's current state (409)."""

    status = 409


class Forbidden(DomainError):
    """The caller may not do this to this record (403)."""

    status = 403


class NotFound(DomainError):
    status = 404
