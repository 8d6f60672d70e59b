"""The demand board (一地提出，全国响应): open demands with the API's filters, and a demand's page with its
matches explained (the ranking GET /api/v1/demands/{id}/matches/ serves)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from api.filters import DemandFilter
from demands.board import demand_get, demands_listed
from demands.matching import matches_for, opportunities_for_product
from demands.models import DemandStatus
from portal.actors import actor, has_role
from portal.forms import FormErrors
from products.catalog import product_for_page
from standards.demand import COMPLIANCE_REQUIREMENTS
from standards.members import members
from standards.regions import NATIONWIDE, region_display_name, region_get, regions_all
from standards.vocabularies import VOCABULARIES, vocabulary_label

PER_PAGE = 20
MATCHES_SHOWN = 20
RESPOND_URL = "/console/demands/{gid}/respond/"  # the merchant console's response form
STATUSES = (
    ("open", _("征集中")),
    ("closed", _("已关闭")),
    ("withdrawn", _("已撤回")),
    ("expired", _("已过期")),
)
FACTORS = {
    "text": _("文本相关度"),
    "industry": _("行业"),
    "form": _("产品形态"),
    "region": _("覆盖地区"),
    "time": _("时间范围"),
    "frequency": _("更新频率"),
    "price": _("价格与预算"),
    "recognised": _("互认"),
    "compliance": _("合规要求"),
}
FILTERS = ("q", "status", "industry", "form", "region", "origin", "budget_min", "budget_max", "product")


def _filter_errors(form) -> FormErrors:
    errors = [
        {"field": name, "code": "invalid", "message": str(m), "message_en": str(m)}
        for name, messages in form.errors.items()
        for m in messages
    ]
    return FormErrors(errors=errors, message="筛选条件不符合规则", message_en="A filter breaks its rule")


def _choices(name: str) -> list[dict]:
    return [{"code": t.code, "name_zh": t.zh, "name_en": t.en} for t in VOCABULARIES[name]]


def _regions() -> list[dict]:
    rows = [{"code": NATIONWIDE, "name_zh": "全国", "name_en": "Nationwide"}]
    rows += [
        {"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en or r.name_zh}
        for r in regions_all()
        if r.level == "province"
    ]
    return rows


def _matched_by(request, queryset) -> tuple[object, list | None, FormErrors]:
    """`?product=<code>`: the open demands of `queryset` that this listed product matches, best first, each
    with its score (the provider's opportunities, `GET /api/v1/opportunities/`, narrowed to the product)."""
    code = request.GET.get("product", "").strip()
    if not code:
        return None, None, FormErrors()
    product = product_for_page(code=code, user=actor(request))
    if product is None or product.status != "listed":
        error = {
            "field": "product",
            "code": "not_listed",
            "message": "须为本节点持有的已上架产品的编码",
            "message_en": "Must be the code of a listed product held at this node",
        }
        return (
            None,
            None,
            FormErrors(errors=[error], message="筛选条件不符合规则", message_en="A filter breaks its rule"),
        )
    rows = opportunities_for_product(product, demands=queryset)
    for row in rows:
        row["demand"].match_score = row["score"]
    return product, [row["demand"] for row in rows], FormErrors()


def demand_board(request):
    params = request.GET
    filterset = DemandFilter(params, queryset=demands_listed(open_only=not params.get("status")))
    errors, page, product = FormErrors(), None, None
    if filterset.is_valid():
        product, matched, errors = _matched_by(request, filterset.qs)
        if not errors:
            rows = filterset.qs if matched is None else matched
            page = Paginator(rows, PER_PAGE).get_page(params.get("page"))
    else:
        errors = _filter_errors(filterset.form)
    context = {
        "page": page,
        "errors": errors,
        "product": product,
        "values": {name: params.get(name, "") for name in FILTERS},
        "statuses": STATUSES,
        "industries": _choices("industry"),
        "forms": _choices("product_form"),
        "exchanges": members(),
        "regions": _regions(),
    }
    template = (
        "portal/partials/demand_results.html" if request.headers.get("HX-Request") else "portal/demands.html"
    )
    return render(request, template, context, status=errors.status if errors else 200)


def _match_rows(demand) -> list[dict]:
    rows = []
    for match in matches_for(demand, limit=MATCHES_SHOWN):
        factors = [
            {"label": FACTORS.get(f.name, f.name), "weight": f.weight, "score": f.score, "reason": f.reason}
            for f in match.factors
        ]
        rows.append({"product": match.product, "score": match.score, "factors": factors})
    return rows


def _in_language(zh: str, en: str) -> str:
    return en if (translation.get_language() or "").startswith("en") else zh


def _vocabulary(name: str, codes: list[str]) -> list[str]:
    terms = [(code, vocabulary_label(name, code)) for code in codes]
    return [_in_language(t.zh, t.en) if t else code for code, t in terms]


def _labels(demand) -> dict:
    codes = demand.compliance_requirements
    requirements = [COMPLIANCE_REQUIREMENTS.get(code, (code, code)) for code in codes]
    return {
        "industry": _vocabulary("industry", [demand.industry] if demand.industry else []),
        "forms": _vocabulary("product_form", demand.product_forms),
        "delivery": _vocabulary("delivery_method", demand.delivery_methods),
        "compliance": [_in_language(zh, en) for zh, en in requirements],
        "regions": [_region(code) for code in demand.spatial_coverage],
    }


def _region(code: str) -> str:
    region = region_get(code)
    if region is None:
        return region_display_name(code) or code
    return _in_language(region.name_zh, region.name_en or region.name_zh)


def demand_page(request, gid: str):
    demand = demand_get(gid)
    if demand is None:
        raise Http404
    who = actor(request)
    can_respond = demand.status == DemandStatus.OPEN and (
        has_role(who, "data_merchant") or has_role(who, "service_provider")
    )
    context = {
        "demand": demand,
        "matches": _match_rows(demand),
        "labels": _labels(demand),
        "respond_url": RESPOND_URL.format(gid=demand.gid) if can_respond else "",
        "status_label": dict(STATUSES).get(demand.status, demand.status),
    }
    return render(request, "portal/demand.html", context)
