"""A product's machine profile (docs/standards/quality-profile.md) and its uploaded sample file, as the API
shows them. Read-only: the profile is computed by the home node, never written through the API."""

from rest_framework import serializers

from products.models import ProductSample
from standards.quality_profile import KIND, SOURCES, STANDARD_VERSION


class ProfileFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="The dictionary's declared type (vocabulary field_type).")
    non_null = serializers.IntegerField(min_value=0)
    non_null_ratio = serializers.FloatField(allow_null=True, help_text="non_null / rows; null for 0 rows.")
    conforming = serializers.IntegerField(min_value=0)
    conformance_ratio = serializers.FloatField(allow_null=True, help_text="conforming / non_null.")
    distinct = serializers.IntegerField(min_value=0)
    distinct_ratio = serializers.FloatField(allow_null=True, help_text="distinct / non_null.")


class FreshnessSerializer(serializers.Serializer):
    update_frequency = serializers.CharField(allow_null=True)
    field = serializers.CharField(
        allow_null=True, help_text="The date or datetime field of the newest value."
    )
    newest = serializers.CharField(allow_null=True)
    age_days = serializers.FloatField(allow_null=True)
    allowed_age_days = serializers.IntegerField(allow_null=True)
    ratio = serializers.FloatField(allow_null=True, help_text="age_days / allowed_age_days.")
    fresh = serializers.BooleanField(allow_null=True)


class MachineProfileSerializer(serializers.Serializer):
    computed = serializers.BooleanField(help_text="Always true: computed from the sample, not assessed.")
    kind = serializers.ChoiceField(choices=[KIND])
    standard = serializers.ChoiceField(choices=[STANDARD_VERSION])
    computed_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=list(SOURCES))
    rows = serializers.IntegerField(min_value=0)
    duplicate_rows = serializers.IntegerField(min_value=0)
    duplicate_row_rate = serializers.FloatField(allow_null=True)
    fields = ProfileFieldSerializer(many=True)
    undeclared_fields = serializers.ListField(child=serializers.CharField())
    undeclared_field_count = serializers.IntegerField(min_value=0)
    freshness = FreshnessSerializer()


class SampleFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductSample
        fields = ("format", "rows", "size", "sha256", "uploaded_at", "uploaded_by_kind")


class ProductSampleSerializer(serializers.Serializer):
    """What GET and POST …/sample/ answer."""

    product = serializers.CharField(help_text="The product's code.")
    sample_file = SampleFileSerializer(
        allow_null=True, help_text="The sample file uploaded to this (home) node; null if none is held here."
    )
    profile = MachineProfileSerializer(
        allow_null=True, help_text="The machine profile; null without a data dictionary and a sample."
    )
