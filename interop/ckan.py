"""A product as a CKAN package dict, an exchange as a CKAN organization dict, a provider as a CKAN group
dict (docs/interop.md, *Field mapping*): the field names and types CKAN's own `package_show`,
`organization_show` and `group_show` return and its harvesters read."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.conf import settings

from exchanges.models import Exchange
from products.facets import price_band
from products.models import Product

# The Action API level this node answers as (what `status_show` reports; clients pick their calls by it).
CKAN_VERSION = "2.10.0"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ckan_time(value: dt.datetime | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without an offset, to the microsecond."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def package_name(code: str) -> str:
    """A CKAN name is lower case (`[a-z0-9_-]{2,100}`): the product code in lower case."""
    return code.lower()


def organization_name(exchange_code: str) -> str:
    return exchange_code.lower()


def organization_dict(exchange: Exchange, *, package_count: int | None = None) -> dict:
    """The exchange as a CKAN organization (CKAN's `group_dictize` fields that a reader uses)."""
    created = ckan_time(_EPOCH)
    org = {
        "id": exchange.code,
        "name": organization_name(exchange.code),
        "title": exchange.name_zh,
        "display_name": exchange.name_zh,
        "description": exchange.name_en,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": created,
        "extras": [
            {"key": "name_en", "value": exchange.name_en},
            {"key": "province_code", "value": exchange.province_code},
            {"key": "province", "value": exchange.province_zh},
            {"key": "runs_node", "value": "true" if exchange.runs_node else "false"},
            {"key": "node_url", "value": exchange.node_url},
        ],
    }
    if package_count is not None:
        org["package_count"] = package_count
    return org


def group_name(uscc: str) -> str:
    """A provider's CKAN group name: its USCC in lower case."""
    return uscc.lower()


def _group_description(uscc: str) -> str:
    return f"数据提供方 · Data provider (统一社会信用代码 USCC {uscc})"


def group_summary(uscc: str, title: str) -> dict:
    """A provider as a package's `groups` entry (the fields CKAN's `package_show` gives a group)."""
    return {
        "id": uscc,
        "name": group_name(uscc),
        "title": title,
        "display_name": title,
        "description": _group_description(uscc),
        "image_display_url": "",
    }


def group_dict(uscc: str, title: str, *, package_count: int | None = None) -> dict:
    """A provider as a CKAN group (the second grouping, beside the exchanges as organizations): its USCC is
    the id, its name as its listed products state it the title."""
    group = {
        **group_summary(uscc, title),
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": ckan_time(_EPOCH),
        "extras": [{"key": "uscc", "value": uscc}],
    }
    if package_count is not None:
        group["package_count"] = package_count
    return group


def _extras(product: Product, descriptor: dict) -> list[dict]:
    """Fields CKAN's core schema has no place for, as CKAN `extras`: strings only (CKAN stores text)."""
    temporal = descriptor.get("temporal_coverage") or {}
    pairs = [
        ("product_code", product.code),
        ("home_exchange", product.exchange_id),
        ("provider_uscc", product.provider_uscc),
        ("provider_name", product.provider_name),
        ("product_form", product.product_form),
        ("industry", product.industry),
        ("update_frequency", product.update_frequency),
        ("data_level", product.data_level),
        ("spatial_coverage", ",".join(descriptor.get("spatial_coverage", []))),
        ("temporal_start", temporal.get("start") or ""),
        ("temporal_end", temporal.get("end") or ""),
        ("delivery_methods", ",".join(descriptor.get("delivery_methods", []))),
        ("price_min", str(product.price_min)),
        ("price_max", str(product.price_max)),
        ("price_band", price_band(product.price_min)),
        ("currency", "CNY"),
        ("pricing_model", (descriptor.get("pricing") or {}).get("model", "")),
        ("descriptor_version", product.descriptor_version),
        ("usage_restrictions", descriptor.get("usage_restrictions", "")),
    ]
    return [{"key": key, "value": value} for key, value in pairs if value not in (None, "")]


def _resources(product: Product, descriptor: dict) -> list[dict]:
    """The product's descriptor on this node's API (JSON), and its sample where the descriptor links one."""
    base = settings.NODE_PUBLIC_URL
    modified = ckan_time(product.updated_at)
    found = [
        {
            "id": f"{product.code}-descriptor",
            "name": "产品描述 Product descriptor",
            "description": "The product's descriptor (product descriptor standard), as this node serves it.",
            "url": f"{base}/api/v1/products/{quote(product.code)}/",
            "format": "JSON",
            "mimetype": "application/json",
            "resource_type": "api",
        }
    ]
    sample = descriptor.get("sample") or {}
    if sample.get("url"):
        suffix = sample["url"].rsplit("/", 1)[-1].rpartition(".")[2] if "." in sample["url"] else ""
        found.append(
            {
                "id": f"{product.code}-sample",
                "name": "样例数据 Sample",
                "description": sample.get("description", ""),
                "url": sample["url"],
                "format": suffix.upper()[:10],
                "mimetype": None,
                "resource_type": "file",
            }
        )
    for position, resource in enumerate(found):
        resource.update(
            package_id=product.code,
            position=position,
            state="active",
            created=ckan_time(product.created_at),
            last_modified=modified,
        )
    return found


def package_dict(product: Product) -> dict:
    """A listed product as CKAN's `package_show` returns a dataset (docs/interop.md, *Field mapping*)."""
    descriptor = product.descriptor
    tags = [
        {"name": keyword, "display_name": keyword, "state": "active", "vocabulary_id": None}
        for keyword in descriptor.get("keywords", [])
    ]
    resources = _resources(product, descriptor)
    return {
        "id": product.code,
        "name": package_name(product.code),
        "title": product.name,
        "notes": descriptor.get("summary", ""),
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": False,
        "license_id": "",
        "license_title": "",
        "url": f"{settings.NODE_PUBLIC_URL}/api/v1/products/{quote(product.code)}/",
        "version": str(product.version),
        "author": product.provider_name,
        "author_email": None,
        "maintainer": product.exchange.name_zh,
        "maintainer_email": None,
        "metadata_created": ckan_time(product.created_at),
        "metadata_modified": ckan_time(product.updated_at),
        "creator_user_id": None,
        "owner_org": product.exchange_id,
        "organization": organization_dict(product.exchange),
        "groups": [group_summary(product.provider_uscc, product.provider_name)],
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "extras": _extras(product, descriptor),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
