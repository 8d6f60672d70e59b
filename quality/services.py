"""Writes of quality assessment: a report issued at this node (its assessor's home), its withdrawal by its
issuer, this exchange's recognition policy, and the upkeep of what depends on which reports are valid (the
products' `quality_grade` column, this node's recognitions)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.queue import enqueue_on_commit
from exchanges.models import Exchange
from federation.generation import generation_bump
from participants.permissions import is_home_operator
from participants.principal import ParticipantPrincipal
from participants.selectors import participant_get
from products.models import Product, ProductStatus
from products.recognition import recognitions_redecide
from quality.models import QualityReport, RecognitionPolicy, ReportStatus
from quality.replicas import MAX_REASON, QUALITY_REPORT, RECOGNITION_POLICY
from quality.selectors import assessor_problem, reports_of, reports_valid
from standards.quality import report_clean


def _forbidden(code: str, zh: str, en: str, **extra) -> Forbidden:
    return Forbidden(message=zh, message_en=en, code=code, extra=extra)


def _assessor(actor: Any) -> tuple[str, str, str]:
    """(assessor_type, assessor_id, assessor_name) of who may issue a report here; else 403."""
    if isinstance(actor, User) and is_home_operator(actor):
        exchange = Exchange.objects.get(pk=settings.NODE_CODE)
        return QualityReport.AssessorType.EXCHANGE, exchange.pk, exchange.name_zh
    if isinstance(actor, ParticipantPrincipal):
        if actor.home != settings.NODE_CODE:
            raise _forbidden(
                "not_home",
                f"质量评估报告须在评估机构的登记交易所 {actor.home} 的节点出具",
                f"A report is issued at the assessor's home node, {actor.home}",
                home_exchange=actor.home,
            )
        problem = assessor_problem(participant_get(actor.participant_id, home=settings.NODE_CODE))
        if problem is not None:
            raise _forbidden(
                "assessor_unqualified",
                "只有已核验、提供“质量评估”服务的第三方专业服务机构可以出具质量评估报告",
                "Only a verified third-party service provider offering quality_assessment issues reports",
                rule=problem,
            )
        return QualityReport.AssessorType.PARTICIPANT, actor.participant_id, actor.legal_name
    raise _forbidden(
        "assessor_role",
        "只有交易所运营人员或第三方专业服务机构可以出具质量评估报告",
        "Only exchange operators and third-party service providers issue quality reports",
    )


def _product(code: str, actor: Any) -> Product:
    product = Product.objects.filter(code=code).only("code", "version", "status", "provider_uscc").first()
    if product is None:
        raise NotFound(
            message=f"本节点不知道产品 {code}",
            message_en=f"No product {code} is known here",
            code="unknown_product",
        )
    if product.status != ProductStatus.LISTED:
        raise ValidationFailed(
            [FieldError("product", "not_listed", "只能评估已上架的产品", "Only a listed product is assessed")]
        )
    if isinstance(actor, ParticipantPrincipal) and actor.participant_id == product.provider_uscc:
        raise _forbidden("self_assessment", "不能评估自己的产品", "A provider cannot assess its own product")
    return product


def _issue_rules(clean: dict, product: Product, product_version: Any) -> int:
    """This node's rules for a report it issues now; returns the product version assessed."""
    today = timezone.localdate()
    errors = []
    if clean["assessed_at"] > today:
        errors.append(
            FieldError("assessed_at", "future", "评估日期不能晚于今天", "assessed_at is in the future")
        )
    if clean["valid_until"] < today:
        errors.append(FieldError("valid_until", "past", "有效期已结束", "valid_until is in the past"))
    if product_version is None:
        product_version = product.version
    if not 1 <= product_version <= product.version:
        errors.append(
            FieldError(
                "product_version",
                "unknown",
                f"产品没有第{product_version}版",
                f"The product has no version {product_version} (latest: {product.version})",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return product_version


@transaction.atomic
def report_issue(*, actor: Any, product_code: str, data: dict) -> QualityReport:
    """A qualified assessor at its home node, or an operator of this node's exchange, reports on the quality
    of a listed product version known here."""
    clean = report_clean(data)
    assessor_type, assessor_id, assessor_name = _assessor(actor)
    product = _product(product_code.upper(), actor)
    product_version = _issue_rules(clean, product, data.get("product_version"))
    report = QualityReport.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        product_code=product.code,
        product_version=product_version,
        assessor_type=assessor_type,
        assessor_id=assessor_id,
        assessor_name=assessor_name,
        issued_at=timezone.now(),
        **clean,
    )
    QUALITY_REPORT.publish([report])
    reports_changed([product.code])
    return report


@transaction.atomic
def report_withdraw(*, actor: Any, report: QualityReport, reason: str) -> QualityReport:
    """Its issuer withdraws a report, at the node that owns it: a new version with status withdrawn."""
    if report.origin != settings.NODE_CODE:
        raise _forbidden(
            "not_owner",
            f"该报告由 {report.origin} 出具，只能在该节点撤回",
            f"This report was issued at {report.origin}; only that node withdraws it",
            node=report.origin,
        )
    if report.assessor_type == QualityReport.AssessorType.EXCHANGE:
        allowed = isinstance(actor, User) and is_home_operator(actor)
    else:
        allowed = isinstance(actor, ParticipantPrincipal) and (actor.participant_id, actor.home) == (
            report.assessor_id,
            report.origin,
        )
    if not allowed:
        raise _forbidden("not_issuer", "只有出具方可以撤回质量评估报告", "Only the issuer withdraws a report")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailed(
            [
                FieldError(
                    "reason", "required", "撤回须说明理由（最多500字）", "A withdrawal needs a reason (≤ 500)"
                )
            ]
        )
    report = QualityReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.WITHDRAWN:
        raise Conflict(
            message="该报告已撤回", message_en="The report is already withdrawn", code="already_withdrawn"
        )
    report.status, report.withdrawn_reason = ReportStatus.WITHDRAWN, reason
    report.version += 1
    report.save()
    QUALITY_REPORT.publish([report])
    reports_changed([report.product_code])
    return report


@transaction.atomic
def grades_refresh(product_codes: Iterable[str], *, today: dt.date | None = None) -> None:
    """Set each product's `quality_grade` to the best grade of its valid reports ("" if none), and mark
    which reports count (the expiry sweep's bookkeeping)."""
    codes = sorted(set(product_codes))
    if not codes:
        return
    # One refresh of a product at a time (an issue here and a peer's report applied at once): the later one
    # waits, then reads the reports the earlier committed.
    list(
        Product.objects.select_for_update()
        .filter(code__any=codes)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    valid = reports_valid(codes, today=today)
    counted = {r.pk for rows in valid.values() for r in rows}
    for report in reports_of(codes).only("pk", "counted"):
        if report.counted != (report.pk in counted):
            QualityReport.objects.filter(pk=report.pk).update(counted=report.pk in counted)
    by_grade: dict[str, list[str]] = defaultdict(list)
    for code in codes:
        by_grade[valid[code][0].grade if code in valid else ""].append(code)
    for grade, group in by_grade.items():
        Product.objects.filter(code__any=group).exclude(quality_grade=grade).update(quality_grade=grade)


def reports_changed(product_codes: Iterable[str]) -> None:
    """Reports of these products arrived, were withdrawn or expired: their grades and this node's automatic
    recognitions follow."""
    codes = sorted(set(product_codes))
    grades_refresh(codes)
    recognitions_redecide(codes)


def reports_expire(*, today: dt.date | None = None) -> list[str]:
    """The products whose counted reports have expired, or whose recent reports start counting, are refreshed
    (beat; idempotent: the same facts give the same grades and recognitions). Returns their codes."""
    today = today or timezone.localdate()
    expired = Q(counted=True, valid_until__lt=today)
    # A peer's report dated today or yesterday may have arrived while its date was still ahead here (clock
    # skew of up to a day is accepted): it starts counting now.
    starting = Q(counted=False, status=ReportStatus.ACTIVE, assessed_at__gte=today - dt.timedelta(days=1))
    starting &= Q(assessed_at__lte=today, valid_until__gte=today)
    codes = sorted(
        set(QualityReport.objects.filter(expired | starting).values_list("product_code", flat=True))
    )
    if codes:
        with transaction.atomic():
            grades_refresh(codes, today=today)
            recognitions_redecide(codes)
            generation_bump()  # a product page shows its valid reports: not a change of the log
    return codes


@transaction.atomic
def policy_set(*, actor: Any, code: str, quality_report_required: bool) -> RecognitionPolicy:
    """An operator of this node's exchange sets its recognition policy, here; this node's automatic
    recognitions are decided again (a task, after the commit)."""
    if code != settings.NODE_CODE or not is_home_operator(actor):  # None: the node itself (a command)
        raise _forbidden(
            "not_owner",
            "只有该交易所的运营人员可以在其节点设置互认条件",
            "Only the exchange's operators set its recognition policy, at its node",
            node=code,
        )
    policy = RecognitionPolicy.objects.select_for_update().filter(exchange_code=code).first()
    if policy is None:
        policy = RecognitionPolicy(exchange_code=code, version=0)
    changed = policy.quality_report_required != quality_report_required or policy.version == 0
    policy.quality_report_required = quality_report_required
    policy.version += 1
    policy.save()
    RECOGNITION_POLICY.publish([policy])
    if changed:
        enqueue_on_commit("quality.tasks.recognitions_redecide_all")
    return policy


def recognitions_redecide_all(*, chunk: int = 2000) -> None:
    """Every product listed elsewhere that this node holds: its automatic recognition decided again."""
    codes = list(
        Product.objects.exclude(exchange_id=settings.NODE_CODE).order_by("id").values_list("code", flat=True)
    )
    for start in range(0, len(codes), chunk):
        with transaction.atomic():
            recognitions_redecide(codes[start : start + chunk])
