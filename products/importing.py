"""Bulk import of descriptors (one JSON document per line) through the same rules as the API.

Lines are validated one by one with the standard's functions, then the accepted lines of a batch are
written in one transaction with bulk inserts. A rejected line writes nothing; if the database refuses a
batch (a concurrent writer took a name), the batch is retried line by line so one bad line cannot take
its neighbours down with it.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

import orjson
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import FieldError, ValidationFailed
from core.statistics import analyze_stale
from core.text import unstorable_path
from federation.models import Entry
from participants.models import Participant
from products.bulk import products_write
from products.checks import findings_as_json, naming_errors, provider_errors
from products.columns import descriptor_columns
from products.models import Product, ProductRegion, ProductStatus, ProductVersion, Recognition
from products.permissions import actor_kind, authorize_write
from products.publishing import products_publish
from products.services import serials_allocate
from standards.compliance import compliance_evaluate, findings_blocking
from standards.descriptor import descriptor_validate
from standards.naming import name_normalize
from standards.product_code import product_code_build

IMPORT_STATUSES = (ProductStatus.DRAFT, ProductStatus.LISTED)
# The tables an import writes or looks up by key; their statistics are refreshed during a long import
# (core/statistics.py) every ANALYZE_EVERY batches, so that its statements keep their plans as they grow.
IMPORT_MODELS = (Product, ProductRegion, ProductVersion, Recognition, Entry, Participant)
ANALYZE_EVERY = 10


@dataclass
class LineResult:
    line: int
    code: str | None = None
    errors: list[dict] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.code is not None


def parse_line(number: int, text: str) -> tuple[int, object | FieldError]:
    # orjson: about four times faster than json.loads on a descriptor, and stricter (NaN, Infinity, lone
    # surrogates and nesting beyond 1,024 levels are refused here rather than later).
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return number, FieldError("line", "json", f"不是有效的 JSON：{exc}", f"Not valid JSON: {exc}")
    where = unstorable_path(data) if "\\u0000" in text else None  # walked only if the line may hold one
    if where is not None:  # no PostgreSQL column holds a NUL, and every peer refuses an entry with one
        return number, FieldError(
            f"descriptor.{where}" if where else "line",
            "invalid_character",
            "文本不能包含 NUL 字符",
            "Text may not contain a NUL character",
        )
    return number, data


def numbered_batches(lines: Iterable[str], *, size: int) -> Iterator[list[tuple[int, str]]]:
    """Group non-blank lines, with their 1-based line numbers, into lists of `size`."""
    batch: list[tuple[int, str]] = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            batch.append((number, text))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def import_texts(batch: list[tuple[int, str]], *, actor_id: int | None, status: str) -> list[LineResult]:
    """Parse and import one batch of raw lines. Runs in the command's process or in a pool worker."""
    actor = User.objects.get(pk=actor_id) if actor_id is not None else None
    return product_import_batch(actor=actor, items=[parse_line(n, t) for n, t in batch], status=status)


def import_stream(
    lines: Iterable[str], *, actor_id: int | None, status: str, batch_size: int = 500, jobs: int = 1
) -> Iterator[tuple[int, list[LineResult]]]:
    """Import every line, yielding (lines read, results) per batch in file order.

    With `jobs` > 1 batches are validated and written by that many worker processes, each with its own
    database connection and transactions (PostgreSQL; SQLite serialises writers, so use one job there).
    """
    batches = numbered_batches(lines, size=max(1, batch_size))
    work = partial(import_texts, actor_id=actor_id, status=status)
    tables = [model._meta.db_table for model in IMPORT_MODELS]
    if jobs <= 1:
        for n, batch in enumerate(batches, start=1):
            yield len(batch), work(batch)
            if n % ANALYZE_EVERY == 0:
                analyze_stale(tables)
        return
    connections.close_all()  # children must not share the parent's connection
    # The lines are read as the workers take batches (imap's feeder blocks on the pipe to them), so memory
    # stays flat however long the input; the children are forked here, before the parent reads anything.
    with multiprocessing.get_context("fork").Pool(jobs, initializer=connections.close_all) as pool:
        for n, results in enumerate(pool.imap(work, batches), start=1):
            yield len(results), results
            if n % ANALYZE_EVERY == 0:
                analyze_stale(tables)  # on the parent's own connection, while the workers go on


def _errors(exc: ValidationFailed) -> list[dict]:
    return [e.as_dict() for e in exc.errors]


