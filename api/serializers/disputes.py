"""Request and response shapes of a deal's disputes (types only: the dispute standard's rules are applied by
the services, `standards.deal_disputes`)."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from deals.models import Dispute
from standards.deal_dispute_steps import ACTION, CATEGORY, ESCALATION_VENUE, OUTCOME, ROLE, STATE

STATES = [t.code for t in STATE]
EVIDENCE = "At most 20 references of at most 200 characters each (references, never files)."


class DisputeFileSerializer(StrictSerializer):
    category = serializers.ChoiceField(choices=[t.code for t in CATEGORY])
    description = serializers.CharField(trim_whitespace=False, help_text="1–4000 characters.")
    claim_amount = serializers.CharField(
        required=False,
        allow_null=True,
        help_text='Yuan, two decimals at most, ≤ the deal\'s amount: "500.00".',
    )
    evidence = serializers.ListField(child=serializers.CharField(), required=False, help_text=EVIDENCE)


class DisputeReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="At most 500."
    )


class DisputeStatementSerializer(StrictSerializer):
    text = serializers.CharField(trim_whitespace=False, help_text="1–4000 characters.")
    evidence = serializers.ListField(child=serializers.CharField(), required=False, help_text=EVIDENCE)


class DisputeMessageSerializer(StrictSerializer):
    text = serializers.CharField(trim_whitespace=False, help_text="1–4000 characters.")


class DisputeEscalateSerializer(StrictSerializer):
    venue = serializers.ChoiceField(choices=[t.code for t in ESCALATION_VENUE])
    reference = serializers.CharField(required=False, allow_blank=True, help_text="The case number (≤ 200).")
    reason = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="At most 4000."
    )


class DisputeOutcomeSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=[t.code for t in OUTCOME])
    refund_amount = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="partial_refund: more than 0 and less than the deal's amount; full_refund: the amount.",
    )
    summary = serializers.CharField(trim_whitespace=False, help_text="1–4000 characters.")
    redeliver_within_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="redelivery only: days (1–90, default 7) the provider has to deliver again.",
    )
    compensation_amount = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="compensation only: what the buyer pays the provider, more than 0 and at most the amount.",
    )


class DisputeResolveSerializer(StrictSerializer):
    outcome = DisputeOutcomeSerializer(
        help_text=(
            "A dispute the buyer filed: dismissed, redelivery, partial_refund, full_refund; one the provider "
            "filed: dismissed, upheld, compensation (dispute rules 1.2)."
        )
    )


class DisputeRulingSerializer(DisputeResolveSerializer):
    reference = serializers.CharField(help_text="The arbitration award's or judgment's case number (≤ 200).")


class DisputeStepSerializer(serializers.Serializer):
    id = serializers.CharField()
    origin = serializers.CharField()
    action = serializers.ChoiceField(choices=[t.code for t in ACTION])
    role = serializers.ChoiceField(choices=[t.code for t in ROLE])
    actor_id = serializers.CharField()
    at = serializers.DateTimeField()
    body = serializers.JSONField(help_text="The action's own fields.")
    applied = serializers.BooleanField(help_text="False: held, but not taken by the dispute's derivation.")


class DisputeAmountsSerializer(serializers.Serializer):
    deal = serializers.CharField(allow_null=True)
    claimed = serializers.CharField(allow_null=True)
    refund = serializers.CharField(allow_null=True)


class DisputeDeadlinesSerializer(serializers.Serializer):
    accept_by = serializers.DateTimeField(allow_null=True)
    resolve_by = serializers.DateTimeField(allow_null=True)


class DisputeRejectedStepSerializer(serializers.Serializer):
    step = serializers.CharField()
    field = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    message = serializers.CharField()
    message_en = serializers.CharField()


class DisputeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The id of its file step.")
    deal = serializers.CharField()
    state = serializers.ChoiceField(choices=STATES)
    category = serializers.ChoiceField(choices=[t.code for t in CATEGORY])
    filed_by = serializers.ChoiceField(choices=["buyer", "provider"])
    filed_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    coordinator = serializers.CharField(help_text="The product's home exchange.")
    co_coordinator = serializers.CharField(help_text="The buyer's home exchange.")
    outcome = serializers.JSONField(
        allow_null=True,
        help_text=(
            '{"kind", "refund_amount", "summary", "against", "redeliver_within_days"} and, for a '
            'compensation, "compensation_amount"'
        ),
    )
    evaluation = serializers.JSONField(
        allow_null=True, help_text='{"of", "dimension", "id"}: the evaluation a resolution made.'
    )
    escalation = serializers.JSONField(
        allow_null=True,
        help_text=(
            '{"venue", "reference", "by"} and, once recorded, "ruling": the case number of the award or '
            "judgment"
        ),
    )
    amounts = DisputeAmountsSerializer()
    deadlines = DisputeDeadlinesSerializer()
    overdue = serializers.BooleanField(help_text="Open and past the coordinator's deadline.")
    statements = serializers.DictField(child=serializers.IntegerField())
    messages = serializers.IntegerField()
    allowed = serializers.ListField(child=serializers.CharField(), help_text="Actions the state allows.")
    my_roles = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField(), help_text="What the caller may do now.")
    rejected = DisputeRejectedStepSerializer(many=True, help_text="Steps held but refused by the derivation.")
    ignored_steps = serializers.IntegerField(
        help_text="Steps whose role, actor or node disagree with the deal."
    )
    steps = DisputeStepSerializer(many=True)


class DisputeRowSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="gid")
    deal = serializers.CharField(source="deal_gid")
    overdue = serializers.SerializerMethodField()
    refund_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=True
    )

    class Meta:
        model = Dispute
        fields = (
            "id",
            "deal",
            "coordinator",
            "co_coordinator",
            "state",
            "category",
            "filed_by",
            "filed_at",
            "closed_at",
            "due_at",
            "refund_amount",
            "overdue",
        )

    def get_overdue(self, dispute) -> bool:
        now = self.context["now"]
        return (
            dispute.state in {"filed", "accepted", "mediation"}
            and dispute.due_at is not None
            and (now > dispute.due_at)
        )


class DisputeTermSerializer(serializers.Serializer):
    code = serializers.CharField()
    zh = serializers.CharField()
    en = serializers.CharField()
    term = serializers.CharField(help_text="The glossary term (GET /standards/terms/{id}/).")


class DisputeDeadlineConfigSerializer(serializers.Serializer):
    accept_working_days = serializers.IntegerField(help_text="Working days (China) to accept a filing.")
    resolve_days = serializers.IntegerField(help_text="Calendar days from acceptance to resolve.")


class DisputeVocabulariesSerializer(serializers.Serializer):
    category = DisputeTermSerializer(many=True)
    state = DisputeTermSerializer(many=True)
    action = DisputeTermSerializer(many=True)
    role = DisputeTermSerializer(many=True)
    outcome = DisputeTermSerializer(many=True)
    escalation_venue = DisputeTermSerializer(many=True)
    allowed = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="state: the actions it allows."
    )
    roles = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="action: the roles that take it.",
    )
    deadlines = DisputeDeadlineConfigSerializer()
    evaluation_dimension = serializers.DictField(
        child=serializers.CharField(), help_text="category: the dimension of an outcome's evaluation."
    )
    outcome_score = serializers.DictField(
        child=serializers.IntegerField(), help_text="outcome: the score of the evaluation it makes."
    )
