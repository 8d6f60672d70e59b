"""The one error shape of the API, produced here for every error:

{"error": {"status": 400, "code": "validation_error",
           "message": "请求数据不符合规则", "message_en": "The request breaks one or more rules",
           "errors": [{"field": "descriptor.update_frequency", "code": "invalid_choice",
                       "message": "…", "message_en": "…"}]}}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

# English for DRF's built-in error codes; the Chinese comes from DRF's own zh_Hans translation.
_EN = {
    "required": "This field is required.",
    "null": "This field may not be null.",
    "blank": "This field may not be blank.",
    "invalid": "Invalid value.",
    "invalid_choice": "Not a valid choice.",
    "max_length": "Too long.",
    "min_length": "Too short.",
    "max_value": "Too large.",
    "min_value": "Too small.",
    "not_a_list": "Expected a list.",
    "not_a_dict": "Expected an object.",
    "empty": "This list may not be empty.",
    "unknown_field": "Unknown field.",
    "max_string_length": "String value too large.",
    "date": "Expected a date.",
    "parse_error": "Malformed request body.",
    "invalid_character": "Text may not contain a NUL character or a lone UTF-16 surrogate.",
    "invalid_type": "Wrong JSON type: see the field's type in the API schema.",
    "does_not_exist": "No such object.",
}

_TOP = {
    400: ("validation_error", "请求数据不符合规则", "The request breaks one or more rules"),
    401: ("not_authenticated", "需要有效的身份凭证", "Valid credentials are required"),
    403: ("permission_denied", "无权执行此操作", "You may not do this"),
    404: ("not_found", "资源不存在", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    406: ("not_acceptable", "无法提供请求的格式", "Cannot produce the requested format"),
    409: ("conflict", "与资源当前状态冲突", "Conflicts with the current state"),
    413: ("payload_too_large", "请求体过大", "Request body too large"),
    415: (
        "unsupported_media_type",
        "不支持的内容类型，请使用 application/json",
        "Unsupported media type; use application/json",
    ),
    429: ("throttled", "请求过于频繁", "Too many requests"),
    500: ("server_error", "服务器内部错误", "Internal server error"),
}


def error_body(
    status_code: int,
    *,
    code: str | None = None,
    message: str | None = None,
    message_en: str | None = None,
    errors: list[dict] | None = None,
    **extra,
) -> dict:
    default_code, default_message, default_en = _TOP.get(status_code, _TOP[400])
    body = {
        "status": status_code,
        "code": code or default_code,
        "message": message or default_message,
        "message_en": message_en or default_en,
        "errors": errors or [],
    }
    body.update(extra)
    return {"error": body}


def _flatten(detail, path: str = "") -> list[dict]:
    if isinstance(detail, dict):
        out: list[dict] = []
        for key, value in detail.items():
            key = "" if key == "non_field_errors" else str(key)
            out.extend(_flatten(value, f"{path}.{key}" if path and key else (path or key)))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [item for d in detail for item in _flatten(d, path)]
        out = []
        for index, value in enumerate(detail):
            if value:
                out.extend(_flatten(value, f"{path}.{index}" if path else str(index)))
        return out
    code = getattr(detail, "code", "invalid") or "invalid"
    return [
        {
            "field": path,
            "code": code,
            "message": str(detail),
            "message_en": _EN.get(code, f"Invalid value ({code})."),
        }
    ]


def field_errors(detail) -> list[dict]:
    """A serializer's errors as the error shape's `errors` list (field, code, message, message_en): what the
    portal's forms show next to each field."""
    return _flatten(detail)


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, DomainError):
        return Response(
            error_body(
                exc.status,
                code=exc.code,
                message=exc.message,
                message_en=exc.message_en,
                errors=[e.as_dict() for e in exc.errors],
                **exc.extra,
            ),
            status=exc.status,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body(413), status=413)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler (api_server_error) answers in the same shape

    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        return Response(error_body(400, errors=_flatten(exc.detail)), status=400)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            error_body(
                400,
                code="parse_error",
                message=f"请求体无法解析：{exc.detail}",
                message_en=f"Malformed request body: {exc.detail}",
            ),
            status=400,
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        status_code = status.HTTP_401_UNAUTHORIZED
        auth = context["request"].successful_authenticator if "request" in context else None
        authenticator = context["view"].get_authenticators()[0] if context.get("view") else auth
        if authenticator is not None:
            headers["WWW-Authenticate"] = authenticator.authenticate_header(context["request"])
        detail = str(exc.detail)
        zh, _, en = detail.partition(" / ")
        return Response(
            error_body(401, code=exc.default_code, message=zh if en else None, message_en=en or None),
            status=401,
            headers=headers,
        )
    if isinstance(exc, exceptions.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(429, retry_after=exc.wait), status=429, headers=headers)
    return Response(error_body(status_code), status=status_code, headers=headers)


def throttled_response(wait: float | None) -> JsonResponse:
    """429 in the error shape, for a view outside DRF (the admin's login)."""
    response = JsonResponse(error_body(429, retry_after=wait), status=429)
    if wait is not None:
        response["Retry-After"] = str(int(wait))
    return response


def api_server_error(request, *args, **kwargs):
    logger.error("unhandled error on %s %s", request.method, request.path)
    return JsonResponse(error_body(500), status=500)


def api_bad_request(request, exception=None):
    """What Django refuses before any view (a Host header not in ALLOWED_HOSTS, a form with too many fields),
    in the error shape. gunicorn's own 400, 414 and 431 come before Django and stay HTML
    (docs/operations.md, Reverse proxy)."""
    return JsonResponse(
        error_body(400, code="bad_request", message="请求无效", message_en="Bad request"), status=400
    )


def api_not_found(request, exception=None):
    return JsonResponse(error_body(404), status=404)
