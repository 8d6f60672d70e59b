"""Bulk writes through PostgreSQL's COPY, for the paths that write hundreds of rows per transaction (applying
a feed page, importing products, publishing their log entries).

Django's `bulk_create` builds one INSERT with a placeholder per value; for a page of 500 rows with large JSON
and text columns, compiling that statement in Django and splitting it again in psycopg cost several times
what the database spends inserting the rows (`bench/replication.py`, docs/performance.md). COPY sends the
rows as one stream that psycopg formats in C and the server parses without planning.

Same contract as `bulk_create` (no signals, no `save()`), values prepared by each field exactly as
`bulk_create` prepares them (`pre_save`, `get_db_prep_save`). Other databases, and batches too small for
COPY to pay off, fall back to `bulk_create` / `bulk_update`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import orjson
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from psycopg.types.json import Jsonb

# Below this many rows a multi-row INSERT costs no more than COPY's extra round trips.
COPY_THRESHOLD = 16

_names = itertools.count(1)


def _bulk_path(objs: Sequence) -> bool:
    """Whether to take the PostgreSQL path (COPY, array parameters) rather than Django's own."""
    return connection.vendor == "postgresql" and len(objs) >= COPY_THRESHOLD


def _insert_fields(model: type[models.Model], objs: Sequence[models.Model]) -> list[models.Field]:
    opts = model._meta
    pk = opts.pk
    skip_pk = pk.db_returning and all(obj.pk is None for obj in objs)
    if pk.db_returning and not skip_pk and any(obj.pk is None for obj in objs):
        raise ValueError("copy_insert: either every object has a primary key or none has")
    return [f for f in opts.concrete_fields if not f.generated and not (skip_pk and f is pk)]


# Fields whose prepared value is the Python value itself when it has one of the plain types below: the
# per-value `get_db_prep_save` call is then skipped (it was a fifth of a feed page's time in Python).
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
    }
)
_PLAIN_VALUES = (str, int, bool, type(None))


def _jsonb_dumps(value) -> bytes | str:
    try:
        return orjson.dumps(value)  # a fifth of the time of json.dumps for a product descriptor
    except TypeError:  # integers beyond 64 bits, non-string keys: what Django's JSONField would write
        return json.dumps(value)


def _preparer(field: models.Field):
    prep = field.get_db_prep_save
    # The connection itself, not the `django.db.connection` proxy, whose every attribute access is a
    # thread-local lookup (a tenth of a product row's preparation); the preparers live for one call.
    conn = connections[DEFAULT_DB_ALIAS]
    kind = field.get_internal_type()
    if isinstance(field, models.JSONField) and field.encoder is None:
        # As JSONField.get_db_prep_save: None is SQL NULL, anything else a jsonb value.
        return lambda value: (
            None
            if value is None
            else (prep(value, conn) if hasattr(value, "as_sql") else Jsonb(value, dumps=_jsonb_dumps))
        )
    if kind == "DateTimeField" and settings.USE_TZ:  # an aware datetime is stored as is, and so is NULL
        return lambda value: (
            value
            if value is None or (type(value) is datetime and value.tzinfo is not None)
            else prep(value, conn)
        )
    if kind == "DecimalField" and conn.vendor == "postgresql":
        # A finite Decimal is what DecimalField prepares and PostgreSQL's adapter takes (a quarter of a
        # product row's preparation went to its checks).
        return lambda value: value if type(value) is Decimal and value.is_finite() else prep(value, conn)
    if kind not in _PLAIN_TYPES:
        return lambda value: prep(value, conn)
    if field.is_relation:  # the target's type decides (a foreign key to a char primary key)
        target = field.target_field.get_internal_type()
        if target not in _PLAIN_TYPES:
            return lambda value: prep(value, conn)
    plain = _PLAIN_VALUES
    return lambda value: value if type(value) in plain else prep(value, conn)


def _rows(objs: Sequence[models.Model], fields: list[models.Field], *, add: bool):
    """Each object's prepared values, as `bulk_create` (add) or `bulk_update` prepares them."""
    columns = []
    for f in fields:
        # pre_save matters only where a field overrides it (auto_now, file fields): otherwise the attribute.
        custom = add and type(f).pre_save is not models.Field.pre_save
        columns.append((f.attname, f if custom else None, _preparer(f)))
    for obj in objs:
        yield tuple(
            prep(field.pre_save(obj, True) if field is not None else getattr(obj, attname))
            for attname, field, prep in columns
        )


