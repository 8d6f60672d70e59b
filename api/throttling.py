import hashlib

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


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
        return self.username_key(username)

    def username_key(self, username) -> str | None:
        if not isinstance(username, str) or not username.strip():
            return None  # the serializer refuses the request anyway
        ident = _digest(username.strip().casefold())
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterThrottle(SimpleRateThrottle):
    """Self-registrations (no token) per client address."""

    scope = "register"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None  # an operator registering on a company's behalf
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterUsccThrottle(SimpleRateThrottle):
    """Self-registrations of one USCC, from any address: squatting a company's code from many addresses
    still meets this limit."""

    scope = "register_uscc"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        uscc = request.data.get("uscc") if isinstance(request.data, dict) else None
        if not isinstance(uscc, str) or not uscc.strip():
            return None  # the serializer refuses the request anyway
        ident = _digest("".join(uscc.split()).upper())
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PasswordThrottle(SimpleRateThrottle):
    """Password changes per user (guessing the current password with a stolen access token)."""

    scope = "login"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": "password", "ident": _digest(str(request.user.pk))}


class AdminLoginThrottle(LoginThrottle):
    """The admin's login form (a Django view: the username is a form field). It counts in the participant
    login's counter of that username, so one account is guessed at no faster through both forms."""

    def get_cache_key(self, request, view):
        return self.username_key(request.POST.get("username"))


class AdminLoginAddressThrottle(SimpleRateThrottle):
    """The admin's login form per client address, at the login rate: many usernames tried from one address."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "admin_login_address", "ident": self.get_ident(request)}


def admin_login_throttled(request) -> Throttled | None:
    """None when a POST to the admin's login may go on; else the refusal, with how long to wait. Each limit
    counts the attempt, as DRF counts a request against every throttle of a view. The counters live in the
    default cache (CACHE_URL), like every throttle's: shared by all web processes only when that cache is."""
    refused = [
        t for t in (AdminLoginThrottle(), AdminLoginAddressThrottle()) if not t.allow_request(request, None)
    ]
    if not refused:
        return None
    waits = [w for w in (t.wait() for t in refused) if w is not None]
    return Throttled(wait=max(waits) if waits else None)


class CkanThrottle(SimpleRateThrottle):
    """Calls of CKAN's Action API (`/api/3/action/`, `/api/action/`) per client address, at
    `CKAN_THROTTLE_RATE` (THROTTLE_CKAN): a counter of its own, apart from the API's. Read at each call, so
    a changed setting applies at once."""

    scope = "ckan"

    def get_rate(self) -> str:
        return settings.CKAN_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def ckan_throttled(request) -> float | None:
    """None when a CKAN call may go on; else the seconds to wait (at least 1). The call is counted."""
    throttle = CkanThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1.0, throttle.wait() or 1.0)
