"""The operator console's disputes (docs/portal.md): the queue of the disputes this exchange coordinates or
co-coordinates (`deals.dispute_selectors.disputes_queue`, as `GET /disputes/`), and a dispute's page with
its steps and the actions the operator may take now, each validated by the API's serializer and taken
through `dispute_take`, as `POST /deals/{id}/disputes/{dispute}/{action}/` does."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from api.serializers import disputes as s
from core.exceptions import DomainError
from deals.dispute_reads import dispute_deal, dispute_read
from deals.dispute_selectors import disputes_queue
from deals.dispute_services import dispute_take
from portal.forms import FormErrors, validate
from portal.views.operator import operator_page, page_of
from standards.deal_dispute_steps import ACTION, CATEGORY, ESCALATION_VENUE, OUTCOME, STATE
from standards.deal_disputes import OPEN_STATES

# The actions an operator takes on the console, each with the API's serializer and the fields of its form.
FORMS = {
    "accept": (s.DisputeReasonSerializer, ("reason",)),
    "message": (s.DisputeMessageSerializer, ("text",)),
    "escalate": (s.DisputeEscalateSerializer, ("venue", "reference", "reason")),
    "resolve": (s.DisputeResolveSerializer, ("kind", "refund_amount", "summary", "redeliver_within_days")),
}
OUTCOME_FIELDS = ("kind", "refund_amount", "summary", "redeliver_within_days")


def labels(terms) -> dict[str, str]:
    english = (translation.get_language() or "").startswith("en")
    return {t.code: t.en if english else t.zh for t in terms}


def _payload(action: str, post) -> dict:
    """The API's request body from the form's fields (blank optional fields left out)."""
    fields = {name: post[name] for name in FORMS[action][1] if post.get(name, "") != ""}
    if action != "resolve":
        return fields
    return {"outcome": {k: v for k, v in fields.items() if k in OUTCOME_FIELDS}}


@require_GET
@operator_page
def disputes(request, who):
    state = request.GET.get("state") or None
    if state not in (None, *labels(STATE)):
        state = None
    overdue = request.GET.get("overdue") == "true"
    page = page_of(request, disputes_queue(who, state=state, overdue=overdue))
    states, categories, now = labels(STATE), labels(CATEGORY), timezone.now()
    rows = [
        {
            "dispute": d,
            "state": states.get(d.state, d.state),
            "category": categories.get(d.category, d.category),
            "overdue": d.state in OPEN_STATES and d.due_at is not None and d.due_at < now,
        }
        for d in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "state": state,
        "overdue": overdue,
        "states": states,
        "section": "disputes",
    }
    return render(request, "portal/operator/disputes.html", context)


def _page(
    request, who, deal_gid: str, dispute_gid: str, *, errors=None, action=None, values=None, status=200
):
    deal = dispute_deal(who, deal_gid)
    dispute = dispute_read(who, deal, dispute_gid) if deal is not None else None
    if dispute is None:
        raise Http404
    context = {
        "dispute": dispute,
        "forms": [a for a in dispute["actions"] if a in FORMS],
        "actions": labels(ACTION),
        "states": labels(STATE),
        "categories": labels(CATEGORY),
        "outcomes": labels(OUTCOME),
        "venues": labels(ESCALATION_VENUE),
        "errors": errors or FormErrors(),
        "failed": action,
        "values": values or {},
        "section": "disputes",
    }
    return render(request, "portal/operator/dispute.html", context, status=status)


@require_GET
@operator_page
def dispute(request, who, deal: str, dispute: str):
    return _page(request, who, deal, dispute)


@require_POST
@operator_page
def dispute_action(request, who, deal: str, dispute: str, action: str):
    if action not in FORMS:
        raise Http404
    found = dispute_deal(who, deal)
    if found is None:
        raise Http404
    payload = _payload(action, request.POST)
    data, errors = validate(FORMS[action][0], payload)
    if data is not None:
        try:
            dispute_take(actor=who, deal=found, action=action, data=payload, dispute_gid=dispute)
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
    if errors:
        values = {name: request.POST.get(name, "") for name in FORMS[action][1]}
        return _page(
            request, who, deal, dispute, errors=errors, action=action, values=values, status=errors.status
        )
    messages.success(request, _("已记录：%(action)s") % {"action": labels(ACTION)[action]})
    return redirect("portal:operator-dispute", deal=deal, dispute=dispute)
