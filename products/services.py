"""Every write to a product goes through these functions.

Each one runs in one transaction, checks who may do it, applies the standard's rules, raises the version
and records the version in the history. `_record_change` is the single place where a change is committed:
the federation's change log entry is written there, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict, FieldError, Forbidden, ValidationFailed
from exchanges.models import Exchange
from participants.principal import ParticipantPrincipal
from products import lifecycle
from products.models import CodeCounter, Product, ProductRegion, ProductStatus, ProductVersion
from products.replication import products_publish
from products.search import search_columns
from standards.compliance import Finding, compliance_evaluate
from standards.descriptor import descriptor_validate
from standards.naming import name_check, name_normalize
from standards.product_code import product_code_build

Change = ProductVersion.Change
logger = logging.getLogger(__name__)
MAX_REASONS = 20
MAX_REASON_LENGTH = 500


# --- Authorisation ----------------------------------------------------------------------------------------
# What a data merchant may do itself, with its participant token, to its own products at this node; reviews,
# suspensions and reinstatements stay with the exchange's operators.
PROVIDER_ACTIONS = frozenset({"create", "update", "submit", "withdraw", "delist"})


def _is_participant(actor) -> bool:
    return isinstance(actor, ParticipantPrincipal)


def product_can_write(
    *, actor: User | None, exchange_id: str, provider: str | None = None, action: str | None = None
) -> bool:
    """Only the home node writes a product, and there only its exchange's operators, the node's admins, or
    the product's provider (a data merchant, for the actions in PROVIDER_ACTIONS).

    `actor=None` is the node itself (management commands run by whoever runs the node).
    """
    if exchange_id != settings.NODE_CODE:
        return False
    if actor is None:
        return True
    if not actor.is_active:
        return False
    if _is_participant(actor):
        return (
            actor.has_role("data_merchant")
            and (provider is None or provider == actor.participant_id)
            and (action is None or action in PROVIDER_ACTIONS)
        )
    if actor.is_superuser or actor.role == User.Role.ADMIN:
        return True
    return actor.role == User.Role.OPERATOR and actor.exchange_id == exchange_id


def authorize_write(
    *, actor: User | None, exchange_id: str, provider: str | None = None, action: str | None = None
) -> None:
    if product_can_write(actor=actor, exchange_id=exchange_id, provider=provider, action=action):
        return
    if exchange_id != settings.NODE_CODE:
        raise Forbidden(
            message=f"该产品属于 {exchange_id}，只能由其所属交易所的节点修改",
            message_en=f"This product belongs to {exchange_id}; only its home node can change it",
            code="not_owner",
        )
    if _is_participant(actor):
        raise Forbidden(
            message="数商只能管理自己作为提供方的产品（审核、暂停、恢复由交易所运营人员负责）",
            message_en=(
                "A data merchant manages only products it provides, and not their review, suspension "
                "or reinstatement (the exchange's operators do that)"
            ),
            code="not_owner",
        )
    raise Forbidden(
        message=f"只有 {exchange_id} 的运营人员可以管理该交易所的产品",
        message_en=f"Only operators of {exchange_id} may manage its products",
        code="not_owner",
    )


def _as_user(actor) -> User | None:
    """The local user row to record as the author: a participant's own user when its home is this node."""
    if isinstance(actor, ParticipantPrincipal):
        if actor.home != settings.NODE_CODE:
            return None
        return User.objects.filter(username=actor.username, participant_id=actor.participant_id).first()
    return actor


def provider_errors(usccs: set[str]) -> dict[str, FieldError]:
    """The providers among `usccs` that may not offer products: not registered, not verified or not a data
    merchant (一地注册，全国互信: a product's provider is a registered participant)."""
    from participants.selectors import provider_standing

    messages = {
        "provider.not_registered": (
            "提供方尚未登记为市场主体",
            "The provider is not a registered participant",
        ),
        "provider.not_verified": (
            "提供方的登记未通过核验或已暂停",
            "The provider's registration is not verified",
        ),
        "provider.not_data_merchant": ("提供方不是数商", "The provider does not have the data merchant role"),
    }
    return {
        uscc: FieldError("descriptor.provider.uscc", rule, *messages[rule])
        for uscc, rule in provider_standing(usccs).items()
        if rule is not None
    }


def _require_registered_provider(product: Product) -> None:
    errors = provider_errors({product.provider_uscc})
    if errors:
        raise ValidationFailed(list(errors.values()))


# --- Validation -------------------------------------------------------------------------------------------
def taken_names(*, exchange_id: str, provider_uscc: str, exclude_id: int | None) -> set[str]:
    names = (
        Product.objects.filter(exchange_id=exchange_id, provider_uscc=provider_uscc)
        .exclude(status=ProductStatus.DELISTED)
        .exclude(pk=exclude_id)
        .values_list("name", flat=True)
    )
    return {name_normalize(n) for n in names}


