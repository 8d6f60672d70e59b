"""Deals (交易): order a product at any node, and every later step at the node that owns it (docs/deals.md).
A deal outside the caller's view answers 404, as if it did not exist."""

import json
from collections import defaultdict

from django.conf import settings
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import deals as s
from api.views.common import errors
from core.exceptions import FieldError, ValidationFailed
from deals import services
from deals.closing import deal_evaluate
from deals.compliance import deal_compliance_recheck
from deals.contract import deal_contract, deal_contract_text
from deals.models import Deal
from deals.selectors import (
    deal_derive,
    deal_roles,
    deal_steps,
    deal_visible,
    deals_for,
    exchange_fee_rates,
    exchange_terms_get,
)
from deals.terms import exchange_terms_set
from standards.deal_flow import AGREED, REJECTED, STATES

TAG = ["deals"]


class PlainTextRenderer(BaseRenderer):
    """The contract's Chinese rendering for `Accept: text/plain` (an error still comes as its JSON shape)."""

    media_type = "text/plain"
    format = "text"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


WRITE = errors(400, 401, 403, 404, 409, 413, 415, 429)
# What the flow allows the coordinator but its node takes itself: the first compliance check of an agreed
# deal (an operator runs it again only once it failed: POST /deals/{id}/compliance/); the outcome of a
# rejected deal (written with the resolution of its dispute: POST /deals/{id}/disputes/{id}/resolve/).
_NODE_ONLY = defaultdict(frozenset, {AGREED: frozenset({"compliance"}), REJECTED: frozenset({"outcome"})})


def _user(request):
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def _detail(deal: Deal, user) -> dict:
    steps = deal_steps(deal)
    derived = deal_derive(deal, steps)
    roles = deal_roles(user, deal)
    data = s.DealSerializer(deal).data
    data.update(
        state=derived.state,
        offer_version=derived.offer_version,
        offer=derived.offer,
        agreed_offer=derived.agreed_offer,
        contract_sha256=derived.contract_sha256,
        deadlines={k: v.isoformat() if v else None for k, v in derived.deadlines.items()},
        my_roles=sorted(roles),
        actions=sorted(
            {kind for role in roles for kind in derived.actions[role]} - _NODE_ONLY[derived.state]
        ),
        ignored_steps=len(derived.ignored),
        steps=s.StepSerializer(steps, many=True, context={"applied": set(derived.applied)}).data,
    )
    return data


