"""Publishing this node's products: each product once it is public, and this exchange's own recognition of
the ones it lists (一地上架，全国互认: listing at home is the home exchange's recognition)."""

from __future__ import annotations

from products.models import Product, ProductStatus, Recognition, RecognitionStatus
from products.profiles import profiles_refresh
from products.recognition import recognitions_set
from products.replicas import PRODUCT


def products_publish(products: list[Product]) -> None:
    """Call inside the changes' transaction. Each product's machine profile is computed again after it (its
    entry follows the product's in the log)."""
    PRODUCT.publish(products)
    profiles_refresh(products)
    recognitions_set(
        [
            (p, RecognitionStatus.RECOGNISED, [], Recognition.DecidedBy.HOME)
            for p in products
            if p.status == ProductStatus.LISTED
        ]
    )