def naming_errors(descriptor: dict, *, taken: set[str]) -> list[FieldError]:
    verdict = name_check(
        descriptor["name"],
        product_form=descriptor["product_form"],
        spatial_coverage=descriptor["spatial_coverage"],
        taken_names=taken,
        suggest=False,
    )
    return [
        FieldError("descriptor.name", v.code, v.message, v.message_en)
        for v in verdict.violations
        if v.severity == "error"
    ]


def descriptor_accept(raw: Any, *, exchange_id: str, exclude_id: int | None = None) -> dict:
    """Validate a descriptor for a product of `exchange_id`: the standard's schema, then the naming rule."""
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError("descriptor", "type", "必须是对象", "Must be an object")])
    try:
        descriptor = descriptor_validate(raw)
    except ValidationFailed as exc:
        raise exc.prefixed("descriptor") from None
    taken = taken_names(
        exchange_id=exchange_id, provider_uscc=descriptor["provider"]["uscc"], exclude_id=exclude_id
    )
    errors = naming_errors(descriptor, taken=taken)
    if errors:
        raise ValidationFailed(errors)
    return descriptor


def findings_blocking(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "blocking"]


def findings_as_json(findings: Sequence[Finding]) -> list[dict]:
    return [
        {
            "rule": f.rule,
            "severity": f.severity,
            "field": f"descriptor.{f.field}" if f.field else "descriptor",
            "message": f.message,
            "message_en": f.message_en,
        }
        for f in findings
    ]


def _raise_blocking(findings: Sequence[Finding], *, conflict: bool) -> None:
    blocking = findings_blocking(findings)
    if not blocking:
        return
    if conflict:
        raise Conflict(
            message="存在未解决的阻断性合规问题，不能上架",
            message_en="Blocking compliance findings must be resolved before listing",
            code="compliance_blocking",
            errors=[
                FieldError(f["field"], f["rule"], f["message"], f["message_en"])
                for f in findings_as_json(blocking)
            ],
        )
    raise ValidationFailed(
        [
            FieldError(f["field"], f["rule"], f["message"], f["message_en"])
            for f in findings_as_json(blocking)
        ],
        message="已上架产品的修改必须继续符合合规要求",
        message_en="A listed product must keep meeting the compliance rules",
        code="compliance_blocking",
    )


def _require_compliant(product: Product) -> None:
    """Run the compliance rules on the product's descriptor; refuse (409) while a blocking finding remains."""
    findings = compliance_evaluate(product.descriptor)
    product.findings = findings_as_json(findings)
    _raise_blocking(findings, conflict=True)


def _reasons(raw: Any, *, required: bool, field: str = "reasons") -> list[str]:
    if raw is None or raw == "" or raw == []:
        if required:
            raise ValidationFailed([FieldError(field, "required", "必须说明理由", "A reason is required")])
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(r, str) for r in items):
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    "type",
                    "理由必须是字符串或字符串列表",
                    "Reasons must be a string or a list of strings",
                )
            ]
        )
    cleaned = [r.strip() for r in items if r.strip()]
    if required and not cleaned:
        raise ValidationFailed([FieldError(field, "required", "必须说明理由", "A reason is required")])
    if len(cleaned) > MAX_REASONS:
        raise ValidationFailed(
            [FieldError(field, "max_items", f"理由最多 {MAX_REASONS} 条", f"At most {MAX_REASONS} reasons")]
        )
    for i, r in enumerate(cleaned):
        if len(r) > MAX_REASON_LENGTH:
            raise ValidationFailed(
                [
                    FieldError(
                        f"{field}.{i}",
                        "max_length",
                        f"每条理由最多 {MAX_REASON_LENGTH} 字",
                        f"Each reason is at most {MAX_REASON_LENGTH} characters",
                    )
                ]
            )
    return cleaned


# --- Writing ----------------------------------------------------------------------------------------------
def descriptor_columns(descriptor: dict) -> dict[str, Any]:
    pricing = descriptor["pricing"]
    return {
        "descriptor": descriptor,
        "descriptor_version": descriptor["descriptor_version"],
        "name": descriptor["name"],
        "provider_name": descriptor["provider"]["name"],
        "provider_uscc": descriptor["provider"]["uscc"],
        "product_form": descriptor["product_form"],
        "industry": descriptor["industry"],
        "update_frequency": descriptor["update_frequency"],
        "price_min": Decimal(str(pricing["min"])),
        "price_max": Decimal(str(pricing["max"])),
        **search_columns(descriptor),
    }


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
        created_at=timezone.now(),
    )


