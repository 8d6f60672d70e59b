"""The deal standard's rules for what a deal's order and each of its steps carry (docs/deals.md), for steps
taken here (API) and steps that arrive from peers (untrusted input) alike. Pure: no database, no clock.

`order_clean(request)` checks an order's request; `step_body_clean(kind, body)` the body of a step of `kind`.
Both return the cleaned value and raise ValidationFailed naming every broken rule. Who may take a step, and
when, is the flow's rule (`standards.deal_flow`); what a step means is the flow's too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from core.exceptions import FieldError, ValidationFailed
from standards.deal_delivery import delivery_clean, receipt_clean
from standards.deal_fields import MAX_TEXT, SHA256
from standards.deal_fields import choice as _choice
from standards.deal_fields import e as _e
from standards.deal_fields import exact as _exact
from standards.deal_fields import text as _text
from standards.deal_fields import whole as _whole
from standards.members import member_codes
from standards.usage_policy import policy_clean
from standards.vocabularies import vocabulary_codes

KINDS = (
    "offer",
    "counter",
    "accept",
    "cancel",
    "terminate",
    "compliance",
    "delivery",
    "receipt",
    "acceptance",
    "auto_accept",
    "settlement",
    "evaluation",
    "outcome",
)
ROLES = ("buyer", "provider", "coordinator")
CURRENCIES = frozenset({"CNY"})
MAX_REASON = 500
MAX_PRICE = Decimal("1000000000")
MAX_DELIVERY_DAYS = 365
MAX_RESPONSE_DAYS = 3650  # a demand response's delivery days (standards.demand)
MAX_WINDOW_HOURS = 24 * 90
MAX_REDELIVER_DAYS = 90  # a redelivery outcome's new delivery deadline, in days after the outcome
# The dispute resolutions that move a rejected deal, and (deal flow 1.2) `withdrawn`: the buyer withdrew its
# dispute, so the delivery counts as accepted.
OUTCOME_KINDS = frozenset({"dismissed", "redelivery", "partial_refund", "full_refund", "withdrawn"})

_B64_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")
_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
_EVALUATION_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
_MONEY = re.compile(r"\d{1,12}(\.\d{1,2})?")


def money(value: Any, field: str, errors: list) -> str:
    """An amount as an exact decimal string with two places ("20000.00"): no floats in signed JSON."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _MONEY.fullmatch(text):
        errors.append(
            _e(field, "format", "金额须为最多两位小数的非负数", f'{field} must be an amount like "1200.50"')
        )
        return "0.00"
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        amount = MAX_PRICE + 1
    if amount > MAX_PRICE:
        errors.append(_e(field, "range", "金额过大", f"{field} is too large"))
    return f"{amount:.2f}"


def usage_policy_clean(value: Any, field: str = "usage_policy") -> dict:
    """The one place deals check a usage policy: the usage policy standard (`standards.usage_policy`)."""
    return policy_clean(value, field=field)


def _policy(body: dict, errors: list, field: str = "usage_policy") -> dict:
    try:
        return usage_policy_clean(body.get(field), field)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        return {}


def _response_terms(value: Any, errors: list) -> dict:
    """The terms of the demand response an order took up, as the ordering node read them: its price and
    delivery days (the provider's first offer keeps to them)."""
    sub: list[FieldError] = []
    value = _exact(value, {"price", "delivery_days"}, sub)
    terms = {
        "price": money(value.get("price"), "price", sub),
        "delivery_days": _whole(value, "delivery_days", 1, MAX_RESPONSE_DAYS, sub),
    }
    errors.extend(error.prefixed("response_terms") for error in sub)
    return terms


