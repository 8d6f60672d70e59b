from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.schema import descriptor_openapi_schema
from api.serializers.base import StrictSerializer
from api.serializers.profiles import MachineProfileSerializer
from api.serializers.quality import QualityReportEventSerializer, QualityReportSummarySerializer
from products.models import Product, ProductProfile, ProductVersion, Recognition, RecognitionStatus
from products.verdicts import verdicts_listed
from quality.selectors import reports_valid

DESCRIPTOR_HELP = "A product descriptor: see GET /api/v1/standards/product-descriptor/ for its JSON Schema."


@extend_schema_field(OpenApiTypes.OBJECT)
class ObjectField(serializers.JSONField):
    """Any JSON object (a descriptor to check, a merge patch): anything else is refused."""

    default_error_messages = {"not_a_dict": "必须是对象（JSON object）"}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        return super().to_internal_value(data)


@extend_schema_field(descriptor_openapi_schema())
class DescriptorField(ObjectField):
    """A product descriptor: its schema is the standard's; the service checks it and the rules beyond."""


class ProviderSerializer(serializers.Serializer):
    name = serializers.CharField(source="provider_name")
    uscc = serializers.CharField(source="provider_uscc")


class PriceSerializer(serializers.Serializer):
    min = serializers.DecimalField(
        source="price_min", max_digits=14, decimal_places=2, coerce_to_string=False
    )
    max = serializers.DecimalField(
        source="price_max", max_digits=14, decimal_places=2, coerce_to_string=False
    )
    currency = serializers.SerializerMethodField()

    def get_currency(self, obj) -> str:
        return "CNY"


class ProductListSerializer(serializers.ModelSerializer):
    exchange_name = serializers.CharField(source="exchange.name_zh")
    summary = serializers.SerializerMethodField()
    provider = ProviderSerializer(source="*")
    price = PriceSerializer(source="*")
    rank = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = (
            "code",
            "name",
            "summary",
            "exchange",
            "exchange_name",
            "provider",
            "product_form",
            "industry",
            "update_frequency",
            "price",
            "status",
            "version",
            "listed_at",
            "updated_at",
            "rank",
            "quality_grade",
        )

    def get_summary(self, obj) -> str:
        summary = getattr(obj, "summary_text", None)  # annotated on list pages, which defer the descriptor
        return summary if summary is not None else obj.descriptor.get("summary", "")

    def get_rank(self, obj) -> float | None:
        rank = getattr(obj, "rank", None)
        return round(rank, 6) if rank is not None else None


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=["blocking", "warning"])
    field = serializers.CharField()
    message = serializers.CharField()
    message_en = serializers.CharField()


class RecognitionSerializer(serializers.ModelSerializer):
    exchange_name = serializers.CharField(source="exchange.name_zh")
    computed = serializers.BooleanField(
        read_only=True,
        help_text="Computed by this node from the shared standard under the exchange's published policy, "
        "with no record of that exchange (version 0); false: the exchange's own record.",
    )

    class Meta:
        model = Recognition
        fields = (
            "exchange",
            "exchange_name",
            "status",
            "reasons",
            "decided_by",
            "product_version",
            "policy_version",
            "version",
            "updated_at",
            "computed",
        )


class RecognitionReviewSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=RecognitionStatus.choices)
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=False),
        required=False,
        max_length=20,
        default=list,
    )


class ProductDetailSerializer(ProductListSerializer):
    descriptor = DescriptorField(help_text=DESCRIPTOR_HELP)
    recognitions = serializers.SerializerMethodField(
        help_text="Each exchange's recognition (互认) of this product, as replicated to this node."
    )
    quality_reports = serializers.SerializerMethodField(
        help_text="Its valid quality assessment reports at this node (grade, assessor, date), best first."
    )
    findings = FindingSerializer(
        many=True, help_text="Automatic compliance findings of the last submit/review."
    )
    status_reasons = serializers.ListField(child=serializers.CharField())
    profile = serializers.SerializerMethodField(
        help_text="The machine profile of the product's sample, computed by its home node (not assessed); "
        "null without a data dictionary and a sample. docs/standards/quality-profile.md."
    )

    class Meta(ProductListSerializer.Meta):
        fields = (
            *ProductListSerializer.Meta.fields,
            "descriptor",
            "descriptor_version",
            "findings",
            "status_reasons",
            "created_at",
            "submitted_at",
            "delisted_at",
            "recognitions",
            "quality_reports",
            "profile",
        )

    @extend_schema_field(QualityReportSummarySerializer(many=True))
    def get_quality_reports(self, obj):
        """Its valid quality reports here, best grade first (the latest of each assessor)."""
        return QualityReportSummarySerializer(reports_valid([obj.code]).get(obj.code, []), many=True).data

    @extend_schema_field(MachineProfileSerializer(allow_null=True))
    def get_profile(self, obj):
        row = ProductProfile.objects.filter(product_code=obj.code).only("profile").first()
        return row.profile if row is not None else None

    @extend_schema_field(RecognitionSerializer(many=True))
    def get_recognitions(self, obj):
        return recognitions_represented(obj)