def _record_change(
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
    return _record_change(product, change=Change.CREATED, actor=actor, regions_changed=True, created=True)


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
    if product.status in {ProductStatus.LISTED, ProductStatus.SUSPENDED}:
        findings = compliance_evaluate(accepted)
        _raise_blocking(findings, conflict=False)
        product.findings = findings_as_json(findings)
    regions_changed = accepted["spatial_coverage"] != product.descriptor["spatial_coverage"]
    for column, value in descriptor_columns(accepted).items():
        setattr(product, column, value)
    return _record_change(product, change=Change.UPDATED, actor=actor, regions_changed=regions_changed)


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
    return _record_change(product, change=change, actor=actor, reasons=reasons)


@transaction.atomic
def product_submit(*, actor: User | None, product: Product, expected_version: int | None = None) -> Product:
    """Submit for review. The automatic compliance rules run now; the reviewer sees their findings."""

    def run_rules(p: Product) -> None:
        _require_registered_provider(p)
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
            _require_registered_provider(p)
            _require_compliant(p)
            if p.listed_at is None:
                p.listed_at = timezone.now()

        return _transition(
            actor=actor,
            product=product,
            action="approve",
            change=Change.LISTED,
            reasons=_reasons(reasons, required=False),
            expected_version=expected_version,
            before=check_rules,
        )
    if decision == "reject":
        return _transition(
            actor=actor,
            product=product,
            action="reject",
            change=Change.REJECTED,
            reasons=_reasons(reasons, required=True),
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
        reasons=_reasons(reasons, required=True),
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
        reasons=_reasons(reasons, required=False),
        expected_version=expected_version,
        before=lambda p: (_require_registered_provider(p), _require_compliant(p)),
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
        reasons=_reasons(reasons, required=True),
        expected_version=expected_version,
        before=stamp,
    )


# --- Following the provider's standing ----------------------------------------------------------------------
PROVIDER_HOLD_REASONS = {
    "provider.not_registered": "提供方的登记已不存在 / The provider is no longer a registered participant",
    "provider.not_verified": (
        "提供方的登记已被暂停或撤销，产品随之暂停，提供方恢复核验后自动恢复上架 / "
        "The provider's registration was suspended or revoked at its home exchange; the product is listed "
        "again automatically when the provider is verified again"
    ),
    "provider.not_data_merchant": (
        "提供方已不具有数商角色，产品随之暂停 / The provider no longer has the data merchant role"
    ),
}


def products_follow_providers(*, participant_ids: Iterable[str] | None = None) -> list[Product]:
    """Make this exchange's products follow their providers' standing (一地注册，全国互信: a participant
    suspended at home loses its standing everywhere, its products included).

    A listed product whose provider is no longer a verified data merchant is suspended (`provider_hold`,
    the reason in `status_reasons`); a product held that way is listed again once its provider is back in
    good standing and the product still meets the compliance rules. A product an operator suspended stays
    as the operator left it. Each change is a new version that replicates like any other.

    `participant_ids`: the providers whose registrations changed (the task queued when such a change
    commits, at home or applied from a peer: the product's exchange need not be the provider's); None: every
    provider of this exchange's listed or held products (the beat's sweep, which catches a lost task).

    Its own transaction, never the registration change's: it locks the products it changes, all of them
    before it publishes, in the order an operator's change takes its locks (the product, then this node's
    log counter), so the two cannot deadlock. Standing is read again under those locks: a registration
    change that commits meanwhile queues its own run, which waits for these locks and decides again."""
    from participants.selectors import provider_standing

    scope = Product.objects.filter(exchange_id=settings.NODE_CODE, is_home=True)
    if participant_ids is not None:
        participant_ids = set(participant_ids)
        if not participant_ids:
            return []
        scope = scope.filter(provider_uscc__in=participant_ids)
    # Which products look wrong, without locks: the listed ones of providers out of good standing, and
    # the held ones (few) of providers back in it.
    listed = scope.filter(status=ProductStatus.LISTED).order_by()
    listed_by = set(listed.values_list("provider_uscc", flat=True).distinct())
    held = list(
        scope.filter(status=ProductStatus.SUSPENDED, provider_hold=True).values_list("pk", "provider_uscc")
    )
    if not listed_by and not held:
        return []
    standing = provider_standing(listed_by | {uscc for _, uscc in held})
    out = {uscc for uscc in listed_by if standing[uscc] is not None}
    suspects = [pk for pk, uscc in held if standing[uscc] is None]
    if out:
        suspects += listed.filter(provider_uscc__in=out).values_list("pk", flat=True)
    if not suspects:
        return []
    changed = []
    with transaction.atomic():
        products = list(Product.objects.select_for_update().filter(pk__in=suspects).order_by("pk"))
        standing = provider_standing({p.provider_uscc for p in products})
        for product in products:
            rule = standing[product.provider_uscc]
            if product.status == ProductStatus.LISTED and rule is not None:
                product.status = ProductStatus.SUSPENDED
                product.provider_hold = True
                product.status_reasons = [PROVIDER_HOLD_REASONS[rule]]
                change = Change.SUSPENDED
            elif product.status == ProductStatus.SUSPENDED and product.provider_hold and rule is None:
                if findings_blocking(compliance_evaluate(product.descriptor)):
                    continue  # the rules changed meanwhile: an operator decides (reinstating reports why)
                product.status = ProductStatus.LISTED
                product.provider_hold = False
                product.status_reasons = []
                change = Change.REINSTATED
            else:
                continue  # changed meanwhile
            changed.append(_record_change(product, change=change, actor=None, reasons=product.status_reasons))
    if changed:
        logger.info(
            "%d product(s) follow their provider's standing: %s",
            len(changed),
            ", ".join(f"{p.code} {p.status}" for p in changed[:20]),
        )
    return changed
