"""The demand standard: what a demand holds and the rules it must meet, for demands posted here (API) and for
demands that arrive from peers (untrusted input). Vocabularies are the product descriptor standard's, so a
demand and a product speak the same terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from core.exceptions import FieldError, ValidationFailed
from standards.members import member_codes
from standards.naming_match import code_points, forbidden_terms_used, unreadable_characters
from standards.regions import region_is_valid
from standards.segmentation import segment_for_index
from standards.vocabularies import vocabulary_codes

TITLE_MIN, TITLE_MAX = 4, 80
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 4000
MAX_DEADLINE_DAYS = 366
MAX_BUDGET = Decimal("1000000000")

# What a demander can require of the products that answer it, checked against each product's compliance
# checklist (the descriptor standard's `compliance` section).
COMPLIANCE_REQUIREMENTS = {
    "no_personal_information": ("不含个人信息", "No personal information"),
    "personal_information_deidentified": ("个人信息须去标识化", "Personal information only de-identified"),
    "no_important_data": ("不涉及重要数据", "No important data"),
    "no_cross_border_transfer": ("数据不出境", "Data must not leave the country"),
    "security_assessment_passed": ("已通过安全评估", "Security assessment passed"),
    "source_legality_passed": ("来源合法性已核验", "Source legality verified"),
}


def _e(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _codes_list(value, field: str, allowed: frozenset[str], *, required: bool, limit: int = 20):
    errors = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > limit:
        return [], [
            _e(field, "type", f"须为最多{limit}项的字符串列表", f"Must be a list of at most {limit} strings")
        ]
    for i, v in enumerate(value):
        if v not in allowed:
            errors.append(_e(f"{field}.{i}", "invalid_choice", f"未知的取值：{v}", f"Unknown value {v!r}"))
    if required and not value:
        errors.append(_e(field, "required", "至少一项", "At least one value is required"))
    return list(dict.fromkeys(value)), errors


def _date(value, field: str) -> tuple[dt.date | None, list[FieldError]]:
    if value is None:
        return None, []
    if isinstance(value, dt.date):
        return value, []
    try:
        return dt.date.fromisoformat(value), []
    except (TypeError, ValueError):
        return None, [_e(field, "format", "日期格式应为 YYYY-MM-DD", "Must be a date YYYY-MM-DD")]


def _money(value, field: str) -> tuple[Decimal | None, list[FieldError]]:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None, [_e(field, "type", "须为数字", "Must be a number")]
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None, [_e(field, "type", "须为数字", "Must be a number")]
    if (
        not amount.is_finite()
        or amount < 0
        or amount > MAX_BUDGET
        or amount != amount.quantize(Decimal("0.01"))
    ):
        return None, [
            _e(
                field,
                "range",
                "金额须在 0 到 10 亿元之间，最多两位小数",
                "Between 0 and 1e9 CNY, two decimals at most",
            )
        ]
    return amount, []


def title_errors(title: str, field: str = "title") -> list[FieldError]:
    if not isinstance(title, str) or not TITLE_MIN <= len(title.strip()) <= TITLE_MAX:
        return [
            _e(
                field,
                "length",
                f"标题须为{TITLE_MIN}–{TITLE_MAX}个字符",
                f"{TITLE_MIN} to {TITLE_MAX} characters",
            )
        ]
    errors = []
    unreadable = unreadable_characters(title)
    if unreadable:
        shown = code_points(unreadable)
        errors.append(
            _e(
                field,
                "naming.characters",
                f"标题含有未分配、私用或代理码位 {shown}（命名规则）",
                f"The title has unassigned, private-use or surrogate code points (no characters): {shown}",
            )
        )
    used = forbidden_terms_used(title)  # read as the naming rule reads names: 全 网, 惟一, ＮＯ．１ count
    if used:
        errors.append(
            _e(
                field,
                "naming.forbidden_term",
                f"标题含有禁用词：{'、'.join(match.shown for match in used)}（命名规则）",
                f"The title uses forbidden terms of the naming rule: {'、'.join(m.shown_en for m in used)}",
            )
        )
    return errors


def demand_clean(data: dict, *, now: dt.datetime | None, reach_known: bool = True) -> dict:
    """Validate a demand's content; returns the cleaned fields. `now` set: the deadline must lie ahead (a
    demand posted here); None: any deadline (a demand from a peer, maybe already expired). Raises
    ValidationFailed listing every broken rule."""
    errors: list[FieldError] = []
    clean: dict = {}
    _content(data, clean, errors)
    _coverage(data, clean, errors)
    _budget(data, clean, errors)
    _deadline(data, now, clean, errors)
    _lists(data, reach_known, clean, errors)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _content(data: dict, clean: dict, errors: list[FieldError]) -> None:
    title = data.get("title")
    errors.extend(title_errors(title))
    clean["title"] = title.strip() if isinstance(title, str) else ""
    description = data.get("description")
    if not isinstance(description, str) or not DESCRIPTION_MIN <= len(description.strip()) <= DESCRIPTION_MAX:
        errors.append(
            _e(
                "description",
                "length",
                f"描述须为{DESCRIPTION_MIN}–{DESCRIPTION_MAX}个字符",
                f"{DESCRIPTION_MIN} to {DESCRIPTION_MAX} characters",
            )
        )
    else:
        clean["description"] = description.strip()
    industry = data.get("industry") or ""
    if industry and (not isinstance(industry, str) or industry not in vocabulary_codes("industry")):
        errors.append(_e("industry", "invalid_choice", "未知的行业门类", "Unknown GB/T 4754 section"))
    clean["industry"] = industry
    clean["product_forms"], e = _codes_list(
        data.get("product_forms", []), "product_forms", vocabulary_codes("product_form"), required=True
    )
    errors.extend(e)


def _coverage(data: dict, clean: dict, errors: list[FieldError]) -> None:
    coverage = data.get("spatial_coverage", [])
    if not isinstance(coverage, list) or not coverage or len(coverage) > 50:
        errors.append(_e("spatial_coverage", "type", "须为1–50个行政区划代码", "1 to 50 GB/T 2260 codes"))
    else:
        for i, code in enumerate(coverage):
            if not region_is_valid(code):
                errors.append(
                    _e(
                        f"spatial_coverage.{i}",
                        "region.unknown",
                        "未知的行政区划代码",
                        f"{code!r} is not GB/T 2260",
                    )
                )
        if all(isinstance(code, str) for code in coverage):  # an object in the list is an error above
            clean["spatial_coverage"] = list(dict.fromkeys(coverage))
    temporal = data.get("temporal_coverage") or {}
    if not isinstance(temporal, dict) or set(temporal) - {"start", "end"}:
        errors.append(
            _e("temporal_coverage", "type", "须为含 start、end 的对象", "An object with start and end")
        )
    else:
        start, e1 = _date(temporal.get("start"), "temporal_coverage.start")
        end, e2 = _date(temporal.get("end"), "temporal_coverage.end")
        errors += e1 + e2
        if start and end and start > end:
            errors.append(_e("temporal_coverage.end", "order", "结束早于开始", "end is before start"))
        clean["temporal_start"], clean["temporal_end"] = start, end
    frequency = data.get("update_frequency") or ""
    if frequency and (
        not isinstance(frequency, str) or frequency not in vocabulary_codes("update_frequency")
    ):
        errors.append(_e("update_frequency", "invalid_choice", "未知的更新频率", "Unknown update frequency"))
    clean["update_frequency"] = frequency


def _budget(data: dict, clean: dict, errors: list[FieldError]) -> None:
    budget = data.get("budget")
    if (
        not isinstance(budget, dict)
        or set(budget) - {"min", "max", "currency"}
        or not {"min", "max"} <= set(budget)
    ):
        errors.append(_e("budget", "type", "须为含 min、max 的对象", "An object with min and max (CNY)"))
    else:
        low, e1 = _money(budget["min"], "budget.min")
        high, e2 = _money(budget["max"], "budget.max")
        errors += e1 + e2
        if budget.get("currency", "CNY") != "CNY":
            errors.append(_e("budget.currency", "invalid_choice", "币种须为 CNY", "currency must be CNY"))
        if low is not None and high is not None and low > high:
            errors.append(_e("budget.max", "order", "预算上限低于下限", "budget.max is below budget.min"))
        clean["budget_min"], clean["budget_max"] = low, high


def _deadline(data: dict, now: dt.datetime | None, clean: dict, errors: list[FieldError]) -> None:
    deadline = data.get("deadline")
    if isinstance(deadline, str):
        try:
            deadline = dt.datetime.fromisoformat(deadline)
        except ValueError:
            deadline = None
    if not isinstance(deadline, dt.datetime) or deadline.tzinfo is None:
        errors.append(
            _e("deadline", "format", "截止时间须为带时区的 ISO 8601 时间", "An ISO 8601 time with zone")
        )
    elif now is not None and deadline <= now:
        errors.append(_e("deadline", "past", "截止时间已过", "The deadline is in the past"))
    elif now is not None and deadline > now + dt.timedelta(days=MAX_DEADLINE_DAYS):
        errors.append(_e("deadline", "too_far", "截止时间最长一年", "The deadline is at most a year ahead"))
    clean["deadline"] = deadline


def _lists(data: dict, reach_known: bool, clean: dict, errors: list[FieldError]) -> None:
    clean["delivery_methods"], e = _codes_list(
        data.get("delivery_methods", []),
        "delivery_methods",
        vocabulary_codes("delivery_method"),
        required=False,
    )
    errors.extend(e)
    clean["compliance_requirements"], e = _codes_list(
        data.get("compliance_requirements", []),
        "compliance_requirements",
        frozenset(COMPLIANCE_REQUIREMENTS),
        required=False,
    )
    errors.extend(e)
    reach = data.get("reach", [])
    clean["reach"], e = _codes_list(
        reach,
        "reach",
        member_codes() if reach_known else frozenset(reach or []),
        required=False,
        limit=24,
    )
    errors.extend(e)


# --- Responses --------------------------------------------------------------------------------------------
RESPONSE_KINDS = frozenset({"offer", "proposal"})
MAX_PRODUCTS = 20
MAX_PROPOSAL = 4000
MAX_MESSAGE = 2000
MIN_PROPOSAL = 10
MAX_DELIVERY_DAYS = 3650


def response_clean(data: dict) -> dict:
    """Validate a response's terms: an offer of at most 20 product codes or a proposal of at least 10
    characters, a price in CNY from 0 to 1e9 with at most two decimals, delivery in 1 to 3650 days and a
    message of at most 2000 characters. The same for a response made here and one from a peer; whether the
    products offered are the responder's listed ones is checked where it is made. Raises ValidationFailed
    listing every broken rule."""
    errors: list[FieldError] = []
    kind = data.get("kind")
    if kind not in RESPONSE_KINDS:
        errors.append(_e("kind", "invalid_choice", "类型须为 offer 或 proposal", "kind is offer or proposal"))
    products = data.get("products") or []
    if (
        not isinstance(products, list)
        or len(products) > MAX_PRODUCTS
        or not all(isinstance(c, str) and len(c) <= 40 for c in products)
    ):
        errors.append(_e("products", "type", "最多20个产品编码", "At most 20 product codes"))
        products = []
    if kind == "offer" and not products:
        errors.append(_e("products", "required", "报价须列出产品", "An offer names listed products"))
    proposal = data.get("proposal") or ""
    if not isinstance(proposal, str) or len(proposal) > MAX_PROPOSAL:
        errors.append(_e("proposal", "max_length", "最多4000字", "At most 4000 characters"))
    elif kind == "proposal" and len(proposal.strip()) < MIN_PROPOSAL:
        errors.append(
            _e("proposal", "required", "方案须至少10个字", "A proposal needs at least 10 characters")
        )
    price, price_errors = _money(data.get("price"), "price")
    if price_errors:
        errors.append(
            _e("price", "range", "价格须为0到10亿元、最多两位小数", "price is 0 to 1e9 CNY, two decimals")
        )
    days = data.get("delivery_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DELIVERY_DAYS:
        errors.append(_e("delivery_days", "range", "交付天数须为1–3650", "delivery_days is 1 to 3650"))
    message = data.get("message") or ""
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        errors.append(
            _e("message", "max_length", f"最多{MAX_MESSAGE}字", f"At most {MAX_MESSAGE} characters")
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "kind": kind,
        "products": list(dict.fromkeys(products)),
        "proposal": proposal,
        "price": price,
        "delivery_days": days,
        "message": message,
    }


def demand_search_text(title: str, description: str) -> str:
    """The segmented text a demand is found and matched by."""
    return segment_for_index(f"{title} {description}")
