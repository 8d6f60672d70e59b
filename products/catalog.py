"""Reads for people's catalog pages (the portal, docs/portal.md): the listed products as the API lists them,
the orders a person may sort them in, a product with what its page shows, the newest listings, counts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.fields.json import KT

from products.models import Product, ProductProfile, ProductStatus, ProductVersion
from products.selectors import product_versions, product_visible
from products.verdicts import Verdict, verdicts_of

# A list needs each row's summary, not its whole descriptor and search columns (as the API's list).
LIST_DEFERRED = ("descriptor", "search_name", "search_keywords", "search_body", "findings", "status_reasons")
# The orders of the catalog besides a search's relevance; each ends on a unique key, so pages never overlap.
SORTS = {
    "newest": ("-id",),
    "price": ("price_min", "code"),
    "price_desc": ("-price_max", "code"),
    "name": ("name", "code"),
}


def catalog_products(*, user) -> QuerySet[Product]:
    """The listed products `user` may read, newest here first, each with `summary_text`."""
    return (
        product_visible(user=user)
        .filter(status=ProductStatus.LISTED)
        .defer(*LIST_DEFERRED)
        .annotate(summary_text=KT("descriptor__summary"))
        .order_by("-id")
    )


def catalog_sort(queryset: QuerySet[Product], *, key: str) -> QuerySet[Product]:
    """`queryset` in one of SORTS' orders (a KeyError for another: the caller validates)."""
    return queryset.order_by(*SORTS[key])


def recent_listings(*, user, limit: int = 6) -> list[Product]:
    return list(catalog_products(user=user)[:limit])


def listed_count() -> int:
    return Product.objects.filter(status=ProductStatus.LISTED).count()


def product_for_page(*, code: str, user) -> Product | None:
    """The product `user` may read under this code (any case), with its exchange."""
    return product_visible(user=user).filter(code=code.upper()).first()


def product_recognitions(product: Product) -> dict[str, Verdict]:
    """Each exchange's recognition of the product as read here (its record, else the verdict this node
    computes: `products.verdicts`), by exchange code."""
    return verdicts_of([product])[product.code]


def product_profile(code: str) -> dict | None:
    """The machine profile of the product's sample (computed by its home node), or None."""
    row = ProductProfile.objects.filter(product_code=code).only("profile").first()
    return row.profile if row is not None else None


def version_history(*, product: Product, user) -> list[ProductVersion]:
    """The versions `user` may read (products.selectors.product_versions), without their descriptors."""
    return list(product_versions(product=product, user=user).defer("descriptor"))


def version_descriptors(*, product: Product, user, versions: list[int]) -> dict[int, dict]:
    """{version: descriptor} of those of `versions` that `user` may read."""
    rows = product_versions(product=product, user=user).filter(version__in=versions)
    return dict(rows.values_list("version", "descriptor"))
