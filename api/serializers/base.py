from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """A request serializer that refuses fields it does not know instead of silently dropping them."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: [serializers.ErrorDetail("未知字段", code="unknown_field")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:  # report unknown fields together with the other errors
            if not errors or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="Path of the field, e.g. descriptor.update_frequency; empty for the body"
    )
    code = serializers.CharField()
    message = serializers.CharField(help_text="Simplified Chinese")
    message_en = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    message_en = serializers.CharField()
    errors = FieldErrorSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()
