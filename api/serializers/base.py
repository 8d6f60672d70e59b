from rest_framework import serializers

# The JSON types a field takes, as the schema publishes them: DRF would otherwise turn 0 into "0", "1" into 1
# and "yes" into true, accepting what the OpenAPI schema calls the wrong type.
_JSON_TYPES = (
    (serializers.BooleanField, (bool,), "布尔值", "a boolean"),
    (serializers.CharField, (str,), "字符串", "a string"),
    (serializers.IntegerField, (int,), "整数", "an integer"),
    (serializers.FloatField, (int, float), "数字", "a number"),
    (serializers.DecimalField, (int, float), "数字", "a number"),
    (serializers.ChoiceField, (str,), "字符串", "a string"),
    (serializers.DateField, (str,), "日期字符串", "a date string"),
    (serializers.DateTimeField, (str,), "时间字符串", "a date-time string"),
)


def _wrong_type(field, value) -> tuple[str, str] | None:
    """What `value` should have been for `field` (Chinese, English) when its JSON type is not the field's."""
    if value is None:
        return None  # the field's own allow_null decides
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (_wrong_type(field.child, item) for item in value)), None)
    for kind, types, zh, en in _JSON_TYPES:
        if isinstance(field, kind):
            right = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
            return None if right else (zh, en)
    return None


def type_errors(fields, data) -> dict:
    """The fields of `data` whose JSON type is not their field's, as DRF error details."""
    errors = {}
    for name, field in fields.items():
        if name in data and not field.read_only and (wrong := _wrong_type(field, data[name])):
            errors[name] = [serializers.ErrorDetail(f"必须是{wrong[0]}（{wrong[1]}）", code="invalid_type")]
    return errors


class StrictSerializer(serializers.Serializer):
    """A request serializer that refuses fields it does not know instead of silently dropping them, and
    values of another JSON type than its fields' (api/schema.py publishes both: `additionalProperties: false`
    and each field's type)."""

    # A JSON body is held to its fields' JSON types; a query string is text throughout (False).
    json_types = True

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: [serializers.ErrorDetail("未知字段", code="unknown_field")] for name in unknown}
        if self.json_types and isinstance(data, dict):
            errors.update(type_errors(self.fields, data))
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
