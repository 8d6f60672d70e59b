"""The console's front page and the participant's notifications (docs/portal.md, "Consoles")."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.exceptions import NotFound
from demands.selectors import notifications_for, notifications_unread
from demands.services import notification_read
from portal.actors import has_role
from portal.views.console_access import choice_label, participant_console

NOTIFICATIONS_SHOWN = 100


@participant_console
def console_page(request, who):
    context = {
        "merchant": has_role(who, "data_merchant") or has_role(who, "service_provider"),
        "demander": has_role(who, "demander"),
        "unread": notifications_unread(who),
    }
    return render(request, "portal/console/home.html", context)


@participant_console
def notifications_page(request, who):
    notes = list(notifications_for(who)[:NOTIFICATIONS_SHOWN])
    for n in notes:
        n.kind_label = choice_label(n.get_kind_display())
    return render(request, "portal/console/notifications.html", {"notifications": notes})


@participant_console
@require_POST
def notification_read_page(request, who, pk: int):
    try:
        notification_read(actor=who, notification_id=pk)
    except NotFound:
        raise Http404 from None
    return redirect("portal:console-notifications")
