from drf_spectacular.utils import OpenApiResponse

from api.schema import ERROR_DESCRIPTIONS
from api.serializers.base import ErrorSerializer


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the error statuses an endpoint can answer, all in the one error shape
    (api/schema.py adds those every request can meet)."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}
