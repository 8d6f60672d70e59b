"""The operator console (`/console/operator/`, docs/portal.md): for an exchange operator of this node (or its
admin). The console's front page with each queue's size, the review queue of submitted products with their
compliance findings, and the participant verification queue. Every decision goes through the service the
API's endpoint calls, validated by the API's serializer, so the rules and the errors are the API's."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.serializers.participants import VerificationSerializer
from api.serializers.products import ReviewSerializer
from core.exceptions import DomainError
from deals.dispute_selectors import disputes_queue
from federation.quarantine_review import quarantine_rows
from participants.permissions import is_home_operator
from participants.queues import registrations_pending
from participants.selectors import participant_get
from participants.services import participant_set_status
from portal.actors import actor
from portal.forms import FormErrors, validate
from products.queues import (
    product_to_review,
    products_to_review,
    products_to_review_page,
    recognitions_to_review,
)
from products.services import product_review

PAGE_SIZE = 20


def operator_page(view):
    """Only an operator of this node's exchange (or its admin) sees the console: anyone else signed in is
    answered 403, a visitor is sent to sign in. The view gets the operator as its second argument."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        who = actor(request)
        if who is None:
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal:login"))
        if not is_home_operator(who):  # a participant user, or an operator of another exchange
            return render(request, "portal/operator/forbidden.html", {}, status=403)
        return view(request, who, *args, **kwargs)

    return wrapped


def page_of(request, rows):
    """One page of `rows` (`?page=`; a page past the end is the last one)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def reasons_of(text: str) -> list[str]:
    """The comments typed into a textarea as the API's `reasons`: one reason per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def hx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_GET
@operator_page
def console(request, who):
    counts = {
        "reviews": products_to_review(user=who).count(),
        "participants": registrations_pending().count(),
        "recognitions": recognitions_to_review().count(),
        "quarantine": quarantine_rows().count(),
        "disputes": disputes_queue(who).count(),
    }
    return render(request, "portal/operator/console.html", {"counts": counts, "section": "console"})


@require_GET
@operator_page
def reviews(request, who):
    page = page_of(request, products_to_review_page(user=who))
    return render(request, "portal/operator/reviews.html", {"page": page, "section": "reviews"})


@require_http_methods(["GET", "POST"])
@operator_page
def review(request, who, code: str):
    """GET: the review queue narrowed to this product (the product page's link); POST: the decision."""
    product = product_to_review(user=who, code=code)
    if product is None and request.method == "GET":
        return render(request, "portal/not_found.html", {"code": code}, status=404)
    if product is None:
        raise Http404
    if request.method == "GET":
        page = Paginator([product], PAGE_SIZE).get_page(1)
        return render(
            request, "portal/operator/reviews.html", {"page": page, "section": "reviews", "one": True}
        )
    text = request.POST.get("reasons", "")
    payload = {"decision": request.POST.get("decision", ""), "reasons": reasons_of(text)}
    data, errors = validate(ReviewSerializer, payload)
    if data is not None:
        try:
            product = product_review(actor=who, product=product, **data)
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
    context = {
        "product": product,
        "errors": errors,
        "reasons": text,
        "done": not errors,
        "failed": product.code,
    }
    if hx(request):
        status = errors.status if errors else 200
        return render(request, "portal/operator/partials/review_card.html", context, status=status)
    if errors:
        page = page_of(request, products_to_review_page(user=who))
        context.update(page=page, section="reviews")
        return render(request, "portal/operator/reviews.html", context, status=errors.status)
    if data["decision"] == "approve":
        messages.success(request, _("%(code)s：已批准上架") % {"code": product.code})
    else:
        messages.success(request, _("%(code)s：已驳回") % {"code": product.code})
    return redirect("portal:operator-reviews")


@require_GET
@operator_page
def participants(request, who):
    page = page_of(request, registrations_pending())
    return render(request, "portal/operator/participants.html", {"page": page, "section": "participants"})


@require_POST
@operator_page
def verification(request, who, participant_id: str):
    pid = participant_id.upper()  # a write goes to the registration this node owns, as the API's does
    participant = participant_get(pid, home=settings.NODE_CODE) or participant_get(pid)
    if participant is None:
        raise Http404
    values = {k: request.POST[k] for k in ("status", "reason") if k in request.POST}
    data, errors = validate(VerificationSerializer, values)
    if data is not None:
        try:
            participant = participant_set_status(actor=who, participant=participant, **data)
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
    context = {
        "participant": participant,
        "errors": errors,
        "values": values,
        "done": not errors,
        "failed": participant.participant_id,
    }
    status = errors.status if errors else 200
    if hx(request):
        return render(request, "portal/operator/partials/participant_card.html", context, status=status)
    if errors:
        page = page_of(request, registrations_pending())
        context.update(page=page, section="participants")
        return render(request, "portal/operator/participants.html", context, status=status)
    messages.success(request, _("%(name)s：状态已更新") % {"name": participant.legal_name})
    return redirect("portal:operator-participants")
