"""The product quality assessment standard (质量评估): the dimensions of GB/T 36344-2018 (数据质量评价指标),
the overall grade scale, and the rules of one assessment report about a product version, for a report issued
here (API) and one that arrives from a peer (untrusted input) alike (docs/standards/quality.md).

A report scores each of the six dimensions from 0 to 100, with the method used and an evidence summary. Its
overall score is the mean of the six, rounded half up; its grade is **derived** from the overall score on
the scale below (a declared grade is accepted only when it is the derived one: a peer's payload carries
both, and one that disagrees is refused). Who may issue one, and about which product, are rules of the
issuing node (`quality.services`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.vocabularies import Term

VERSION = "1.0"

DIMENSIONS: tuple[Term, ...] = (
    Term("normativity", "规范性", "Normativity"),
    Term("completeness", "完整性", "Completeness"),
    Term("accuracy", "准确性", "Accuracy"),
    Term("consistency", "一致性", "Consistency"),
    Term("timeliness", "时效性", "Timeliness"),
    Term("accessibility", "可访问性", "Accessibility"),
)
DIMENSION_CODES: tuple[str, ...] = tuple(t.code for t in DIMENSIONS)

# The overall grade scale: the lowest overall score of each grade (inclusive), best first.
GRADES: tuple[tuple[int, str, str, str], ...] = (
    (90, "A", "优", "Excellent"),
    (75, "B", "良", "Good"),
    (60, "C", "合格", "Adequate"),
    (0, "D", "不合格", "Inadequate"),
)
GRADE_CODES: tuple[str, ...] = tuple(grade for _, grade, _, _ in GRADES)

MAX_METHOD = 200
MAX_EVIDENCE = 1000
MAX_SUMMARY = 2000
MAX_REFERENCE = 64
MAX_VALIDITY_DAYS = 3 * 366  # a report is valid for at most three years from its assessment


def grade_for(score: int) -> str:
    """The grade of an overall score from 0 to 100."""
    for floor, grade, _, _ in GRADES:
        if score >= floor:
            return grade
    return GRADES[-1][1]


def grades_at_least(grade: str) -> tuple[str, ...]:
    """The grades as good as `grade` or better (a search's minimum grade)."""
    return GRADE_CODES[: GRADE_CODES.index(grade) + 1]


def overall_score(scores: list[int]) -> int:
    """The mean of the dimension scores, rounded half up (integers only: no float rounding surprises)."""
    return (2 * sum(scores) + len(scores)) // (2 * len(scores))


def _error(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _text(value: Any, limit: int, *, required: bool) -> bool:
    if not isinstance(value, str) or len(value) > limit:
        return False
    return bool(value.strip()) or not required


def _dimension_errors(code: str, row: Any) -> list[FieldError]:
    where = f"dimensions.{code}"
    if not isinstance(row, dict) or set(row) != {"score", "method", "evidence"}:
        return [
            _error(
                where,
                "type",
                "每个维度须为含 score、method、evidence 的对象",
                "each dimension must be an object with exactly score, method and evidence",
            )
        ]
    errors = []
    score = row["score"]
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        errors.append(
            _error(
                f"{where}.score", "range", "分数须为0–100的整数", "score must be a whole number from 0 to 100"
            )
        )
    if not _text(row["method"], MAX_METHOD, required=True):
        errors.append(
            _error(
                f"{where}.method",
                "required",
                f"须说明评估方法，最多{MAX_METHOD}字",
                f"method must be non-empty text of at most {MAX_METHOD} characters",
            )
        )
    if not _text(row["evidence"], MAX_EVIDENCE, required=True):
        errors.append(
            _error(
                f"{where}.evidence",
                "required",
                f"须填写证据摘要，最多{MAX_EVIDENCE}字",
                f"evidence must be non-empty text of at most {MAX_EVIDENCE} characters",
            )
        )
    return errors


def _dimensions_errors(dimensions: Any) -> list[FieldError]:
    if not isinstance(dimensions, dict):
        return [_error("dimensions", "type", "维度评分须为对象", "dimensions must be an object")]
    errors = [
        _error(f"dimensions.{code}", "unknown", "未知的质量维度", "not a dimension of GB/T 36344-2018")
        for code in sorted(set(dimensions) - set(DIMENSION_CODES), key=str)
    ]
    for code in DIMENSION_CODES:
        if code not in dimensions:
            errors.append(
                _error(
                    f"dimensions.{code}",
                    "required",
                    "六个维度均须评分",
                    "every one of the six dimensions is scored",
                )
            )
        else:
            errors += _dimension_errors(code, dimensions[code])
    return errors


def _dates_errors(assessed_at: Any, valid_until: Any) -> list[FieldError]:
    if not isinstance(assessed_at, dt.date) or not isinstance(valid_until, dt.date):
        return [_error("assessed_at", "type", "日期格式错误", "assessed_at and valid_until must be dates")]
    if valid_until <= assessed_at:
        return [
            _error("valid_until", "order", "有效期须晚于评估日期", "valid_until must be after assessed_at")
        ]
    if (valid_until - assessed_at).days > MAX_VALIDITY_DAYS:
        return [
            _error(
                "valid_until",
                "too_long",
                "有效期自评估日期起最长3年",
                f"valid_until is at most {MAX_VALIDITY_DAYS} days after assessed_at",
            )
        ]
    return []


def report_clean(data: dict[str, Any]) -> dict[str, Any]:
    """`data` holds dimensions, summary (optional), reference, assessed_at and valid_until (dates), and
    optionally a declared grade. Returns them cleaned with the overall score and the derived grade; raises
    ValidationFailed naming every broken rule."""
    errors = _dimensions_errors(data.get("dimensions"))
    reference = data.get("reference")
    if not _text(reference, MAX_REFERENCE, required=True) or reference != reference.strip():
        errors.append(
            _error(
                "reference",
                "required",
                f"须填写评估机构的报告编号，最多{MAX_REFERENCE}字，首尾无空格",
                f"reference must be the assessor's report number: non-empty, at most {MAX_REFERENCE} "
                "characters, no surrounding spaces",
            )
        )
    summary = data.get("summary", "")
    if not _text(summary, MAX_SUMMARY, required=False):
        errors.append(
            _error(
                "summary", "type", f"总体结论最多{MAX_SUMMARY}字", f"summary is text of at most {MAX_SUMMARY}"
            )
        )
    errors += _dates_errors(data.get("assessed_at"), data.get("valid_until"))
    if errors:
        raise ValidationFailed(errors)
    dimensions = {code: dict(data["dimensions"][code]) for code in DIMENSION_CODES}
    overall = overall_score([row["score"] for row in dimensions.values()])
    grade = grade_for(overall)
    declared = data.get("grade")
    if declared is not None and declared != grade:
        raise ValidationFailed(
            [
                _error(
                    "grade",
                    "scale",
                    f"等级与各维度分数不符：平均分{overall}对应{grade}",
                    f"grade does not match the scores: an overall score of {overall} is grade {grade}",
                )
            ]
        )
    return {
        "dimensions": dimensions,
        "overall_score": overall,
        "grade": grade,
        "summary": summary,
        "reference": reference,
        "assessed_at": data["assessed_at"],
        "valid_until": data["valid_until"],
    }


def quality_as_json() -> dict:
    """The standard as data, for `/api/v1/standards/`-style listings and the docs."""
    return {
        "version": VERSION,
        "dimensions": [{"code": t.code, "zh": t.zh, "en": t.en} for t in DIMENSIONS],
        "grade_scale": [{"grade": g, "min_score": floor, "zh": zh, "en": en} for floor, g, zh, en in GRADES],
        "max_validity_days": MAX_VALIDITY_DAYS,
    }
