"""The operators' queue of registration conflicts at this node (participants.conflicts): what the duplicate
rule alone did not decide, and their decisions."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.response import Response

from api.filters import query_boolean
from api.serializers.base import StrictSerializer
from api.views.common import errors
from core.exceptions import FieldError, ValidationFailed
from participants.conflicts import conflicts_visible
from participants.identity import conflict_decide
from participants.models import RegistrationConflict
from participants.permissions import is_home_operator

TAG = ["participants"]


class ConflictSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegistrationConflict
        fields = (
            "id",
            "participant_id",
            "reason",
            "standing_home",
            "challenger_home",
            "standing_registered_at",
            "challenger_registered_at",
            "challenger_first_seen_at",
            "detected_at",
            "decision",
            "decided_at",
            "note",
        )


class ConflictDecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=["keep", "replace"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(
        summary="Registration conflicts at this node (its operators)",
        description=(
            "Two registrations of one USCC that the rule alone did not settle here: `verified_displacement` "
            "(a registration would have displaced the verified one standing here; it was kept), `backdated` "
            "(a registration claims a time well before this node first saw it; it was ranked from its "
            "arrival), `home_displaced` (this exchange's registration was displaced). `open=true` lists the "
            "undecided."
        ),
        tags=TAG,
        parameters=[OpenApiParameter("open", bool)],
        responses={200: ConflictSerializer(many=True), **errors(401, 403)},
    ),
    retrieve=extend_schema(
        summary="A registration conflict",
        tags=TAG,
        responses={200: ConflictSerializer, **errors(401, 403, 404)},
    ),
)
class ConflictViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    signed_in = True  # api/schema.py
    serializer_class = ConflictSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not (request.user and request.user.is_authenticated):
            raise NotAuthenticated
        if not is_home_operator(request.user):
            raise PermissionDenied("只有本交易所的运营人员可以查看登记冲突 / Only this exchange's operators")

    def get_queryset(self):
        try:
            open_only = bool(query_boolean(self.request.query_params.get("open")))
        except ValidationError as exc:
            error = FieldError("open", "invalid", exc.messages[0], "open is true or false")
            raise ValidationFailed([error]) from None
        return conflicts_visible(open_only=open_only).order_by("-id")

    def get_object(self):
        found = (
            self.get_queryset().filter(pk=self.kwargs["pk"]).first() if self.kwargs["pk"].isdigit() else None
        )
        if found is None:
            raise Http404
        return found

    @extend_schema(
        summary="Decide a registration conflict: `keep` the registration that stood, or `replace` it",
        tags=TAG,
        request=ConflictDecisionSerializer,
        responses={200: ConflictSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        conflict = self.get_object()
        body = ConflictDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conflict = conflict_decide(actor=request.user, conflict_id=conflict.pk, **body.validated_data)
        return Response(ConflictSerializer(conflict).data)
