"""The vocabularies of dispute coordination and the validation of one dispute step and of an outcome, for
steps taken here and steps from peers (untrusted) alike. The rules of order: `standards.deal_disputes`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.vocabularies import Term


def _terms(*rows: tuple[str, str, str]) -> tuple[Term, ...]:
    return tuple(Term(*row) for row in rows)


CATEGORY = _terms(
    ("not_as_described", "与描述不符", "Not as described"),
    ("quality", "质量问题", "Quality"),
    ("late_delivery", "逾期交付", "Late delivery"),
    ("no_delivery", "未交付", "No delivery"),
    ("usage_violation", "违反使用约定", "Usage violation"),
    ("payment", "付款问题", "Payment"),
    ("other", "其他", "Other"),
)
STATE = _terms(
    ("filed", "已提起", "Filed"),
    ("accepted", "已受理", "Accepted"),
    ("mediation", "调解中", "In mediation"),
    ("resolved", "已解决", "Resolved"),
    ("withdrawn", "已撤回", "Withdrawn"),
    ("escalated", "已转仲裁或诉讼", "Escalated"),
)
ACTION = _terms(
    ("file", "提起纠纷", "File"),
    ("accept", "受理", "Accept"),
    ("statement", "陈述与证据", "Statement"),
    ("message", "留言", "Message"),
    ("withdraw", "撤回", "Withdraw"),
    ("escalate", "转仲裁或诉讼", "Escalate"),
    ("resolve", "作出处理结果", "Resolve"),
    ("ruling", "登记仲裁或判决结果", "Record the arbitration or court ruling"),
)
ROLE = _terms(
    ("buyer", "买方", "Buyer"),
    ("provider", "卖方（数据提供方）", "Provider"),
    ("coordinator", "协调机构（产品所在交易机构）", "Coordinating exchange (the product's home)"),
    ("co_coordinator", "协同协调机构（买方所在交易机构）", "Co-coordinating exchange (the buyer's home)"),
)
OUTCOME = _terms(
    ("dismissed", "驳回", "Dismissed"),
    ("redelivery", "重新交付", "Redelivery"),
    ("partial_refund", "部分退款", "Partial refund"),
    ("full_refund", "全额退款", "Full refund"),
    ("upheld", "支持卖方主张", "Upheld (against the buyer)"),
    ("compensation", "买方赔偿", "Compensation by the buyer"),
)
# Whom each outcome goes against (None: no one). The provider's remedies answer a dispute the buyer files,
# the buyer's a dispute the provider files (dispute rules 1.2); a dismissal answers either.
AGAINST = {
    "dismissed": None,
    "redelivery": "provider",
    "partial_refund": "provider",
    "full_refund": "provider",
    "upheld": "buyer",
    "compensation": "buyer",
}
ESCALATION_VENUE = _terms(
    ("arbitration", "仲裁", "Arbitration"),
    ("court", "诉讼", "Court"),
)
# The evaluation dimension (standards.participant_vocabularies) of an outcome against a party, by category.
EVALUATION_DIMENSION = {
    "not_as_described": "service",
    "quality": "service",
    "late_delivery": "service",
    "no_delivery": "service",
    "usage_violation": "compliance",
    "payment": "service",
    "other": "service",
}

COORDINATOR = "coordinator"
PARTIES = frozenset({"buyer", "provider"})
ACCEPT_WORKING_DAYS = 3
RESOLVE_DAYS = 30
MAX_AMOUNT = Decimal("10000000000")
MAX_TEXT = 4000
# A redelivery's new delivery deadline, in days after the resolution (the deal flow's `outcome` step).
REDELIVER_DAYS_DEFAULT, REDELIVER_DAYS_MAX = 7, 90
MAX_SHORT = 500
MAX_REFERENCE = 200
MAX_EVIDENCE = 20
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)

_CODES = {
    name: frozenset(t.code for t in terms)
    for name, terms in (
        ("category", CATEGORY),
        ("action", ACTION),
        ("role", ROLE),
        ("outcome", OUTCOME),
        ("venue", ESCALATION_VENUE),
    )
}


def _choice(value: Any, name: str, path: str, errors: list[FieldError]) -> str | None:
    if isinstance(value, str) and value in _CODES[name]:
        return value
    errors.append(FieldError(path, "invalid_choice", f"未知的取值：{name}", f"Unknown {name}"))
    return None


def _text(value: Any, path: str, errors: list[FieldError], *, limit: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        need = "须填写，" if required else ""
        errors.append(
            FieldError(
                path, "length", f"{need}最多{limit}字", f"{'Required, ' if required else ''}at most {limit}"
            )
        )
        return ""
    return value.strip()


def _money(value: Any, path: str, errors: list[FieldError]) -> Decimal | None:
    """A non-negative amount in yuan with at most two decimals, from a number or a string."""
    amount = None
    if not isinstance(value, bool) and isinstance(value, (int, float, str, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = None
    if (
        amount is None
        or not amount.is_finite()
        or not 0 <= amount <= MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors.append(
            FieldError(
                path, "amount", "金额须为非负数，最多两位小数", "A non-negative amount, two decimals at most"
            )
        )
        return None
    return amount.quantize(Decimal("0.01"))


def _when(value: Any, path: str, errors: list[FieldError]) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        errors.append(FieldError(path, "format", "须为带时区的 ISO 8601 时间", "An ISO 8601 time with zone"))
        return None
    if not EARLIEST <= value.astimezone(dt.UTC) < LATEST:  # deadlines are computed from it
        errors.append(FieldError(path, "range", "时间须在2000年至2999年之间", "A time from 2000 to 2999"))
        return None
    return value


def _evidence(value: Any, path: str, errors: list[FieldError]) -> list[str]:
    value = [] if value is None else value
    if (
        not isinstance(value, list)
        or len(value) > MAX_EVIDENCE
        or not all(isinstance(v, str) and 0 < len(v.strip()) <= MAX_REFERENCE for v in value)
    ):
        errors.append(
            FieldError(
                path,
                "type",
                f"证据须为最多{MAX_EVIDENCE}个编号，每个最多{MAX_REFERENCE}字",
                f"At most {MAX_EVIDENCE} evidence references of at most {MAX_REFERENCE} characters",
            )
        )
        return []
    return list(dict.fromkeys(v.strip() for v in value))


def _outcome(value: Any, amount: Decimal | None, field: str, errors: list[FieldError]) -> dict | None:
    if not isinstance(value, dict):
        errors.append(FieldError(field, "type", "处理结果须为对象", "The outcome must be an object"))
        return None
    kind = _choice(value.get("kind"), "outcome", f"{field}.kind", errors)
    summary = _text(value.get("summary"), f"{field}.summary", errors, limit=MAX_TEXT, required=True)
    given = value.get("refund_amount")
    refund = None if given is None else _money(given, f"{field}.refund_amount", errors)
    path = f"{field}.refund_amount"
    if kind == "partial_refund":
        if given is None:
            errors.append(
                FieldError(path, "required", "部分退款须写明金额", "A partial refund needs its amount")
            )
        elif refund is not None and (refund <= 0 or (amount is not None and refund >= amount)):
            errors.append(
                FieldError(
                    path,
                    "range",
                    f"部分退款须大于0且小于交易金额{amount}",
                    f"A partial refund is more than 0 and less than the deal's amount {amount}",
                )
            )
    elif kind == "full_refund":
        if refund is not None and amount is not None and refund != amount:
            errors.append(
                FieldError(path, "range", "全额退款即交易金额", "A full refund is the deal's amount")
            )
        elif given is None and amount is None:
            errors.append(FieldError(path, "required", "须写明退款金额", "The refunded amount is required"))
        refund = amount if refund is None else refund
    elif kind is not None and refund is not None and refund != 0:
        errors.append(
            FieldError(path, "not_allowed", "该处理结果无退款", f"A {kind} outcome refunds nothing")
        )
    days = _redeliver_days(value, kind, field, errors)
    compensation = _compensation(value, kind, amount, field, errors)
    if kind is None or errors:
        return None
    outcome = {
        "kind": kind,
        "refund_amount": refund if refund is not None else Decimal("0.00"),
        "summary": summary,
        "against": AGAINST[kind],
        "redeliver_within_days": days,
    }
    return outcome | ({"compensation_amount": compensation} if kind == "compensation" else {})


def _compensation(
    value: dict, kind: str | None, amount: Decimal | None, field: str, errors: list[FieldError]
) -> Decimal | None:
    """What the buyer pays the provider (a `compensation` outcome only): more than 0, at most the deal's
    amount."""
    given = value.get("compensation_amount")
    path = f"{field}.compensation_amount"
    if kind != "compensation":
        if given is not None:
            errors.append(
                FieldError(path, "not_allowed", "仅买方赔偿有赔偿金额", "Only a compensation has it")
            )
        return None
    if given is None:
        errors.append(FieldError(path, "required", "须写明赔偿金额", "A compensation needs its amount"))
        return None
    paid = _money(given, path, errors)
    if paid is not None and (paid <= 0 or (amount is not None and paid > amount)):
        errors.append(
            FieldError(
                path,
                "range",
                f"赔偿金额须大于0且不超过交易金额{amount}",
                f"A compensation is more than 0 and at most the deal's amount {amount}",
            )
        )
    return paid


def _redeliver_days(value: dict, kind: str | None, field: str, errors: list[FieldError]) -> int | None:
    """A redelivery's days to deliver again: 1–90, 7 when absent; no other outcome has them."""
    given = value.get("redeliver_within_days")
    path = f"{field}.redeliver_within_days"
    if kind != "redelivery":
        if given is not None:
            errors.append(FieldError(path, "not_allowed", "仅重新交付有交付期限", "Only a redelivery has it"))
        return None
    if given is None:
        return REDELIVER_DAYS_DEFAULT
    if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= REDELIVER_DAYS_MAX:
        errors.append(
            FieldError(
                path,
                "range",
                f"须为1–{REDELIVER_DAYS_MAX}的整数",
                f"redeliver_within_days must be a whole number from 1 to {REDELIVER_DAYS_MAX}",
            )
        )
        return None
    return given


