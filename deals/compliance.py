"""The compliance check before delivery (交付前合规核验), run by the coordinating exchange's node (the
product's exchange) when a deal is agreed; its result is a `compliance` step. Each rule has a code and a
bilingual reason; the deal is cleared only when every rule passes (docs/deals.md, "Compliance check")."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from core.exceptions import Conflict
from deals.models import Deal, DealStep
from deals.selectors import deal_derive
from deals.services import deal_step_check, deal_step_take
from participants.models import Participant, ParticipantStatus
from products.models import Product, ProductStatus, Recognition, RecognitionStatus
from products.verdicts import verdicts_of
from standards.deal_compliance import data_level, level_breaches
from standards.deal_flow import AGREED, COMPLIANCE_FAILED
from standards.usage_policy import policy_clean, policy_from_descriptor, policy_within


def _rule(code: str, passed: bool, zh: str, en: str) -> dict:
    return {"code": code, "passed": passed, "reason": zh, "reason_en": en}


def _party(code: str, uscc: str, home: str, zh: str, en: str) -> dict:
    row = Participant.objects.filter(participant_id=uscc, home_id=home).first()
    ok = row is not None and row.status == ParticipantStatus.VERIFIED and not row.duplicate_of
    if ok:
        return _rule(code, True, f"{zh}已核验且未暂停", f"The {en} is verified and not suspended")
    status = row.status if row is not None else "unknown"
    return _rule(code, False, f"{zh}未核验、已暂停或不明（{status}）", f"The {en} is not verified ({status})")


def _recognised(deal: Deal, product: Product | None) -> dict:
    if product is not None and deal.buyer_home == product.exchange_id:
        return _rule("recognised", True, "产品挂牌于需方所在交易所", "Listed at the buyer's own exchange")
    if product is not None:  # its record, else the verdict this node computes (products.verdicts)
        verdict = verdicts_of([product])[product.code].get(deal.buyer_home)
        status = verdict.status if verdict is not None else None
    else:
        status = (
            Recognition.objects.filter(product_code=deal.product_code, exchange_id=deal.buyer_home)
            .values_list("status", flat=True)
            .first()
        )
    if status == RecognitionStatus.RECOGNISED:
        return _rule(
            "recognised", True, f"{deal.buyer_home} 已互认该产品", f"Recognised by {deal.buyer_home}"
        )
    return _rule(
        "recognised",
        False,
        f"需方所在交易所 {deal.buyer_home} 未互认该产品（{status or '无结论'}）",
        f"The buyer's exchange {deal.buyer_home} does not recognise the product ({status or 'no decision'})",
    )


def _use_rules(deal: Deal, product: Product | None, offered: dict) -> list[dict]:
    """The requested use (the order's usage policy) within the agreed offer's policy, and within what the
    product allows by its own declarations (`policy_from_descriptor`: no cross-border transfer unless
    declared and assessed, personal information only de-identified): one failing rule per breach."""
    requested = deal.request["usage_policy"]
    allowed = policy_from_descriptor(product.descriptor if product is not None else {})
    breaches = [
        *policy_within(requested, offered, field="order.usage_policy"),
        *policy_within(requested, allowed, field="order.usage_policy"),
    ]
    if not breaches:
        return [
            _rule("usage_policy", True, "申请的使用在许可范围内", "The requested use is within the policy")
        ]
    seen, rules = set(), []
    for _field, code, zh, en in breaches:
        if (code, zh) not in seen:
            seen.add((code, zh))
            rules.append(_rule(code, False, zh, en))
    return rules


_LEVELS = {
    None: ("未声明数据级别", "No data level is declared"),
    "general": ("一般数据", "General data"),
    "important": (
        "重要数据：以数据沙箱或接口交付，仅在境内使用",
        "Important data: sandbox or api, mainland only",
    ),
}


def _level_rules(deal: Deal, product: Product | None, agreed: dict) -> list[dict]:
    """The data level (数据分类分级) of the product against the agreed delivery method and both the requested
    and the agreed use: core data never traded, important data only by sandbox or api and never abroad."""
    descriptor = product.descriptor if product is not None else {}
    breaches = []
    for policy, field in (
        (deal.request["usage_policy"], "order.usage_policy"),
        (agreed["usage_policy"], "usage_policy"),
    ):
        breaches += level_breaches(
            descriptor,
            method=agreed["delivery_method"],
            policy=policy_clean(policy, field=field),
            method_field="delivery_method",
            policy_field=field,
        )
    if not breaches:
        zh, en = _LEVELS[data_level(descriptor) if data_level(descriptor) in _LEVELS else None]
        return [
            _rule("data_level", True, f"数据级别允许此交易（{zh}）", f"The data level allows the deal ({en})")
        ]
    codes = dict.fromkeys((code, zh, en) for _field, code, zh, en in breaches)
    return [_rule(code, False, zh, en) for code, zh, en in codes]


def compliance_body(deal: Deal) -> dict:
    product = Product.objects.filter(code=deal.product_code).first()
    agreed = deal_derive(deal).agreed_offer
    offered = agreed["usage_policy"]
    listed = product is not None and product.status == ProductStatus.LISTED
    rules = [
        _party("buyer_verified", deal.buyer_id, deal.buyer_home, "需方", "buyer"),
        _party("provider_verified", deal.provider_id, deal.provider_home, "供方", "provider"),
        _rule(
            "product_listed",
            listed,
            "产品在架" if listed else "产品未上架或已暂停",
            "The product is listed" if listed else "The product is not listed",
        ),
        _recognised(deal, product),
        *_use_rules(deal, product, offered),
        *_level_rules(deal, product, agreed),
    ]
    return {"passed": all(r["passed"] for r in rules), "rules": rules}


def deal_compliance_run(gid: str) -> bool:
    """Check an agreed deal whose coordinator this node is; True if a compliance step was written.
    Idempotent: a deal no longer agreed (checked already) is left alone."""
    with transaction.atomic():
        deal = Deal.objects.select_for_update().filter(gid=gid).first()
        if deal is None or deal_derive(deal).state != AGREED:
            return False
        deal_step_take(actor=None, deal=deal, kind="compliance", body=compliance_body(deal))
    return True


@transaction.atomic
def deal_compliance_recheck(*, actor, deal: Deal) -> DealStep:
    """An operator of the coordinating exchange runs the check again on a deal that failed it (after a party
    was verified, or a recognition arrived): a new `compliance` step. Refused (403) to anyone else or at
    another node, and (409) in any other state — while the deal is agreed, the node runs the check itself."""
    _role, deal, _steps, derived = deal_step_check(actor=actor, deal=deal, kind="compliance")
    if derived.state != COMPLIANCE_FAILED:
        raise Conflict(
            message="合规核验正在由节点进行，仅可在核验未通过后重新核验",
            message_en="The node is checking the deal: a check is run again only after one failed",
            code="check_pending",
            extra={"state": derived.state},
        )
    return deal_step_take(actor=actor, deal=deal, kind="compliance", body=compliance_body(deal))


def deals_compliance_due(*, limit: int = 200) -> list[str]:
    """Agreed deals this node coordinates that wait for their check (a lost task costs a minute)."""
    due = Deal.objects.filter(product_exchange=settings.NODE_CODE, state=AGREED)
    return list(due.values_list("gid", flat=True)[:limit])
