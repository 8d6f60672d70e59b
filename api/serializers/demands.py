from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictSerializer
from demands.models import Demand, DemandResponse, Notification, WebhookDelivery, WebhookSubscription
from standards.demand import COMPLIANCE_REQUIREMENTS


class TemporalSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True, required=False)
    end = serializers.DateField(allow_null=True, required=False)


class BudgetSerializer(serializers.Serializer):
    min = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    max = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField(default="CNY")


@extend_schema_field(TemporalSerializer)
class TemporalField(serializers.JSONField):
    """Read by the demand standard's rules (the service); published as its object."""


@extend_schema_field(BudgetSerializer)
class BudgetField(serializers.JSONField):
    """Read by the demand standard's rules (the service); published as its object."""


class DemandWriteSerializer(StrictSerializer):
    """Types only; the demand standard's rules (demands/standards.py) are applied by the service."""

    title = serializers.CharField(
        trim_whitespace=False, help_text="4–80 characters; the naming rule's forbidden terms apply."
    )
    description = serializers.CharField(trim_whitespace=False)
    industry = serializers.CharField(required=False, allow_blank=True, help_text="GB/T 4754 section A–T.")
    product_forms = serializers.ListField(child=serializers.CharField())
    spatial_coverage = serializers.ListField(child=serializers.CharField(), help_text="GB/T 2260 codes.")
    temporal_coverage = TemporalField(required=False, help_text='{"start": date|null, "end": date|null}')
    update_frequency = serializers.CharField(required=False, allow_blank=True)
    budget = BudgetField(help_text='{"min": CNY, "max": CNY, "currency": "CNY"}')
    deadline = serializers.CharField(
        help_text="ISO 8601 time with zone, in the future, at most a year ahead."
    )
    delivery_methods = serializers.ListField(child=serializers.CharField(), required=False)
    compliance_requirements = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=f"Any of {sorted(COMPLIANCE_REQUIREMENTS)}."
    )
    reach = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Exchange codes; empty or absent: the whole network.",
    )


class DemandSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    temporal_coverage = serializers.SerializerMethodField()
    budget = serializers.SerializerMethodField()
    product_forms = serializers.ListField(child=serializers.CharField())
    spatial_coverage = serializers.ListField(child=serializers.CharField())
    delivery_methods = serializers.ListField(child=serializers.CharField())
    compliance_requirements = serializers.ListField(child=serializers.CharField())
    reach = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Demand
        fields = (
            "id",
            "origin",
            "version",
            "demander_id",
            "demander_home",
            "demander_name",
            "title",
            "description",
            "industry",
            "product_forms",
            "spatial_coverage",
            "temporal_coverage",
            "update_frequency",
            "budget",
            "deadline",
            "delivery_methods",
            "compliance_requirements",
            "reach",
            "status",
            "status_reason",
            "posted_at",
            "closed_at",
            "first_matched_at",
        )

    @extend_schema_field(TemporalSerializer)
    def get_temporal_coverage(self, obj):
        return {
            "start": obj.temporal_start.isoformat() if obj.temporal_start else None,
            "end": obj.temporal_end.isoformat() if obj.temporal_end else None,
        }

    @extend_schema_field(BudgetSerializer)
    def get_budget(self, obj):
        return {"min": float(obj.budget_min), "max": float(obj.budget_max), "currency": "CNY"}


class StatusReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class FactorSerializer(serializers.Serializer):
    name = serializers.CharField()
    weight = serializers.FloatField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class MatchSerializer(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    name = serializers.CharField(source="product.name")
    exchange = serializers.CharField(source="product.exchange_id")
    provider = serializers.CharField(source="product.provider_uscc")
    score = serializers.FloatField(
        help_text="0–1: the text relevance times the fit of the other factors (docs/demands.md)."
    )
    factors = FactorSerializer(many=True)


class OpportunitySerializer(serializers.Serializer):
    demand = DemandSerializer()
    score = serializers.FloatField()
    products = MatchSerializer(many=True)


class ResponseWriteSerializer(StrictSerializer):
    kind = serializers.CharField(help_text="offer (of listed products) or proposal.")
    products = serializers.ListField(child=serializers.CharField(), required=False)
    proposal = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    price = serializers.JSONField(help_text="CNY, 0 to 1e9, two decimals at most.")
    delivery_days = serializers.JSONField(help_text="1 to 3650.")
    message = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class ResponseSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    demand = serializers.CharField(source="demand_gid")
    products = serializers.ListField(child=serializers.CharField())
    price = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)

    class Meta:
        model = DemandResponse
        fields = (
            "id",
            "demand",
            "origin",
            "version",
            "responder_id",
            "responder_home",
            "responder_name",
            "kind",
            "products",
            "proposal",
            "price",
            "delivery_days",
            "message",
            "status",
            "created_at",
            "decision",
            "decision_reason",
            "decided_at",
        )


class DecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=["shortlisted", "accepted", "declined"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "demand_gid",
            "demand_version",
            "subject_gid",
            "payload",
            "created_at",
            "read_at",
        )


class WebhookWriteSerializer(StrictSerializer):
    url = serializers.URLField(max_length=500)


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ("id", "url", "active", "allow_private_network", "created_at")


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="HMAC-SHA256 key of the X-Registry-Signature header; shown once."
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class DeliverySerializer(serializers.ModelSerializer):
    notification = serializers.IntegerField(source="notification_id")

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "notification",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status",
            "last_error",
            "delivered_at",
        )
