from rest_framework import serializers

from exchanges.models import Exchange


class ExchangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exchange
        fields = (
            "code",
            "order",
            "name_zh",
            "name_en",
            "province_code",
            "province_zh",
            "runs_node",
            "node_url",
        )
