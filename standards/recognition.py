"""The automatic recognition check (互认自动核验): how every node judges a product listed at another exchange
against the common standard before any operator looks at it — refused for a broken rule, pending an operator's
review for sensitive data, recognised otherwise. Pure and the same at every node, so a node computes another
exchange's automatic verdict itself instead of replicating it (docs/federation.md, "Recognitions at national
size"). Its version is the `policy` of a recognition and the `recognition` standard each node announces."""

from __future__ import annotations

from standards.compliance import compliance_evaluate, findings_blocking
from standards.descriptor import DESCRIPTOR_VERSIONS
from standards.naming import name_check

RECOGNITION_CHECK_VERSION = "1.0"
# Every version of the check this node computes; a peer announcing another one is "not evaluated" here.
RECOGNITION_CHECK_VERSIONS = ("1.0",)
# Categories an exchange reviews by hand before recognising a product listed elsewhere.
REVIEW_PERSONAL_INFORMATION = frozenset({"with_consent"})
REVIEW_PERSONAL = "personal information with consent: reviewed by an operator before recognition"
REVIEW_IMPORTANT = "important data or cross-border transfer: reviewed by an operator before recognition"
MAX_REASONS = 20

RECOGNISED, PENDING, REFUSED = "recognised", "pending", "refused"


def recognition_evaluate(descriptor: dict) -> tuple[str, list[str]]:
    """The automatic verdict on a product listed elsewhere: (status, reasons)."""
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
        return REFUSED, reasons[:MAX_REASONS]
    compliance = descriptor["compliance"]
    review = []
    if compliance["personal_information"]["category"] in REVIEW_PERSONAL_INFORMATION:
        review.append(REVIEW_PERSONAL)
    if compliance["important_data"]["involved"] or compliance["cross_border_transfer"]["involved"]:
        review.append(REVIEW_IMPORTANT)
    if review:
        return PENDING, review
    return RECOGNISED, []


def recognition_check_as_json() -> dict:
    """The check's rules as data (the standard's content, hashed in the announcement)."""
    return {
        "version": RECOGNITION_CHECK_VERSION,
        "refused": [
            "descriptor_version not applied here",
            "naming rule errors",
            "blocking compliance findings",
        ],
        "pending": {
            "personal_information.category": sorted(REVIEW_PERSONAL_INFORMATION),
            "important_data.involved": True,
            "cross_border_transfer.involved": True,
            "reasons": [REVIEW_PERSONAL, REVIEW_IMPORTANT],
        },
        "max_reasons": MAX_REASONS,
    }
