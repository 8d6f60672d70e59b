from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class AnonReadThrottle(AnonRateThrottle):
    """Anonymous callers, per IP address."""

    scope = "anon"


class WriteThrottle(SimpleRateThrottle):
    """Every unsafe request, per user (or per IP address when anonymous)."""

    scope = "write"

    def get_cache_key(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
