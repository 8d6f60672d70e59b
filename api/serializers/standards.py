from rest_framework import serializers

from api.serializers.base import StrictSerializer
from api.serializers.products import FindingSerializer, ObjectField
from standards.vocabularies import vocabulary_codes


class NamingCheckRequestSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, trim_whitespace=False)
    product_form = serializers.ChoiceField(choices=sorted(vocabulary_codes("product_form")))
    spatial_coverage = serializers.ListField(
        child=serializers.CharField(max_length=6), required=False, max_length=50, default=list
    )
    provider_uscc = serializers.CharField(
        max_length=18, required=False, help_text="If given, names this provider already uses count as taken."
    )


class NamingViolationSerializer(serializers.Serializer):
    rule = serializers.CharField()
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    message = serializers.CharField()
    message_en = serializers.CharField()


class NamingVerdictSerializer(serializers.Serializer):
    compliant = serializers.BooleanField()
    violations = NamingViolationSerializer(many=True)
    suggestion = serializers.CharField(allow_null=True)


class DescriptorCheckRequestSerializer(StrictSerializer):
    descriptor = ObjectField(help_text="Any object: the answer says whether it is a valid descriptor.")


class DescriptorCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Meets the schema and the naming rule.")
    listable = serializers.BooleanField(help_text="Valid and no blocking compliance finding.")
    errors = serializers.ListField(child=serializers.DictField())
    findings = FindingSerializer(many=True)


class ProductCodeCheckRequestSerializer(StrictSerializer):
    code = serializers.CharField(max_length=64)


class ProductCodeCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    code = serializers.CharField(allow_null=True)
    origin = serializers.CharField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    serial = serializers.IntegerField(allow_null=True)
    errors = serializers.ListField(child=serializers.DictField())
