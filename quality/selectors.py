"""Reads of quality reports: which of them are valid at this node today.

A report is **valid** here when it is active (not withdrawn), today is within assessed_at … valid_until
(inclusive), no newer active report of the same assessor on the same product exists (newer: later
assessed_at, then later issued_at), and its assessor is qualified as this node knows it: an exchange's report
comes from that exchange's node (checked on apply); a service provider's registration at the report's origin
(its home) is held here, verified, with the role `service_provider` and the service `quality_assessment`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from participants.models import Participant, ParticipantStatus
from quality.models import QualityReport, RecognitionPolicy, ReportStatus
from standards.quality import GRADE_CODES

QUALIFYING_SERVICE = "quality_assessment"


def assessor_problem(registration: Participant | None) -> str | None:
    """Why a registration may not assess quality (a code), or None."""
    if registration is None:
        return "assessor.not_registered"
    if registration.status != ParticipantStatus.VERIFIED:
        return "assessor.not_verified"
    if not registration.has_role("service_provider"):
        return "assessor.not_service_provider"
    if QUALIFYING_SERVICE not in (registration.services or []):
        return "assessor.no_quality_assessment"
    return None


def _qualified(reports: list[QualityReport]) -> set[tuple[str, str]]:
    """(assessor_id, origin) of the service providers qualified here among these reports' assessors."""
    wanted = {r.assessor_id for r in reports if r.assessor_type == QualityReport.AssessorType.PARTICIPANT}
    if not wanted:
        return set()
    rows = Participant.objects.filter(participant_id__any=sorted(wanted)).only(
        "participant_id", "home_id", "status", "roles", "services"
    )
    return {(p.participant_id, p.home_id) for p in rows if assessor_problem(p) is None}


def reports_valid_among(
    reports: Iterable[QualityReport], *, today: dt.date | None = None
) -> list[QualityReport]:
    """The valid ones (module docstring) among `reports`, which hold every report of their products."""
    today = today or timezone.localdate()
    reports = list(reports)
    qualified = _qualified(reports)
    latest: dict[tuple[str, str], QualityReport] = {}
    for report in reports:
        if report.status != ReportStatus.ACTIVE:
            continue
        key = (report.product_code, report.assessor_id)
        held = latest.get(key)
        if held is None or (report.assessed_at, report.issued_at) > (held.assessed_at, held.issued_at):
            latest[key] = report
    return [
        r
        for r in latest.values()
        if r.assessed_at <= today <= r.valid_until
        and (r.assessor_type == QualityReport.AssessorType.EXCHANGE or (r.assessor_id, r.origin) in qualified)
    ]


def report_superseded(report: QualityReport) -> bool:
    """Whether a newer active report of the same assessor on the same product exists."""
    newer = Q(assessed_at__gt=report.assessed_at) | Q(
        assessed_at=report.assessed_at, issued_at__gt=report.issued_at
    )
    return QualityReport.objects.filter(
        newer, product_code=report.product_code, assessor_id=report.assessor_id, status=ReportStatus.ACTIVE
    ).exists()


def reports_of(product_codes: Iterable[str]) -> QuerySet[QualityReport]:
    return QualityReport.objects.filter(product_code__any=sorted(set(product_codes)))


def reports_valid(
    product_codes: Iterable[str], *, today: dt.date | None = None
) -> dict[str, list[QualityReport]]:
    """{product code: its valid reports, best grade first} for these products."""
    found: dict[str, list[QualityReport]] = defaultdict(list)
    for report in reports_valid_among(reports_of(product_codes), today=today):
        found[report.product_code].append(report)
    for rows in found.values():
        rows.sort(key=lambda r: (GRADE_CODES.index(r.grade), -r.overall_score, r.assessor_id))
    return dict(found)


def reports_by_version(product_code: str) -> dict[int, list[QualityReport]]:
    """A product's reports (any status) by the product version they assessed: its history's events."""
    found: dict[int, list[QualityReport]] = defaultdict(list)
    for report in QualityReport.objects.filter(product_code=product_code).order_by("issued_at", "gid"):
        found[report.product_version].append(report)
    return dict(found)


def report_get(gid: str) -> QualityReport | None:
    return QualityReport.objects.filter(gid=gid).first()


def policy_get(code: str) -> RecognitionPolicy | None:
    return RecognitionPolicy.objects.filter(exchange_code=code).first()


def quality_report_required() -> bool:
    """Whether this node's exchange recognises only products with a valid quality report."""
    policy = policy_get(settings.NODE_CODE)
    return bool(policy and policy.quality_report_required)


def report_states(reports: list[QualityReport], *, today: dt.date | None = None) -> dict[int, str]:
    """{pk: state} for reports that hold every report of their products: `valid`, `withdrawn`, `expired`,
    `superseded`, `not_yet_valid` or `assessor_unqualified` (docs/standards/quality.md)."""
    today = today or timezone.localdate()
    valid = {r.pk for r in reports_valid_among(reports, today=today)}
    latest: dict[tuple[str, str], tuple] = {}
    for r in reports:
        if r.status == ReportStatus.ACTIVE:
            key = (r.product_code, r.assessor_id)
            latest[key] = max(latest.get(key, (r.assessed_at, r.issued_at)), (r.assessed_at, r.issued_at))
    states: dict[int, str] = {}
    for r in reports:
        if r.pk in valid:
            states[r.pk] = "valid"
        elif r.status != ReportStatus.ACTIVE:
            states[r.pk] = "withdrawn"
        elif (r.assessed_at, r.issued_at) < latest[(r.product_code, r.assessor_id)]:
            states[r.pk] = "superseded"
        elif r.valid_until < today:
            states[r.pk] = "expired"
        elif r.assessed_at > today:
            states[r.pk] = "not_yet_valid"
        else:
            states[r.pk] = "assessor_unqualified"
    return states
