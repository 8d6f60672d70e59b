"""Disputes of deals (纠纷协调, docs/deals.md "Disputes"): file one, take each later step at the node that
owns it, read a dispute with its steps, derived state, deadlines and overdue flag; the operators' queue; the
dispute vocabularies. Only the parties and the operators of the coordinating and co-coordinating exchanges
read a dispute: anyone else gets 404, as if it did not exist."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import disputes as s
from api.views.common import errors
from core.exceptions import FieldError, Forbidden, ValidationFailed
from deals.dispute_selectors import (
    deal_disputes,
    dispute_actions,
    dispute_config,
    dispute_is_overdue,
    dispute_roles,
    dispute_state,
    dispute_steps,
    disputes_queue,
)
from deals.dispute_services import OUTCOME_SCORE, dispute_take
from deals.models import Deal
from deals.selectors import operator_exchange
from standards.deal_disputes import EVALUATION_DIMENSION
from standards.terminology import dispute_vocabularies_with_terms

TAG = ["deals"]
WRITE = errors(400, 401, 403, 404, 409, 413, 415, 429)


def _user(request):
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def _deal(request, gid: str) -> Deal:
    """The deal, if the caller takes a role in its disputes (a party, or an operator of the coordinating or
    co-coordinating exchange at its node); else 404."""
    deal = Deal.objects.filter(gid=gid).first()
    if deal is None or not dispute_roles(_user(request), deal):
        raise Http404
    return deal


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def dispute_detail(deal: Deal, gid: str, user) -> dict:
    steps = dispute_steps(gid)
    derived = dispute_state(deal, gid, steps)
    if derived["state"] is None:
        raise Http404
    now = timezone.now()
    roles = dispute_roles(user, deal)
    outcome = derived["outcome"]
    evaluation = derived["evaluation"]
    if evaluation is not None:
        resolution = next(step for step in steps if step.gid == derived["applied"][-1])
        evaluation = {**evaluation, "id": resolution.body.get("evaluation")}
    applied = set(derived["applied"])
    data = {
        "id": gid,
        "deal": deal.gid,
        **{k: derived[k] for k in ("state", "category", "filed_by", "filed_at", "accepted_at", "closed_at")},
        "coordinator": deal.product_exchange,
        "co_coordinator": deal.buyer_home,
        "outcome": None
        if outcome is None
        else {**outcome, "refund_amount": _money(outcome["refund_amount"])},
        "evaluation": evaluation,
        "escalation": derived["escalation"],
        "amounts": {k: _money(v) for k, v in derived["amounts"].items()},
        "deadlines": derived["deadlines"],
        "overdue": dispute_is_overdue(derived, now),
        "statements": derived["statements"],
        "messages": derived["messages"],
        "allowed": derived["allowed"],
        "my_roles": sorted(roles),
        "actions": dispute_actions(derived, roles, now),
        "rejected": [
            {k: r[k] for k in ("step", "field", "code", "message", "message_en")} for r in derived["rejected"]
        ],
        "ignored_steps": len(derived["ignored"]),
        "steps": [
            {
                "id": step.gid,
                "origin": step.origin,
                "action": step.action,
                "role": step.role,
                "actor_id": step.actor_id,
                "at": step.at,
                "body": step.body,
                "applied": step.gid in applied,
            }
            for step in steps
        ],
    }
    return s.DisputeSerializer(data).data


class DealDisputesView(APIView):
    signed_in = True  # api/schema.py

    @extend_schema(
        summary="A deal's disputes (to its parties and the coordinating exchanges' operators)",
        tags=TAG,
        responses={200: s.DisputeSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, id):
        deal = _deal(request, id)
        gids = deal_disputes(deal).values_list("gid", flat=True)
        return Response([dispute_detail(deal, gid, request.user) for gid in gids])

    @extend_schema(
        summary="File a dispute on a deal with a contract (a party, at its home node)",
        tags=TAG,
        request=s.DisputeFileSerializer,
        responses={201: s.DisputeSerializer, **WRITE},
    )
    def post(self, request, id):
        deal = _deal(request, id)
        s.DisputeFileSerializer(data=request.data).is_valid(raise_exception=True)
        step = dispute_take(actor=request.user, deal=deal, action="file", data=dict(request.data))
        return Response(dispute_detail(deal, step.dispute_gid, request.user), status=status.HTTP_201_CREATED)


class DisputeView(APIView):
    signed_in = True  # api/schema.py

    @extend_schema(
        summary="A dispute: its steps, derived state, deadlines, overdue flag, what the caller may do",
        tags=TAG,
        responses={200: s.DisputeSerializer, **errors(401, 404)},
    )
    def get(self, request, id, dispute):
        deal = _deal(request, id)
        return Response(dispute_detail(deal, dispute, request.user))


def _action_view(action: str, serializer, summary: str) -> type[APIView]:
    class DisputeActionView(APIView):
        signed_in = True  # api/schema.py

        @extend_schema(
            summary=summary,
            tags=TAG,
            request=serializer,
            responses={201: s.DisputeSerializer, **WRITE},
            operation_id=f"deals_disputes_{action}_create",
        )
        def post(self, request, id, dispute):
            deal = _deal(request, id)
            serializer(data=request.data).is_valid(raise_exception=True)
            dispute_take(
                actor=request.user, deal=deal, action=action, data=dict(request.data), dispute_gid=dispute
            )
            return Response(dispute_detail(deal, dispute, request.user), status=status.HTTP_201_CREATED)

    DisputeActionView.__name__ = f"Dispute{action.title()}View"
    DisputeActionView.__qualname__ = DisputeActionView.__name__
    return DisputeActionView


ACTION_VIEWS = {
    "accept": _action_view(
        "accept",
        s.DisputeReasonSerializer,
        "Accept a filed dispute (an operator of the coordinating exchange)",
    ),
    "statement": _action_view(
        "statement",
        s.DisputeStatementSerializer,
        "A party's statement with evidence references (once accepted)",
    ),
    "message": _action_view(
        "message",
        s.DisputeMessageSerializer,
        "A message (a party, the coordinating or co-coordinating exchange)",
    ),
    "withdraw": _action_view(
        "withdraw", s.DisputeReasonSerializer, "Withdraw the dispute (the party that filed it)"
    ),
    "escalate": _action_view(
        "escalate",
        s.DisputeEscalateSerializer,
        "Escalate to arbitration or court (the coordinator; a party once the coordinator is overdue)",
    ),
    "resolve": _action_view(
        "resolve",
        s.DisputeResolveSerializer,
        "Resolve with an outcome (the coordinator); one against a party is an evaluation of it",
    ),
    "ruling": _action_view(
        "ruling",
        s.DisputeRulingSerializer,
        "Record the arbitration award or court judgment of an escalated dispute as its outcome (the "
        "coordinator's operators); a rejected deal moves on as with a resolution",
    ),
}


class DisputeQueueView(generics.ListAPIView):
    """The operators' queue: the disputes this operator's exchange coordinates or co-coordinates."""

    signed_in = True  # api/schema.py
    serializer_class = s.DisputeRowSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return deal_disputes(Deal()).none()
        user = _user(self.request)
        if operator_exchange(user) is None:
            raise Forbidden(
                message="只有交易所运营人员可以查看纠纷处理队列",
                message_en="Only an exchange's operators read the disputes queue",
                code="operator_required",
            )
        params = self.request.query_params
        state = params.get("state") or None
        if state is not None and state not in s.STATES:
            raise ValidationFailed([FieldError("state", "invalid_choice", "未知的纠纷状态", "Unknown state")])
        overdue = params.get("overdue")
        if overdue not in (None, "", "true", "false"):
            raise ValidationFailed(
                [FieldError("overdue", "invalid_choice", "须为 true 或 false", "true or false")]
            )
        return disputes_queue(user, state=state, overdue=overdue == "true")

    @extend_schema(
        summary="The operators' queue: disputes the caller's exchange coordinates or co-coordinates",
        tags=TAG,
        parameters=[
            OpenApiParameter("state", str, enum=s.STATES),
            OpenApiParameter("overdue", str, enum=["true", "false"], description="true: overdue only."),
        ],
        responses={200: s.DisputeRowSerializer(many=True), **errors(400, 401, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DisputeVocabulariesView(APIView):
    @extend_schema(
        summary="Dispute coordination's vocabularies (categories, states, actions, roles, outcomes, venues) "
        "with zh/en labels and glossary terms, who may do what when, and the network's deadlines",
        tags=["standards"],
        responses={200: s.DisputeVocabulariesSerializer},
    )
    def get(self, request):
        data = dispute_vocabularies_with_terms()
        data["deadlines"] = dispute_config()
        data["evaluation_dimension"] = dict(EVALUATION_DIMENSION)
        data["outcome_score"] = dict(OUTCOME_SCORE)
        return Response(data)
