"""The DCAT-AP 3 export over HTTP (docs/interop.md, *DCAT-AP 3*): a listed product at
`/dcat/products/<code>`, one version of its history at `/dcat/products/<code>/v<version>`, this node's catalog
at `/dcat/catalog`, the network catalog it holds at `/dcat/network`; Turtle, JSON-LD or RDF/XML by the
`Accept` header or by a suffix (`.ttl`, `.jsonld`, `.rdf`). A catalog streams in chunks of products (constant
memory), or one page (`?page=&per_page=`) with a hydra view. Anonymous, listed products only. Not part of
the OpenAPI document: the contract is DCAT-AP's."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from api.errors import error_body
from interop.dcat import (
    CATALOG_SCOPES,
    catalog_chunks,
    catalog_header,
    catalog_products,
    listed_products,
    product_graph,
)
from interop.dcat_stream import FORMATS, SUFFIXES, stream_graphs
from interop.dcat_versions import version_graph

MAX_PER_PAGE = 1000


def _format(request, suffix: str | None) -> str | None:
    """The format asked for: the suffix, else the best of the Accept header (Turtle for `*/*` or none)."""
    if suffix:
        return SUFFIXES[suffix]
    header = request.headers.get("Accept", "") or "*/*"
    best, best_q = None, 0.0
    for item in header.split(","):
        media, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        found = next((name for name, (mime, _) in FORMATS.items() if mime == media), None)
        if found is None and media in ("*/*", "text/*", "application/*"):
            found = "turtle" if media != "application/*" else "json-ld"
        if found and q > best_q:
            best, best_q = found, q
    return best


def _error(status: int, code: str, message: str, message_en: str, field: str | None = None) -> JsonResponse:
    errors = [{"field": field, "code": code, "message": message, "message_en": message_en}] if field else []
    return JsonResponse(
        error_body(status, code=code, message=message, message_en=message_en, errors=errors),
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _not_acceptable() -> JsonResponse:
    return _error(
        406,
        "not_acceptable",
        "只提供 text/turtle、application/ld+json、application/rdf+xml",
        "Only text/turtle, application/ld+json and application/rdf+xml are served",
        "Accept",
    )


def _headers(response) -> None:
    response["Vary"] = "Accept"
    response["Access-Control-Allow-Origin"] = "*"  # a public catalog, read by portals in browsers


@require_GET
def dcat_product(request, code: str, suffix: str | None = None, version: str | None = None):
    """A listed product, or (`version`) one version of its stored history: `<product>/v<version>`."""
    rdf_format = _format(request, suffix)
    if rdf_format is None:
        return _not_acceptable()
    product = listed_products().filter(code=code.upper()).select_related("exchange").first()
    if product is None:
        return _error(404, "not_found", "未找到该上架产品", "No listed product with this code")
    graph = product_graph(product) if version is None else version_graph(product, int(version))
    if graph is None:
        return _error(
            404,
            "not_found",
            f"该产品没有可公开的第 {version} 版",
            f"This product's history holds no public version {version}",
            "version",
        )
    mime, _ = FORMATS[rdf_format]
    response = HttpResponse(graph.serialize(format=rdf_format), content_type=f"{mime}; charset=utf-8")
    _headers(response)
    return response


def _whole_number(request, name: str, default: int | None, high: int) -> int | JsonResponse | None:
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        return _error(
            400,
            "invalid",
            f"{name} 须为 1–{high} 的整数",
            f"{name} must be a whole number from 1 to {high}",
            name,
        )
    return int(raw)


@require_GET
def dcat_catalog(request, scope: str, suffix: str | None = None):
    if scope not in CATALOG_SCOPES:  # the URL pattern admits only these
        return _error(404, "not_found", "未找到", "Not found")
    rdf_format = _format(request, suffix)
    if rdf_format is None:
        return _not_acceptable()
    page = _whole_number(request, "page", None, 10**9)
    per_page = _whole_number(request, "per_page", 100, MAX_PER_PAGE)
    for value in (page, per_page):
        if isinstance(value, JsonResponse):
            return value
    if page is None:
        header = catalog_header(scope)
        chunks = catalog_chunks(scope)
    else:
        total = catalog_products(scope).count()
        header = catalog_header(scope, page=page, per_page=per_page, total=total)
        chunks = catalog_chunks(scope, offset=(page - 1) * per_page, limit=per_page)
    mime, _ = FORMATS[rdf_format]
    response = StreamingHttpResponse(
        stream_graphs(header, chunks, rdf_format), content_type=f"{mime}; charset=utf-8"
    )
    _headers(response)
    return response
