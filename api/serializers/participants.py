from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictSerializer
from participants.models import Evaluation, Participant, ParticipantRecognition, ParticipantStatus
from standards import participant_vocabularies as vocab
from standards.evaluation import MAX_EVIDENCE_REF, MAX_SUMMARY


def _codes(terms):
    return sorted(t.code for t in terms)


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    title = serializers.CharField(max_length=120, required=False)
    phone = serializers.CharField(max_length=120, required=False)
    email = serializers.CharField(max_length=120, required=False)


class DocumentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    ref = serializers.CharField(max_length=200)


@extend_schema_field(ContactSerializer(many=True))
class ContactsField(serializers.JSONField):
    """Read by the participant standard's rules (the service); published as its list of objects."""


@extend_schema_field(DocumentSerializer(many=True))
class DocumentsField(serializers.JSONField):
    """Read by the participant standard's rules (the service); published as its list of objects."""


class PrivateSerializer(serializers.Serializer):
    """Stays at the home node: shown only to the participant and its home exchange's operators."""

    contacts = ContactSerializer(many=True)
    phone = serializers.CharField()
    email = serializers.CharField()
    documents = DocumentSerializer(many=True)


class AccountSerializer(StrictSerializer):
    """A login: a username and a password, nothing else (an unknown key is refused, alone or in a
    registration)."""

    username = serializers.CharField()
    password = serializers.CharField(write_only=True)


_ROLE_HELP = f"One or more of {_codes(vocab.ROLE)}."


class ParticipantWriteSerializer(StrictSerializer):
    """A registration. Types are checked here; the standard's rules (USCC, vocabularies) by the service, so
    peers' payloads and API requests meet the same rules."""

    uscc = serializers.CharField(help_text="Unified Social Credit Code, 18 characters (GB 32100-2015).")
    legal_name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    entity_type = serializers.CharField(help_text=f"One of {_codes(vocab.ENTITY_TYPE)}.")
    roles = serializers.ListField(child=serializers.CharField(), help_text=_ROLE_HELP)
    business_categories = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=f"Data merchants: {_codes(vocab.BUSINESS_CATEGORY)}.",
    )
    services = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=f"Service providers: {_codes(vocab.SERVICE)}.",
    )
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    contacts = ContactsField(required=False, help_text="Private: [{name, title, phone, email}].")
    phone = serializers.CharField(required=False, allow_blank=True, help_text="Private.")
    email = serializers.CharField(required=False, allow_blank=True, help_text="Private.")
    documents = DocumentsField(required=False, help_text="Private: [{title, ref}].")
    account = AccountSerializer(required=False, help_text="A login for the participant's own user.")


