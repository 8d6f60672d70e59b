"""The operator console's federation pages (docs/portal.md): this exchange's recognitions of other exchanges'
products that wait for review or were refused (decided through `recognition_review`, as the API's `POST
/products/{code}/recognition/`), the quarantined federation entries with their reasons (released or retried
through `federation.quarantine_review`), and the federation's health: per peer the last contact and per
origin the lag, as `GET /federation/v1/status/` gives them, with a chart."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from api.serializers.products import RecognitionReviewSerializer
from core.exceptions import DomainError
from federation.quarantine_review import (
    quarantine_release,
    quarantine_retry,
    quarantine_rows,
    quarantine_waiting,
)
from federation.selectors import sync_status
from portal.forms import FormErrors, validate
from portal.views.operator import hx, operator_page, page_of, reasons_of
from products.queues import products_by_code, recognised_product, recognition_of, recognitions_to_review
from products.recognition import recognition_review


def _recognition_rows(page) -> list[dict]:
    products = products_by_code([r.product_code for r in page.object_list])
    return [{"recognition": r, "product": products.get(r.product_code)} for r in page.object_list]


def _one_product(request, code: str) -> dict:
    """`?product=<code>` (the product page's link): this exchange's recognition of that product, whatever its
    status (a recognised one may be refused again), with the decision form; 400 naming `product` for a code
    that is not another exchange's product held here."""
    product = recognised_product(code)
    if product is None:
        error = {
            "field": "product",
            "code": "not_found",
            "message": "须为本节点持有的其他交易所产品的编码",
            "message_en": "Must be the code of another exchange's product held at this node",
        }
        errors = FormErrors(
            errors=[error], message="筛选条件不符合规则", message_en="A filter breaks its rule"
        )
        return {"page": None, "rows": [], "errors": errors, "product_filter": code}
    rows = [{"recognition": recognition_of(product.code), "product": product}]
    return {"page": page_of(request, rows), "rows": rows, "product_filter": product.code}


@require_GET
@operator_page
def recognitions(request, who):
    status = request.GET.get("status") or None
    code = request.GET.get("product", "").strip()
    if code:
        context = {**_one_product(request, code), "status": status, "section": "recognitions"}
        errors = context.get("errors")
        return render(
            request, "portal/operator/recognitions.html", context, status=errors.status if errors else 200
        )
    page = page_of(request, recognitions_to_review(status=status))
    context = {"page": page, "rows": _recognition_rows(page), "status": status, "section": "recognitions"}
    return render(request, "portal/operator/recognitions.html", context)


@require_POST
@operator_page
def recognition(request, who, code: str):
    product = recognised_product(code)
    if product is None:
        raise Http404
    text = request.POST.get("reasons", "")
    payload = {"status": request.POST.get("status", ""), "reasons": reasons_of(text)}
    data, errors = validate(RecognitionReviewSerializer, payload)
    decided = None
    if data is not None:
        try:
            decided = recognition_review(actor=who, product=product, **data)
        except DomainError as exc:
            errors = FormErrors.from_domain(exc)
    status = errors.status if errors else 200
    if hx(request):
        row = {"recognition": decided or recognition_of(product.code), "product": product}
        context = {"row": row, "errors": errors, "reasons": text, "done": not errors, "failed": product.code}
        return render(request, "portal/operator/partials/recognition_card.html", context, status=status)
    if errors:
        page = page_of(request, recognitions_to_review())
        context = {
            "page": page,
            "rows": _recognition_rows(page),
            "section": "recognitions",
            "errors": errors,
            "failed": product.code,
            "reasons": text,
        }
        return render(request, "portal/operator/recognitions.html", context, status=status)
    messages.success(request, _("%(code)s：互认决定已记录") % {"code": product.code})
    return redirect("portal:operator-recognitions")


@require_GET
@operator_page
def quarantine(request, who):
    page = page_of(request, quarantine_rows(source=request.GET.get("source") or None))
    rows = [{"entry": row, "waiting": quarantine_waiting(row)} for row in page.object_list]
    return render(
        request, "portal/operator/quarantine.html", {"page": page, "rows": rows, "section": "quarantine"}
    )


@require_POST
@operator_page
def quarantine_action(request, who):
    try:
        if request.POST.get("action") == "retry":
            counts = quarantine_retry(actor=who)
            messages.success(
                request,
                _("已重试：%(retried)s 条重新应用，%(held)s 条已另行收到，%(waiting)s 条仍在等待") % counts,
            )
        else:
            ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
            deleted = quarantine_release(actor=who, ids=ids)
            messages.success(request, _("已释放 %(n)s 个隔离条目") % {"n": deleted})
    except DomainError as exc:
        errors = FormErrors.from_domain(exc)
        page = page_of(request, quarantine_rows())
        rows = [{"entry": row, "waiting": quarantine_waiting(row)} for row in page.object_list]
        context = {"page": page, "rows": rows, "section": "quarantine", "errors": errors}
        return render(request, "portal/operator/quarantine.html", context, status=errors.status)
    return redirect("portal:operator-quarantine")


def _peer_rows(status: dict) -> list[dict]:
    """Each peer with the lag of this node behind it as an origin (what it announced and this node has not
    applied), and any origin followed without a peer (its entries come through others)."""
    origins = {o["origin"]: o for o in status["origins"]}
    rows = [{"peer": p, "origin": origins.pop(p["code"], None)} for p in status["peers"]]
    return rows + [{"peer": None, "origin": o} for o in origins.values()]


def _chart(rows: list[dict]) -> dict:
    """Chart.js's configuration: per peer (or origin) the entries and the seconds this node is behind."""
    named = [(r["peer"]["code"] if r["peer"] else r["origin"]["origin"], r["origin"]) for r in rows]
    return {
        "type": "bar",
        "data": {
            "labels": [code for code, _o in named],
            "datasets": [
                {"label": _("落后条目数"), "data": [o["lag_entries"] if o else 0 for _c, o in named]},
                {"label": _("落后秒数"), "data": [o["lag_seconds"] if o else 0 for _c, o in named]},
            ],
        },
        "options": {"responsive": True, "maintainAspectRatio": False, "animation": False},
    }


@require_GET
@operator_page
def federation_health(request, who):
    status = sync_status()
    rows = _peer_rows(status)
    context = {"status": status, "rows": rows, "chart": _chart(rows), "section": "federation"}
    return render(request, "portal/operator/federation.html", context)
