"""How this node judges a product listed at another exchange against the common standard (互认), before any
operator looks at it: refused for a broken rule, pending an operator's review for sensitive data, recognised
otherwise. Pure: it runs with the checks of a feed page, in the helper process on a catch-up."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from products.models import RecognitionStatus
from standards.compliance import compliance_evaluate, findings_blocking
from standards.descriptor import DESCRIPTOR_VERSIONS
from standards.naming import name_check

POLICY_VERSION = "1.0"
# Categories an exchange reviews by hand before recognising a product listed elsewhere.
REVIEW_PERSONAL_INFORMATION = frozenset({"with_consent"})


class RecognitionRecord(NamedTuple):
    """A recognition as plain values, in the columns `core.bulk.copy_rows` writes (RECOGNITION_COLUMNS):
    most of a feed page's recognitions are new, and need no model instance to be written or published."""

    product_code: str
    exchange_id: str
    status: str
    reasons: list[str]
    product_version: int
    decided_by: str
    policy_version: str
    version: int
    updated_at: datetime


def recognition_evaluate(descriptor: dict) -> tuple[str, list[str]]:
    """This node's automatic verdict on a product listed elsewhere: (status, reasons)."""
    reasons: list[str] = []
    if descriptor.get("descriptor_version") not in DESCRIPTOR_VERSIONS:
        reasons.append(f"descriptor_version {descriptor.get('descriptor_version')} is not supported here")
    verdict = name_check(
        descriptor["name"],
        product_form=descriptor["product_form"],
        spatial_coverage=descriptor["spatial_coverage"],
        suggest=False,
    )
    reasons += [f"{v.code}: {v.message_en}" for v in verdict.violations if v.severity == "error"]
    findings = compliance_evaluate(descriptor)
    reasons += [f"{f.rule}: {f.message_en}" for f in findings_blocking(findings)]
    if reasons:
        return RecognitionStatus.REFUSED, reasons[:20]
    compliance = descriptor["compliance"]
    review = []
    if compliance["personal_information"]["category"] in REVIEW_PERSONAL_INFORMATION:
        review.append("personal information with consent: reviewed by an operator before recognition")
    if compliance["important_data"]["involved"] or compliance["cross_border_transfer"]["involved"]:
        review.append("important data or cross-border transfer: reviewed by an operator before recognition")
    if review:
        return RecognitionStatus.PENDING, review
    return RecognitionStatus.RECOGNISED, []
