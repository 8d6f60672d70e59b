"""Request and response shapes of /api/v1/deals/ (types only: the deal standard's rules are applied by the
services, `standards.deal_steps`)."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from deals.models import Deal, DealStep, ExchangeTerms
from standards.deal_flow import STATES


class OrderSerializer(StrictSerializer):
    product = serializers.CharField(help_text="The global code of a listed product.")
    request = serializers.JSONField(
        help_text='{"purpose", "usage_policy": {…} (constraints: purposes, territory, duration, users), '
        '"delivery_method", "demand_response"?: id of an accepted response held at this node (its price and '
        'delivery days are carried as "response_terms")}'
    )


_DEFAULTED = (
    " Required, except in the first offer of an order that took up a demand response, which defaults to "
)


class OfferSerializer(StrictSerializer):
    price = serializers.CharField(
        required=False, help_text='Exact amount, e.g. "20000.00".' + _DEFAULTED + "the response's price."
    )
    currency = serializers.CharField(required=False, default="CNY")
    usage_policy = serializers.JSONField(
        required=False,
        help_text="The usage policy offered (usage policy standard)." + _DEFAULTED + "the order's policy.",
    )
    delivery_method = serializers.CharField(
        required=False, help_text="file, api, sandbox or offline." + _DEFAULTED + "the order's method."
    )
    delivery_days = serializers.IntegerField(
        required=False,
        help_text="Days after the contract to deliver (1–365)." + _DEFAULTED + "the response's days.",
    )
    acceptance_window_hours = serializers.IntegerField(help_text="Hours after delivery to accept (1–2160).")
    message = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class AcceptSerializer(StrictSerializer):
    offer_version = serializers.IntegerField(
        required=False, help_text="The offer accepted (default: current)."
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        trim_whitespace=False, allow_blank=True, help_text="Required; at most 500."
    )


class DeliverySerializer(StrictSerializer):
    method = serializers.CharField(help_text="The contract's delivery method.")
    note = serializers.CharField(required=False, allow_blank=True)
    files = serializers.JSONField(required=False, help_text='file: [{"name", "size", "sha256"}]')
    endpoint = serializers.CharField(required=False, help_text="api: the https:// endpoint.")
    credential_ref = serializers.CharField(required=False, help_text="api: the credential's reference only.")
    quota = serializers.IntegerField(required=False, help_text="api: calls allowed.")
    valid_until = serializers.CharField(required=False, help_text="api: end of validity (date).")
    environment_ref = serializers.CharField(required=False, help_text="sandbox: the environment.")
    exports_allowed = serializers.ListField(child=serializers.CharField(), required=False)
    handover_ref = serializers.CharField(required=False, help_text="offline: the handover's reference.")


class ReceiptSerializer(StrictSerializer):
    files = serializers.JSONField(
        required=False, help_text='[{"name", "sha256"}]: the digests the buyer computed.'
    )
    note = serializers.CharField(required=False, allow_blank=True)


class AcceptanceSerializer(StrictSerializer):
    result = serializers.ChoiceField(choices=["accepted", "rejected"])
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Required when rejected.")


class DealEvaluationSerializer(StrictSerializer):
    dimension = serializers.ChoiceField(
        choices=["service", "compliance", "data_quality", "credit", "security"]
    )
    score = serializers.IntegerField(help_text="0–100.")
    summary = serializers.CharField(trim_whitespace=False)


class TermsWriteSerializer(StrictSerializer):
    listing_fee_bp = serializers.IntegerField(help_text="Basis points on deals for products listed here.")
    buyer_fee_bp = serializers.IntegerField(help_text="Basis points on deals whose buyer is registered here.")


class TermsSerializer(serializers.ModelSerializer):
    exchange = serializers.CharField(source="exchange_code")
    published = serializers.BooleanField(default=True)

    class Meta:
        model = ExchangeTerms
        fields = ("exchange", "listing_fee_bp", "buyer_fee_bp", "version", "published")


class StepSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    body = serializers.JSONField()
    applied = serializers.SerializerMethodField()

    class Meta:
        model = DealStep
        fields = ("id", "origin", "seq", "kind", "role", "actor_id", "at", "offer_version", "body", "applied")

    def get_applied(self, step) -> bool:
        return step.gid in self.context.get("applied", ())


class DealSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    request = serializers.JSONField()
    audience = serializers.ListField(child=serializers.CharField())
    state = serializers.CharField(
        help_text=f"As derived here from the steps held: one of {', '.join(STATES)}."
    )

    class Meta:
        model = Deal
        fields = (
            "id",
            "origin",
            "product_code",
            "product_version",
            "product_exchange",
            "product_name",
            "provider_id",
            "provider_home",
            "provider_name",
            "buyer_id",
            "buyer_home",
            "buyer_name",
            "placed_at",
            "request",
            "audience",
            "state",
            "offer_version",
        )


class DeadlinesSerializer(serializers.Serializer):
    delivery_by = serializers.DateTimeField(allow_null=True)
    acceptance_by = serializers.DateTimeField(allow_null=True)


class DealDetailSerializer(DealSerializer):
    offer = serializers.JSONField(
        allow_null=True, help_text="The current offer (its version and who made it)."
    )
    agreed_offer = serializers.JSONField(allow_null=True)
    contract_sha256 = serializers.CharField(allow_null=True)
    deadlines = DeadlinesSerializer()
    my_roles = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField(), help_text="What the caller may do now.")
    ignored_steps = serializers.IntegerField(help_text="Steps held but not taken by the flow.")
    steps = StepSerializer(many=True)

    class Meta(DealSerializer.Meta):
        fields = (
            *DealSerializer.Meta.fields,
            "offer",
            "agreed_offer",
            "contract_sha256",
            "deadlines",
            "my_roles",
            "actions",
            "ignored_steps",
            "steps",
        )


class SignatureSerializer(serializers.Serializer):
    role = serializers.CharField()
    node = serializers.CharField()
    at = serializers.CharField()
    signature = serializers.CharField()
    valid = serializers.BooleanField()


class ContractSerializer(serializers.Serializer):
    document = serializers.JSONField(help_text="The canonical contract (RFC 8785 when serialised).")
    sha256 = serializers.CharField()
    signatures = SignatureSerializer(many=True)
    valid = serializers.BooleanField(help_text="Both parties' signatures verify with their nodes' keys.")
