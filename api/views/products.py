from django.db.models.fields.json import KT
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.filters import ProductFilter
from api.pagination import ProductPagination, StablePageNumberPagination
from api.parsers import CSVParser, JSONLinesParser
from api.permissions import ProductWrite
from api.read_cache import PublicReadCache
from api.serializers.products import (
    OptionalReasonsSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductPatchSerializer,
    ProductVersionSerializer,
    ProductWriteSerializer,
    ReasonsSerializer,
    RecognitionReviewSerializer,
    RecognitionSerializer,
    ReviewSerializer,
    TransitionSerializer,
)
from api.serializers.profiles import ProductSampleSerializer
from api.views.common import errors
from api.views.quality import ProductQualityReportsMixin
from core.exceptions import FieldError, ValidationFailed
from products import services
from products.facets import FACET_NAMES, product_facets
from products.merge_patch import merge_patch
from products.models import ProductStatus
from products.profiles import product_profile_get, product_sample_upload
from products.recognition import recognition_review
from products.selectors import product_insider, product_versions, product_visible
from quality.selectors import reports_by_version

TAG = ["products"]
SAMPLE_FORMATS = {parser.media_type: parser.file_format for parser in (CSVParser, JSONLinesParser)}
LIST_DEFERRED = ("descriptor", "search_name", "search_keywords", "search_body", "findings", "status_reasons")
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 415, 429)


