"""The merchant console's products (docs/portal.md, "Consoles"): my products, a draft created or edited with
live validation (the API's checks), submitted for review, the review's comments."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError
from portal.forms import FormErrors, in_language
from portal.views import console_descriptor as form
from portal.views.console_access import choice_label, participant_console
from products import services
from products.models import ProductStatus
from products.selectors import product_visible, products_of_provider

EDITABLE = {ProductStatus.DRAFT, ProductStatus.REJECTED}


def _rows(values: dict, errors: list[dict]) -> list[dict]:
    """One row per input: its value, its messages (in the language), its choices."""
    rows = []
    for item in form.INPUTS:
        messages = [
            in_language(e)
            for e in errors
            if e["field"] == item.field or e["field"].startswith(item.field + ".")
        ]
        rows.append(
            {
                "input": item,
                "value": values.get(item.name, ""),
                "messages": messages,
                "choices": form.choices(item.vocabulary) if item.vocabulary else [],
            }
        )
    return rows


def _own(who, code: str):
    product = product_visible(user=who).filter(code=code.upper(), provider_uscc=who.participant_id).first()
    if product is None or not product.is_home:
        raise Http404
    return product


def _form_page(request, who, *, product, values, errors: FormErrors, findings=()):
    context = {
        "product": product,
        "rows": _rows(values, errors.errors),
        "errors": errors,
        "other_errors": [in_language(e) for e in form.unplaced(errors.errors)],
        "findings": findings,
        "status_label": choice_label(product.get_status_display()) if product else "",
        "editable": product is None or product.status in EDITABLE,
    }
    return render(
        request, "portal/console/product_form.html", context, status=errors.status if errors else 200
    )


@participant_console
def products_page(request, who):
    products = list(products_of_provider(user=who))
    for p in products:
        p.status_label = choice_label(p.get_status_display())
    return render(request, "portal/console/products.html", {"products": products})


@participant_console
@require_http_methods(["GET", "POST"])
def product_new(request, who):
    if request.method == "GET":
        return _form_page(request, who, product=None, values=form.blank_values(), errors=FormErrors())
    values = form.form_values(request.POST)
    try:
        product = services.product_create(actor=who, descriptor=form.descriptor_from(values, actor=who))
    except DomainError as exc:
        return _form_page(request, who, product=None, values=values, errors=FormErrors.from_domain(exc))
    return redirect("portal:console-product", code=product.code)


@participant_console
@require_http_methods(["GET", "POST"])
def product_edit(request, who, code: str):
    product = _own(who, code)
    if request.method == "GET":
        values = form.values_from(product.descriptor)
        return _form_page(
            request, who, product=product, values=values, errors=FormErrors(), findings=product.findings
        )
    values = form.form_values(request.POST)
    descriptor = form.descriptor_from(values, actor=who, base=product.descriptor)
    try:
        product = services.product_update(
            actor=who, product=product, descriptor=descriptor, expected_version=_version(request)
        )
    except DomainError as exc:
        return _form_page(request, who, product=product, values=values, errors=FormErrors.from_domain(exc))
    return redirect("portal:console-product", code=product.code)


def _version(request) -> int | None:
    raw = request.POST.get("expected_version", "")
    return int(raw) if raw.isdigit() else None


@participant_console
@require_POST
def product_submit(request, who, code: str):
    product = _own(who, code)
    try:
        product = services.product_submit(actor=who, product=product, expected_version=_version(request))
    except DomainError as exc:
        values = form.values_from(product.descriptor)
        return _form_page(request, who, product=product, values=values, errors=FormErrors.from_domain(exc))
    return redirect("portal:console-product", code=product.code)


@participant_console
@require_POST
def product_check(request, who):
    """The live check (htmx): each input's messages swapped in beside it, the findings below the form."""
    code = request.POST.get("product_code", "")
    product = _own(who, code) if code else None
    values = form.form_values(request.POST)
    descriptor = form.descriptor_from(values, actor=who, base=product.descriptor if product else None)
    errors, findings = form.descriptor_check(descriptor, exclude_id=product.pk if product else None)
    context = {
        "rows": _rows(values, errors),
        "other_errors": [in_language(e) for e in form.unplaced(errors)],
        "findings": findings,
        "checked": True,
        "valid": not errors,
    }
    return render(request, "portal/console/partials/product_check.html", context)
