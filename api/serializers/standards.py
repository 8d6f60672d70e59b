from rest_framework import serializers

from api.serializers.base import StrictSerializer
from api.serializers.products import DescriptorField, FindingSerializer
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
    descriptor = DescriptorField()


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


class BilingualSerializer(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()


class BilingualNamesSerializer(serializers.Serializer):
    zh = serializers.ListField(child=serializers.CharField())
    en = serializers.ListField(child=serializers.CharField())


class TermCitationSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="Id of the source in the glossary's source list.")
    zh = serializers.CharField(help_text="The law, regulation, policy or standard, in Chinese.")
    en = serializers.CharField()
    provision_zh = serializers.CharField(
        help_text="The article cited (第三条), empty when the whole source is."
    )
    provision_en = serializers.CharField(
        help_text="The article cited (Art. 3), empty when the whole source is."
    )


class RelatedTermSerializer(serializers.Serializer):
    id = serializers.CharField()
    zh = serializers.CharField()
    en = serializers.CharField()


class TermCodeSerializer(serializers.Serializer):
    vocabulary = serializers.CharField()
    code = serializers.CharField()


class TermSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable slug, e.g. cross-border-data-transfer.")
    zh = serializers.CharField(help_text="The term in Chinese.")
    en = serializers.CharField(help_text="The term in English.")
    aliases = BilingualNamesSerializer(help_text="Other names search also finds.")
    definition = BilingualSerializer()
    sources = TermCitationSerializer(many=True)
    related = RelatedTermSerializer(many=True)
    codes = TermCodeSerializer(many=True, help_text="The vocabulary codes this term explains.")
    vocabularies = serializers.ListField(
        child=serializers.CharField(),
        help_text="Vocabularies every code of which this term explains (region).",
    )


class TermQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=100, required=False, allow_blank=True, trim_whitespace=True, help_text="Search words."
    )
