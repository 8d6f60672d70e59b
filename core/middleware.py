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
