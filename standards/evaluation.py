"""The rules of an evaluation (评估评价) of a participant, for one issued here (API) and one that arrives from
a peer (untrusted input) alike: a dimension of the vocabulary, a whole score from 0 to 100 and the grade the
scale gives it, a validity period that does not end before it starts, a summary and an evidence reference of
bounded length. Who may issue one, and how far ahead, are rules of the issuing node
(`participants.evaluations`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards import participant_vocabularies as vocab

MAX_SUMMARY = 2000
MAX_EVIDENCE_REF = 200


def _error(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def evaluation_clean(data: dict[str, Any], *, valid_from: dt.date, valid_until: dt.date) -> dict[str, Any]:
    """`data` holds dimension, score, summary and evidence_ref (optional). Returns them cleaned with the
    grade and the validity dates; raises ValidationFailed naming every broken rule."""
    errors: list[FieldError] = []
    dimension = data.get("dimension")
    if not isinstance(dimension, str) or dimension not in vocab.codes(vocab.DIMENSION):
        errors.append(
            _error("dimension", "invalid_choice", "未知的评价维度", "Unknown dimension; see the vocabulary")
        )
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        errors.append(
            _error("score", "range", "分数须为0–100的整数", "score must be a whole number from 0 to 100")
        )
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY:
        errors.append(
            _error(
                "summary",
                "type",
                f"须填写摘要，最多{MAX_SUMMARY}字",
                f"summary must be a non-empty string of at most {MAX_SUMMARY}",
            )
        )
    evidence_ref = data.get("evidence_ref", "")
    if not isinstance(evidence_ref, str) or len(evidence_ref) > MAX_EVIDENCE_REF:
        errors.append(
            _error(
                "evidence_ref",
                "type",
                f"证据编号最多{MAX_EVIDENCE_REF}字",
                f"evidence_ref must be a string of at most {MAX_EVIDENCE_REF}",
            )
        )
    if valid_from > valid_until:
        errors.append(
            _error("valid_until", "order", "有效期结束早于开始", "valid_until is before valid_from")
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "dimension": dimension,
        "score": score,
        "grade": vocab.grade_for(score),
        "summary": summary,
        "evidence_ref": evidence_ref,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