def outcome_clean(value: Any, *, amount: Decimal, field: str = "outcome") -> dict:
    """Validate a dispute's outcome `{"kind", "refund_amount"?, "summary", "redeliver_within_days"?}` against
    the deal's `amount`: dismissed and redelivery refund nothing (a redelivery has 1–90 days to deliver
    again, 7 by default), a partial refund is more than 0 and less than the amount, a full refund is the
    amount (filled in when absent). Returns it with `refund_amount` (Decimal), `redeliver_within_days` and
    `against` (the provider for a remedy, None when dismissed). Raises ValidationFailed."""
    errors: list[FieldError] = []
    outcome = _outcome(value, Decimal(str(amount)), field, errors)
    if errors or outcome is None:
        raise ValidationFailed(errors)
    return outcome


def _action_fields(data: dict, action: str, deal_amount: Decimal | None, errors: list[FieldError]) -> dict:
    if action == "file":
        claim = data.get("claim_amount")
        claim = None if claim is None else _money(claim, "claim_amount", errors)
        if claim is not None and deal_amount is not None and claim > deal_amount:
            errors.append(
                FieldError(
                    "claim_amount", "range", "索赔金额不能超过交易金额", "The claim exceeds the deal's amount"
                )
            )
        return {
            "category": _choice(data.get("category"), "category", "category", errors),
            "description": _text(
                data.get("description"), "description", errors, limit=MAX_TEXT, required=True
            ),
            "claim_amount": claim,
            "evidence": _evidence(data.get("evidence"), "evidence", errors),
        }
    if action == "statement":
        return {
            "text": _text(data.get("text"), "text", errors, limit=MAX_TEXT, required=True),
            "evidence": _evidence(data.get("evidence"), "evidence", errors),
        }
    if action == "message":
        return {"text": _text(data.get("text"), "text", errors, limit=MAX_TEXT, required=True)}
    if action in ("accept", "withdraw"):
        return {"reason": _text(data.get("reason"), "reason", errors, limit=MAX_SHORT, required=False)}
    if action == "escalate":
        return {
            "venue": _choice(data.get("venue"), "venue", "venue", errors),
            "reference": _text(
                data.get("reference"), "reference", errors, limit=MAX_REFERENCE, required=False
            ),
            "reason": _text(data.get("reason"), "reason", errors, limit=MAX_TEXT, required=False),
        }
    outcome = {"outcome": _outcome(data.get("outcome"), deal_amount, "outcome", errors)}
    if action == "ruling":  # the venue's decision, recorded by the coordinator: its case number
        reference = _text(data.get("reference"), "reference", errors, limit=MAX_REFERENCE, required=True)
        return outcome | {"reference": reference}
    return outcome  # resolve


def dispute_step_clean(value: Any, *, deal_amount: Decimal | None = None, field: str = "") -> dict:
    """Validate one dispute step (made here or from a peer): `action`, `role`, `at` (ISO 8601 with zone) and
    the action's own fields — file: category, description, claim_amount?, evidence?; statement: text,
    evidence?; message: text; accept, withdraw: reason?; escalate: venue (arbitration | court), reference?,
    reason?; resolve: outcome (`outcome_clean`); ruling: outcome and reference (the venue's case number).
    Other keys (a record's id, its owner) are ignored. Returns the cleaned step; raises ValidationFailed
    with field paths under `field`."""
    errors: list[FieldError] = []
    if not isinstance(value, dict):
        errors.append(FieldError("", "type", "纠纷步骤须为对象", "A dispute step must be an object"))
        value = {}
    action = _choice(value.get("action"), "action", "action", errors)
    step = {
        "action": action,
        "role": _choice(value.get("role"), "role", "role", errors),
        "at": _when(value.get("at"), "at", errors),
    }
    if action is not None:
        step |= _action_fields(value, action, deal_amount, errors)
    if errors:
        failed = ValidationFailed(errors)
        raise failed.prefixed(field) if field else failed
    return step