_DATE_TIME = serializers.DateTimeField()


def recognitions_represented(product: Product) -> list[dict]:
    """What `RecognitionSerializer(many=True)` gives for a product's recognitions — each exchange's record,
    else the verdict this node computes (`products.verdicts`) — built from plain values: a serializer per row
    was a fifth of a product page (docs/performance.md, issue 25). tests/test_read_cache.py holds the two
    equal."""
    return [
        {
            "exchange": v.exchange,
            "exchange_name": name,
            "status": v.status,
            "reasons": v.reasons,
            "decided_by": v.decided_by,
            "product_version": v.product_version,
            "policy_version": v.policy_version,
            "version": v.version,
            "updated_at": _DATE_TIME.to_representation(v.updated_at),
            "computed": v.computed,
        }
        for v, name in verdicts_listed(product)
    ]


class ProductWriteSerializer(StrictSerializer):
    descriptor = DescriptorField(help_text=DESCRIPTOR_HELP)
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Refuse with 409 if the product is no longer at this version."
    )


class ProductPatchSerializer(StrictSerializer):
    descriptor = ObjectField(help_text="A JSON Merge Patch (RFC 7396) applied to the current descriptor.")
    expected_version = serializers.IntegerField(required=False, min_value=1)


class TransitionSerializer(StrictSerializer):
    expected_version = serializers.IntegerField(required=False, min_value=1)


class ReasonsSerializer(TransitionSerializer):
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=False), min_length=1, max_length=20
    )


class OptionalReasonsSerializer(TransitionSerializer):
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=False), required=False, max_length=20
    )


class ReviewSerializer(OptionalReasonsSerializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])

    def validate(self, attrs):
        if attrs["decision"] == "reject" and not attrs.get("reasons"):
            raise serializers.ValidationError(
                {"reasons": [serializers.ErrorDetail("驳回必须说明理由", code="required")]}
            )
        return attrs


class VersionActorSerializer(serializers.Serializer):
    """Who made a change: the kind of actor and its exchange; the login only for the product's exchange."""

    # The context gives the product's exchange and whether the reader sees logins (`product_insider`).

    kind = serializers.ChoiceField(
        source="actor_kind",
        choices=ProductVersion.ActorKind.choices,
        help_text=(
            "operator: an operator of the product's exchange (or the node's admin); provider: the provider "
            "itself, a data merchant's user; node: the node itself (an import, a command, the product "
            "following its provider's standing); replicated: the version as replicated from the product's "
            "home exchange, which alone knows who made it."
        ),
    )
    exchange = serializers.SerializerMethodField(
        help_text="The exchange whose operator or node made the change, or whose node it was replicated "
        "from (the product's exchange); null when the provider made it."
    )
    username = serializers.SerializerMethodField(
        help_text="The login that made the change: only for this node's admins and the operators of the "
        "product's exchange, at its home node; null for everyone else and when no login made it."
    )

    def get_exchange(self, obj) -> str | None:
        return None if obj.actor_kind == ProductVersion.ActorKind.PROVIDER else self.context["exchange"]

    def get_username(self, obj) -> str | None:
        return obj.actor.username if obj.actor_id and self.context.get("show_logins") else None


class ProductVersionSerializer(serializers.ModelSerializer):
    actor = VersionActorSerializer(source="*")
    descriptor = DescriptorField()
    quality_reports = serializers.SerializerMethodField(
        help_text="Quality reports issued about this version (withdrawn ones too): the report events."
    )

    class Meta:
        model = ProductVersion
        fields = (
            "version",
            "change",
            "status",
            "reasons",
            "actor",
            "created_at",
            "descriptor",
            "quality_reports",
        )

    @extend_schema_field(QualityReportEventSerializer(many=True))
    def get_quality_reports(self, obj):
        reports = self.context.get("reports_by_version", {}).get(obj.version, [])
        return QualityReportEventSerializer(reports, many=True).data
