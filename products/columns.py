"""The product table's copies of descriptor fields (for indexed filters) and its segmented search text, as
the services, the importer and the replica apply write them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from products.search import search_columns


def descriptor_columns(descriptor: dict) -> dict[str, Any]:
    pricing = descriptor["pricing"]
    return {
        "descriptor": descriptor,
        "descriptor_version": descriptor["descriptor_version"],
        "name": descriptor["name"],
        "provider_name": descriptor["provider"]["name"],
        "provider_uscc": descriptor["provider"]["uscc"],
        "product_form": descriptor["product_form"],
        "industry": descriptor["industry"],
        "update_frequency": descriptor["update_frequency"],
        "data_level": descriptor.get("classification", {}).get("level", ""),
        "price_min": Decimal(str(pricing["min"])),
        "price_max": Decimal(str(pricing["max"])),
        **search_columns(descriptor),
    }
