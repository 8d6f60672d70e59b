"""The network's standards with their versions and hashes (standards.versions)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api.serializers.standard_versions import StandardContentSerializer, StandardListSerializer
from api.views.common import errors
from standards.versions import StandardState, standard_get, standards_all, standards_announcement

TAG = ["standards"]


def _row(state: StandardState) -> dict:
    url = reverse("api:standard-version", kwargs={"code": state.standard.code})
    return {**state.as_json(), "url": url}


class StandardListView(APIView):
    @extend_schema(
        summary="The network's standards: each one's version, the versions this node applies, and the "
        "SHA-256 of its content; and what this node announces to its peers",
        tags=TAG,
        responses={200: StandardListSerializer, **errors(429)},
    )
    def get(self, request):
        return Response(
            StandardListSerializer(
                {"standards": [_row(s) for s in standards_all()], "combined": standards_announcement()}
            ).data
        )


class StandardContentView(APIView):
    @extend_schema(
        summary="One standard with its content: the rules or data its SHA-256 covers",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "code", str, OpenApiParameter.PATH, description="The standard's code (GET /standards/)."
            )
        ],
        responses={200: StandardContentSerializer, **errors(404, 429)},
    )
    def get(self, request, code: str):
        state = standard_get(code)
        if state is None:
            raise NotFound()
        return Response(StandardContentSerializer({**_row(state), "content": state.standard.content()}).data)
