"""Reads of products: who may see what, and the queries the API filters."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from participants.principal import ParticipantPrincipal
from products import lifecycle
from products.models import Product, ProductRegion, ProductVersion, Recognition, RecognitionStatus
from products.search import search_match, search_rank, segment_query
from products.standards.regions import region_province

NATIONWIDE = "100000"


def _is_admin(user) -> bool:
    return bool(
        user and user.is_authenticated and (user.is_superuser or getattr(user, "role", "") == User.Role.ADMIN)
    )


def product_visible(*, user) -> QuerySet[Product]:
    """Products `user` may read: anyone reads public ones; operators also read all of their exchange's."""
    qs = Product.objects.select_related("exchange")
    if _is_admin(user):
        return qs
    public = Q(status__in=lifecycle.PUBLIC)
    if user and user.is_authenticated and getattr(user, "exchange_id", None):
        return qs.filter(public | Q(exchange_id=user.exchange_id))
    if isinstance(user, ParticipantPrincipal):
        # A data merchant also reads its own drafts and submissions at this node.
        return qs.filter(public | Q(provider_uscc=user.participant_id, is_home=True))
    return qs.filter(public)


def product_filter_region(queryset: QuerySet[Product], *, code: str) -> QuerySet[Product]:
    """Products whose coverage includes `code`: the region itself, its province, or the whole country."""
    codes = {code, NATIONWIDE}
    province = region_province(code)
    if province:
        codes.add(province.code if hasattr(province, "code") else str(province))
    return queryset.filter(Exists(ProductRegion.objects.filter(product=OuterRef("pk"), code__in=codes)))


# A term that matches more than this many products is ranked among its newest RANK_WINDOW matches only:
# ranking every match of a very common term costs more than the whole request may (bench/search.py).
RANK_WINDOW = 1000


def product_filter_recognised_by(queryset: QuerySet[Product], *, exchange_code: str) -> QuerySet[Product]:
    return queryset.filter(
        Exists(
            Recognition.objects.filter(
                product_code=OuterRef("code"), exchange_id=exchange_code, status=RecognitionStatus.RECOGNISED
            )
        )
    )


def product_search(queryset: QuerySet[Product], *, q: str) -> tuple[QuerySet[Product], bool]:
    """Matches of `q` by relevance, and whether every match was ranked (False for a very common term)."""
    tokens = segment_query(q)
    matched = search_match(queryset, tokens=tokens)
    # One cheap query (newest first, by primary key) tells whether the term is broad and, if so, which
    # matches to rank. Those are then read by primary key alone: they are known to match, and repeating
    # the full-text condition would make PostgreSQL visit every match again.
    newest = list(matched.order_by("-id").values_list("pk", flat=True)[: RANK_WINDOW + 1])
    if len(newest) > RANK_WINDOW:
        return search_rank(queryset.filter(pk__in=newest[:RANK_WINDOW]), tokens=tokens).order_by(
            "-rank", "-id"
        ), False
    return search_rank(matched, tokens=tokens).order_by("-rank", "-id"), True


def product_versions(*, product: Product, user) -> QuerySet[ProductVersion]:
    """The version history. Outsiders see only the versions in which the product was public."""
    qs = ProductVersion.objects.filter(product=product).select_related("actor").order_by("version")
    if _is_admin(user) or (
        user and user.is_authenticated and getattr(user, "exchange_id", None) == product.exchange_id
    ):
        return qs
    return qs.filter(status__in=lifecycle.PUBLIC)
