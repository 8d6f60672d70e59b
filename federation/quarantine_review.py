"""The quarantine as an operator handles it (the operator console, docs/portal.md): the rows with their
reasons, releasing (deleting) the rows once handled — which frees the source's bounds, as deleting them in
the admin does — and retrying the entries that waited for a standard version this node now knows (what
`manage.py sync retry` does). Only an operator of this node's exchange or its admin may release or retry."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from core.exceptions import FieldError, Forbidden, ValidationFailed
from federation.models import QuarantinedEntry
from federation.unknown_standards import REASON_PREFIX, unknown_standards_retry

MAX_RELEASE = 100


def _node_operator(actor: Any) -> bool:
    if actor is None or not getattr(actor, "is_active", False):
        return False
    if getattr(actor, "is_superuser", False) or getattr(actor, "role", "") == "admin":
        return True
    return (
        getattr(actor, "role", "") == "operator" and getattr(actor, "exchange_id", None) == settings.NODE_CODE
    )


def _require_operator(actor: Any) -> None:
    if not _node_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以处理隔离条目",
            message_en=f"Only operators of {settings.NODE_CODE} handle its quarantined entries",
            code="not_owner",
        )


def quarantine_rows(*, source: str | None = None) -> QuerySet[QuarantinedEntry]:
    """The quarantined cases, the most recently refused first; the raw entries are not read."""
    rows = QuarantinedEntry.objects.defer("raw").order_by("-last_seen", "-id")
    return rows.filter(source=source) if source else rows


def quarantine_waiting(row: QuarantinedEntry) -> bool:
    """Whether the row waits for a standard version (retried once this node knows it)."""
    return row.reason.startswith(REASON_PREFIX)


def quarantine_release(*, actor: Any, ids: list[int]) -> int:
    """Delete the rows `ids` (handled by the operator); returns how many were deleted."""
    _require_operator(actor)
    if not ids or len(ids) > MAX_RELEASE:
        raise ValidationFailed(
            [
                FieldError(
                    "ids",
                    "count",
                    f"请选择 1 至 {MAX_RELEASE} 个条目",
                    f"Choose between 1 and {MAX_RELEASE} entries",
                )
            ]
        )
    deleted, _ = QuarantinedEntry.objects.filter(id__in=ids).delete()
    return deleted


def quarantine_retry(*, actor: Any) -> dict[str, int]:
    """Apply again the entries that waited for a standard version this node now knows."""
    _require_operator(actor)
    return unknown_standards_retry()
