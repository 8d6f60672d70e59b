"""Sign in and sign out (docs/portal.md, "Sessions")."""

from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.serializers.participants import LoginSerializer
from api.throttling import admin_login_throttled
from portal.forms import FormErrors, form_data, validate
from portal.sessions import sign_in, sign_out

_THROTTLED = FormErrors(
    message="登录尝试过于频繁，请稍后再试",
    message_en="Too many sign-in attempts: try again later",
    status=429,
)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok else "/"


@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request):
    errors, values = FormErrors(), {}
    if request.method == "POST":
        values = form_data(request.POST, LoginSerializer)
        if admin_login_throttled(request) is not None:
            errors = _THROTTLED
        else:
            data, errors = validate(LoginSerializer, values)
            if data is not None:
                errors = sign_in(request, username=data["username"], password=data["password"])
                if not errors:
                    return redirect(_next(request))
    context = {"errors": errors, "username": values.get("username", ""), "next": _next(request)}
    return render(request, "portal/login.html", context, status=errors.status if errors else 200)


@require_POST
def logout_page(request):
    sign_out(request)
    return redirect("portal:home")
