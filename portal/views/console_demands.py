"""The demander console (docs/portal.md, "Consoles"): post a demand (live validation), its matches and
responses, accept or decline one; and the merchant's own responses to demands."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.serializers.demands import DecisionSerializer
from core.exceptions import DomainError
from demands import responses as demand_responses
from demands import services
from demands.matching import matches_for
from demands.selectors import demand_get, demands_of, response_get, responses_by, responses_visible
from portal.forms import FormErrors, in_language, validate
from portal.views import console_demand_form as form
from portal.views.console_access import choice_label, participant_console

MATCHES_SHOWN = 10


def _rows(values: dict, errors: list[dict]) -> list[dict]:
    return [
        {
            "input": item,
            "value": values.get(item.name, ""),
            "messages": [
                in_language(e)
                for e in errors
                if e["field"] == item.field or e["field"].startswith(item.field + ".")
            ],
            "choices": form.choices(item.vocabulary) if item.vocabulary else [],
        }
        for item in form.INPUTS
    ]


def _unplaced(errors: list[dict]) -> list[str]:
    fields = {i.field for i in form.INPUTS} | {"budget"}
    return [
        in_language(e) for e in errors if e["field"] not in fields and e["field"].split(".")[0] not in fields
    ]


@participant_console
def demands_page(request, who):
    demands = list(demands_of(who))
    for d in demands:
        d.status_label = choice_label(d.get_status_display())
    responses = list(responses_by(who)[:50])
    for r in responses:
        r.decision_label = choice_label(r.get_decision_display())
    return render(request, "portal/console/demands.html", {"demands": demands, "responses": responses})


@participant_console
@require_http_methods(["GET", "POST"])
def demand_new(request, who):
    values, errors = form.blank_values(), FormErrors()
    if request.method == "POST":
        values = form.form_values(request.POST)
        body = form.body_from(values)
        data, errors = validate(form.DemandWriteSerializer, body)
        if data is None:
            errors.errors = form.demand_check(body)  # the rules' errors too, all at once
        else:
            try:
                demand = services.demand_post(actor=who, data=body)
            except DomainError as exc:
                errors = FormErrors.from_domain(exc)
            else:
                return redirect("portal:console-demand", gid=demand.gid)
    context = {
        "rows": _rows(values, errors.errors),
        "errors": errors,
        "other_errors": _unplaced(errors.errors),
    }
    return render(
        request, "portal/console/demand_form.html", context, status=errors.status if errors else 200
    )


@participant_console
@require_POST
def demand_check(request, who):
    errors = form.demand_check(form.body_from(form.form_values(request.POST)))
    context = {
        "rows": _rows(form.form_values(request.POST), errors),
        "other_errors": _unplaced(errors),
        "checked": True,
        "valid": not errors,
    }
    return render(request, "portal/console/partials/demand_check.html", context)


def _own_demand(who, gid: str):
    demand = demand_get(gid)
    if demand is None or demand.demander_id != who.participant_id:
        raise Http404
    return demand


def _demand_page(request, who, demand, errors: FormErrors):
    responses = responses_visible(who, demand)
    for r in responses:
        r.decision_label = choice_label(r.get_decision_display())
    context = {
        "demand": demand,
        "status_label": choice_label(demand.get_status_display()),
        "matches": matches_for(demand, limit=MATCHES_SHOWN),
        "responses": responses,
        "errors": errors,
    }
    return render(request, "portal/console/demand.html", context, status=errors.status if errors else 200)


@participant_console
def demand_page(request, who, gid: str):
    return _demand_page(request, who, _own_demand(who, gid), FormErrors())


@participant_console
@require_POST
def response_decide(request, who, gid: str, rid: str):
    demand = _own_demand(who, gid)
    response = response_get(who, demand, rid)
    if response is None:
        raise Http404
    data, errors = validate(DecisionSerializer, {"decision": request.POST.get("decision", "")})
    if data is not None:
        try:
            demand_responses.response_decide(actor=who, response=response, **data)
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
        else:
            return redirect("portal:console-demand", gid=demand.gid)
    return _demand_page(request, who, demand, errors)
