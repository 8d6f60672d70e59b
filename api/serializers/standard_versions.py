from rest_framework import serializers

from api.serializers.standards import BilingualSerializer


class StandardsAnnouncementSerializer(serializers.Serializer):
    versions = serializers.DictField(
        child=serializers.CharField(), help_text="Each standard's code and the version this node applies."
    )
    sha256 = serializers.CharField(
        help_text="SHA-256 (hex) of the RFC 8785 JSON of {code: sha256 of the standard's content}."
    )


class StandardSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = BilingualSerializer()
    version = serializers.CharField(help_text="The newest version this node applies: MAJOR.MINOR[.PATCH].")
    versions_known = serializers.ListField(
        child=serializers.CharField(),
        help_text="Every version this node applies (older ones it still reads).",
    )
    sha256 = serializers.CharField(help_text="SHA-256 (hex) of the RFC 8785 JSON of the standard's content.")
    url = serializers.CharField(help_text="Where this node serves the content the hash covers.")


class StandardContentSerializer(StandardSerializer):
    content = serializers.JSONField(help_text="The standard's rules or data, exactly what sha256 covers.")


class StandardListSerializer(serializers.Serializer):
    standards = StandardSerializer(many=True)
    combined = StandardsAnnouncementSerializer(help_text="What this node announces to its peers.")
