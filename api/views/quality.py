"""Quality assessment reports (质量评估报告) about products, and each exchange's recognition policy."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import query_boolean
from api.serializers.quality import (
    PolicySerializer,
    PolicyWriteSerializer,
    QualityReportSerializer,
    ReportWriteSerializer,
    WithdrawSerializer,
)
from api.views.common import errors
from quality import services
from quality.models import QualityReport
from quality.selectors import policy_get, report_states, reports_of
from standards.quality import quality_as_json
from standards.terminology import term_for

TAG = ["quality"]
WRITE = errors(400, 401, 403, 404, 409, 413, 415, 429)


def _authenticated(request):
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def _states(reports: list[QualityReport]) -> dict[int, str]:
    """The states of these reports, judged with every report of their products."""
    return report_states(list(reports_of({r.product_code for r in reports})))


class ProductQualityReportsMixin:
    """`/products/{code}/quality-reports/` on the products viewset."""

    @extend_schema(
        methods=["get"],
        summary="A product's quality reports: the latest valid one of each assessor (?all=true: every one)",
        tags=TAG,
        parameters=[
            OpenApiParameter("all", bool, description="true: every report, with its state"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: QualityReportSerializer(many=True), **errors(400, 404)},
    )
    @extend_schema(
        methods=["post"],
        summary="Issue a quality report on a listed product (a qualified assessor at its home node, or an "
        "operator of this exchange)",
        tags=TAG,
        request=ReportWriteSerializer,
        responses={201: QualityReportSerializer, **WRITE},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="quality-reports",
        filterset_class=None,
        permission_classes=[AllowAny],
    )
    def quality_reports(self, request, code=None):
        code = code.upper()
        if request.method == "POST":
            user = _authenticated(request)
            serializer = ReportWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            report = services.report_issue(
                actor=user, product_code=code, data=dict(serializer.validated_data)
            )
            return Response(
                QualityReportSerializer(report, context={"states": _states([report])}).data,
                status=status.HTTP_201_CREATED,
            )
        product = self.get_object()
        try:
            every = query_boolean(request.query_params.get("all"))
        except DjangoValidationError as exc:  # the one error shape, naming the parameter
            raise ValidationError({"all": ["须为 true 或 false"]}) from exc
        reports = list(reports_of([product.code]))
        states = report_states(reports)
        if not every:
            reports = [r for r in reports if states[r.pk] == "valid"]
        page = self.paginate_queryset(reports)
        data = QualityReportSerializer(page, many=True, context={"states": states}).data
        return self.get_paginated_response(data)


class QualityReportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One quality report, and its withdrawal by its issuer."""

    serializer_class = QualityReportSerializer
    lookup_field = "gid"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[A-Za-z]{2,8}-[0-9a-f]{32}"
    filterset_class = None

    def get_queryset(self):
        return QualityReport.objects.order_by("-id")

    @extend_schema(
        summary="A quality report, with its state here",
        tags=TAG,
        responses={200: QualityReportSerializer, **errors(404)},
    )
    def retrieve(self, request, id=None):
        report = self.get_object()
        return Response(QualityReportSerializer(report, context={"states": _states([report])}).data)

    @extend_schema(
        summary="Withdraw a quality report (its issuer, at the node that issued it)",
        tags=TAG,
        request=WithdrawSerializer,
        responses={200: QualityReportSerializer, **errors(400, 401, 403, 404, 409, 413, 415, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def withdraw(self, request, id=None):
        report = self.get_object()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.report_withdraw(
            actor=request.user, report=report, reason=serializer.validated_data["reason"]
        )
        return Response(QualityReportSerializer(report, context={"states": _states([report])}).data)


QualityReportViewSet.signed_in = ("withdraw",)  # api/schema.py


class RecognitionPolicyView(APIView):
    @extend_schema(
        summary="An exchange's recognition policy (its published one, or the default: no extra condition)",
        tags=["exchanges"],
        responses={200: PolicySerializer, **errors(404)},
    )
    def get(self, request, code):
        code = code.upper()
        policy = policy_get(code)
        if policy is not None:
            return Response(PolicySerializer(policy).data)
        if code not in settings.MEMBER_EXCHANGE_CODES:
            raise Http404
        return Response(
            {"exchange": code, "quality_report_required": False, "version": 0, "published": False}
        )

    @extend_schema(
        summary="Set this exchange's recognition policy (its operators, at its node); replicated everywhere",
        tags=["exchanges"],
        request=PolicyWriteSerializer,
        responses={200: PolicySerializer, **errors(400, 401, 403, 413, 415, 429)},
    )
    def put(self, request, code):
        user = _authenticated(request)
        serializer = PolicyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.policy_set(actor=user, code=code.upper(), **serializer.validated_data)
        return Response(PolicySerializer(policy).data)


class QualityStandardView(APIView):
    @extend_schema(
        summary="The quality assessment standard: GB/T 36344 dimensions, grade scale, glossary terms",
        tags=["standards"],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        standard = quality_as_json()
        for row in standard["dimensions"]:
            row["term"] = term_for("quality_dimension", row["code"])
        for row in standard["grade_scale"]:
            row["term"] = term_for("quality_grade", row["grade"])
        return Response(standard)
