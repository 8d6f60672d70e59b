from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """Refuse an oversized body with 413 before anything reads it.

    Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) only guards form parsing and `request.body`, and answers
    400; DRF parsers read the stream directly. The declared Content-Length is checked here; WSGI servers read
    no more than Content-Length from the socket, so a body cannot grow past what was declared.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.MAX_REQUEST_BODY_BYTES

    def __call__(self, request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0 or length > self.limit:
            return JsonResponse(
                {
                    "error": {
                        "status": 413,
                        "code": "payload_too_large",
                        "message": f"请求体超过上限 {self.limit} 字节",
                        "message_en": f"The request body exceeds the limit of {self.limit} bytes",
                        "errors": [],
                    }
                },
                status=413,
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
