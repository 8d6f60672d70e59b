"""Every write to a product goes through these functions.

Each one runs in one transaction, checks who may do it, applies the standard's rules, raises the version
and records the version in the history. `record_change` is the single place where a change is committed:
the product's replica is published there, in the same transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict, FieldError, ValidationFailed
from exchanges.models import Exchange
from participants.principal import ParticipantPrincipal
from products import lifecycle
from products.checks import (
    descriptor_accept,
    findings_as_json,
    provider_errors,
    raise_blocking,
    reasons_clean,
    require_compliant,
    require_registered_provider,
)
from products.columns import descriptor_columns
from products.models import CodeCounter, Product, ProductRegion, ProductStatus, ProductVersion
from products.permissions import actor_kind, authorize_write
from products.publishing import products_publish
from standards.compliance import compliance_evaluate
from standards.product_code import product_code_build

Change = ProductVersion.Change
logger = logging.getLogger(__name__)


def _as_user(actor) -> User | None:
    """The local user row to record as the author: a participant's own user when its home is this node."""
    if isinstance(actor, ParticipantPrincipal):
        if actor.home != settings.NODE_CODE:
            return None
        return User.objects.filter(username=actor.username, participant_id=actor.participant_id).first()
    return actor


def serials_allocate(*, origin: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive serials for `origin` in `year` and return the first.

    Call inside a transaction: the counter row stays locked until it commits.
    """
    CodeCounter.objects.get_or_create(origin=origin, year=year)
    counter = CodeCounter.objects.select_for_update().get(origin=origin, year=year)
    first = counter.last_serial + 1
    counter.last_serial += count
    counter.save(update_fields=["last_serial"])
    return first


def _version_row(product: Product, *, change: str, actor: User | None, reasons: list[str]) -> ProductVersion:
    return ProductVersion(
        product=product,
        version=product.version,
        change=change,
        status=product.status,
        descriptor=product.descriptor,
        reasons=reasons,
        actor=_as_user(actor),
        actor_kind=actor_kind(actor),
        created_at=timezone.now(),
    )


def record_change(
    product: Product,
    *,
    change: str,
    actor: User | None,
    reasons: list[str] | None = None,
    regions_changed: bool = False,
    created: bool = False,
) -> Product:
    """Commit one change: save the product at a raised version and write the version history row."""
    if not created:
        product.version += 1
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        if "product_name_unique_per_provider" in str(exc) or "provider_uscc" in str(exc):
            raise ValidationFailed(
                [
                    FieldError(
                        "descriptor.name",
                        "naming.duplicate",
                        "该提供方已有同名产品",
                        "The provider already has a product of this name",
                    )
                ]
            ) from exc
        raise
    if regions_changed:
        ProductRegion.objects.filter(product=product).delete()
        ProductRegion.objects.bulk_create(
            ProductRegion(product=product, code=code)
            for code in dict.fromkeys(product.descriptor["spatial_coverage"])
        )
    _version_row(product, change=change, actor=actor, reasons=reasons or []).save()
    products_publish([product])  # the change-log entry, in this transaction (nothing if not yet public)
    return product


def _locked(product: Product, *, expected_version: int | None) -> Product:
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if expected_version is not None and expected_version != locked.version:
        raise Conflict(
            message=f"产品已被修改（当前版本 {locked.version}，请求基于版本 {expected_version}）",
            message_en=(
                f"The product changed meanwhile (now version {locked.version}, you sent {expected_version})"
            ),
            code="version_mismatch",
            extra={"current_version": locked.version},
        )
    return locked


@transaction.atomic
def product_create(*, actor: User | None, descriptor: Any, exchange: Exchange | None = None) -> Product:
    exchange_id = exchange.pk if exchange else settings.NODE_CODE
    authorize_write(actor=actor, exchange_id=exchange_id, action="create")
    accepted = descriptor_accept(descriptor, exchange_id=exchange_id)
    authorize_write(
        actor=actor, exchange_id=exchange_id, provider=accepted["provider"]["uscc"], action="create"
    )
    year = timezone.localdate().year
    serial = serials_allocate(origin=exchange_id, year=year)
    product = Product(
        code=product_code_build(origin=exchange_id, year=year, serial=serial),
        exchange_id=exchange_id,
        version=1,
        status=ProductStatus.DRAFT,
        created_by=_as_user(actor),
        **descriptor_columns(accepted),
    )
    return record_change(product, change=Change.CREATED, actor=actor, regions_changed=True, created=True)


@transaction.atomic
def product_update(
    *, actor: User | None, product: Product, descriptor: Any, expected_version: int | None = None
) -> Product:
    """Replace the descriptor. A listed or suspended product must keep meeting the compliance rules."""
    authorize_write(
        actor=actor, exchange_id=product.exchange_id, provider=product.provider_uscc, action="update"
    )
    product = _locked(product, expected_version=expected_version)
    lifecycle.ensure_editable(status=product.status)
    accepted = descriptor_accept(descriptor, exchange_id=product.exchange_id, exclude_id=product.pk)
    authorize_write(
        actor=actor, exchange_id=product.exchange_id, provider=accepted["provider"]["uscc"], action="update"
    )
    if accepted == product.descriptor:
        return product
    new_provider = accepted["provider"]["uscc"]
    if new_provider != product.provider_uscc and product.status != ProductStatus.DRAFT:
        errors = provider_errors({new_provider})  # what submit and review checked holds for the new one
        if errors:
            raise ValidationFailed(list(errors.values()))
    if product.status in {ProductStatus.LISTED, ProductStatus.SUSPENDED}:
        findings = compliance_evaluate(accepted)
        raise_blocking(findings, conflict=False)
        product.findings = findings_as_json(findings)
    regions_changed = accepted["spatial_coverage"] != product.descriptor["spatial_coverage"]
    for column, value in descriptor_columns(accepted).items():
        setattr(product, column, value)
    return record_change(product, change=Change.UPDATED, actor=actor, regions_changed=regions_changed)


def _transition(
    *,
    actor: User | None,
    product: Product,
    action: str,
    change: str,
    reasons: list[str],
    expected_version: int | None,
    before=None,
) -> Product:
    authorize_write(
        actor=actor, exchange_id=product.exchange_id, provider=product.provider_uscc, action=action
    )
    product = _locked(product, expected_version=expected_version)
    product.status = lifecycle.transition_target(status=product.status, action=action)
    if before is not None:
        before(product)
    product.status_reasons = reasons
    product.provider_hold = False  # an operator's decision replaces the automatic one
    return record_change(product, change=change, actor=actor, reasons=reasons)


@transaction.atomic
def product_submit(*, actor: User | None, product: Product, expected_version: int | None = None) -> Product:
    """Submit for review. The automatic compliance rules run now; the reviewer sees their findings."""

    def run_rules(p: Product) -> None:
        require_registered_provider(p)
        p.findings = findings_as_json(compliance_evaluate(p.descriptor))
        p.submitted_at = timezone.now()

    return _transition(
        actor=actor,
        product=product,
        action="submit",
        change=Change.SUBMITTED,
        reasons=[],
        expected_version=expected_version,
        before=run_rules,
    )


@transaction.atomic
def product_withdraw(*, actor: User | None, product: Product, expected_version: int | None = None) -> Product:
    return _transition(
        actor=actor,
        product=product,
        action="withdraw",
        change=Change.WITHDRAWN,
        reasons=[],
        expected_version=expected_version,
    )


@transaction.atomic
def product_review(
    *,
    actor: User | None,
    product: Product,
    decision: str,
    reasons: Any = None,
    expected_version: int | None = None,
) -> Product:
    """An operator of the home exchange approves (lists) or rejects a submitted product."""
    if decision == "approve":

        def check_rules(p: Product) -> None:
            require_registered_provider(p)
            require_compliant(p)
            if p.listed_at is None:
                p.listed_at = timezone.now()

        return _transition(
            actor=actor,
            product=product,
            action="approve",
            change=Change.LISTED,
            reasons=reasons_clean(reasons, required=False),
            expected_version=expected_version,
            before=check_rules,
        )
    if decision == "reject":
        return _transition(
            actor=actor,
            product=product,
            action="reject",
            change=Change.REJECTED,
            reasons=reasons_clean(reasons, required=True),
            expected_version=expected_version,
        )
    raise ValidationFailed(
        [
            FieldError(
                "decision",
                "invalid_choice",
                "审核结论必须是 approve 或 reject",
                "decision must be approve or reject",
            )
        ]
    )


@transaction.atomic
def product_suspend(
    *, actor: User | None, product: Product, reasons: Any, expected_version: int | None = None
) -> Product:
    return _transition(
        actor=actor,
        product=product,
        action="suspend",
        change=Change.SUSPENDED,
        reasons=reasons_clean(reasons, required=True),
        expected_version=expected_version,
    )


@transaction.atomic
def product_reinstate(
    *, actor: User | None, product: Product, reasons: Any = None, expected_version: int | None = None
) -> Product:
    return _transition(
        actor=actor,
        product=product,
        action="reinstate",
        change=Change.REINSTATED,
        reasons=reasons_clean(reasons, required=False),
        expected_version=expected_version,
        before=lambda p: (require_registered_provider(p), require_compliant(p)),
    )


@transaction.atomic
def product_delist(
    *, actor: User | None, product: Product, reasons: Any, expected_version: int | None = None
) -> Product:
    def stamp(p: Product) -> None:
        p.delisted_at = timezone.now()

    return _transition(
        actor=actor,
        product=product,
        action="delist",
        change=Change.DELISTED,
        reasons=reasons_clean(reasons, required=True),
        expected_version=expected_version,
        before=stamp,
    )
