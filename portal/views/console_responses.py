"""A merchant responds to a demand from the console (docs/portal.md, "Consoles"): an offer of its listed
products or a proposal, validated by the API's serializer and created by `demands.responses.response_create`
(the rules of POST /api/v1/demands/{id}/responses/)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from api.serializers.demands import ResponseWriteSerializer
from core.exceptions import DomainError
from demands import responses as demand_responses
from demands.selectors import demand_get
from portal.forms import FormErrors, validate
from portal.views.console_access import participant_console
from products.models import ProductStatus
from products.selectors import products_of_provider

FIELDS = ("kind", "proposal", "price", "delivery_days", "message")


def _number(raw: str):
    text = (raw or "").strip()
    try:
        number = float(text)
    except ValueError:
        return text or None  # the rules name the wrong value at its field
    return int(number) if number.is_integer() else number


def _body(values: dict) -> dict:
    body = {
        "kind": values["kind"],
        "price": _number(values["price"]),
        "delivery_days": _number(values["delivery_days"]),
        "message": values["message"],
    }
    if values["kind"] == "offer":
        body["products"] = values["products"]
    else:
        body["proposal"] = values["proposal"]
    return body


@participant_console
@require_http_methods(["GET", "POST"])
def respond_page(request, who, gid: str):
    demand = demand_get(gid)
    if demand is None:
        raise Http404
    values = {
        "kind": "offer",
        "proposal": "",
        "price": "",
        "delivery_days": "",
        "message": "",
        "products": [],
    }
    errors = FormErrors()
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in FIELDS}
        values["products"] = request.POST.getlist("products")
        body = _body(values)
        data, errors = validate(ResponseWriteSerializer, body)
        if data is not None:
            try:
                demand_responses.response_create(actor=who, demand=demand, data=body)
            except DomainError as exc:
                errors = FormErrors.from_domain(exc)
            else:
                return redirect("portal:console-demands")
    listed = [p for p in products_of_provider(user=who) if p.status == ProductStatus.LISTED]
    context = {"demand": demand, "values": values, "errors": errors, "listed": listed}
    return render(request, "portal/console/respond.html", context, status=errors.status if errors else 200)
