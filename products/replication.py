"""How products and recognitions replicate: their public payloads (an explicit schema), how a payload from a
peer is validated and applied, and how this node decides whether it recognises another exchange's product.

Only a product's public part leaves its home node: the descriptor, status, listing dates and public status
reasons. Reviewers' compliance findings, who edited it, and drafts never replicate.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_rows, copy_update
from core.exceptions import FieldError, ValidationFailed
from federation import records
from federation.outbox import Change, publish, publish_begin
from federation.payloads import (
    choice_field,
    fields_exact,
    payload_error,
    reasons_field,
    time_field,
    time_text,
)
from products.bulk import DESCRIPTOR_COLUMNS, products_insert, products_write
from products.models import (
    RECOGNITION_COLUMNS,
    Product,
    ProductStatus,
    ProductVersion,
    Recognition,
    RecognitionStatus,
)
from standards.compliance import compliance_evaluate
from standards.descriptor import DESCRIPTOR_VERSION, descriptor_validate
from standards.naming import name_check
from standards.product_code import product_code_parse

PRODUCT = "product"
RECOGNITION = "recognition"
PUBLISHED = frozenset({ProductStatus.LISTED, ProductStatus.SUSPENDED, ProductStatus.DELISTED})
PRODUCT_FIELDS = frozenset({"code", "status", "descriptor", "listed_at", "delisted_at", "status_reasons"})
RECOGNITION_FIELDS = frozenset(
    {"product", "exchange", "status", "reasons", "product_version", "decided_by", "policy"}
)
POLICY_VERSION = "1.0"
# Categories an exchange reviews by hand before recognising a product listed elsewhere.
REVIEW_PERSONAL_INFORMATION = frozenset({"with_consent"})


# --- Products -----------------------------------------------------------------------------------------------
def product_payload(product: Product) -> dict:
    return {
        "code": product.code,
        "status": product.status,
        "descriptor": product.descriptor,
        "listed_at": time_text(product.listed_at),
        "delisted_at": time_text(product.delisted_at),
        "status_reasons": list(product.status_reasons or []),
    }


def products_publish(products: list[Product]) -> None:
    """Publish changes to products of this node: each product once public, and this exchange's own
    recognition when it lists one. Call inside the changes' transaction; one log append for all of them."""
    public = [p for p in products if p.status in PUBLISHED]
    if not public:
        return
    changes = [Change(PRODUCT, p.code, p.version, product_payload(p)) for p in public]
    recognitions = _recognitions_set(
        [
            (p, RecognitionStatus.RECOGNISED, [], Recognition.DecidedBy.HOME)
            for p in public
            if p.status == ProductStatus.LISTED
        ],
        publish_now=False,
    )
    publish(changes + recognitions)


def _check_product_payload(origin: str, gid: str, payload: dict) -> tuple[dict, str]:
    fields_exact(payload, PRODUCT_FIELDS, "a product payload")
    code = payload["code"]
    if code != gid:
        raise payload_error("code", "mismatch", "code differs from the entry's gid")
    parsed = product_code_parse(code)
    if parsed.origin != origin:
        raise payload_error("code", "origin", f"code {code} does not belong to origin {origin}")
    status = choice_field(payload, "status", PUBLISHED)
    try:
        descriptor = descriptor_validate(payload["descriptor"])
    except ValidationFailed as exc:
        raise exc.prefixed("descriptor") from None
    return descriptor, status


# What a newer version of a replica rewrites.
PRODUCT_REPLICA_FIELDS = (
    "descriptor",
    *DESCRIPTOR_COLUMNS,
    "version",
    "status",
    "listed_at",
    "delisted_at",
    "status_reasons",
)


class ProductRef(NamedTuple):
    """What deciding a recognition needs of a product written as plain values."""

    code: str
    version: int


