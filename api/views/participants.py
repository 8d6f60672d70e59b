from django.conf import settings
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.filters import EvaluationFilter, ParticipantFilter
from api.serializers.participants import (
    AccountSerializer,
    EvaluationSerializer,
    EvaluationWriteSerializer,
    ParticipantDetailSerializer,
    ParticipantPatchSerializer,
    ParticipantSerializer,
    ParticipantWriteSerializer,
    RevokeSerializer,
    TrustSerializer,
    VerificationSerializer,
)
from api.throttling import (
    RegisterThrottle,
    RegisterUsccThrottle,
)
from api.views.common import errors
from participants import evaluations, logins, services
from participants.models import Evaluation, Participant
from participants.permissions import can_read_private
from participants.selectors import participant_get, trust_view

P_TAG = ["participants"]
E_TAG = ["evaluations"]
A_TAG = ["auth"]
HOME_PARAM = OpenApiParameter(
    "home", str, description="A registration at this exchange (default: the one that stands for the USCC)."
)
PRIVATE = ("contacts", "phone", "email", "documents")


@extend_schema_view(
    list=extend_schema(
        summary="List and search participants (registrations of every exchange)",
        tags=P_TAG,
        responses={200: ParticipantSerializer, **errors(400, 429)},
    ),
)
class ParticipantViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Participants registered once at their home exchange, recognised by every node (一地注册，全国互信)."""

    signed_in = ("partial_update",)  # api/schema.py

    filterset_class = ParticipantFilter
    serializer_class = ParticipantSerializer
    lookup_field = "participant_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[0-9A-Za-z]{18}"

    def get_queryset(self):
        return Participant.objects.select_related("home").order_by("-id")

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":  # self-registrations, per address and per USCC
            throttles += [RegisterThrottle(), RegisterUsccThrottle()]
        return throttles

    def _registration(self, pid: str, *, home: str | None = None, for_write: bool = False) -> Participant:
        pid = pid.upper()
        if home is None and for_write:  # a write goes to the registration this node owns, if it has one
            participant = participant_get(pid, home=settings.NODE_CODE) or participant_get(pid)
        else:
            participant = participant_get(pid, home=home.upper() if home else None)
        if participant is None:
            raise Http404
        return participant

    def _respond(self, participant: Participant, status_code=status.HTTP_200_OK):
        show = can_read_private(self.request.user, participant)
        data = ParticipantDetailSerializer(participant, context={"show_private": show}).data
        return Response(data, status=status_code)

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Register a participant at this node's exchange (its home)",
        description=(
            "An operator of this exchange registers on a company's behalf (token), or a company "
            "registers itself (no token, with `account`). It starts pending verification. A USCC "
            "registered at any exchange gets 409 naming that exchange."
        ),
        tags=P_TAG,
        request=ParticipantWriteSerializer,
        responses={201: ParticipantDetailSerializer, **errors(400, 401, 403, 409, 413, 415, 429)},
    )
    def create(self, request):
        data = dict(self._valid(ParticipantWriteSerializer, request))
        private = {k: data.pop(k) for k in PRIVATE if k in data}
        account = data.pop("account", None)
        uscc = data.pop("uscc")
        participant = services.participant_register(
            actor=request.user, uscc=uscc, profile=data, private=private, account=account
        )
        return self._respond(participant, status.HTTP_201_CREATED)

    @extend_schema(
        summary="A participant: its public profile (and, for itself and its home operators, private fields)",
        tags=P_TAG,
        parameters=[HOME_PARAM],
        responses={200: ParticipantDetailSerializer, **errors(404)},
    )
    def retrieve(self, request, id=None):
        return self._respond(self._registration(id, home=request.query_params.get("home")))

    @extend_schema(
        summary="Change the profile or private fields (home node; its operators or the participant itself)",
        tags=P_TAG,
        request=ParticipantPatchSerializer,
        responses={200: ParticipantDetailSerializer, **errors(400, 401, 403, 404, 409, 413, 415, 429)},
    )
    def partial_update(self, request, id=None):
        participant = self._registration(id, for_write=True)
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        data = dict(self._valid(ParticipantPatchSerializer, request))
        expected = data.pop("expected_version", None)
        participant = services.participant_update(
            actor=request.user, participant=participant, changes=data, expected_version=expected
        )
        return self._respond(participant)

    @extend_schema(
        summary="Verify, suspend, reinstate or revoke (home exchange operators)",
        description="pending → verified → suspended → verified, or revoked from any state; reasons recorded.",
        tags=P_TAG,
        request=VerificationSerializer,
        responses={200: ParticipantDetailSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def verification(self, request, id=None):
        participant = self._registration(id, for_write=True)
        data = self._valid(VerificationSerializer, request)
        participant = services.participant_set_status(
            actor=request.user,
            participant=participant,
            status=data["status"],
            reason=data.get("reason", ""),
            expected_version=data.get("expected_version"),
        )
        return self._respond(participant)

    @extend_schema(
        summary="Open a login account for a participant registered here (home exchange operators)",
        tags=P_TAG,
        request=AccountSerializer,
        responses={201: AccountSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def accounts(self, request, id=None):
        participant = self._registration(id, for_write=True)
        account = dict(
            self._valid(AccountSerializer, request)
        )  # as a registration's account: trimmed like a login
        user = logins.account_create(actor=request.user, participant=participant, account=account)
        return Response({"username": user.username}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Trust view: current evaluations by dimension, and which exchanges recognise the participant",
        tags=P_TAG,
        responses={200: TrustSerializer, **errors(404)},
    )
    @action(detail=True, methods=["get"])
    def trust(self, request, id=None):
        view = trust_view(self._registration(id))
        context = {"today": timezone.localdate()}
        data = {
            "participant": ParticipantSerializer(view["participant"]).data,
            "evaluations": [
                {"dimension": d, "evaluations": EvaluationSerializer(rows, many=True, context=context).data}
                for d, rows in view["evaluations"].items()
            ],
            "recognised_by": view["recognised_by"],
            "recognitions": [
                {
                    "exchange": r.exchange_id,
                    "status": r.status,
                    "reasons": r.reasons,
                    "home": r.home,
                    "version": r.version,
                    "updated_at": r.updated_at,
                }
                for r in view["recognitions"]
            ],
        }
        return Response(data)


# The write endpoints need the router's detail route; expose partial_update only (no PUT).
ParticipantViewSet.http_method_names = ["get", "post", "patch", "head", "options"]


@extend_schema_view(
    list=extend_schema(
        summary="List evaluations (of every exchange and service provider)",
        tags=E_TAG,
        responses={200: EvaluationSerializer, **errors(400, 429)},
    ),
    retrieve=extend_schema(
        summary="An evaluation", tags=E_TAG, responses={200: EvaluationSerializer, **errors(404)}
    ),
)
class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evaluations (评估评价) by exchanges or verified third-party service providers, shared nationwide."""

    signed_in = ("create",)  # api/schema.py

    filterset_class = EvaluationFilter
    serializer_class = EvaluationSerializer
    lookup_field = "gid"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[A-Za-z]{2,8}-[0-9a-f]{32}"

    def get_queryset(self):
        return Evaluation.objects.order_by("-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(
        summary="Issue an evaluation (exchange operators, or service providers with a matching service)",
        tags=E_TAG,
        request=EvaluationWriteSerializer,
        responses={201: EvaluationSerializer, **errors(400, 401, 403, 404, 413, 415, 429)},
    )
    def create(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        serializer = EvaluationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = evaluations.evaluation_issue(actor=request.user, data=serializer.validated_data)
        return Response(
            EvaluationSerializer(evaluation, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Revoke an evaluation (where it was issued: its issuer, or that exchange's operators)",
        description=(
            "Only at the node where the evaluation was issued (403 not_owner elsewhere). Its issuer may "
            "revoke it: an exchange's evaluation, that exchange's operators; a service provider's, that "
            "participant's users. The operators of the exchange whose node issued it (and the node's admins) "
            "may also revoke a service provider's evaluation: the exchange answers for what its node "
            "publishes (e.g. a suspended provider cannot log in to revoke its own). Anyone else gets 403 "
            "not_issuer. A reason is required."
        ),
        tags=E_TAG,
        request=RevokeSerializer,
        responses={200: EvaluationSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def revoke(self, request, id=None):
        evaluation = self.get_object()
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = evaluations.evaluation_revoke(
            actor=request.user, evaluation=evaluation, reason=serializer.validated_data["reason"]
        )
        return Response(EvaluationSerializer(evaluation, context=self.get_serializer_context()).data)
