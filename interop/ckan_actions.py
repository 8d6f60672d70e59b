"""CKAN's read actions over this node's listed products (docs/interop.md, *CKAN Action API*).

Each action takes the call's parameters as one dict (a query string's or a JSON body's) and returns CKAN's
`result`, or raises `CkanError` (`ValidationError`, `NotFoundError`), which the view turns into CKAN's error
envelope. Only listed products are read, whoever asks: this is an anonymous, public catalog.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.db.models import Count, Max, QuerySet

from exchanges.models import Exchange
from interop.ckan import (
    CKAN_VERSION,
    group_dict,
    group_name,
    organization_dict,
    organization_name,
    package_dict,
)
from products.facets import FACETS, FacetValue, keyword_counts, product_facets, product_filter_keyword
from products.models import Product, ProductStatus
from products.selectors import product_search


class CkanError(Exception):
    kind = "Error"
    status = 500

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def as_dict(self) -> dict:
        return {"__type": self.kind, "message": self.message, **self.fields}


class ValidationError(CkanError):
    kind, status = "Validation Error", 409


class NotFoundError(CkanError):
    kind, status = "Not Found Error", 404


def _invalid(field: str, rule: str) -> ValidationError:
    return ValidationError(f"{field}: {rule}", {field: [rule]})


def _whole(params: dict, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    value = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if isinstance(raw, str) and re.fullmatch(r"-?[0-9]{1,9}", raw):
        value = int(raw)
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bound = f" from {minimum}" + (f" to {maximum}" if maximum is not None else "")
        raise _invalid(name, f"Invalid integer: a whole number{bound}")
    return value


def _boolean(params: dict, name: str) -> bool:
    raw = params.get(name)
    if raw in (None, "", False, "false", "False", "0", 0):
        return False
    if raw in (True, "true", "True", "1", 1):
        return True
    raise _invalid(name, "Invalid boolean: true or false")


def _listed() -> QuerySet[Product]:
    return Product.objects.filter(status=ProductStatus.LISTED).select_related("exchange")


# --- package_search -----------------------------------------------------------------------------------------
# CKAN's field names beside the facets': `organization` (an organization's name: the exchange code in lower
# case), `groups` (a group's name: a provider's USCC in lower case), `tags` (a keyword), `name`/`id` (a
# package).
FQ_FIELDS = (*FACETS, "organization", "groups", "tags", "name", "id")
FACET_FIELDS = (*FACETS, "organization", "groups", "tags")
_FQ_TERM = re.compile(r'\s*\+?([A-Za-z_]+):(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*')
SORTS = {
    "score": "rank",
    "metadata_modified": "updated_at",
    "metadata_created": "created_at",
    "name": "code",
    "title_string": "name",
}


def _fq_terms(fq: str) -> list[tuple[str, str]]:
    """`field:value` terms of an fq (Solr's syntax: a value in double quotes may hold spaces), ANDed."""
    terms, position = [], 0
    while position < len(fq):
        match = _FQ_TERM.match(fq, position)
        if match is None:
            if fq[position:].strip():
                raise _invalid("fq", 'Invalid filter: field:value or field:"value" terms')
            break
        field, value = match.group(1), match.group(2) if match.group(2) is not None else match.group(3)
        if field not in FQ_FIELDS:
            raise _invalid("fq", f"Unknown field {field}: one of {', '.join(FQ_FIELDS)}")
        terms.append((field, value.replace('\\"', '"')))
        position = match.end()
    return terms


def _filter(queryset: QuerySet[Product], field: str, value: str) -> QuerySet[Product]:
    if field in ("name", "id"):
        return queryset.filter(code=value.upper())
    if field == "tags":
        return product_filter_keyword(queryset, keyword=value)
    if field == "groups":
        return queryset.filter(provider_uscc=value.upper())
    if field == "organization":
        field, value = "exchange", value.upper()
    return FACETS[field].filter(queryset, value)


def _sort(raw, *, searching: bool) -> tuple[str, list[str]]:
    """(the sort as given, ORDER BY fields); `score` ranks only a search (without `q`: by modification)."""
    text = str(raw or "").strip() or "score desc, metadata_modified desc"
    order = []
    for part in text.split(","):
        words = part.split()
        if len(words) not in (1, 2) or words[0] not in SORTS or words[-1] not in ("asc", "desc", words[0]):
            raise _invalid("sort", f"Invalid sort: field asc|desc, fields: {', '.join(SORTS)}")
        if words[0] == "score" and not searching:
            continue
        column = SORTS[words[0]]
        order.append(column if words[-1] == "asc" else f"-{column}")
    return text, [*(order or ["-updated_at"]), "code"]


def _facet_fields(raw) -> list[str]:
    """`facet.field`: a JSON list of field names (CKAN's form), or a list already (a JSON body's)."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _invalid("facet.field", "Invalid JSON list of field names") from None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise _invalid("facet.field", "Invalid JSON list of field names")
    unknown = [name for name in raw if name not in FACET_FIELDS]
    if unknown:
        raise _invalid("facet.field", f"Unknown facet {', '.join(unknown)}: one of {', '.join(FACET_FIELDS)}")
    return list(dict.fromkeys(raw))


def _search_facets(queryset, fields: list[str], limit: int) -> tuple[dict, dict]:
    # `organization` is the exchange facet under CKAN's name: counted once when both are asked for.
    names = list(
        dict.fromkeys("exchange" if f == "organization" else f for f in fields if f not in ("tags", "groups"))
    )
    counted = product_facets(queryset, names=names, shared=True)  # listed products only
    if "groups" in fields:  # providers, labelled with their names
        groups = (FacetValue(group_name(u), t, t, n) for u, t, n in provider_counts(queryset))
        counted["groups"] = sorted(groups, key=lambda v: (-v.count, v.value))
    if "tags" in fields:  # a keyword is its own label
        tags = keyword_counts(queryset, shared=True)
        counted["tags"] = sorted((FacetValue(t, t, t, n) for t, n in tags), key=lambda v: (-v.count, v.value))
    facets, search_facets = {}, {}
    for field in fields:
        values = counted["exchange" if field == "organization" else field]
        values = values if limit < 0 else values[:limit]
        name = organization_name if field == "organization" else str
        facets[field] = {name(v.value): v.count for v in values}
        items = [{"name": name(v.value), "display_name": v.label_zh, "count": v.count} for v in values]
        search_facets[field] = {"title": field, "items": items}
    return facets, search_facets


def package_search(params: dict) -> dict:
    """Search listed products: `q` (Chinese full text), `fq` (`field:value` on the facet fields,
    `organization`, `name`), `rows` (0–1000, 10), `start`, `sort` (`score`, `metadata_modified`,
    `metadata_created`, `name`, `title_string`, each asc|desc), `facet.field` (JSON list), `facet.limit`."""
    q = str(params.get("q") or "").strip()
    searching = q not in ("", "*:*", "*")
    rows = _whole(params, "rows", 10, maximum=1000)
    start = _whole(params, "start", 0)
    sort, order = _sort(params.get("sort"), searching=searching)
    fields = _facet_fields(params.get("facet.field"))
    limit = _whole(params, "facet.limit", 50, minimum=-1)
    queryset = _listed()
    for field, value in _fq_terms(str(params.get("fq") or "")):
        queryset = _filter(queryset, field, value)
    if searching:
        queryset, _ = product_search(queryset, q=q[:100])
        ranking = queryset.search_ranking
        count = len(ranking.entries)
        if order[0] == "-rank":
            page = ranking.page(start, start + rows)
        else:
            page = list(queryset.order_by(*order)[start : start + rows])
    else:
        count = queryset.count()
        page = list(queryset.order_by(*order)[start : start + rows])
    facets, search_facets = _search_facets(queryset, fields, limit) if fields else ({}, {})
    return {
        "count": count,
        "sort": sort,
        "results": [package_dict(product) for product in page],
        "facets": facets,
        "search_facets": search_facets,
    }


# --- The other read actions ---------------------------------------------------------------------------------
def _required(params: dict, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(name, "Missing value")
    return value.strip()


def package_show(params: dict) -> dict:
    """A listed product by `id`: its product code (or the code in lower case, its CKAN name)."""
    code = _required(params, "id").upper()
    product = _listed().filter(code=code).first()
    if product is None:
        raise NotFoundError("Not found")
    return package_dict(product)


def package_list(params: dict) -> list[str]:
    """The names of the listed products, in name order: `limit`, `offset`."""
    limit = _whole(params, "limit", 1000, maximum=1000)
    offset = _whole(params, "offset", 0)
    codes = _listed().order_by("code").values_list("code", flat=True)[offset : offset + limit]
    return [code.lower() for code in codes]


def _package_counts() -> dict[str, int]:
    rows = _listed().order_by().values_list("exchange_id").annotate(n=Count("pk"))
    return dict(rows)


ORGANIZATION_SORTS = {"name": "code", "title": "name_zh", "package_count": None}


def organization_list(params: dict) -> list:
    """The 24 member exchanges: names, or with `all_fields` dicts with `package_count`; `sort` (`name`,
    `title`, `package_count`, asc|desc; `title asc` by default), `limit`, `offset`."""
    all_fields = _boolean(params, "all_fields")
    words = str(params.get("sort") or "title asc").split()
    if (
        len(words) not in (1, 2)
        or words[0] not in ORGANIZATION_SORTS
        or words[-1] not in ("asc", "desc", words[0])
    ):
        raise _invalid("sort", "Invalid sort: name, title or package_count, asc|desc")
    limit = _whole(params, "limit", 1000, maximum=1000)
    offset = _whole(params, "offset", 0)
    counts = _package_counts()
    exchanges = list(Exchange.objects.order_by("code"))
    column = ORGANIZATION_SORTS[words[0]]
    key = (lambda e: counts.get(e.code, 0)) if column is None else (lambda e: getattr(e, column))
    exchanges.sort(key=key, reverse=words[-1] == "desc")
    chosen = exchanges[offset : offset + limit]
    if not all_fields:
        return [organization_name(e.code) for e in chosen]
    return [organization_dict(e, package_count=counts.get(e.code, 0)) for e in chosen]


def organization_show(params: dict) -> dict:
    """One exchange by `id` (its code, in either case); `include_datasets`: its 10 newest listed products."""
    code = _required(params, "id").upper()
    exchange = Exchange.objects.filter(code=code).first()
    if exchange is None:
        raise NotFoundError("Not found")
    listed = _listed().filter(exchange=exchange)
    result = organization_dict(exchange, package_count=listed.count())
    if _boolean(params, "include_datasets"):
        result["packages"] = [package_dict(p) for p in listed.order_by("-updated_at", "code")[:10]]
    return result


# --- providers as groups -----------------------------------------------------------------------------------


def provider_counts(queryset: QuerySet[Product]) -> list[tuple[str, str, int]]:
    """(USCC, name, listed products) of each provider among `queryset`'s products; the name as its products
    state it (the greatest, should two of them differ)."""
    rows = queryset.order_by().values_list("provider_uscc")
    return list(rows.annotate(title=Max("provider_name"), n=Count("pk")))


GROUP_SORTS = {"name": 0, "title": 1, "package_count": 2}


def group_list(params: dict) -> list:
    """The providers of the listed products, as CKAN groups: names, or with `all_fields` dicts with
    `package_count`; `q` keeps those whose name or title contains it; `sort` (`name`, `title`,
    `package_count`, asc|desc; `title asc` by default), `limit`, `offset`."""
    all_fields = _boolean(params, "all_fields")
    words = str(params.get("sort") or "title asc").split()
    if len(words) not in (1, 2) or words[0] not in GROUP_SORTS or words[-1] not in ("asc", "desc", words[0]):
        raise _invalid("sort", "Invalid sort: name, title or package_count, asc|desc")
    limit = _whole(params, "limit", 1000, maximum=1000)
    offset = _whole(params, "offset", 0)
    q = str(params.get("q") or "").strip().casefold()
    rows = [(group_name(u), t, n, u) for u, t, n in provider_counts(_listed())]
    if q:
        rows = [row for row in rows if q in row[0] or q in row[1].casefold()]
    rows.sort(key=lambda row: (row[GROUP_SORTS[words[0]]], row[0]), reverse=words[-1] == "desc")
    chosen = rows[offset : offset + limit]
    if not all_fields:
        return [row[0] for row in chosen]
    return [group_dict(uscc, title, package_count=n) for _, title, n, uscc in chosen]


def group_show(params: dict) -> dict:
    """A provider of listed products by `id` (its USCC, either case); `include_datasets`: its 10 most recently
    modified listed products as `packages`."""
    uscc = _required(params, "id").upper()
    found = provider_counts(_listed().filter(provider_uscc=uscc))
    if not found:
        raise NotFoundError("Not found")
    _, title, count = found[0]
    result = group_dict(uscc, title, package_count=count)
    if _boolean(params, "include_datasets"):
        listed = _listed().filter(provider_uscc=uscc).order_by("-updated_at", "code")[:10]
        result["packages"] = [package_dict(p) for p in listed]
    return result


def tag_list(params: dict) -> list:
    """The keywords of the listed products (CKAN's tags), in name order; `query` keeps those containing it;
    `all_fields`: dicts."""
    query = str(params.get("query") or "").strip()
    all_fields = _boolean(params, "all_fields")
    names = sorted(name for name, _ in keyword_counts(_listed(), shared=True) if query in name)
    if not all_fields:
        return names
    return [{"id": name, "name": name, "display_name": name, "vocabulary_id": None} for name in names]


def status_show(params: dict) -> dict:
    """This node as a CKAN site: `ckan_version` is the Action API level it answers as."""
    exchange = Exchange.objects.filter(code=settings.NODE_CODE).first()
    title = exchange.name_zh if exchange else settings.NODE_CODE
    return {
        "site_title": f"{title} 数据产品目录",
        "site_description": "数据交易机构互认互通 · Data Exchange Mutual Recognition Registry",
        "site_url": settings.NODE_PUBLIC_URL,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "zh_Hans_CN",
        "extensions": [],
    }


def help_show(params: dict) -> str:
    """What an action does and takes: `name`."""
    name = _required(params, "name")
    if name not in ACTIONS:
        raise NotFoundError("Action name not known")
    return ACTIONS[name].__doc__ or ""


ACTIONS = {
    action.__name__: action
    for action in (
        status_show,
        package_list,
        package_search,
        package_show,
        organization_list,
        organization_show,
        group_list,
        group_show,
        tag_list,
        help_show,
    )
}
