"""The operators' queues of products (the operator console, docs/portal.md): the submitted products of this
node's exchange awaiting review, and this exchange's recognitions of other exchanges' products that are
pending or refused. Reads only; the decisions go through `services.product_review` and
`recognition.recognition_review`, as the API's do."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from products.models import Product, ProductStatus, Recognition, RecognitionStatus
from products.selectors import product_visible

REVIEWABLE = (RecognitionStatus.PENDING, RecognitionStatus.REFUSED)
# What a queue's card does not show: the descriptor and the search columns (most of a row's bytes).
LIST_DEFERRED = ("descriptor", "search_name", "search_keywords", "search_body")


def products_to_review(*, user) -> QuerySet[Product]:
    """This exchange's submitted products that `user` may read (what `GET /products/?status=submitted`
    lists to its operators), the oldest submission first."""
    return (
        product_visible(user=user)
        .filter(status=ProductStatus.SUBMITTED, exchange_id=settings.NODE_CODE, is_home=True)
        .order_by("submitted_at", "id")
    )


def products_to_review_page(*, user) -> QuerySet[Product]:
    """The review queue as its page lists it: the rows without their descriptors."""
    return products_to_review(user=user).defer(*LIST_DEFERRED)


def product_to_review(*, user, code: str) -> Product | None:
    return products_to_review(user=user).filter(code=code.upper()).first()


def recognitions_to_review(*, status: str | None = None) -> QuerySet[Recognition]:
    """This exchange's recognitions of other exchanges' products that are pending review or refused
    (`status` narrows to one of them), the oldest first."""
    statuses = [status] if status in REVIEWABLE else list(REVIEWABLE)
    return (
        Recognition.objects.filter(exchange_id=settings.NODE_CODE, status__in=statuses)
        .exclude(product_code__startswith=f"{settings.NODE_CODE}-")
        .order_by("updated_at", "id")
    )


def products_by_code(codes: list[str]) -> dict[str, Product]:
    """The products held here of `codes`, in one query (their descriptors left out)."""
    rows = Product.objects.filter(code__in=codes).defer(*LIST_DEFERRED, "findings")
    return {p.code: p for p in rows}


def recognised_product(code: str) -> Product | None:
    """A product another exchange listed, as this node holds it, for this exchange's recognition decision."""
    return Product.objects.filter(code=code.upper(), is_home=False).first()


def recognition_of(code: str) -> Recognition | None:
    """This exchange's recognition of the product `code`, if it has one."""
    return Recognition.objects.filter(product_code=code, exchange_id=settings.NODE_CODE).first()