def product_prepare(origin: str, gid: str, payload: dict) -> tuple:
    """What applying a product payload needs that does not depend on the database: the payload checked (as
    untrusted input) against the common standard, its columns, and this node's verdict on it. Raises
    ValidationFailed. Pure: runs in the feed-check helper process (federation.prepare) or inline."""
    from products.services import descriptor_columns

    descriptor, status = _check_product_payload(origin, gid, payload)
    times = time_field(payload, "listed_at"), time_field(payload, "delisted_at")
    reasons = reasons_field(payload["status_reasons"], "status_reasons")
    columns = descriptor_columns(descriptor)
    # The normalized descriptor, or None where it is the payload's own (a well-formed one: nearly always),
    # so a preparation made in the helper process does not carry a second copy of it back.
    del columns["descriptor"]
    normalized = None if descriptor == payload["descriptor"] else descriptor
    return status, times, reasons, columns, recognition_evaluate(descriptor), normalized


def product_apply_batch(
    origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False, prepared: dict | None = None
) -> dict:
    """Apply products from their origin (untrusted input): validate each, upsert the newer ones in bulk,
    then decide this node's recognition of those whose descriptor changed. Returns {gid: error}.
    `prepared`: `product_prepare` of some of the items, done ahead (a ValidationFailed where it refused)."""
    errors: dict[str, ValidationFailed] = {}
    valid = []
    for gid, version, payload in items:
        ready = prepared.get(gid) if prepared else None
        try:
            if ready is None:
                ready = product_prepare(origin, gid, payload)
            elif isinstance(ready, ValidationFailed):
                raise ready
        except ValidationFailed as exc:
            errors[gid] = exc
            continue
        valid.append((gid, version, ready))
    existing = {p.code: p for p in Product.objects.filter(code__any=[v[0] for v in valid])}
    fresh, updates, recognise = [], [], []
    now = timezone.now()
    payloads = {gid: payload for gid, _, payload in items}
    home = origin == settings.NODE_CODE
    replica = not home
    for gid, version, (status, (listed_at, delisted_at), reasons, columns, verdict, normalized) in valid:
        product = existing.get(gid)
        descriptor = payloads[gid]["descriptor"] if normalized is None else normalized
        if product is None:  # new here (nearly every product of a catch-up): written as plain values
            fresh.append(
                (
                    gid,
                    origin,
                    home,
                    version,
                    status,
                    descriptor,
                    listed_at,
                    delisted_at,
                    reasons,
                    [],
                    False,
                    now,
                    now,
                    *[columns[name] for name in DESCRIPTOR_COLUMNS],
                )
            )
            if replica:
                recognise.append((ProductRef(gid, version), *verdict))
            continue
        if product.exchange_id != origin:
            errors[gid] = payload_error(
                "code", "owner", f"{gid} is held here as a product of {product.exchange_id}"
            )
            continue
        if product.version > version or (product.version == version and not repair):
            continue
        previous = product.descriptor
        updates.append(product)
        for column, value in columns.items():
            setattr(product, column, value)
        product.descriptor = descriptor
        product.version, product.status = version, status
        product.listed_at, product.delisted_at, product.status_reasons = listed_at, delisted_at, reasons
        product.updated_at = now
        if replica and product.descriptor != previous:
            recognise.append((product, *verdict))
    products_insert(fresh, change=ProductVersion.Change.REPLICATED, now=now)
    products_write(
        [],
        updates,
        update_fields=[*PRODUCT_REPLICA_FIELDS, "updated_at"],
        change=ProductVersion.Change.REPLICATED,
        now=now,
        ignore_conflicts=True,
    )
    _recognitions_set([(p, status, reasons, Recognition.DecidedBy.AUTO) for p, status, reasons in recognise])
    return errors


def product_live(origin: str):
    rows = Product.objects.filter(exchange_id=origin, status__in=PUBLISHED).only(
        "code", "version", "status", "descriptor", "listed_at", "delisted_at", "status_reasons"
    )
    for product in rows.iterator(chunk_size=2000):
        yield product.code, product.version, product_payload(product)


# --- Recognition --------------------------------------------------------------------------------------------
def recognition_payload(recognition: Recognition) -> dict:
    return _payload(
        recognition.product_code,
        recognition.exchange_id,
        recognition.status,
        recognition.reasons,
        recognition.product_version,
        recognition.decided_by,
        recognition.policy_version,
    )


