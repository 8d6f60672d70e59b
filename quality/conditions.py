"""This exchange's recognition condition on quality (registered with products' recognition hook): when its
policy requires it, a product listed elsewhere is recognised only with a valid quality report. And the same
for the peers' published policies, when this node computes their verdicts (`products.verdicts`)."""

from __future__ import annotations

from products.recognition import recognition_condition
from products.verdicts import recognition_requirement
from quality.models import RecognitionPolicy
from quality.selectors import quality_report_required, reports_valid

REASON = (
    "quality_report: 本交易所的互认须有有效的质量评估报告 "
    "(this exchange requires a valid quality assessment report)"
)


@recognition_condition
def quality_report_condition(product_codes: list[str]) -> dict[str, list[str]]:
    if not quality_report_required():
        return {}
    valid = reports_valid(product_codes)
    return {code: [REASON] for code in product_codes if code not in valid}


@recognition_requirement
def quality_report_requirement() -> dict[str, list[str]]:
    """The exchanges whose published policy requires a valid quality report (held: `quality_grade` empty)."""
    required = RecognitionPolicy.objects.filter(quality_report_required=True)
    return {code: [REASON] for code in required.values_list("exchange_code", flat=True)}
