import hashlib

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


class LoginThrottle(SimpleRateThrottle):
    """Login attempts per username, from any address: password guessing at one account spread over many
    IP addresses still meets this limit (the per-address limits bound each address)."""

    scope = "login"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username.strip():
            return None  # the serializer refuses the request anyway
        ident = hashlib.sha256(username.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
