"""Harvesting a CKAN site through its Action API (docs/interop.md, *Harvesting*): `package_search` paged with
`rows`/`start`, each package dict mapped to a harvested record (`interop.harvest`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from interop.harvest import HarvestError, fetch

PAGE_ROWS = 100
MAX_PAGES = 10_000
# The extras this node's own CKAN API writes (interop/ckan.py) that are fields of the descriptor standard.
_STATED = ("product_form", "industry", "usage_restrictions")
_API_FORMATS = {"API", "JSON API", "REST", "WMS", "WFS", "WMTS", "SPARQL", "ARCGIS GEOSERVICES REST API"}


def action_base(url: str) -> str:
    """The Action API of a site given by its root (`https://demo.ckan.org`) or by its API URL."""
    url = url.rstrip("/")
    for suffix in ("/package_search", "/api/3/action", "/api/action"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return f"{url}/api/3/action"


def action_call(base: str, action: str, params: dict) -> dict | list:
    body, _ = fetch(f"{base}/{action}", accept="application/json", params=params)
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise HarvestError(f"{base}/{action} did not answer JSON: not a CKAN Action API") from exc
    if not isinstance(answer, dict) or answer.get("success") is not True or "result" not in answer:
        raise HarvestError(f"{base}/{action} did not answer CKAN's envelope: not a CKAN Action API")
    return answer["result"]


def _extras(package: dict) -> dict[str, str]:
    extras = package.get("extras")
    if not isinstance(extras, list):
        return {}
    return {
        str(e["key"]): str(e["value"])
        for e in extras
        if isinstance(e, dict) and isinstance(e.get("key"), str) and e.get("value") is not None
    }


def _delivery(package: dict, extras: dict[str, str]) -> list[str]:
    if extras.get("delivery_methods"):
        return [m.strip() for m in extras["delivery_methods"].split(",") if m.strip()]
    methods = []
    for resource in _list(package.get("resources")):
        if not isinstance(resource, dict):
            continue
        kind = str(resource.get("format") or "").strip().upper()
        api = kind in _API_FORMATS or resource.get("resource_type") == "api"
        methods.append("api" if api else "file")
    return list(dict.fromkeys(methods))


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _text(value) -> str:
    """A string field; a multilingual one (ckanext-fluent's `{"zh": …, "en": …}`): the Chinese text first."""
    if isinstance(value, dict):
        chinese = [v for k, v in value.items() if isinstance(k, str) and k.lower().startswith("zh")]
        value = next((v for v in [*chinese, *value.values()] if isinstance(v, str) and v.strip()), "")
    return value.strip() if isinstance(value, str) else ""


def package_record(package: dict) -> dict:
    """A CKAN package dict as a harvested record; the identifier is the package's `id`."""
    extras = _extras(package)
    org = package.get("organization") if isinstance(package.get("organization"), dict) else {}
    tags = [t.get("name") for t in _list(package.get("tags")) if isinstance(t, dict)]
    spatial = extras.get("spatial_coverage", "")
    stated: dict = {key: extras[key] for key in _STATED if extras.get(key)}
    if extras.get("pricing_model") and extras.get("price_min") and extras.get("price_max"):
        try:
            low, high = float(extras["price_min"]), float(extras["price_max"])
        except ValueError:
            pass
        else:
            stated["pricing"] = {"model": extras["pricing_model"], "currency": "CNY", "min": low, "max": high}
    return {
        "identifier": _text(package.get("id")) or _text(package.get("name")),
        "modified": _text(package.get("metadata_modified")),
        "title": _text(package.get("title_translated"))
        or _text(package.get("title"))
        or _text(package.get("name")),
        "description": _text(package.get("notes_translated")) or _text(package.get("notes")),
        "keywords": [t.strip() for t in tags if isinstance(t, str) and t.strip()],
        "publisher": {
            "id": _text(org.get("id")) or _text(package.get("owner_org")),
            "name": _text(org.get("name")) or _text(org.get("title")),
            "uscc": extras.get("provider_uscc", ""),
        },
        "temporal": {"start": extras.get("temporal_start"), "end": extras.get("temporal_end")},
        "spatial": [code for code in spatial.split(",") if code.strip()],
        "frequency": extras.get("update_frequency") or extras.get("frequency") or "",
        "delivery_methods": _delivery(package, extras),
        "descriptor": stated,
    }


def ckan_count(url: str) -> int:
    """How many packages the site's `package_search` finds (checks that it is a CKAN Action API)."""
    result = action_call(action_base(url), "package_search", {"rows": 0})
    if not isinstance(result, dict) or not isinstance(result.get("count"), int):
        raise HarvestError(f"{url}: package_search answered no count: not a CKAN Action API")
    return result["count"]


def ckan_records(url: str, *, rows: int = PAGE_ROWS) -> Iterator[dict]:
    """Every package of the site, page by page (`rows`/`start`; sorted by
    `name`, which is unique, so pages do not shift)."""
    base = action_base(url)
    start = 0
    for _ in range(MAX_PAGES):
        result = action_call(base, "package_search", {"rows": rows, "start": start, "sort": "name asc"})
        page = result.get("results") if isinstance(result, dict) else None
        if not isinstance(page, list):
            raise HarvestError(f"{base}/package_search answered no results list: not a CKAN Action API")
        for package in page:
            if isinstance(package, dict):
                yield package_record(package)
        count = result.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise HarvestError(f"{base}/package_search answered no count: not a CKAN Action API")
        start += len(page)
        if not page or start >= count:
            return
