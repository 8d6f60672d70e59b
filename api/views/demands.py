from statistics import median

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import DemandFilter
from api.serializers.demands import (
    DecisionSerializer,
    DemandSerializer,
    DemandWriteSerializer,
    MatchSerializer,
    OpportunitySerializer,
    ResponseSerializer,
    ResponseWriteSerializer,
    StatusReasonSerializer,
)
from api.views.common import errors
from core.exceptions import Forbidden
from demands import responses as demand_responses
from demands import services
from demands.board import demands_listed
from demands.matching import matches_for, opportunities_for
from demands.models import Demand, DemandResponse, DemandStatus
from participants.principal import ParticipantPrincipal

TAG = ["demands"]
MATCHES_RANKED = 100  # GET /demands/{id}/matches/ pages through this many best matches
WRITE = errors(400, 401, 403, 404, 409, 413, 415, 429)


def _authenticated(request):
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def _participant(request) -> ParticipantPrincipal:
    user = _authenticated(request)
    if not isinstance(user, ParticipantPrincipal):
        raise Forbidden(
            message="需要市场主体令牌", message_en="This needs a participant token", code="not_participant"
        )
    return user


@extend_schema_view(
    list=extend_schema(
        summary="List and search demands held at this node",
        tags=TAG,
        responses={200: DemandSerializer, **errors(400, 429)},
    ),
    retrieve=extend_schema(summary="A demand", tags=TAG, responses={200: DemandSerializer, **errors(404)}),
)
class DemandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Demands posted at one exchange and answered nationwide (一地提出，全国响应)."""

    signed_in = ("create", "withdraw", "close", "responses")  # api/schema.py

    serializer_class = DemandSerializer
    filterset_class = DemandFilter
    lookup_field = "gid"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[A-Za-z]{2,8}-[0-9a-f]{32}"

    def get_queryset(self):
        return demands_listed(open_only=self.action == "list" and "status" not in self.request.query_params)

    @extend_schema(
        summary="Post a demand (a verified demander, with its token from any node)",
        tags=TAG,
        request=DemandWriteSerializer,
        responses={201: DemandSerializer, **WRITE},
    )
    def create(self, request):
        _authenticated(request)
        serializer = DemandWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        demand = services.demand_post(actor=request.user, data=dict(request.data))
        return Response(DemandSerializer(demand).data, status=status.HTTP_201_CREATED)

    def _status(self, request, new_status):
        _authenticated(request)
        demand = self.get_object()
        serializer = StatusReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        demand = services.demand_set_status(
            actor=request.user,
            demand=demand,
            status=new_status,
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(DemandSerializer(demand).data)

    @extend_schema(
        summary="Withdraw a demand (its demander, at the node where it was posted)",
        tags=TAG,
        request=StatusReasonSerializer,
        responses={200: DemandSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, id=None):
        return self._status(request, DemandStatus.WITHDRAWN)

    @extend_schema(
        summary="Close a demand; every responder is notified",
        tags=TAG,
        request=StatusReasonSerializer,
        responses={200: DemandSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, id=None):
        return self._status(request, DemandStatus.CLOSED)

    @extend_schema(
        summary="Listed products of every exchange ranked for this demand, each score explained: the "
        f"{MATCHES_RANKED} best, paginated",
        tags=TAG,
        responses={200: MatchSerializer(many=True), **errors(400, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def matches(self, request, id=None):
        demand = self.get_object()
        page = self.paginate_queryset(matches_for(demand, limit=MATCHES_RANKED))
        return self.get_paginated_response(MatchSerializer(page, many=True).data)

    @extend_schema(
        methods=["get"],
        summary="Responses the caller may see (demander, responder, their exchanges' operators)",
        tags=TAG,
        responses={200: ResponseSerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["post"],
        summary="Respond to a demand (a verified data merchant or service provider, at any node)",
        tags=TAG,
        request=ResponseWriteSerializer,
        responses={201: ResponseSerializer, **WRITE},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None)
    def responses(self, request, id=None):
        demand = self.get_object()
        user = _authenticated(request)
        if request.method == "POST":
            serializer = ResponseWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            response = demand_responses.response_create(actor=user, demand=demand, data=dict(request.data))
            return Response(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)
        rows = [
            r
            for r in DemandResponse.objects.filter(demand_gid=demand.gid).order_by("created_at")
            if demand_responses.response_visible(user, r)
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ResponseSerializer(page, many=True).data)


class ResponseView(APIView):
    signed_in = True  # api/schema.py

    def _get(self, request, id, rid) -> DemandResponse:
        user = _authenticated(request)
        response = DemandResponse.objects.filter(gid=rid, demand_gid=id).first()
        if response is None or not demand_responses.response_visible(user, response):
            raise Http404  # outside the audience: as if it did not exist
        return response

    @extend_schema(
        summary="A response (its audience only; anyone else gets 404)",
        tags=TAG,
        responses={200: ResponseSerializer, **errors(401, 404)},
    )
    def get(self, request, id, rid):
        return Response(ResponseSerializer(self._get(request, id, rid)).data)


class ResponseDecisionView(ResponseView):
    @extend_schema(
        summary="Shortlist, accept or decline a response (the demander, at the demand's node)",
        tags=TAG,
        request=DecisionSerializer,
        responses={200: ResponseSerializer, **WRITE},
    )
    def post(self, request, id, rid):
        response = self._get(request, id, rid)
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        response = demand_responses.response_decide(
            actor=request.user, response=response, **serializer.validated_data
        )
        return Response(ResponseSerializer(response).data)


class ResponseWithdrawView(ResponseView):
    @extend_schema(
        summary="Withdraw a response (the responder, at the node where it was made)",
        tags=TAG,
        request=None,
        responses={200: ResponseSerializer, **WRITE},
    )
    def post(self, request, id, rid):
        response = demand_responses.response_withdraw(
            actor=request.user, response=self._get(request, id, rid)
        )
        return Response(ResponseSerializer(response).data)


class OpportunitiesView(APIView):
    signed_in = True  # api/schema.py

    @extend_schema(
        summary="Open demands that match the caller's listed products, best first",
        tags=TAG,
        responses={200: OpportunitySerializer(many=True), **errors(401, 403)},
    )
    def get(self, request):
        participant = _participant(request)
        return Response(OpportunitySerializer(opportunities_for(participant.participant_id), many=True).data)


def _seconds(later, earlier):
    return round((later - earlier).total_seconds(), 3) if later and earlier else None


class DemandStatsView(APIView):
    @extend_schema(
        summary="Response speed: time to first match and to first response, response count",
        tags=TAG,
        parameters=[OpenApiParameter("origin", str, description="Only demands posted at this exchange.")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        demands = Demand.objects.order_by("-posted_at")
        origin = request.query_params.get("origin")
        if origin:
            demands = demands.filter(origin=origin.upper())
        demands = list(demands[:1000])
        firsts, counts = {}, {}
        for gid, first, n in (
            DemandResponse.objects.filter(demand_gid__in=[d.gid for d in demands])
            .values("demand_gid")
            .annotate(first=Min("created_at"), n=Count("id"))
            .values_list("demand_gid", "first", "n")
        ):
            firsts[gid], counts[gid] = first, n
        rows = []
        by_exchange: dict[str, dict] = {}
        for d in demands:
            row = {
                "demand": d.gid,
                "origin": d.origin,
                "status": d.status,
                "posted_at": d.posted_at,
                "time_to_first_match_s": _seconds(d.first_matched_at, d.posted_at),
                "time_to_first_response_s": _seconds(firsts.get(d.gid), d.posted_at),
                "responses": counts.get(d.gid, 0),
            }
            rows.append(row)
            agg = by_exchange.setdefault(
                d.origin, {"demands": 0, "match": [], "response": [], "responses": 0}
            )
            agg["demands"] += 1
            agg["responses"] += row["responses"]
            if row["time_to_first_match_s"] is not None:
                agg["match"].append(row["time_to_first_match_s"])
            if row["time_to_first_response_s"] is not None:
                agg["response"].append(row["time_to_first_response_s"])
        exchanges = [
            {
                "exchange": code,
                "demands": a["demands"],
                "matched": len(a["match"]),
                "median_time_to_first_match_s": median(a["match"]) if a["match"] else None,
                "answered": len(a["response"]),
                "median_time_to_first_response_s": median(a["response"]) if a["response"] else None,
                "responses": a["responses"],
            }
            for code, a in sorted(by_exchange.items())
        ]
        return Response(
            {
                "node": settings.NODE_CODE,
                "note": "Responses are private: figures are complete at the node where a demand was posted.",
                "by_exchange": exchanges,
                "by_demand": rows,
            }
        )
