from drf_spectacular.utils import OpenApiResponse

from api.serializers.base import ErrorSerializer


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the error statuses an endpoint can answer, all in the one error shape."""
    described = {
        400: "Invalid input: every broken rule is listed with its field path",
        401: "Missing, invalid or expired token",
        403: "Not allowed for this user or this record's owner",
        404: "No such record, or not visible to this user",
        409: "Conflicts with the record's state or version",
        413: "Request body too large",
        415: "Content-Type is not application/json",
        429: "Rate limit exceeded",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}
