"""The response of /api/v1/stats/deals/ (deals.stats): its exact shape for the OpenAPI schema."""

from rest_framework import serializers

from standards.deal_flow import STATES

DealsByStateSerializer = type(
    "DealsByStateSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "How many deals are in each state (every state, 0 included).",
        **{state: serializers.IntegerField() for state in STATES},
    },
)


class DealStatsSerializer(serializers.Serializer):
    node = serializers.CharField(help_text="The node that answers: the figures are of the deals it holds.")
    exchange = serializers.CharField(
        allow_null=True, help_text="The exchange asked for (?exchange=), or null: every deal held here."
    )
    deals = serializers.IntegerField()
    by_state = DealsByStateSerializer()
    contracted = serializers.IntegerField(
        help_text="Deals with a contract (both accepted an offer), not cancelled or terminated since."
    )
    value = serializers.DictField(
        child=serializers.CharField(),
        help_text="Sum of the agreed prices of the contracted deals, by currency, as exact decimal strings "
        '({"CNY": "20000.00"}); a currency without a contracted deal is left out.',
    )
    median_order_to_contract_s = serializers.FloatField(
        allow_null=True, help_text="Median seconds from the order to the contract (null: no contract)."
    )
    median_contract_to_acceptance_s = serializers.FloatField(
        allow_null=True,
        help_text="Median seconds from the contract to the accepted delivery (the buyer's acceptance or the "
        "coordinator's auto-acceptance; null: none accepted).",
    )
    delivered = serializers.IntegerField(help_text="Deals that were delivered.")
    accepted = serializers.IntegerField(help_text="Deals whose delivery was accepted.")
    acceptance_rate = serializers.FloatField(
        allow_null=True,
        help_text="Deals accepted and not disputed since, over those delivered (null: nothing delivered).",
    )
    overdue_deliveries = serializers.IntegerField(
        help_text="Contracts waiting for their delivery (agreed or cleared) past the delivery deadline."
    )
    disputed = serializers.IntegerField(help_text="Deals with a dispute (filed by either party).")
    dispute_rate = serializers.FloatField(
        allow_null=True, help_text="disputed / deals that reached a contract (null: none did)."
    )
    median_dispute_resolution_s = serializers.FloatField(
        allow_null=True, help_text="Median seconds from filing to resolution (null: none resolved)."
    )
    overdue_disputes = serializers.IntegerField(help_text="Open disputes past their step's deadline.")
