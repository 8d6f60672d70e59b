"""This node's recognitions (互认) of products: decided automatically when a product arrives or changes
(`products.receivers`), by its home exchange when it lists one, or by an operator's review. A node writes and
publishes a recognition only when its decision changes."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_rows, copy_update
from core.exceptions import FieldError, Forbidden, ValidationFailed
from products.models import RECOGNITION_COLUMNS, Product, Recognition, RecognitionStatus
from products.replicas import PUBLISHED, RECOGNITION
from products.verdict import POLICY_VERSION, RecognitionRecord


class ProductRef(NamedTuple):
    """What deciding a recognition reads of a product: its code and version."""

    code: str
    version: int


Decision = tuple[Product | ProductRef, str, list[str], str]  # (product, status, reasons, decided by)


def recognitions_set(decisions: list[Decision]) -> list[Recognition | RecognitionRecord]:
    """Write this node's recognitions that changed, and publish them; returns them. A new recognition (most
    of a feed page's) is written as plain values."""
    if not decisions:
        return []
    node = settings.NODE_CODE
    current = {
        r.product_code: r
        for r in Recognition.objects.select_for_update().filter(
            product_code__any=[p.code for p, *_ in decisions], exchange_id=node
        )
    }
    creates: list[RecognitionRecord] = []
    updates: list[Recognition] = []
    now = timezone.now()
    for product, status, reasons, decided_by in decisions:
        row = current.get(product.code)
        if row is None:
            creates.append(
                RecognitionRecord(
                    product.code, node, status, reasons, product.version, decided_by, POLICY_VERSION, 1, now
                )
            )
            continue
        if (row.status, row.reasons, row.decided_by) == (status, reasons, decided_by):
            continue
        row.status, row.reasons, row.decided_by = status, reasons, decided_by
        row.product_version, row.policy_version = product.version, POLICY_VERSION
        row.version += 1
        row.updated_at = now
        updates.append(row)
    copy_rows(Recognition, RECOGNITION_COLUMNS, creates)
    copy_update(Recognition, updates, RECOGNITION.update_columns)
    changed = [*creates, *updates]
    RECOGNITION.publish(changed)
    return changed


@transaction.atomic
def recognition_review(*, actor, product: Product, status: str, reasons: list[str]) -> Recognition:
    """An operator of this node's exchange decides whether it recognises a product (any origin)."""
    allowed = (
        actor is not None
        and actor.is_active
        and (actor.is_superuser or actor.role == "admin" or actor.exchange_id == settings.NODE_CODE)
    )
    if not allowed:
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以作出该交易所的互认决定",
            message_en=f"Only operators of {settings.NODE_CODE} decide its recognitions",
            code="not_owner",
        )
    if product.status not in PUBLISHED:
        raise ValidationFailed(
            [FieldError("product", "not_public", "产品尚未上架", "The product is not listed")]
        )
    if status == RecognitionStatus.REFUSED and not reasons:
        raise ValidationFailed(
            [FieldError("reasons", "required", "不予互认必须说明理由", "A refusal needs reasons")]
        )
    product = Product.objects.select_for_update().get(pk=product.pk)
    recognitions_set([(product, status, reasons, Recognition.DecidedBy.OPERATOR)])
    return Recognition.objects.get(product_code=product.code, exchange_id=settings.NODE_CODE)
