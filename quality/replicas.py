"""The replicated record types of quality assessment (federation.replica): a report about a product version,
owned by its assessor's home node, and an exchange's recognition policy, owned by that exchange's node. Both
are newer than the first protocol (`digest_when_empty = False`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from core.exceptions import ValidationFailed
from federation import wire
from federation.payloads import payload_error
from federation.replica import ReplicaType, register
from quality.models import QualityReport, RecognitionPolicy, ReportStatus
from standards.members import is_member
from standards.product_code import product_code_parse
from standards.quality import report_clean
from standards.uscc import uscc_errors

_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
MAX_REASON = 500


class QualityReportReplica(ReplicaType):
    """A quality assessment report (质量评估报告): never edited, only withdrawn by its issuer."""

    name = "quality_report"
    what = "a quality report payload"
    model = QualityReport
    key = "gid"
    digest_when_empty = False  # newer than the first protocol: older peers know no such type
    fields = (
        wire.value("id", column="gid"),
        wire.value("product", column="product_code"),
        wire.integer(
            "product_version", 1, 2**31 - 1, "product_version must be a positive integer", code="type"
        ),
        wire.choice("assessor_type", QualityReport.AssessorType),
        wire.value("assessor_id"),
        wire.text("assessor_name", 120, required=True),
        wire.value("reference"),
        wire.value("dimensions"),
        wire.value("overall_score"),
        wire.value("grade"),
        wire.value("summary"),
        wire.date("assessed_at"),
        wire.date("valid_until"),
        wire.choice("status", ReportStatus),
        wire.text("withdrawn_reason", MAX_REASON),
        wire.time("issued_at", required=True),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["id"] != gid or not _GID.fullmatch(gid) or not gid.startswith(origin + "-"):
            raise payload_error(
                "id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid"
            )
        product = payload["product"]
        if not isinstance(product, str):
            raise payload_error("product", "type", "product must be a product code")
        product_code_parse(product)
        if payload["assessor_type"] == QualityReport.AssessorType.EXCHANGE:
            if payload["assessor_id"] != origin:
                raise payload_error("assessor_id", "origin", "an exchange issues reports at its own node")
        else:
            _, errors = uscc_errors(payload["assessor_id"], "assessor_id")
            if errors:
                raise ValidationFailed(errors)
        if payload["status"] == ReportStatus.ACTIVE and payload["withdrawn_reason"]:
            raise payload_error("withdrawn_reason", "status", "an active report has no withdrawal reason")
        if values["assessed_at"] > timezone.localdate() + dt.timedelta(days=1):  # a day of clock skew
            raise payload_error("assessed_at", "future", "assessed_at is in the future")
        overall = payload["overall_score"]
        rules = report_clean(
            {
                **{k: payload[k] for k in ("dimensions", "summary", "reference", "grade")},
                "assessed_at": values["assessed_at"],
                "valid_until": values["valid_until"],
            }
        )
        if overall != rules["overall_score"]:
            raise payload_error(
                "overall_score", "scale", "overall_score is not the mean of the dimension scores"
            )
        values.update(gid=gid, product_code=product, assessor_id=payload["assessor_id"], **rules)


class RecognitionPolicyReplica(ReplicaType):
    """What one exchange requires before it recognises a product listed elsewhere."""

    name = "recognition_policy"
    what = "a recognition policy payload"
    model = RecognitionPolicy
    key = "exchange_code"
    origin_field = "exchange_code"
    digest_when_empty = False  # newer than the first protocol: older peers know no such type
    fields = (
        wire.value("exchange", column="exchange_code"),
        wire.value("quality_report_required"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["exchange"] != origin or gid != origin or not is_member(origin):
            raise payload_error("exchange", "origin", "a node only publishes its own exchange's policy")
        if not isinstance(payload["quality_report_required"], bool):
            raise payload_error(
                "quality_report_required", "type", "quality_report_required must be a boolean"
            )
        values.update(exchange_code=origin, quality_report_required=payload["quality_report_required"])


QUALITY_REPORT = register(QualityReportReplica())
RECOGNITION_POLICY = register(RecognitionPolicyReplica())
