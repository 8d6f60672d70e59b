"""This node's recognitions (互认) of products: decided automatically when a product arrives or changes
(`products.receivers`), by its home exchange when it lists one, or by an operator's review. A node writes and
publishes a recognition only when its decision changes, and under recognition protocol 2 only when the
network cannot compute it (docs/federation.md, "Recognitions at national size")."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_rows, copy_update
from core.exceptions import FieldError, Forbidden, ValidationFailed
from federation.protocols import protocol_everywhere
from products.models import RECOGNITION_COLUMNS, Product, Recognition, RecognitionStatus
from products.published import computed_verdicts, recognition_is_exception
from products.replicas import PUBLISHED, RECOGNITION
from products.verdict import POLICY_VERSION, RecognitionRecord, recognition_evaluate


class ProductRef(NamedTuple):
    """What deciding a recognition reads of a product: its code and version."""

    code: str
    version: int


Decision = tuple[Product | ProductRef, str, list[str], str]  # (product, status, reasons, decided by)

# Conditions of this exchange's recognition that other apps add (the quality app: "a valid quality report"),
# registered with `recognition_condition`: each is given product codes and returns, for those it holds back,
# the bilingual reasons they stay pending. Products never import the apps that register them.
Condition = Callable[[list[str]], dict[str, list[str]]]
_CONDITIONS: list[Condition] = []


def recognition_condition(condition: Condition) -> Condition:
    """Decorator: this node's automatic recognitions also wait for `condition`."""
    if all(c.__qualname__ != condition.__qualname__ for c in _CONDITIONS):
        _CONDITIONS.append(condition)
    return condition


def conditions_apply(decisions: list[Decision]) -> list[Decision]:
    """An automatic `recognised` verdict becomes `pending` while a registered condition holds it back."""
    auto = Recognition.DecidedBy.AUTO
    candidates = [
        p.code for p, status, _, by in decisions if status == RecognitionStatus.RECOGNISED and by == auto
    ]
    if not candidates or not _CONDITIONS:
        return decisions
    held: dict[str, list[str]] = {}
    for condition in _CONDITIONS:
        for code, reasons in condition(candidates).items():
            held.setdefault(code, []).extend(reasons)
    result: list[Decision] = []
    for product, status, reasons, by in decisions:
        if product.code in held and status == RecognitionStatus.RECOGNISED and by == auto:
            status, reasons = RecognitionStatus.PENDING, held[product.code]
        result.append((product, status, reasons, by))
    return result


def recognitions_redecide(product_codes: list[str]) -> list[Recognition | RecognitionRecord]:
    """Decide again this node's automatic recognitions of these products listed elsewhere (a condition's
    facts changed: a quality report arrived, was withdrawn or expired). An operator's decision stands."""
    node = settings.NODE_CODE
    by_operator = set(
        Recognition.objects.filter(
            product_code__any=product_codes, exchange_id=node, decided_by=Recognition.DecidedBy.OPERATOR
        ).values_list("product_code", flat=True)
    )
    products = (
        Product.objects.filter(code__any=product_codes, status__in=PUBLISHED)
        .exclude(exchange_id=node)
        .only("code", "version", "descriptor")
    )
    decisions: list[Decision] = [
        (ProductRef(p.code, p.version), *recognition_evaluate(p.descriptor), Recognition.DecidedBy.AUTO)
        for p in products
        if p.code not in by_operator
    ]
    return recognitions_set(conditions_apply(decisions))


def recognitions_set(decisions: list[Decision]) -> list[Recognition | RecognitionRecord]:
    """Write this node's recognitions that changed, and publish those the network needs
    (`products.published`); returns the changed ones. A new recognition (most of a feed page's) is written
    as plain values."""
    if not decisions:
        return []
    node = settings.NODE_CODE
    codes = [p.code for p, *_ in decisions]
    current = {
        r.product_code: r
        for r in Recognition.objects.select_for_update().filter(product_code__any=codes, exchange_id=node)
    }
    exceptions_only = protocol_everywhere("recognition", 2)
    computed = computed_verdicts(codes) if exceptions_only else {}
    creates: list[RecognitionRecord] = []
    updates: list[Recognition] = []
    now = timezone.now()
    for product, status, reasons, decided_by in decisions:
        row = current.get(product.code)
        published = not exceptions_only or recognition_is_exception(
            node, status, reasons, decided_by, computed.get(product.code)
        )
        if row is None:
            creates.append(
                RecognitionRecord(
                    product.code,
                    node,
                    status,
                    reasons,
                    product.version,
                    decided_by,
                    POLICY_VERSION,
                    1,
                    now,
                    published,
                )
            )
            continue
        if (row.status, row.reasons, row.decided_by) == (status, reasons, decided_by):
            continue
        row.status, row.reasons, row.decided_by = status, reasons, decided_by
        row.product_version, row.policy_version = product.version, POLICY_VERSION
        row.version += 1
        row.updated_at = now
        row.published = row.published or published  # once in the log, its peers must hold its latest
        updates.append(row)
    copy_rows(Recognition, RECOGNITION_COLUMNS, creates)
    copy_update(Recognition, updates, [*RECOGNITION.update_columns, "published"])
    changed = [*creates, *updates]
    RECOGNITION.publish(changed)  # the published ones (RecognitionReplica.publishable)
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
