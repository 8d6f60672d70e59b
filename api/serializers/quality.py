"""Request and response serializers of quality assessment reports and recognition policies."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from quality.models import QualityReport, RecognitionPolicy
from standards import quality as standard

STATES = ("valid", "withdrawn", "expired", "superseded", "not_yet_valid", "assessor_unqualified")


class DimensionScoreSerializer(StrictSerializer):
    score = serializers.IntegerField(min_value=0, max_value=100)
    method = serializers.CharField(max_length=standard.MAX_METHOD, help_text="How the score was measured.")
    evidence = serializers.CharField(max_length=standard.MAX_EVIDENCE, help_text="Evidence summary.")


class DimensionsSerializer(StrictSerializer):
    normativity = DimensionScoreSerializer(help_text="规范性")
    completeness = DimensionScoreSerializer(help_text="完整性")
    accuracy = DimensionScoreSerializer(help_text="准确性")
    consistency = DimensionScoreSerializer(help_text="一致性")
    timeliness = DimensionScoreSerializer(help_text="时效性")
    accessibility = DimensionScoreSerializer(help_text="可访问性")


class ReportWriteSerializer(StrictSerializer):
    dimensions = DimensionsSerializer(help_text="The six dimensions of GB/T 36344-2018, each scored 0–100.")
    summary = serializers.CharField(max_length=standard.MAX_SUMMARY, required=False, allow_blank=True)
    reference = serializers.CharField(
        max_length=standard.MAX_REFERENCE, help_text="The assessor's report number."
    )
    assessed_at = serializers.DateField(help_text="The assessment date (not in the future).")
    valid_until = serializers.DateField(help_text="Last day of validity: after assessed_at, within 3 years.")
    product_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The product version assessed (default: the current one)."
    )
    grade = serializers.ChoiceField(
        choices=standard.GRADE_CODES,
        required=False,
        help_text="Optional: refused unless it is the grade the scores give (A ≥ 90, B ≥ 75, C ≥ 60, D).",
    )


class WithdrawSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class ReportStateField(serializers.ChoiceField):
    """A report's state at this node today (`quality.selectors.report_states`), which the view computes for
    the reports of a product together and passes as the context's `states`."""

    def to_representation(self, obj) -> str:
        return self.context["states"][obj.pk]


class QualityReportSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    product = serializers.CharField(source="product_code")
    dimensions = DimensionsSerializer()
    state = ReportStateField(
        choices=STATES,
        read_only=True,
        source="*",
        help_text="Whether it counts at this node today, or why not.",
    )

    class Meta:
        model = QualityReport
        fields = (
            "id",
            "product",
            "product_version",
            "assessor_type",
            "assessor_id",
            "assessor_name",
            "origin",
            "reference",
            "dimensions",
            "overall_score",
            "grade",
            "summary",
            "assessed_at",
            "valid_until",
            "status",
            "withdrawn_reason",
            "issued_at",
            "version",
            "state",
        )


class QualityReportSummarySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")

    class Meta:
        model = QualityReport
        fields = (
            "id",
            "grade",
            "overall_score",
            "assessor_id",
            "assessor_name",
            "assessed_at",
            "valid_until",
        )


class QualityReportEventSerializer(serializers.ModelSerializer):
    """A report as an event of the version history of the product version it assessed."""

    id = serializers.CharField(source="gid")

    class Meta:
        model = QualityReport
        fields = ("id", "grade", "assessor_id", "assessor_name", "assessed_at", "issued_at", "status")


class PolicySerializer(serializers.ModelSerializer):
    exchange = serializers.CharField(source="exchange_code")
    published = serializers.BooleanField(default=True)

    class Meta:
        model = RecognitionPolicy
        fields = ("exchange", "quality_report_required", "version", "published")


class PolicyWriteSerializer(StrictSerializer):
    quality_report_required = serializers.BooleanField(
        help_text="true: this exchange recognises a product listed elsewhere only with a valid quality report"
    )
