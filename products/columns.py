"""The product table's copies of descriptor fields (for indexed filters and facet counts) and its segmented
search text, as the services, the importer and the replica apply write them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from products.search import search_columns
from standards.recognition import recognition_evaluate

# Bit positions of the mask columns (`delivery_mask`, `province_mask`): bit i stands for the i-th code. The
# positions are stored in every product row, so they are append-only: a new code takes the next bit, and no
# code ever moves (tests/test_facet_masks.py: every code of the vocabulary and of GB/T 2260 has one).
DELIVERY_BITS = ("api", "file", "sandbox", "offline")
# 100000 (nationwide), then the province-level units of GB/T 2260: a coverage code counts for the unit its
# first two digits name (310115 for 310000; 100000 for itself).
PROVINCE_BITS = (
    "100000",
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "320000",
    "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000", "440000", "450000",
    "460000", "500000", "510000", "520000", "530000", "540000", "610000", "620000", "630000", "640000",
    "650000", "710000", "810000", "820000",
)  # fmt: skip
_DELIVERY_BIT = {code: 1 << i for i, code in enumerate(DELIVERY_BITS)}
_PROVINCE_BIT = {code[:2]: 1 << i for i, code in enumerate(PROVINCE_BITS)}


def delivery_bit(code: str) -> int | None:
    """The bit of a delivery method in `delivery_mask`; None for a code without one."""
    return _DELIVERY_BIT.get(code)


def province_bit(code: str) -> int | None:
    """The bit of a province-level unit (or 100000) in `province_mask`; None for any other code."""
    return _PROVINCE_BIT.get(code[:2]) if code in PROVINCE_BITS else None


def delivery_mask(methods: Iterable[str]) -> int:
    """The bits of the delivery methods a descriptor lists."""
    return sum({_DELIVERY_BIT[m] for m in methods if m in _DELIVERY_BIT})


def province_mask(codes: Iterable[str]) -> int:
    """The bits of the province-level units (and nationwide) that a spatial coverage's codes lie in."""
    return sum({_PROVINCE_BIT[c[:2]] for c in codes if c[:2] in _PROVINCE_BIT})


def region_codes(codes: Iterable[str]) -> str:
    """The `region_codes` column: the coverage's codes once each, in order, space separated (the same codes as
    the product's ProductRegion rows)."""
    return " ".join(dict.fromkeys(codes))


def mask_codes(mask: int, codes: tuple[str, ...]) -> list[str]:
    """The codes whose bits `mask` has (`codes`: DELIVERY_BITS or PROVINCE_BITS)."""
    return [code for i, code in enumerate(codes) if mask >> i & 1]


def descriptor_columns(descriptor: dict) -> dict[str, Any]:
    pricing = descriptor["pricing"]
    verdict, verdict_reasons = recognition_evaluate(descriptor)
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
        "delivery_mask": delivery_mask(descriptor.get("delivery_methods", [])),
        "province_mask": province_mask(descriptor.get("spatial_coverage", [])),
        "region_codes": region_codes(descriptor.get("spatial_coverage", [])),
        "verdict": verdict,
        "verdict_reasons": verdict_reasons,
        **search_columns(descriptor),
    }