@extend_schema_view(
    list=extend_schema(
        summary="The caller's deals (a participant's own; an operator's: those its exchange is in)",
        tags=TAG,
        parameters=[
            OpenApiParameter("state", str, enum=list(STATES)),
            OpenApiParameter("role", str, enum=["buyer", "provider"], description="A participant's side."),
        ],
        responses={200: s.DealSerializer(many=True), **errors(400, 401)},
    ),
)
class DealViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.DealSerializer
    lookup_field = "gid"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[A-Za-z]{2,8}-[0-9a-f]{32}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deal.objects.none()
        user = _user(self.request)
        deals = deals_for(user)
        if self.action != "list":
            return deals
        params = self.request.query_params
        if params.get("state"):
            if params["state"] not in STATES:
                raise ValidationFailed([FieldError("state", "invalid_choice", "未知的状态", "Unknown state")])
            deals = deals.filter(state=params["state"])
        role = params.get("role")
        if role:
            if role not in {"buyer", "provider"}:
                raise ValidationFailed(
                    [FieldError("role", "invalid_choice", "须为 buyer 或 provider", "buyer or provider")]
                )
            deals = deals.filter(**{f"{role}_id": getattr(user, "participant_id", None)})
        return deals

    def get_object(self) -> Deal:
        user = _user(self.request)
        deal = Deal.objects.filter(gid=self.kwargs["id"]).first()
        if deal is None or not deal_visible(user, deal):
            raise Http404
        return deal

    @extend_schema(
        summary="Order a listed product (a verified demander, at any node: that node owns the order)",
        tags=TAG,
        request=s.OrderSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    def create(self, request):
        user = _user(request)
        serializer = s.OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal = services.deal_order(
            actor=user, product_code=serializer.validated_data["product"], request=request.data["request"]
        )
        return Response(_detail(deal, user), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A deal: its steps, the state derived from them, and what the caller may do",
        tags=TAG,
        responses={200: s.DealDetailSerializer, **errors(401, 404)},
    )
    def retrieve(self, request, id=None):
        return Response(_detail(self.get_object(), request.user))

    def _step(self, request, kind, serializer_class=None, **extra):
        deal = self.get_object()
        body = {}
        if serializer_class is not None:
            serializer = serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            body = dict(request.data)
        services.deal_step_take(actor=request.user, deal=deal, kind=kind, body=body, **extra)
        return Response(_detail(deal, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Make an offer (the provider, at its home node) or a counter-offer (the buyer, at its home)",
        tags=TAG,
        request=s.OfferSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def offers(self, request, id=None):
        deal = self.get_object()
        kind = "counter" if "buyer" in deal_roles(request.user, deal) else "offer"
        return self._step(request, kind, s.OfferSerializer)

    @extend_schema(
        summary="Accept the current offer: the party's home node signs the contract's digest",
        tags=TAG,
        request=s.AcceptSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, id=None):
        serializer = s.AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("offer_version")
        return self._step(request, "accept", offer_version=version)

    @extend_schema(
        summary="Cancel (either party before the contract; the buyer until delivery), with a reason",
        tags=TAG,
        request=s.ReasonSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, id=None):
        return self._step(request, "cancel", s.ReasonSerializer)

    @extend_schema(
        summary="Terminate (an operator of the coordinating exchange, in any state but a final one)",
        tags=TAG,
        request=s.ReasonSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def terminate(self, request, id=None):
        return self._step(request, "terminate", s.ReasonSerializer)

    @extend_schema(
        summary="Record the delivery (the provider, at its home node), per the contract's method",
        tags=TAG,
        request=s.DeliverySerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def deliveries(self, request, id=None):
        return self._step(request, "delivery", s.DeliverySerializer)

    @extend_schema(
        summary="Confirm receipt (the buyer; for files, the digests it computed: mismatches are recorded)",
        tags=TAG,
        request=s.ReceiptSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def receipt(self, request, id=None):
        return self._step(request, "receipt", s.ReceiptSerializer)

    @extend_schema(
        summary="Accept or reject the delivery within the acceptance window (the buyer)",
        tags=TAG,
        request=s.AcceptanceSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def acceptance(self, request, id=None):
        return self._step(request, "acceptance", s.AcceptanceSerializer)

    @extend_schema(
        summary="Record the settlement (an operator of the coordinating exchange): amount and each fee",
        tags=TAG,
        request=None,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def settlement(self, request, id=None):
        return self._step(request, "settlement")

    @extend_schema(
        summary="Run the compliance check again (an operator of the coordinating exchange, after it failed)",
        tags=TAG,
        request=None,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def compliance(self, request, id=None):
        deal = self.get_object()
        deal_compliance_recheck(actor=request.user, deal=deal)
        return Response(_detail(deal, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Evaluate the counter-party of a settled deal (a participant evaluation, evidence deal:<id>)",
        tags=TAG,
        request=s.DealEvaluationSerializer,
        responses={201: s.DealDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def evaluations(self, request, id=None):
        deal = self.get_object()
        serializer = s.DealEvaluationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal_evaluate(actor=request.user, deal=deal, data=dict(serializer.validated_data))
        return Response(_detail(deal, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The contract: canonical JSON, its SHA-256 and both signatures checked (?as=text: Chinese)",
        tags=TAG,
        parameters=[OpenApiParameter("as", str, enum=["json", "text"])],
        responses={
            200: OpenApiResponse(s.ContractSerializer, description="JSON, or text/plain with ?as=text"),
            **errors(401, 404, 409),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PlainTextRenderer])
    def contract(self, request, id=None):
        contract = deal_contract(self.get_object())
        if request.query_params.get("as") == "text" or request.accepted_renderer.format == "text":
            return HttpResponse(deal_contract_text(contract), content_type="text/plain; charset=utf-8")
        return Response(contract)


class ExchangeTermsView(APIView):
    @extend_schema(
        summary="An exchange's fee rates on deals (its published terms, or this node's defaults)",
        tags=["exchanges"],
        responses={200: s.TermsSerializer, **errors(404)},
    )
    def get(self, request, code):
        code = code.upper()
        terms = exchange_terms_get(code)
        if terms is not None:
            return Response(s.TermsSerializer(terms).data)
        if code not in settings.MEMBER_EXCHANGE_CODES:
            raise Http404
        listing, buyer = exchange_fee_rates(code)
        return Response(
            {
                "exchange": code,
                "listing_fee_bp": listing,
                "buyer_fee_bp": buyer,
                "version": 0,
                "published": False,
            }
        )

    @extend_schema(
        summary="Set this exchange's fee rates (its operators, at its node); replicated to every node",
        tags=["exchanges"],
        request=s.TermsWriteSerializer,
        responses={200: s.TermsSerializer, **WRITE},
    )
    def put(self, request, code):
        user = _user(request)
        serializer = s.TermsWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        terms = exchange_terms_set(actor=user, code=code.upper(), **serializer.validated_data)
        return Response(s.TermsSerializer(terms).data)
