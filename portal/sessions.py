"""Signing people in and out of the portal (a Django session with CSRF protection; the API keeps its token
schemes). Exchange operators and admins sign in with their accounts; participant users with their
participant credentials, checked by the same service as the API's login (participants.logins)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout

from accounts.models import User
from core.exceptions import DomainError
from participants import logins
from portal.actors import SESSION_GENERATION
from portal.forms import FormErrors

_REFUSED = FormErrors(
    message="登录失败：用户名或密码错误，或该账户不能在本节点登录",
    message_en="Sign-in failed: wrong username or password, or the account may not sign in at this node",
    status=401,
)


def sign_in(request, *, username: str, password: str) -> FormErrors:
    """Start the person's session; the refusal otherwise (the same words whatever was wrong)."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return _REFUSED
    if user.role == User.Role.PARTICIPANT:
        try:
            logins.participant_of(user)  # the API login's standing check
        except DomainError as exc:
            return FormErrors.from_domain(exc)
    elif not (user.is_operator or user.is_superuser):
        return _REFUSED
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_GENERATION] = user.token_generation
    return FormErrors()


def sign_out(request) -> None:
    logout(request)
