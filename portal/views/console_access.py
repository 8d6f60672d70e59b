"""Who may open the merchant and demander consoles: a signed-in participant user (docs/portal.md,
"Consoles"). The services still decide every write; this only chooses what to show."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.utils import translation

from participants.principal import ParticipantPrincipal
from portal.actors import actor
from portal.forms import FormErrors

NOT_PARTICIPANT = FormErrors(
    message="控制台面向市场主体用户；请使用市场主体账户登录",
    message_en="The console is for participant users: sign in with a participant's account",
    status=403,
)


def participant_console(view):
    """The view runs for a signed-in participant (its principal as `who`); anyone else is sent to sign in,
    an operator is told the console is not theirs (403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        who = actor(request)
        if who is None:
            return redirect("/login/?" + urlencode({"next": request.get_full_path()}))
        if not isinstance(who, ParticipantPrincipal):
            context = {"errors": NOT_PARTICIPANT}
            return render(request, "portal/console/forbidden.html", context, status=403)
        return view(request, who, *args, **kwargs)

    return wrapped


def choice_label(label: str) -> str:
    """A model choice's bilingual label ("草稿 Draft") in the active language."""
    zh, _, en = str(label).partition(" ")
    return en if (translation.get_language() or "").startswith("en") and en else zh
