"""The catalog: Chinese full-text search with the API's own filters (api.filters.ProductFilter: the same
parameters, the same validation, the same search and ranking) and facet counts (products.facets), sorting and
pagination. A plain GET form; with htmx the results update as one types (the partial alone is rendered)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation

from api.errors import field_errors
from api.filters import ProductFilter
from api.pagination import RankedResults
from portal.actors import actor
from portal.forms import FormErrors
from products.catalog import SORTS, catalog_products, catalog_sort
from products.facets import product_facets

FACETS = ("industry", "form", "region", "exchange", "price", "quality_grade", "delivery_method")
FILTERS = ("q", *FACETS)
PAGE_SIZE = 20
SORT_CHOICES = ("relevance", *SORTS)
FACET_TITLES = {
    "industry": _("行业门类"),
    "form": _("产品形态"),
    "region": _("覆盖地域"),
    "exchange": _("所属交易所"),
    "price": _("价格"),
    "quality_grade": _("质量等级"),
    "delivery_method": _("交付方式"),
}
SORT_TITLES = {
    "": _("默认（搜索时按相关度，否则最新上架）"),
    "relevance": _("相关度"),
    "newest": _("最新上架"),
    "price": _("价格从低到高"),
    "price_desc": _("价格从高到低"),
    "name": _("名称"),
}


def _sort(request, searching: bool) -> tuple[str, list[dict]]:
    sort = request.GET.get("sort") or ("relevance" if searching else "newest")
    if sort not in SORT_CHOICES:
        rule = ", ".join(SORT_CHOICES)
        error = {
            "field": "sort",
            "code": "invalid_choice",
            "message": f"须为 {rule} 之一",
            "message_en": f"sort is one of {rule}",
        }
        return "newest", [error]
    return ("newest" if sort == "relevance" and not searching else sort), []


def _results(queryset, sort: str):
    ranking = getattr(queryset, "search_ranking", None)
    if sort == "relevance" and ranking is not None:
        return RankedResults(ranking)
    return catalog_sort(queryset, key=sort)


def catalog(request):
    params = {name: value for name in FILTERS if (value := request.GET.get(name, "").strip())}
    sort, sort_errors = _sort(request, bool(params.get("q")))
    filterset = ProductFilter(params, queryset=catalog_products(user=actor(request)), request=request)
    if filterset.is_valid():
        queryset = filterset.qs
        errors = FormErrors(errors=sort_errors) if sort_errors else FormErrors()
    else:
        queryset = filterset.queryset.none()
        errors = FormErrors(errors=field_errors(translate_validation(filterset.errors).detail) + sort_errors)
    if errors:
        errors.message, errors.message_en = "请求数据不符合规则", "The request breaks one or more rules"
    page = Paginator(_results(queryset, sort), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "params": params,
        "sort": sort,
        "sorts": [(key, SORT_TITLES[key]) for key in ("", *SORT_CHOICES)],
        "sort_asked": request.GET.get("sort", ""),
        "searching": bool(params.get("q")),
        "errors": errors,
        "page": page,
        "count_exact": getattr(request, "search_exhaustive", True),
        "facets": [
            {"name": name, "title": FACET_TITLES[name], "values": values, "active": params.get(name)}
            for name, values in product_facets(queryset, names=list(FACETS), shared=True).items()
        ],
    }
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "portal/partials/catalog_results.html" if partial else "portal/catalog.html"
    response = render(request, template, context, status=400 if errors else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response