class ParticipantPatchSerializer(StrictSerializer):
    legal_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    entity_type = serializers.CharField(required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False, help_text=_ROLE_HELP)
    business_categories = serializers.ListField(child=serializers.CharField(), required=False)
    services = serializers.ListField(child=serializers.CharField(), required=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    contacts = ContactsField(required=False)
    phone = serializers.CharField(required=False, allow_blank=True)
    email = serializers.CharField(required=False, allow_blank=True)
    documents = DocumentsField(required=False)
    expected_version = serializers.IntegerField(required=False, min_value=1)


class VerificationSerializer(StrictSerializer):
    status = serializers.ChoiceField(
        choices=[ParticipantStatus.VERIFIED, ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED]
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    expected_version = serializers.IntegerField(required=False, min_value=1)


class ParticipantSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="participant_id", help_text="Global participant id: the normalised USCC."
    )
    uscc = serializers.CharField(source="participant_id")
    home_exchange = serializers.CharField(source="home_id")
    home_exchange_name = serializers.CharField(source="home.name_zh")
    roles = serializers.ListField(child=serializers.CharField())
    business_categories = serializers.ListField(child=serializers.CharField())
    services = serializers.ListField(child=serializers.CharField())
    duplicate_of = serializers.SerializerMethodField()
    in_good_standing = serializers.BooleanField()

    class Meta:
        model = Participant
        fields = (
            "id",
            "uscc",
            "legal_name",
            "entity_type",
            "region",
            "roles",
            "business_categories",
            "services",
            "description",
            "home_exchange",
            "home_exchange_name",
            "status",
            "status_reason",
            "registered_at",
            "verified_at",
            "version",
            "duplicate_of",
            "in_good_standing",
            "updated_at",
        )

    @extend_schema_field(
        {"type": "object", "nullable": True, "properties": {"home_exchange": {"type": "string"}}}
    )
    def get_duplicate_of(self, obj):
        """When two exchanges registered the same USCC: the registration that won (same at every node)."""
        if not obj.duplicate_of:
            return None
        return {"participant_id": obj.participant_id, "home_exchange": obj.duplicate_of}


class ParticipantDetailSerializer(ParticipantSerializer):
    private = serializers.SerializerMethodField()

    class Meta(ParticipantSerializer.Meta):
        fields = (*ParticipantSerializer.Meta.fields, "private")

    @extend_schema_field(PrivateSerializer(allow_null=True))
    def get_private(self, obj):
        """Only for the participant itself and its home exchange's operators, and only at the home node."""
        if not self.context.get("show_private"):
            return None
        private = getattr(obj, "private", None)
        if private is None:
            return None
        return {
            "contacts": private.contacts,
            "phone": private.phone,
            "email": private.email,
            "documents": private.documents,
        }


class ParticipantRecognitionSerializer(serializers.ModelSerializer):
    exchange = serializers.CharField(source="exchange_id")

    class Meta:
        model = ParticipantRecognition
        fields = ("exchange", "status", "reasons", "home", "version", "updated_at")


class EvaluationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    subject = serializers.CharField(source="subject_id")
    current = serializers.SerializerMethodField()

    class Meta:
        model = Evaluation
        fields = (
            "id",
            "subject",
            "dimension",
            "score",
            "grade",
            "valid_from",
            "valid_until",
            "summary",
            "evidence_ref",
            "issuer_type",
            "issuer_id",
            "issuer_name",
            "origin",
            "status",
            "revoked_reason",
            "issued_at",
            "version",
            "current",
        )

    def get_current(self, obj) -> bool:
        """Counts today: active and within its validity period."""
        today = self.context.get("today")
        return obj.status == "active" and today is not None and obj.valid_from <= today <= obj.valid_until


class EvaluationWriteSerializer(StrictSerializer):
    subject = serializers.RegexField(r"^[0-9A-Za-z]{18}$", help_text="Participant id (USCC) evaluated.")
    dimension = serializers.ChoiceField(choices=_codes(vocab.DIMENSION))
    score = serializers.IntegerField(
        min_value=0,
        max_value=100,
        help_text="0–100; the grade follows the scale (AAA ≥ 90, AA ≥ 80, A ≥ 70, B ≥ 60, C).",
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    summary = serializers.CharField(max_length=MAX_SUMMARY)
    evidence_ref = serializers.CharField(max_length=MAX_EVIDENCE_REF, required=False, allow_blank=True)


class RevokeSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class TrustEvaluationSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    evaluations = EvaluationSerializer(many=True)


class TrustSerializer(serializers.Serializer):
    participant = ParticipantSerializer()
    evaluations = TrustEvaluationSerializer(many=True, help_text="Current evaluations, by dimension.")
    recognised_by = serializers.ListField(
        child=serializers.CharField(), help_text="Exchanges that recognise it."
    )
    recognitions = ParticipantRecognitionSerializer(many=True)


class LoginSerializer(StrictSerializer):
    username = serializers.CharField()
    password = serializers.CharField()


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField()


class PasswordChangeSerializer(StrictSerializer):
    current_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Bearer token accepted by every node until expires_at.")
    token_type = serializers.CharField()
    expires_at = serializers.IntegerField(help_text="Unix time.")
    expires_in = serializers.IntegerField()
    refresh = serializers.CharField(help_text="Single use, at the home node only.")
    participant_id = serializers.CharField()
    home_exchange = serializers.CharField()
