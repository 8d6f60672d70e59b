from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import GlossaryPagination
from api.serializers.standards import (
    DescriptorCheckRequestSerializer,
    DescriptorCheckSerializer,
    NamingCheckRequestSerializer,
    NamingVerdictSerializer,
    ProductCodeCheckRequestSerializer,
    ProductCodeCheckSerializer,
    TermQuerySerializer,
    TermSerializer,
)
from api.views.common import errors
from core.exceptions import ValidationFailed
from products.checks import descriptor_accept, findings_as_json, naming_verdict
from standards import participant_vocabularies
from standards.compliance import compliance_evaluate
from standards.descriptor import descriptor_json_schema
from standards.product_code import product_code_build, product_code_parse
from standards.terminology import (
    participant_vocabularies_with_terms,
    term_as_json,
    term_get,
    terms_all,
    vocabularies_with_terms,
)
from standards.terminology_search import terms_search
from standards.usage_policy import policy_schema
from standards.vocabularies import vocabularies_as_json

TAG = ["standards"]


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DescriptorSchemaView(APIView):
    @extend_schema(
        summary="JSON Schema of the product descriptor standard v1",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(descriptor_json_schema())


class UsagePolicySchemaView(APIView):
    @extend_schema(
        summary="JSON Schema of the usage policy standard v1 (actions, purposes, territory, limits)",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(policy_schema())


class VocabulariesView(APIView):
    @extend_schema(
        summary="Controlled vocabularies with Chinese and English labels and each code's glossary term",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(vocabularies_with_terms(vocabularies_as_json()))


class ParticipantVocabulariesView(APIView):
    @extend_schema(
        summary="The participant standard's vocabularies: entity types, roles, business categories, "
        "services, evaluation dimensions (and which services issue them), the grade scale; each code's "
        "glossary term",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(participant_vocabularies_with_terms(participant_vocabularies.as_json()))


class NamingCheckView(APIView):
    @extend_schema(
        summary="Check a product name against the naming rule",
        tags=TAG,
        request=NamingCheckRequestSerializer,
        responses={200: NamingVerdictSerializer, **errors(400, 413, 415, 429)},
    )
    def post(self, request):
        data = _valid(NamingCheckRequestSerializer, request)
        verdict = naming_verdict(data, exchange_id=settings.NODE_CODE)
        return Response(NamingVerdictSerializer(verdict).data)


class DescriptorCheckView(APIView):
    @extend_schema(
        summary="Validate a descriptor and run the compliance rules without storing anything",
        tags=TAG,
        request=DescriptorCheckRequestSerializer,
        responses={200: DescriptorCheckSerializer, **errors(400, 413, 415, 429)},
    )
    def post(self, request):
        data = _valid(DescriptorCheckRequestSerializer, request)
        try:
            descriptor = descriptor_accept(data["descriptor"], exchange_id=settings.NODE_CODE)
        except ValidationFailed as exc:
            return Response(
                {
                    "valid": False,
                    "listable": False,
                    "errors": [e.as_dict() for e in exc.errors],
                    "findings": [],
                }
            )
        findings = findings_as_json(compliance_evaluate(descriptor))
        listable = not any(f["severity"] == "blocking" for f in findings)
        return Response({"valid": True, "listable": listable, "errors": [], "findings": findings})


class ProductCodeCheckView(APIView):
    @extend_schema(
        summary="Check a global product code and its check character",
        tags=TAG,
        request=ProductCodeCheckRequestSerializer,
        responses={200: ProductCodeCheckSerializer, **errors(400, 413, 415, 429)},
    )
    def post(self, request):
        data = _valid(ProductCodeCheckRequestSerializer, request)
        try:
            parsed = product_code_parse(data["code"])
        except ValidationFailed as exc:
            return Response(
                {
                    "valid": False,
                    "code": None,
                    "origin": None,
                    "year": None,
                    "serial": None,
                    "errors": [e.prefixed("code").as_dict() for e in exc.errors],
                }
            )
        code = product_code_build(origin=parsed.origin, year=parsed.year, serial=parsed.serial)
        return Response(
            {
                "valid": True,
                "code": code,
                "origin": parsed.origin,
                "year": parsed.year,
                "serial": parsed.serial,
                "errors": [],
            }
        )


@extend_schema_view(
    list=extend_schema(
        summary="The glossary (专业术语): every term, or those matching a search, best first",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="Chinese or English search words (at most 100 characters): 出境 finds 数据出境.",
            )
        ],
        responses={200: TermSerializer(many=True), **errors(400, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="One term of the glossary",
        tags=TAG,
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="The term id, a slug.")],
        responses={200: TermSerializer, **errors(404, 429)},
    ),
)
class TermViewSet(viewsets.GenericViewSet):
    serializer_class = TermSerializer
    pagination_class = GlossaryPagination
    filter_backends = []
    lookup_value_regex = "[a-z0-9-]{1,80}"

    def list(self, request):
        query = TermQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data.get("q", "")
        terms = terms_search(q=q) if q else list(terms_all())
        page = self.paginate_queryset(terms)
        return self.get_paginated_response(TermSerializer([term_as_json(t) for t in page], many=True).data)

    def retrieve(self, request, pk=None):
        term = term_get(pk)
        if term is None:
            raise NotFound()
        return Response(TermSerializer(term_as_json(term)).data)