def order_clean(request: Any) -> dict:
    """An order's request: its purpose in words, the usage policy asked for (its constraints say the
    purposes, territory, duration and users), the delivery method, and optionally the demand response whose
    terms it takes up and (written by the ordering node, never by the buyer) those terms."""
    errors: list[FieldError] = []
    names = {"purpose", "usage_policy", "delivery_method"}
    request = _exact(request, names, errors, optional=frozenset({"demand_response", "response_terms"}))
    if errors:
        raise ValidationFailed(errors)
    clean = {
        "purpose": _text(request, "purpose", errors, required=True),
        "usage_policy": _policy(request, errors),
        "delivery_method": _choice(request, "delivery_method", vocabulary_codes("delivery_method"), errors),
        "demand_response": None,
    }
    response = request.get("demand_response")
    if response is not None:
        if not isinstance(response, str) or not _GID.fullmatch(response):
            errors.append(_e("demand_response", "format", "须为需求响应编号", "Must be a demand response id"))
        clean["demand_response"] = response
    if "response_terms" in request:
        if response is None:
            errors.append(
                _e("response_terms", "mismatch", "仅随需求响应编号出现", "Only with a demand_response")
            )
        clean["response_terms"] = _response_terms(request["response_terms"], errors)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _fees(value: Any, errors: list) -> list[dict]:
    """The exchanges' fee rates an offer carries (basis points), as the provider's node knew them."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        errors.append(_e("fees", "type", "须为1–4项的费率列表", "fees must be a list of 1 to 4 rates"))
        return []
    fees = []
    for i, fee in enumerate(value):
        if not isinstance(fee, dict) or set(fee) != {"exchange", "basis", "bp"}:
            errors.append(_e(f"fees.{i}", "type", "须含 exchange、basis、bp", "exchange, basis and bp"))
            continue
        sub: list[FieldError] = []
        if fee["exchange"] not in member_codes():
            sub.append(_e(f"fees.{i}.exchange", "unknown", "不是成员交易所", "Not a member exchange"))
        if fee["basis"] not in {"listing", "buyer"}:
            sub.append(_e(f"fees.{i}.basis", "invalid_choice", "须为 listing 或 buyer", "listing or buyer"))
        bp = fee["bp"]
        if isinstance(bp, bool) or not isinstance(bp, int) or not 0 <= bp <= 10000:
            sub.append(_e(f"fees.{i}.bp", "range", "须为0–10000的基点", "bp: 0 to 10000 basis points"))
        errors.extend(sub)
        if not sub:
            fees.append({"exchange": fee["exchange"], "basis": fee["basis"], "bp": bp})
    return fees


def _offer(body: dict, errors: list) -> dict:
    names = {
        "price",
        "currency",
        "usage_policy",
        "delivery_method",
        "delivery_days",
        "acceptance_window_hours",
    }
    body = _exact(body, names | {"fees", "message"}, errors)
    if not body:
        return {}
    return {
        "price": money(body.get("price"), "price", errors),
        "currency": _choice(body, "currency", CURRENCIES, errors),
        "usage_policy": _policy(body, errors),
        "delivery_method": _choice(body, "delivery_method", vocabulary_codes("delivery_method"), errors),
        "delivery_days": _whole(body, "delivery_days", 1, MAX_DELIVERY_DAYS, errors),
        "acceptance_window_hours": _whole(body, "acceptance_window_hours", 1, MAX_WINDOW_HOURS, errors),
        "fees": _fees(body.get("fees"), errors),
        "message": _text(body, "message", errors),
    }


def _accept(body: dict, errors: list) -> dict:
    body = _exact(body, {"contract_sha256", "signature"}, errors)
    digest, signature = body.get("contract_sha256"), body.get("signature")
    if not isinstance(digest, str) or not SHA256.fullmatch(digest):
        errors.append(_e("contract_sha256", "format", "须为合同的SHA-256", "The contract's SHA-256 (hex)"))
    if not isinstance(signature, str) or not _B64_SIGNATURE.fullmatch(signature):
        errors.append(_e("signature", "format", "须为Ed25519签名（Base64）", "An Ed25519 signature (base64)"))
    return {"contract_sha256": digest, "signature": signature}


def _reason(body: dict, errors: list) -> dict:
    body = _exact(body, {"reason"}, errors)
    return {"reason": _text(body, "reason", errors, required=True, limit=MAX_REASON)}


def _compliance(body: dict, errors: list) -> dict:
    body = _exact(body, {"passed", "rules"}, errors)
    rules = body.get("rules")
    if not isinstance(rules, list) or not rules or len(rules) > 50:
        errors.append(_e("rules", "type", "须为检查规则列表", "rules must be a list of checked rules"))
        return {"passed": False, "rules": []}
    clean = []
    for i, rule in enumerate(rules):
        if (
            not isinstance(rule, dict)
            or set(rule) != {"code", "passed", "reason", "reason_en"}
            or not isinstance(rule["code"], str)
            or not isinstance(rule["passed"], bool)
            or not all(isinstance(rule[k], str) and len(rule[k]) <= MAX_TEXT for k in ("reason", "reason_en"))
        ):
            errors.append(_e(f"rules.{i}", "type", "规则须含 code、passed、reason", "code, passed, reasons"))
            continue
        clean.append({k: rule[k] for k in ("code", "passed", "reason", "reason_en")})
    passed = all(rule["passed"] for rule in clean)
    if body.get("passed") is not passed:
        errors.append(_e("passed", "mismatch", "结论须与各项规则一致", "passed must agree with the rules"))
    return {"passed": passed, "rules": clean}


def _acceptance(body: dict, errors: list) -> dict:
    body = _exact(body, {"result", "reason"}, errors)
    result = _choice(body, "result", {"accepted", "rejected"}, errors)
    reason = _text(body, "reason", errors, required=result == "rejected", limit=MAX_REASON)
    return {"result": result, "reason": reason}


def _settlement(body: dict, errors: list) -> dict:
    body = _exact(body, {"amount", "currency", "fees"}, errors)
    fees = body.get("fees")
    clean_fees = []
    if not isinstance(fees, list) or len(fees) > 4:
        errors.append(_e("fees", "type", "须为费用列表", "fees must be a list"))
    else:
        for i, fee in enumerate(fees):
            if not isinstance(fee, dict) or set(fee) != {"exchange", "basis", "bp", "amount"}:
                errors.append(_e(f"fees.{i}", "type", "费用项格式不符", "exchange, basis, bp, amount"))
                continue
            sub: list[FieldError] = []
            rate = _fees([{k: fee[k] for k in ("exchange", "basis", "bp")}], sub)
            errors.extend(e.prefixed(f"fees.{i}") for e in sub)
            if rate:
                clean_fees.append({**rate[0], "amount": money(fee["amount"], f"fees.{i}.amount", errors)})
    return {
        "amount": money(body.get("amount"), "amount", errors),
        "currency": _choice(body, "currency", CURRENCIES, errors),
        "fees": clean_fees,
    }


def _evaluation(body: dict, errors: list) -> dict:
    body = _exact(body, {"evaluation"}, errors)
    gid = body.get("evaluation")
    if not isinstance(gid, str) or not _EVALUATION_GID.fullmatch(gid):
        errors.append(_e("evaluation", "format", "须为评价编号", "Must be an evaluation id"))
    return {"evaluation": gid}


def _outcome(body: dict, errors: list) -> dict:
    """The outcome of the dispute (its gid) that resolved a rejected deal: its kind, the refund, and for a
    redelivery the days (1–90) the provider has to deliver again."""
    body = _exact(body, {"dispute", "kind", "refund_amount", "redeliver_within_days"}, errors)
    dispute = body.get("dispute")
    if not isinstance(dispute, str) or not _GID.fullmatch(dispute):
        errors.append(_e("dispute", "format", "须为纠纷编号", "Must be a dispute id"))
    kind = _choice(body, "kind", OUTCOME_KINDS, errors)
    days = body.get("redeliver_within_days")
    if kind == "redelivery":
        days = _whole(body, "redeliver_within_days", 1, MAX_REDELIVER_DAYS, errors)
    elif days is not None:
        errors.append(_e("redeliver_within_days", "not_allowed", "仅重新交付有此期限", "Only for redelivery"))
    return {
        "dispute": dispute,
        "kind": kind,
        "refund_amount": money(body.get("refund_amount"), "refund_amount", errors),
        "redeliver_within_days": days,
    }


def _empty(body: dict, errors: list) -> dict:
    _exact(body, set(), errors)
    return {}


_CLEANERS = {
    "offer": _offer,
    "counter": _offer,
    "accept": _accept,
    "cancel": _reason,
    "terminate": _reason,
    "compliance": _compliance,
    "delivery": delivery_clean,
    "receipt": receipt_clean,
    "acceptance": _acceptance,
    "auto_accept": _empty,
    "settlement": _settlement,
    "evaluation": _evaluation,
    "outcome": _outcome,
}


def step_body_clean(kind: str, body: Any) -> dict:
    """The body of a step of `kind`, cleaned; ValidationFailed naming every rule (fields of the body)."""
    cleaner = _CLEANERS.get(kind)
    if cleaner is None:
        raise ValidationFailed(
            [_e("kind", "invalid_choice", "未知的步骤类型", f"Unknown step kind {kind!r}")]
        )
    errors: list[FieldError] = []
    clean = cleaner(body, errors)
    if errors:
        raise ValidationFailed(errors)
    return clean
