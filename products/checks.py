"""The rules a product must meet at its home exchange beyond the descriptor standard itself: a registered
provider, a name its provider does not use yet, the compliance rules at listing, and well-formed reasons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.exceptions import Conflict, FieldError, ValidationFailed
from participants.selectors import provider_standing
from products.models import Product, ProductStatus
from standards.compliance import Finding, compliance_evaluate, findings_blocking
from standards.descriptor import descriptor_validate
from standards.naming import NamingVerdict, name_check, name_normalize

MAX_REASONS = 20
MAX_REASON_LENGTH = 500


def provider_errors(usccs: set[str]) -> dict[str, FieldError]:
    """The providers among `usccs` that may not offer products: not registered, not verified or not a data
    merchant (一地注册，全国互信: a product's provider is a registered participant)."""
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


def require_registered_provider(product: Product) -> None:
    errors = provider_errors({product.provider_uscc})
    if errors:
        raise ValidationFailed(list(errors.values()))


def taken_names(*, exchange_id: str, provider_uscc: str, exclude_id: int | None) -> set[str]:
    names = (
        Product.objects.filter(exchange_id=exchange_id, provider_uscc=provider_uscc)
        .exclude(status=ProductStatus.DELISTED)
        .exclude(pk=exclude_id)
        .values_list("name", flat=True)
    )
    return {name_normalize(n) for n in names}


def naming_verdict(data: dict, *, exchange_id: str) -> NamingVerdict:
    """POST /standards/naming/check/ and the portal's live check: a validated request (name, product_form,
    spatial_coverage, provider_uscc) against the naming rule; the provider's names at `exchange_id` count
    as taken."""
    taken: set[str] = set()
    if data.get("provider_uscc"):
        taken = taken_names(
            exchange_id=exchange_id, provider_uscc=data["provider_uscc"].upper(), exclude_id=None
        )
    return name_check(
        data["name"],
        product_form=data["product_form"],
        spatial_coverage=data.get("spatial_coverage") or [],
        taken_names=taken,
    )


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


def raise_blocking(findings: Sequence[Finding], *, conflict: bool) -> None:
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


def require_compliant(product: Product) -> None:
    """Run the compliance rules on the product's descriptor; refuse (409) while a blocking finding remains."""
    findings = compliance_evaluate(product.descriptor)
    product.findings = findings_as_json(findings)
    raise_blocking(findings, conflict=True)


def reasons_clean(raw: Any, *, required: bool, field: str = "reasons") -> list[str]:
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