def _payload(product, exchange, status, reasons, product_version, decided_by, policy) -> dict:
    return {
        "product": product,
        "exchange": exchange,
        "status": status,
        "reasons": list(reasons or []),
        "product_version": product_version,
        "decided_by": decided_by,
        "policy": policy,
    }


def recognition_evaluate(descriptor: dict) -> tuple[str, list[str]]:
    """This node's automatic verdict on a product listed elsewhere, against the common standard."""
    reasons: list[str] = []
    if descriptor.get("descriptor_version") != DESCRIPTOR_VERSION:
        reasons.append(f"descriptor_version {descriptor.get('descriptor_version')} is not supported here")
    verdict = name_check(
        descriptor["name"],
        product_form=descriptor["product_form"],
        spatial_coverage=descriptor["spatial_coverage"],
        suggest=False,
    )
    reasons += [f"{v.code}: {v.message_en}" for v in verdict.violations if v.severity == "error"]
    findings = compliance_evaluate(descriptor)
    reasons += [f"{f.rule}: {f.message_en}" for f in findings if f.severity == "blocking"]
    if reasons:
        return RecognitionStatus.REFUSED, reasons[:20]
    compliance = descriptor["compliance"]
    review = []
    if compliance["personal_information"]["category"] in REVIEW_PERSONAL_INFORMATION:
        review.append("personal information with consent: reviewed by an operator before recognition")
    if compliance["important_data"]["involved"] or compliance["cross_border_transfer"]["involved"]:
        review.append("important data or cross-border transfer: reviewed by an operator before recognition")
    if review:
        return RecognitionStatus.PENDING, review
    return RecognitionStatus.RECOGNISED, []


def _recognitions_set(
    decisions: list[tuple[Product | ProductRef, str, list[str], str]], *, publish_now: bool = True
) -> list[Change]:
    """Write this node's recognitions that changed; returns their log changes (published unless
    `publish_now` is False). A new recognition (most of a feed page's) is written as plain values. Of a
    product, only its code and version are read."""
    if not decisions:
        return []
    node = settings.NODE_CODE
    current = {
        r.product_code: r
        for r in Recognition.objects.select_for_update().filter(
            product_code__any=[p.code for p, *_ in decisions], exchange_id=node
        )
    }
    creates, updates, changes = [], [], []
    now = timezone.now()
    for product, status, reasons, decided_by in decisions:
        row = current.get(product.code)
        if row is None:
            values = (product.code, node, status, reasons, product.version, decided_by, POLICY_VERSION)
            creates.append((*values, 1, now))
            changes.append(Change(RECOGNITION, f"{product.code}@{node}", 1, _payload(*values)))
            continue
        if (row.status, row.reasons, row.decided_by) == (status, reasons, decided_by):
            continue
        row.status, row.reasons, row.decided_by = status, reasons, decided_by
        row.product_version, row.policy_version = product.version, POLICY_VERSION
        row.version += 1
        row.updated_at = now
        updates.append(row)
        changes.append(Change(RECOGNITION, row.gid, row.version, recognition_payload(row)))
    # Published first, written after: the entries are signed on the signature pool while the rows are
    # copied (the counter row is locked that much earlier, for the rest of the transaction anyway).
    publication = publish_begin(changes) if publish_now else None
    copy_rows(Recognition, RECOGNITION_COLUMNS, creates)
    copy_update(
        Recognition,
        updates,
        ["status", "reasons", "decided_by", "product_version", "policy_version", "version", "updated_at"],
    )
    if publication is not None:
        publication.finish()
    return changes


@transaction.atomic
def recognition_review(*, actor, product: Product, status: str, reasons: list[str]) -> Recognition:
    """An operator of this node's exchange decides whether it recognises a product (any origin)."""
    from core.exceptions import Forbidden

    allowed = (
        actor is not None
        and actor.is_active
        and (actor.is_superuser or actor.role == "admin" or actor.exchange_id == settings.NODE_CODE)
    )
    if not allowed:
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以作出该交易所的互认决定",
            message_en=f"Only operators of {settings.NODE_CODE} decide its recognitions",
            code="not_owner",
        )
    if product.status not in PUBLISHED:
        raise ValidationFailed(
            [FieldError("product", "not_public", "产品尚未上架", "The product is not listed")]
        )
    if status == RecognitionStatus.REFUSED and not reasons:
        raise ValidationFailed(
            [FieldError("reasons", "required", "不予互认必须说明理由", "A refusal needs reasons")]
        )
    product = Product.objects.select_for_update().get(pk=product.pk)
    _recognitions_set([(product, status, reasons, Recognition.DecidedBy.OPERATOR)])
    return Recognition.objects.get(product_code=product.code, exchange_id=settings.NODE_CODE)