@extend_schema_view(
    list=extend_schema(
        summary="List and search products",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "facets",
                {"type": "array", "items": {"type": "string", "enum": list(FACET_NAMES)}},
                explode=False,
                description="Facet counts to add to the response (`facets`), comma separated, counted over "
                "the whole filtered result.",
            )
        ],
        responses={200: ProductListSerializer, **errors(400, 429)},
    ),
    retrieve=extend_schema(
        summary="A product with its descriptor",
        tags=TAG,
        responses={200: ProductDetailSerializer, **errors(404)},
    ),
    create=extend_schema(
        summary="Create a draft product at this node's exchange",
        tags=TAG,
        request=ProductWriteSerializer,
        responses={201: ProductDetailSerializer, **errors(400, 401, 403, 413, 415, 429)},
    ),
    update=extend_schema(
        summary="Replace the descriptor",
        tags=TAG,
        request=ProductWriteSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change part of the descriptor (JSON Merge Patch)",
        tags=TAG,
        request=ProductPatchSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    ),
)
class ProductViewSet(
    PublicReadCache,
    ProductQualityReportsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Products: drafts and reviews at the home exchange, public reading of listed products."""

    permission_classes = [ProductWrite]
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9*-]{1,40}"

    def get_queryset(self):
        queryset = product_visible(user=self.request.user).order_by("-id")
        if self.action == "list":
            if "status" not in self.request.query_params:
                queryset = queryset.filter(status=ProductStatus.LISTED)  # lists show what is on offer
            # A list page needs the summary, not the whole descriptor and search columns of each row.
            queryset = queryset.defer(*LIST_DEFERRED).annotate(summary_text=KT("descriptor__summary"))
        return queryset

    def list(self, request, *args, **kwargs):
        names = facet_names(request.query_params.get("facets"))  # refused before any query runs
        queryset = self.filter_queryset(self.get_queryset())
        if names:
            # Without `status` the list holds listed products only, whoever asks: shared counts.
            shared = "status" not in request.query_params
            request.product_facets = product_facets(queryset, names=names, shared=shared)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_class(self):
        return ProductListSerializer if self.action == "list" else ProductDetailSerializer

    def filter_queryset(self, queryset):
        """The list's filters (documented for the list only) are not built for a product read by its code:
        building them was a fifth of a product page (docs/performance.md, issue 25)."""
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_object(self):
        self.kwargs["code"] = self.kwargs["code"].upper()
        return super().get_object()

    def _respond(self, product, status_code=status.HTTP_200_OK):
        return Response(
            ProductDetailSerializer(product, context=self.get_serializer_context()).data, status=status_code
        )

    @staticmethod
    def _valid(serializer_class, request):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request):
        data = self._valid(ProductWriteSerializer, request)
        product = services.product_create(actor=request.user, descriptor=data["descriptor"])
        return self._respond(product, status.HTTP_201_CREATED)

    def update(self, request, code=None):
        product = self.get_object()
        data = self._valid(ProductWriteSerializer, request)
        product = services.product_update(
            actor=request.user,
            product=product,
            descriptor=data["descriptor"],
            expected_version=data.get("expected_version"),
        )
        return self._respond(product)

    def partial_update(self, request, code=None):
        product = self.get_object()
        data = self._valid(ProductPatchSerializer, request)
        descriptor = merge_patch(product.descriptor, data["descriptor"])
        product = services.product_update(
            actor=request.user,
            product=product,
            descriptor=descriptor,
            expected_version=data.get("expected_version"),
        )
        return self._respond(product)

    def _transition(self, request, serializer_class, service, **fixed):
        product = self.get_object()
        data = dict(self._valid(serializer_class, request))
        product = service(actor=request.user, product=product, **data, **fixed)
        return self._respond(product)

    @extend_schema(
        summary="Submit a draft for review; the automatic compliance rules run",
        tags=TAG,
        request=TransitionSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, code=None):
        return self._transition(request, TransitionSerializer, services.product_submit)

    @extend_schema(
        summary="Withdraw a submitted product back to draft",
        tags=TAG,
        request=TransitionSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, code=None):
        return self._transition(request, TransitionSerializer, services.product_withdraw)

    @extend_schema(
        summary="Approve (list) or reject a submitted product",
        tags=TAG,
        request=ReviewSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, code=None):
        return self._transition(request, ReviewSerializer, services.product_review)

    @extend_schema(
        summary="Suspend a listed product",
        tags=TAG,
        request=ReasonsSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, code=None):
        return self._transition(request, ReasonsSerializer, services.product_suspend)

    @extend_schema(
        summary="List a suspended product again",
        tags=TAG,
        request=OptionalReasonsSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request, code=None):
        return self._transition(request, OptionalReasonsSerializer, services.product_reinstate)

    @extend_schema(
        summary="Delist a product (final)",
        tags=TAG,
        request=ReasonsSerializer,
        responses={200: ProductDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def delist(self, request, code=None):
        return self._transition(request, ReasonsSerializer, services.product_delist)

    @extend_schema(
        summary="Record this exchange's recognition (互认) of a product, after an operator's review",
        tags=TAG,
        request=RecognitionReviewSerializer,
        responses={200: RecognitionSerializer, **errors(400, 401, 403, 404, 413, 415, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def recognition(self, request, code=None):
        product = self.get_object()
        data = self._valid(RecognitionReviewSerializer, request)
        recognition = recognition_review(
            actor=request.user, product=product, status=data["status"], reasons=data["reasons"]
        )
        return Response(RecognitionSerializer(recognition).data)

    @extend_schema(
        summary="Version history",
        tags=TAG,
        responses={200: ProductVersionSerializer(many=True), **errors(404)},
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=StablePageNumberPagination)
    def versions(self, request, code=None):
        product = self.get_object()
        versions = product_versions(product=product, user=request.user)
        page = self.paginator.paginate_queryset(versions, request, view=self)
        data = ProductVersionSerializer(page, many=True, context=self._history_context(product)).data
        return self.paginator.get_paginated_response(data)

    def _history_context(self, product) -> dict:
        """Readers see the kind of actor of each version; the product's insiders also see the login."""
        return {
            "exchange": product.exchange_id,
            "show_logins": product_insider(product=product, user=self.request.user),
            "reports_by_version": reports_by_version(product.code),
        }

    @extend_schema(
        summary="The product as it was at one version",
        tags=TAG,
        responses={200: ProductVersionSerializer, **errors(404)},
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version>[0-9]{1,9})", filterset_class=None)
    def version(self, request, code=None, version=None):
        product = self.get_object()
        row = product_versions(product=product, user=request.user).filter(version=int(version)).first()
        if row is None:
            raise Http404
        return Response(ProductVersionSerializer(row, context=self._history_context(product)).data)

    @extend_schema(
        summary="The product's uploaded sample file and machine profile",
        tags=TAG,
        methods=["GET"],
        responses={200: ProductSampleSerializer, **errors(404)},
    )
    @extend_schema(
        summary="Upload a sample file (CSV or JSON lines) at the product's home node; it is profiled",
        description=(
            "The raw body is the file: `text/csv` (UTF-8, a header row) or `application/x-ndjson` (one "
            "JSON object a line); at most 5 MiB and 10,000 rows. Only the product's provider or an operator "
            "of its exchange (or this node's admin), at its home node. The product needs a data dictionary "
            "(409 `no_data_dictionary`). Replaces an earlier file."
        ),
        tags=TAG,
        methods=["POST"],
        request={"text/csv": OpenApiTypes.BINARY, "application/x-ndjson": OpenApiTypes.BINARY},
        responses={200: ProductSampleSerializer, **WRITE_ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        parser_classes=[CSVParser, JSONLinesParser],
    )
    def sample(self, request, code=None):
        product = self.get_object()
        if request.method == "POST":
            parsed = (
                request.data
            )  # parsed first: a body of another type is a 415 (an empty body is not parsed)
            media_type = request.content_type.split(";")[0].strip().lower()
            file_format = SAMPLE_FORMATS.get(media_type)
            if file_format is None:
                raise UnsupportedMediaType(media_type)
            product_sample_upload(
                actor=request.user, product=product, data=parsed.get("content", b""), file_format=file_format
            )
        sample_file, profile = product_profile_get(product=product)
        data = {"product": product.code, "sample_file": sample_file, "profile": profile}
        return Response(ProductSampleSerializer(data).data)


def facet_names(raw: str | None) -> list[str]:
    """The facets a list request asks for (`facets=industry,form`), each once, in the order asked; an unknown
    name (an empty one too: `facets=`) is refused with 400 naming `facets` and the names it accepts."""
    if raw is None:
        return []
    names = list(dict.fromkeys(raw.split(",")))
    unknown = [name or '""' for name in names if name not in FACET_NAMES]
    if unknown:
        accepted = ", ".join(FACET_NAMES)
        raise ValidationFailed(
            [
                FieldError(
                    "facets",
                    "invalid_choice",
                    f"未知的分面：{', '.join(unknown)}；可选：{accepted}",
                    f"unknown facet {', '.join(unknown)}; one of: {accepted}",
                )
            ]
        )
    return names
