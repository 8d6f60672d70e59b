"""A participant's deals in the console (docs/portal.md, "Consoles"): the list, a deal with its steps and the
steps it may take now (deals.services, as the API), and the order form of a listed product."""

from __future__ import annotations

import json

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.serializers.deals import OrderSerializer
from core.exceptions import DomainError
from deals import services
from deals.closing import deal_evaluate
from deals.selectors import deal_derive, deal_get, deal_roles, deal_steps, deal_visible, deals_for
from portal.forms import FormErrors, in_language, validate
from portal.views.console_access import participant_console
from portal.views.console_deal_steps import STEPS, form_defaults, parse_value, step_body
from products.models import ProductStatus
from products.selectors import product_visible
from standards.participant_vocabularies import DIMENSION

DEALS_SHOWN = 100
ORDER_POLICY = {
    "permissions": ["use", "analyse"],
    "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], "duration_days": 365},
}


@participant_console
def deals_page(request, who):
    deals = list(deals_for(who)[:DEALS_SHOWN])
    for d in deals:
        d.my_role = "buyer" if d.buyer_id == who.participant_id else "provider"
    return render(request, "portal/console/deals.html", {"deals": deals})


def _visible(who, gid: str):
    deal = deal_get(gid)
    if deal is None or not deal_visible(who, deal):
        raise Http404
    return deal


def _deal_page(request, who, deal, *, errors: FormErrors, kind: str = "", values: dict | None = None):
    steps = deal_steps(deal)
    derived = deal_derive(deal, steps)
    roles = deal_roles(who, deal)
    actions = sorted({k for role in roles for k in derived.actions[role]} & set(STEPS))
    defaults = form_defaults(deal, derived)
    if values:
        defaults.update(values)
    context = {
        "deal": deal,
        "derived": derived,
        "steps": steps,
        "roles": sorted(roles),
        "actions": actions,
        "values": defaults,
        "errors": errors,
        "failed_kind": kind,
        # what no input of the form shows (a delivery's details, the order's terms) goes to its summary
        "step_errors": [
            (e["field"], in_language(e))
            for e in errors.errors
            if e["field"].split(".")[0] not in STEPS.get(kind, (None, ()))[1]
        ],
        "delivery_methods": ["file", "api", "sandbox", "offline"],
        "dimensions": [{"code": t.code, "name_zh": t.zh, "name_en": t.en} for t in DIMENSION],
    }
    return render(request, "portal/console/deal.html", context, status=errors.status if errors else 200)


@participant_console
def deal_page(request, who, gid: str):
    return _deal_page(request, who, _visible(who, gid), errors=FormErrors())


@participant_console
@require_POST
def deal_step(request, who, gid: str, kind: str):
    deal = _visible(who, gid)
    if kind not in STEPS:
        raise Http404
    serializer_class, names = STEPS[kind]
    body = step_body(kind, request.POST)
    data, errors = validate(serializer_class, body)
    if data is not None:
        offer_version = body.pop("offer_version", None) if kind == "accept" else None
        try:
            if kind == "evaluation":  # the API's POST /deals/{id}/evaluations/
                deal_evaluate(actor=who, deal=deal, data=dict(data))
            else:
                services.deal_step_take(
                    actor=who,
                    deal=deal,
                    kind=kind,
                    body=body if kind != "accept" else {},
                    offer_version=offer_version,
                )
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
        else:
            return redirect("portal:console-deal", gid=deal.gid)
    values = {name: request.POST.get(name, "") for name in names}
    return _deal_page(request, who, deal, errors=errors, kind=kind, values=values)


def _listed(who, code: str):
    product = product_visible(user=who).filter(code=code.upper(), status=ProductStatus.LISTED).first()
    if product is None:
        raise Http404
    return product


@participant_console
@require_http_methods(["GET", "POST"])
def order_page(request, who, code: str):
    product = _listed(who, code)
    values = {
        "purpose": "",
        "delivery_method": "",
        "usage_policy": json.dumps(ORDER_POLICY, ensure_ascii=False, indent=2),
        "demand_response": "",
    }
    errors = FormErrors()
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        values["purpose"] = request.POST.get("request.purpose", "")  # the input is named by its API field
        order = {
            "purpose": values["purpose"],
            "delivery_method": values["delivery_method"],
            "usage_policy": parse_value("usage_policy", values["usage_policy"]),
        }
        if values["demand_response"].strip():
            order["demand_response"] = values["demand_response"].strip()
        data, errors = validate(OrderSerializer, {"product": product.code, "request": order})
        if data is not None:
            try:
                deal = services.deal_order(actor=who, product_code=product.code, request=order)
            except DomainError as exc:
                errors = FormErrors.from_domain(exc)
            else:
                return redirect("portal:console-deal", gid=deal.gid)
    context = {
        "product": product,
        "values": values,
        "errors": errors,
        "methods": product.descriptor.get("delivery_methods", []),
    }
    return render(request, "portal/console/order.html", context, status=errors.status if errors else 200)
