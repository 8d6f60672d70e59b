"""Quality assessment reports (质量评估报告) about product versions, and each exchange's recognition policy.

A report is owned by its assessor's home node (an exchange's own report: that exchange's node), replicated
to every node, never edited: withdrawn by a new version with status `withdrawn`. Whether it is valid here is
computed when read (`quality.selectors`): active, within its validity period, not superseded by a newer
report of the same assessor on the same product, and its assessor qualified as this node knows it.
"""

from django.db import models
from django.db.models import Q

from core.fields import JSONField


class ReportStatus(models.TextChoices):
    ACTIVE = "active", "有效 Active"
    WITHDRAWN = "withdrawn", "已撤回 Withdrawn"


class QualityReport(models.Model):
    class AssessorType(models.TextChoices):
        EXCHANGE = "exchange", "交易所 Exchange"
        PARTICIPANT = "participant", "第三方专业服务机构 Service provider"

    gid = models.CharField(max_length=48, help_text="Global id: <origin>-<32 hex digits>.")
    origin = models.CharField(max_length=8, help_text="The assessor's home node (owns it).")
    version = models.PositiveIntegerField(default=1)
    product_code = models.CharField(max_length=40, help_text="The product assessed.")
    product_version = models.PositiveIntegerField(help_text="The version of the product assessed.")
    assessor_type = models.CharField(max_length=12, choices=AssessorType.choices)
    assessor_id = models.CharField(max_length=18, help_text="Exchange code or the provider's USCC.")
    assessor_name = models.CharField(max_length=120)
    reference = models.CharField(max_length=64, help_text="The assessor's own report number.")
    dimensions = JSONField(help_text="{dimension: {score, method, evidence}} for the six dimensions.")
    overall_score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=1)
    summary = models.TextField(blank=True)
    assessed_at = models.DateField()
    valid_until = models.DateField()
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.ACTIVE)
    withdrawn_reason = models.CharField(max_length=500, blank=True)
    issued_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    # Bookkeeping of this node (never replicated): counted in its product's grade when last refreshed, so
    # the expiry sweep finds exactly the products whose grade an expiry changes.
    counted = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-assessed_at", "-issued_at", "-gid"]
        constraints = [
            models.UniqueConstraint(fields=["gid"], name="quality_report_gid_unique"),
            models.CheckConstraint(condition=Q(overall_score__lte=100), name="quality_report_score_range"),
            models.CheckConstraint(
                condition=Q(assessed_at__lt=models.F("valid_until")), name="quality_report_validity"
            ),
        ]
        indexes = [
            models.Index(fields=["product_code", "assessor_id"], name="quality_report_product"),
            models.Index(fields=["assessor_id"], name="quality_report_assessor"),
            models.Index(fields=["counted", "valid_until"], name="quality_report_counted"),
        ]

    def __str__(self) -> str:
        return f"{self.gid} {self.product_code} {self.grade}"


class RecognitionPolicy(models.Model):
    """What an exchange requires before it recognises a product listed elsewhere, beyond the common
    standard; set by its operators at its node and replicated to every node (published with its directory
    entry at /api/v1/exchanges/{code}/recognition-policy/)."""

    exchange_code = models.CharField(max_length=8, unique=True)
    version = models.PositiveIntegerField(default=1)
    quality_report_required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.exchange_code} quality_report_required={self.quality_report_required}"
