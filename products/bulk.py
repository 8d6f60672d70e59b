"""Bulk writes of products with their region rows and version history. The importer (new products of this
node) and the apply path (replicas of other nodes' products) write the same three tables the same way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from core.bulk import copy_insert, copy_rows, copy_update
from products.models import Product, ProductRegion, ProductVersion

# The copies of descriptor fields beside the descriptor (`products.columns.descriptor_columns`).
DESCRIPTOR_COLUMNS = (
    "descriptor_version",
    "name",
    "provider_name",
    "provider_uscc",
    "product_form",
    "industry",
    "update_frequency",
    "data_level",
    "price_min",
    "price_max",
    "delivery_mask",
    "province_mask",
    "region_codes",
    "verdict",
    "verdict_reasons",
    "search_name",
    "search_keywords",
    "search_body",
)


def products_insert(
    rows: list[tuple], *, columns: Sequence[str], change: str, actor_kind: str, now: datetime
) -> None:
    """Insert new products given as plain values, one per name in `columns` (which include code, version,
    status, descriptor and status_reasons), with their region rows and first version-history row: what
    `products_write` does for new `Product` instances, without building one per product (a feed page's
    replicas: `Model.__init__` and reading each field back for COPY cost more than the COPY)."""
    if not rows:
        return
    copy_rows(Product, columns, rows)
    code, version, status, descriptor, reasons = (
        columns.index(name) for name in ("code", "version", "status", "descriptor", "status_reasons")
    )
    ids = _ids_by_code([row[code] for row in rows])
    _regions_copy((ids[row[code]], row[descriptor]) for row in rows)
    _first_versions_copy(
        ((ids[row[code]], row[version], row[status], row[descriptor], row[reasons]) for row in rows),
        change=change,
        actor_id=None,
        actor_kind=actor_kind,
        now=now,
    )


def _ids_by_code(codes: list[str]) -> dict[str, int]:
    """The ids of products just written by COPY (which does not return them)."""
    return dict(Product.objects.filter(code__any=codes).values_list("code", "id"))


def _regions_copy(products: Iterable[tuple[int, dict]]) -> None:
    """Region rows of (product id, descriptor) pairs whose old rows, if any, are gone."""
    copy_rows(
        ProductRegion,
        ("product_id", "code"),
        ((pk, code) for pk, descriptor in products for code in dict.fromkeys(descriptor["spatial_coverage"])),
    )


def _first_versions_copy(
    products: Iterable[tuple[int, int, str, dict, list | None]],
    *,
    change: str,
    actor_id: int | None,
    actor_kind: str,
    now: datetime,
) -> None:
    """The first version-history row of each new product, (id, version, status, descriptor, reasons): it has
    no history yet, so no conflict check (which costs a temporary table and a second copy of every
    descriptor), and plain values."""
    copy_rows(
        ProductVersion,
        (
            "product_id",
            "version",
            "change",
            "status",
            "descriptor",
            "reasons",
            "actor_id",
            "actor_kind",
            "created_at",
        ),
        (
            (pk, version, change, status, descriptor, list(reasons or []), actor_id, actor_kind, now)
            for pk, version, status, descriptor, reasons in products
        ),
    )


def products_write(
    creates: list[Product],
    updates: list[Product],
    *,
    update_fields: Sequence[str],
    change: str,
    now: datetime,
    actor_kind: str,
    actor=None,
    ignore_conflicts: bool = False,
) -> None:
    """Insert `creates` and write `update_fields` of `updates`, then (re)write the region rows of both and
    add a version-history row for each (`ignore_conflicts`: a version already recorded is kept), made by
    `actor` (a user of this node, or None) of `actor_kind`."""
    copy_insert(Product, creates)
    if any(p.pk is None for p in creates):  # COPY does not return the new ids
        ids = _ids_by_code([p.code for p in creates])
        for p in creates:
            p.pk = ids[p.code]
    copy_update(Product, updates, update_fields)
    changed = creates + updates
    if not changed:
        return
    if updates:
        ProductRegion.objects.filter(product_id__any=[p.pk for p in updates]).delete()
    _regions_copy((p.pk, p.descriptor) for p in changed)

    def versions(products: list[Product]):
        return (
            ProductVersion(
                product_id=p.pk,
                version=p.version,
                change=change,
                status=p.status,
                descriptor=p.descriptor,
                reasons=list(p.status_reasons or []),
                actor=actor,
                actor_kind=actor_kind,
                created_at=now,
            )
            for p in products
        )

    _first_versions_copy(
        ((p.pk, p.version, p.status, p.descriptor, p.status_reasons) for p in creates),
        change=change,
        actor_id=actor.pk if actor is not None else None,
        actor_kind=actor_kind,
        now=now,
    )
    copy_insert(ProductVersion, versions(updates), ignore_conflicts=ignore_conflicts)
