import logging
import re
import time

from django.conf import settings
from django.http import JsonResponse
from django.utils.encoding import escape_uri_path

from core.logs import request_id, request_id_new, request_id_valid
from core.metrics import request_observe

request_logger = logging.getLogger("registry.requests")


class RequestIdMiddleware:
    """The request's id (core/logs.py): its `X-Request-ID` when valid (`request_id_valid`), else a new one;
    set for everything the request runs and logs, returned in the response's `X-Request-ID`. It stays set
    until the response is closed (`request_id_clear`, on `request_finished`), so that Django's own line for
    a 4xx or 5xx answer, logged after the middleware returned, carries it too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID")
        current = given if request_id_valid(given) else request_id_new()
        request_id.set(current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response


def request_id_clear(**kwargs) -> None:
    """`request_finished`: the thread that served a request serves the next one, or none, without its id."""
    request_id.set(None)


class RequestMetricsMiddleware:
    """Time every request, count it in `registry_http_request_duration_seconds` (by method, view name and
    status) and log one line for it (logger `registry.requests`, INFO), with the request id like every line
    of the request (`core.logs`). The path is logged without its query string (search terms stay out of the
    logs), percent-encoded if it holds a character that is not printable. Requests Django could not route are
    counted under the view `unmatched`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - start
        match = request.resolver_match
        view = match.view_name if match is not None else "unmatched"
        status = response.status_code
        request_observe(request.method, view, status, seconds)
        if request_logger.isEnabledFor(logging.INFO):
            path = request.path
            if not path.isprintable():  # no line break gets into a plain line
                path = escape_uri_path(path)
            request_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                path,
                status,
                seconds * 1000,
                extra={
                    "method": request.method,
                    "path": path,
                    "view": view,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
        return response


class BodySizeLimitMiddleware:
    """Refuse an oversized body with 413 before anything reads it.

    Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) only guards form parsing and `request.body`, and answers
    400; DRF parsers read the stream directly. The declared Content-Length is checked here; WSGI servers read
    no more than Content-Length from the socket, so a body cannot grow past what was declared.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.MAX_REQUEST_BODY_BYTES
        # (path pattern, its own limit): an upload endpoint that takes a file larger than any JSON body
        self.larger = [(re.compile(p), limit) for p, limit in getattr(settings, "LARGE_BODY_PATHS", ())]

    def _limit(self, path: str) -> int:
        return next((limit for pattern, limit in self.larger if pattern.match(path)), self.limit)

    def __call__(self, request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        limit = self._limit(request.path_info) if length > self.limit else self.limit
        if length < 0 or length > limit:
            return JsonResponse(
                {
                    "error": {
                        "status": 413,
                        "code": "payload_too_large",
                        "message": f"请求体超过上限 {limit} 字节",
                        "message_en": f"The request body exceeds the limit of {limit} bytes",
                        "errors": [],
                    }
                },
                status=413,
            )
        return self.get_response(request)


class UrlLengthLimitMiddleware:
    """Refuse a URL (path and query) over MAX_REQUEST_URL_BYTES with 414 in the API's error shape.

    The limit lies below gunicorn's `--limit-request-line` (4,094 bytes for the whole request line), so the
    node answers an over-long URL itself; only a request line longer than gunicorn's limit still gets
    gunicorn's own HTML 414 (docs/api.md, *Errors*)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_URL_BYTES
        if len(request.get_full_path().encode()) > limit:
            return JsonResponse(
                {
                    "error": {
                        "status": 414,
                        "code": "uri_too_long",
                        "message": f"URL（路径与查询）超过上限 {limit} 字节",
                        "message_en": f"The URL (path and query) exceeds the limit of {limit} bytes",
                        "errors": [],
                    }
                },
                status=414,
            )
        return self.get_response(request)


class UnstorableTextMiddleware:
    """Refuse with 400 a URL whose path or query holds a NUL character: no record can be named by one, and
    PostgreSQL refuses it in any text parameter (the lookup would fail as a 500). Query values that are not
    UTF-8 arrive as U+FFFD (Django decodes them leniently), so only NUL needs refusing here; JSON bodies are
    checked by the API's parser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = None
        if "\x00" in request.path:
            field = "path"
        else:
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    field = name.replace("\x00", "\ufffd") or "query"
                    break
        if field is not None:
            return JsonResponse(
                {
                    "error": {
                        "status": 400,
                        "code": "validation_error",
                        "message": "请求数据不符合规则",
                        "message_en": "The request breaks one or more rules",
                        "errors": [
                            {
                                "field": field,
                                "code": "invalid_character",
                                "message": "不能包含 NUL 字符",
                                "message_en": "May not contain a NUL character",
                            }
                        ],
                    }
                },
                status=400,
            )
        return self.get_response(request)


# Besides the portal's, the HTML pages a node serves are the admin, Swagger UI (/api/docs/) and ReDoc
# (/api/redoc/). Everything they load comes from the node itself (the admin's static files,
# drf-spectacular-sidecar's bundles, through WhiteNoise), and none of them runs an inline script: Swagger UI's
# start-up script is served as a file of its own (`SpectacularSwaggerSplitView`), ReDoc starts from its custom
# element. What the pages still need:
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the pages' <style> blocks; Swagger UI and ReDoc inject styles
        "img-src 'self' data:",  # the UIs' icons are data: URIs
        "font-src 'self' data:",
        "connect-src 'self'",  # the schema, Swagger UI's "Try it out"
        "worker-src 'self' blob:",  # ReDoc's search runs in a worker it makes from a blob
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Those pages live under these prefixes; every other HTML page is the portal's (docs/portal.md).
PAGE_POLICY_PREFIXES = ("/api/", "/admin/")
# The portal's pages: no inline script and no inline style at all (every style is in a stylesheet of the node,
# htmx is told not to inject its indicator style), nothing from another host.
PORTAL_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Anything else (JSON, scripts, files): nothing to load, and never framed.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"


def _policy(request, response) -> str:
    if not response.get("Content-Type", "").startswith("text/html"):
        return OTHER_POLICY
    return PAGE_POLICY if request.path.startswith(PAGE_POLICY_PREFIXES) else PORTAL_POLICY


class ContentSecurityPolicyMiddleware:
    """Give every response a Content-Security-Policy (unless a view set its own): the admin's and the API's
    HTML pages PAGE_POLICY, the portal's pages the strict PORTAL_POLICY, everything else one that allows
    nothing. X-Content-Type-Options and Referrer-Policy come from Django's
    SecurityMiddleware (SECURE_CONTENT_TYPE_NOSNIFF, SECURE_REFERRER_POLICY), X-Frame-Options from its
    clickjacking middleware; `frame-ancestors` says the same to browsers that read CSP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", _policy(request, response))
        return response