def _copy(cursor, table: str, fields: list[models.Field], rows: Iterable[tuple]) -> None:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    with cursor.copy(f"COPY {qn(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _temp_table(cursor, model: type[models.Model], fields: list[models.Field]) -> str:
    qn = connection.ops.quote_name
    name = f"_bulk_{model._meta.db_table}_{next(_names)}"[:63]
    columns = ", ".join(qn(f.column) for f in fields)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {qn(name)} ON COMMIT DROP AS "  # noqa: S608 (identifiers from model metadata)
        f"SELECT {columns} FROM {qn(model._meta.db_table)} WITH NO DATA"
    )
    return name


def copy_insert(
    model: type[models.Model], objs: Iterable[models.Model], *, ignore_conflicts: bool = False
) -> None:
    """Insert `objs` (new rows). Primary keys generated by the database are not set on the objects; read
    them back by a unique key where they are needed. `ignore_conflicts` skips rows that violate a unique
    constraint, as `bulk_create(ignore_conflicts=True)` does."""
    objs = list(objs)
    if not objs:
        return
    fields = _insert_fields(model, objs)
    if not _bulk_path(objs):
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    rows = _rows(objs, fields, add=True)
    qn = connection.ops.quote_name
    table = model._meta.db_table
    # The psycopg cursor (Django's wrapper has no copy()); its errors become Django's as in the wrapper.
    with transaction.atomic(), connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        if not ignore_conflicts:
            _copy(cursor, table, fields, rows)
            return
        temp = _temp_table(cursor, model, fields)
        _copy(cursor, temp, fields, rows)
        columns = ", ".join(qn(f.column) for f in fields)
        cursor.execute(
            f"INSERT INTO {qn(table)} ({columns}) SELECT {columns} FROM {qn(temp)} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"DROP TABLE {qn(temp)}")


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert new rows given as plain values, one per name in `columns` (attribute names, `product_id` for a
    foreign key), without building a model instance per row: `copy_insert` for the hot paths (a feed page's
    entries, recognitions and history), where `Model.__init__` and reading each value back cost more than
    the COPY. Every column without a default in the database must be named (auto_now fields included: pass
    the time); the values are prepared by each field as `copy_insert` prepares them."""
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[name] for name in columns]
    missing = [
        f.attname
        for f in opts.concrete_fields
        if f not in fields and not f.generated and not f.null and not (f.primary_key and f.db_returning)
    ]
    if missing:
        raise ValueError(f"copy_rows({opts.label}): no value for {', '.join(missing)}")
    rows = list(rows)
    if not rows:
        return
    if not _bulk_path(rows):
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows])
        return
    preparers = [_preparer(f) for f in fields]
    prepared = (tuple(prep(value) for prep, value in zip(preparers, row, strict=True)) for row in rows)
    with transaction.atomic(), connection.cursor() as wrapper, connection.wrap_database_errors:
        _copy(wrapper.cursor, opts.db_table, fields, prepared)


def copy_update(model: type[models.Model], objs: Iterable[models.Model], field_names: Sequence[str]) -> None:
    """Write `field_names` of existing rows (matched by primary key): `bulk_update` with one UPDATE … FROM
    a temporary table filled by COPY instead of a CASE expression per field."""
    objs = list(objs)
    if not objs:
        return
    if not _bulk_path(objs):
        model.objects.bulk_update(objs, field_names, batch_size=200)
        return
    opts = model._meta
    fields = [opts.pk, *(opts.get_field(name) for name in field_names)]
    if any(obj.pk is None for obj in objs):
        raise ValueError("copy_update: every object needs its primary key")
    rows = _rows(objs, fields, add=False)
    qn = connection.ops.quote_name
    table = opts.db_table
    with transaction.atomic(), connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        temp = _temp_table(cursor, model, fields)
        _copy(cursor, temp, fields, rows)
        assignments = ", ".join(f"{qn(f.column)} = s.{qn(f.column)}" for f in fields[1:])
        cursor.execute(
            f"UPDATE {qn(table)} AS t SET {assignments} FROM {qn(temp)} AS s "  # noqa: S608
            f"WHERE t.{qn(opts.pk.column)} = s.{qn(opts.pk.column)}"
        )
        cursor.execute(f"DROP TABLE {qn(temp)}")
