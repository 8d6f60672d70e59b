"""Reads of products: who may see what, and the queries the API filters."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from participants.principal import ParticipantPrincipal
from products import lifecycle
from products.models import Product, ProductRegion, ProductVersion
from products.search import search_order, search_rank, search_window
from products.verdicts import recognised_by
from standards.regions import region_province
from standards.segmentation import segment_query

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
    if connections[queryset.db].vendor == "postgresql":
        # The row's own codes, through the GIN index on their array (migration 0013): the planner can AND it
        # with the full-text index in one bitmap, where the join to ProductRegion made it visit every text
        # match (or walk the primary key) to find the few in the region (docs/performance.md).
        # Only the table's name goes into the SQL; the codes are a parameter.
        overlap = f"string_to_array({queryset.model._meta.db_table}.region_codes, ' ') && %s::text[]"
        return queryset.filter(RawSQL(overlap, [sorted(codes)], output_field=BooleanField()))  # noqa: S611
    return queryset.filter(Exists(ProductRegion.objects.filter(product=OuterRef("pk"), code__in=codes)))


# A term that matches more than this many products is ranked among its newest RANK_WINDOW matches only:
# ranking every match of a very common term costs more than the whole request may (bench/search.py).
RANK_WINDOW = 1000


def product_filter_recognised_by(queryset: QuerySet[Product], *, exchange_code: str) -> QuerySet[Product]:
    """The products `exchange_code` recognises: its record, else the verdict this node computes for it."""
    return queryset.filter(recognised_by(exchange_code))


@dataclass(frozen=True)
class SearchRanking:
    """A search's matches, best first, as computed once: a page of results is then read by primary key.

    `base` is the queryset the search ran within (every other filter applied), `entries` the matches as
    (primary key, rank) best first, `exhaustive` whether every match was ranked."""

    base: QuerySet[Product]
    entries: list[tuple[int, float]]
    exhaustive: bool

    def page(self, start: int, stop: int | None) -> list[Product]:
        entries = self.entries[start:stop]
        rows = {p.pk: p for p in self.base.order_by().filter(pk__in=[pk for pk, _ in entries])}
        page = []
        for pk, rank in entries:
            product = rows.get(pk)
            if product is not None:  # gone from `base` since the ranking (say, delisted meanwhile)
                product.rank = rank
                page.append(product)
        return page


def product_search(queryset: QuerySet[Product], *, q: str) -> tuple[QuerySet[Product], bool]:
    """Matches of `q` by relevance, and whether every match was ranked (False for a very common term).

    One query ranks the newest RANK_WINDOW + 1 matches (newest first, so a term's breadth costs a bounded
    amount of ranking). Equal ranks are ordered by product code, which every node shares (primary keys are
    local: the same products arrive in different orders at different nodes). The queryset returned is ordered
    so and carries that ranking as `search_ranking`, so that the paginator counts the matches and reads a
    page by primary key instead of running the search again (api/pagination.py); evaluated on its own it
    gives the same rows."""
    tokens = segment_query(q)
    window = search_window(queryset, tokens=tokens, size=RANK_WINDOW + 1)
    exhaustive = len(window) <= RANK_WINDOW
    best_first = sorted(window[:RANK_WINDOW], key=lambda row: (-row[2], row[1]))
    entries = [(pk, rank) for pk, _, rank in best_first]
    ranked = search_order(search_rank(queryset.filter(pk__in=[pk for pk, _ in entries]), tokens=tokens))
    ranked.search_ranking = SearchRanking(base=queryset, entries=entries, exhaustive=exhaustive)
    return ranked, exhaustive


def product_insider(*, product: Product, user) -> bool:
    """This node's admins and the operators of the product's exchange: they read its whole history, with the
    login that made each change (they answer for the product; everyone else sees only the kind of actor)."""
    return _is_admin(user) or bool(
        user and user.is_authenticated and getattr(user, "exchange_id", None) == product.exchange_id
    )


def product_versions(*, product: Product, user) -> QuerySet[ProductVersion]:
    """The version history. Outsiders see only the versions in which the product was public."""
    qs = ProductVersion.objects.filter(product=product).select_related("actor").order_by("version")
    if product_insider(product=product, user=user):
        return qs
    return qs.filter(status__in=lifecycle.PUBLIC)


def products_of_provider(*, user) -> QuerySet[Product]:
    """A data merchant's own products at this node (its home), every status, newest first: the portal's
    console lists them. Anyone but a participant principal gets none."""
    if not isinstance(user, ParticipantPrincipal):
        return Product.objects.none()
    return (
        Product.objects.filter(provider_uscc=user.participant_id, is_home=True)
        .only("code", "name", "status", "version", "product_form", "updated_at")
        .order_by("-id")
    )