def _taken_by_provider(exchange_id: str, usccs: set[str]) -> dict[str, set[str]]:
    taken: dict[str, set[str]] = defaultdict(set)
    rows = (
        Product.objects.filter(exchange_id=exchange_id, provider_uscc__any=usccs)
        .exclude(status=ProductStatus.DELISTED)
        .values_list("provider_uscc", "name")
    )
    for uscc, name in rows.iterator():
        taken[uscc].add(name_normalize(name))
    return taken


def product_import_batch(
    *, actor: User | None, items: list[tuple[int, object | FieldError]], status: str = ProductStatus.DRAFT
) -> list[LineResult]:
    """Validate and write one batch; returns one result per item, in order."""
    if status not in IMPORT_STATUSES:
        raise ValueError(f"status must be one of {IMPORT_STATUSES}")
    exchange_id = settings.NODE_CODE
    authorize_write(actor=actor, exchange_id=exchange_id, action="import")

    results: list[LineResult] = []
    accepted: list[tuple[LineResult, dict, list]] = []
    for number, raw in items:
        result = LineResult(line=number)
        results.append(result)
        if isinstance(raw, FieldError):
            result.errors = [raw.as_dict()]
            continue
        if not isinstance(raw, dict):
            result.errors = [FieldError("descriptor", "type", "必须是对象", "Must be an object").as_dict()]
            continue
        try:
            descriptor = descriptor_validate(raw)
        except ValidationFailed as exc:
            result.errors = _errors(exc.prefixed("descriptor"))
            continue
        accepted.append((result, descriptor, []))

    taken = _taken_by_provider(exchange_id, {d["provider"]["uscc"] for _, d, _ in accepted})
    providers = (
        provider_errors({d["provider"]["uscc"] for _, d, _ in accepted})
        if status != ProductStatus.DRAFT
        else {}
    )
    valid: list[tuple[LineResult, dict, list]] = []
    for result, descriptor, _ in accepted:
        uscc = descriptor["provider"]["uscc"]
        errors = naming_errors(descriptor, taken=taken[uscc])
        if uscc in providers:
            errors.append(providers[uscc])
        findings = compliance_evaluate(descriptor) if status == ProductStatus.LISTED else []
        blocking = findings_as_json(findings_blocking(findings))
        if errors or blocking:
            result.errors = [e.as_dict() for e in errors] + [
                {
                    "field": f["field"],
                    "code": f["rule"],
                    "message": f["message"],
                    "message_en": f["message_en"],
                }
                for f in blocking
            ]
            continue
        taken[uscc].add(name_normalize(descriptor["name"]))
        valid.append((result, descriptor, findings_as_json(findings)))

    if not valid:
        return results
    try:
        _write(valid, actor=actor, exchange_id=exchange_id, status=status)
    except IntegrityError:
        if len(valid) == 1:
            valid[0][0].errors = [
                FieldError(
                    "descriptor.name",
                    "naming.duplicate",
                    "该提供方已有同名产品",
                    "The provider already has a product of this name",
                ).as_dict()
            ]
            valid[0][0].code = None
            return results
        for result, descriptor, _ in valid:
            result.code = None
            again = product_import_batch(actor=actor, items=[(result.line, descriptor)], status=status)[0]
            result.code, result.errors = again.code, again.errors
    return results


def _write(
    valid: list[tuple[LineResult, dict, list]], *, actor: User | None, exchange_id: str, status: str
) -> None:
    now = timezone.now()
    year = timezone.localdate().year
    # Serials are reserved in their own short transaction so that parallel import jobs do not queue on the
    # counter row for the length of a batch; a batch that then fails leaves a gap, never a duplicate.
    with transaction.atomic():
        first = serials_allocate(origin=exchange_id, year=year, count=len(valid))
    with transaction.atomic():
        _insert(valid, actor=actor, exchange_id=exchange_id, status=status, now=now, year=year, first=first)


def _insert(valid, *, actor, exchange_id, status, now, year, first) -> None:
    listed = status == ProductStatus.LISTED
    products = [
        Product(
            code=product_code_build(origin=exchange_id, year=year, serial=first + i),
            exchange_id=exchange_id,
            version=1,
            status=status,
            created_by=actor,
            findings=findings,
            submitted_at=now if listed else None,
            listed_at=now if listed else None,
            **descriptor_columns(descriptor),
        )
        for i, (_, descriptor, findings) in enumerate(valid)
    ]
    products_write(
        products,
        [],
        update_fields=(),
        change=ProductVersion.Change.IMPORTED,
        now=now,
        actor=actor,
        actor_kind=actor_kind(actor),
    )
    products_publish(products)
    for (result, _, _), p in zip(valid, products, strict=True):
        result.code = p.code