def _check_recognition_payload(origin: str, gid: str, payload: dict) -> dict:
    fields_exact(payload, RECOGNITION_FIELDS, "a recognition payload")
    if payload["exchange"] != origin:
        raise payload_error("exchange", "origin", "a node only publishes its own exchange's recognitions")
    product_code_parse(payload["product"])
    if gid != f"{payload['product']}@{origin}":
        raise payload_error("product", "mismatch", "gid must be <product>@<exchange>")
    choice_field(payload, "status", RecognitionStatus)
    choice_field(payload, "decided_by", Recognition.DecidedBy)
    pv = payload["product_version"]
    if isinstance(pv, bool) or not isinstance(pv, int) or not 1 <= pv < 2**31:
        raise payload_error("product_version", "type", "product_version must be a positive integer")
    if not isinstance(payload["policy"], str) or len(payload["policy"]) > 8:
        raise payload_error("policy", "type", "policy must be a short string")
    reasons_field(payload["reasons"], "reasons")
    return payload


def recognition_prepare(origin: str, gid: str, payload: dict) -> bool:
    """The payload checked as untrusted input, ahead of the apply (raises ValidationFailed). Pure: runs in
    the feed-check helper process (federation.prepare) or inline."""
    _check_recognition_payload(origin, gid, payload)
    return True


def recognition_apply_batch(
    origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False, prepared: dict | None = None
) -> dict:
    """Apply other exchanges' recognitions (untrusted input). Returns {gid: error}. `prepared`:
    `recognition_prepare` of some of the items, done ahead (a ValidationFailed where it refused)."""
    errors: dict[str, ValidationFailed] = {}
    valid = []
    for gid, version, payload in items:
        ready = prepared.get(gid) if prepared else None
        try:
            if ready is None:
                _check_recognition_payload(origin, gid, payload)
            elif isinstance(ready, ValidationFailed):
                raise ready
        except ValidationFailed as exc:
            errors[gid] = exc
            continue
        valid.append((gid, version, payload))
    existing = {
        r.product_code: r
        for r in Recognition.objects.filter(
            product_code__any=[p["product"] for _, _, p in valid], exchange_id=origin
        )
    }
    creates, updates = [], []
    now = timezone.now()
    for _, version, payload in valid:
        row = existing.get(payload["product"])
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        if row is None:  # most of a feed's recognitions are new: written as plain rows
            creates.append(
                (
                    payload["product"],
                    origin,
                    payload["status"],
                    payload["reasons"],
                    payload["product_version"],
                    payload["decided_by"],
                    payload["policy"],
                    version,
                    now,
                )
            )
            continue
        updates.append(row)
        row.status, row.reasons, row.decided_by = payload["status"], payload["reasons"], payload["decided_by"]
        row.product_version, row.policy_version, row.version = (
            payload["product_version"],
            payload["policy"],
            version,
        )
        row.updated_at = now
    copy_rows(Recognition, RECOGNITION_COLUMNS, creates)
    copy_update(
        Recognition,
        updates,
        ["status", "reasons", "decided_by", "product_version", "policy_version", "version", "updated_at"],
    )
    return errors


def recognition_live(origin: str):
    for r in Recognition.objects.filter(exchange_id=origin).iterator(chunk_size=5000):
        yield r.gid, r.version, recognition_payload(r)


records.register(records.RecordType(PRODUCT, product_apply_batch, product_live, prepare=product_prepare))
records.register(
    records.RecordType(RECOGNITION, recognition_apply_batch, recognition_live, prepare=recognition_prepare)
)
