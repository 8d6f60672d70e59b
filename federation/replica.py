"""Declared replica types: a record that replicates between nodes is declared once, and the mechanism derives
everything else from the declaration.

A domain app declares each of its replicated types in `<app>/replicas.py` as a `ReplicaType`: its name, its
model, the column that identifies a record, the origin and version columns, and its wire fields
(`federation.wire`: the payload's field names, how the origin writes each from its model and how a
peer's value is read and checked). Optional hooks say what a field list cannot: cross-field rules (`clean`),
columns derived from the payload (`derive`), what a receiver needs computed ahead (`extras`), who may hold a
record (`audience`), and how rows are written (`store`).

From that one declaration the mechanism derives:

* `payload(obj)` and `publish(objs)`: the one way a service publishes a change (inside its transaction);
* `prepare(origin, gid, payload)`: the payload checked as untrusted input, exactly its fields, with no
  database access (so the feed-check helper process can run it, `federation.prepare`);
* `apply_batch(origin, items)`: one generic apply — look up held rows, compare versions, split creates from
  updates, write them in bulk (new records as plain values with COPY, `core.bulk`), keep records whose
  audience leaves this node out away from it — and then the type's receivers;
* `live(origin)`: the records held for an origin, for the anti-entropy digests.

What must happen after a replica arrives (a recognition decided, a demand matched, a notification sent) is a
**receiver** in the app (`<app>/receivers.py`, `@receiver(TYPE)`), called inside the page's transaction with
the batch that was applied. See docs/architecture.md, "Adding a record type".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from operator import attrgetter, itemgetter
from types import SimpleNamespace
from typing import Any, ClassVar

from django.conf import settings
from django.db import DatabaseError, models
from django.utils import timezone

from core.bulk import copy_rows, copy_update
from core.exceptions import ValidationFailed
from federation.applied import Applied, AppliedBatch, receivers_forget, receivers_of
from federation.generation import generation_bump
from federation.outbox import Change, publish
from federation.payloads import fields_exact, payload_error
from federation.standard_claims import standards_check
from federation.wire import Wire

# What applying a verified entry may raise besides the rules it breaks (which apply_batch returns): the
# database refusing a value, or a check that let a value of an unexpected type reach code that raises. The
# callers quarantine (feeds) or record (private fetches) the entry and go on; never the whole pull.
APPLY_FAILURES = (DatabaseError, TypeError, ValueError, KeyError, AttributeError, RecursionError)

# An item of a batch: (gid, version, payload) as the origin signed them.
Item = tuple[str, int, dict]
# What `prepare` returns: the record's column values and the extras its receivers need.
Prepared = tuple[dict[str, Any], dict[str, Any]]


class Same:
    """In a preparation made by the feed-check helper (federation.prepare): stands for a column value equal
    to the payload field it was read from, or, in place of the values, for all of them. The helper sends no
    copy of what the applier holds (a product's descriptor is half of what a page's preparations would weigh
    in the pipe); the apply puts the payload's own back, in the applying thread."""


class ReplicaType:
    """The declaration of one replicated record type. Subclass it in `<app>/replicas.py`, set the class
    attributes, override hooks where needed, and `register()` one instance."""

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    fields: ClassVar[tuple[Wire, ...]]
    key: ClassVar[str]  # the column that identifies a record
    origin_field: ClassVar[str | None] = "origin"  # the column naming its origin (None: not stored)
    scoped: ClassVar[bool] = False  # `key` is unique only among one origin's records
    version_field: ClassVar[str] = "version"
    # Always private: never in the public log, only its sealed stub (federation.private). A type whose
    # records each may or may not have an audience (a demand with a reach) is not `private`.
    private: ClassVar[bool] = False
    # False: a record that only ever updates a row already held here (a decision about a response).
    creates: ClassVar[bool] = True
    what: ClassVar[str] = ""  # how errors name a payload of this type: "a product payload"
    # True when a record's column values are its payload's fields as they are, each field naming its column
    # (a check is all a preparation adds: the feed-check helper sends no values back for it). Tested for
    # every type that says so (tests/test_replica_declaration.py).
    verbatim: ClassVar[bool] = False
    # False for a type added after the first federation protocol: its anti-entropy digest is left out while
    # this node holds none of an origin's records of it, so a peer on older code (which compares digests
    # strictly and knows no such type) still finds them equal (docs/federation.md, digests).
    digest_when_empty: ClassVar[bool] = True

    # --- hooks ---------------------------------------------------------------------------------------------
    def gid(self, obj: models.Model) -> str:
        return getattr(obj, self.key)

    def standards(self, payload: dict) -> dict[str, Any]:
        """{standard code: version} the payload says it was made under (a product's descriptor version).
        Unknown here: quarantined as `unknown_standard`, applied once known (`federation.standard_claims`).
        Pure; the payload is unchecked input: return what is there, the field checks refuse the rest."""
        return {}

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        """Rules across fields and against the entry (its gid, its origin); may add or replace column values
        (a domain rule's cleaned form). Raises ValidationFailed. Pure: no database."""

    def derive(self, values: dict[str, Any]) -> dict[str, Any]:
        """Columns computed from the others (search text, copies of descriptor fields). Pure."""
        return {}

    def extras(self, origin: str, values: dict[str, Any]) -> dict[str, Any]:
        """What the receivers will need that is pure work on the record (e.g. a verdict), done ahead with
        the checks, in the helper process on a catch-up."""
        return {}

    def audience(self, record: Any) -> tuple[str, ...]:
        """The exchange codes of the only nodes that may hold `record` (a model instance, or the values of
        one as attributes); () for a public record."""
        return ()

    def on_create(self, origin: str) -> dict[str, Any]:
        """Columns a new record takes that neither its payload nor the model's defaults give (e.g. whether
        this node is its home)."""
        return {}

    def publishable(self, obj: models.Model) -> bool:
        """Whether `obj` is a record of the network yet (a draft product is not)."""
        return True

    def live_rows(self, origin: str) -> Iterable[models.Model]:
        return self.model.objects.filter(**{self.origin_field: origin}).iterator(chunk_size=2000)

    def lock(self, keys: list[str]) -> None:
        """Taken before the held rows are read (an advisory lock on keys other writers also lock)."""

    def conflict(self, row: models.Model, values: dict[str, Any], origin: str) -> ValidationFailed | None:
        """Why a held row may not take these values (it belongs to another origin, by default)."""
        if self.origin_field is not None and getattr(row, self.origin_field) != origin:
            held_by = getattr(row, self.origin_field)
            return payload_error("", "owner", f"{self.gid(row)} is held here as a record of {held_by}")
        return None

    def store(self, origin: str, creates: list[tuple], columns: tuple[str, ...], updates: list, now) -> None:
        """Write new records (plain values in `columns` order) and updated rows."""
        if creates:
            copy_rows(self.model, columns, creates)
        copy_update(self.model, updates, self.update_columns)

    # --- derived from the declaration ----------------------------------------------------------------------
    @cached_property
    def wire_names(self) -> frozenset[str]:
        return frozenset(w.name for w in self.fields)

    @cached_property
    def wire_columns(self) -> tuple[tuple[str, str], ...]:
        """(wire name, column) of each field that fills a column."""
        return tuple((w.name, w.column) for w in self.fields if w.column)

    @cached_property
    def _readers(self) -> tuple[tuple[str, str | None, Callable], ...]:
        return tuple((w.name, w.column, w.read) for w in self.fields if w.read is not None)

    @cached_property
    def _derives(self) -> bool:
        return type(self).derive is not ReplicaType.derive

    @cached_property
    def _claims_standards(self) -> bool:
        return type(self).standards is not ReplicaType.standards

    @cached_property
    def _has_extras(self) -> bool:
        return type(self).extras is not ReplicaType.extras

    @cached_property
    def _auto_now(self) -> tuple[str, ...]:
        return tuple(f.attname for f in self.model._meta.concrete_fields if getattr(f, "auto_now", False))

    @cached_property
    def update_columns(self) -> tuple[str, ...]:
        """What a newer version rewrites: every column the payload sets or derives, its version and its
        auto-updated times; never its key or origin."""
        fixed = {self.key, self.origin_field}
        columns = [w.column for w in self.fields if w.column and w.column not in fixed]
        columns += [c for c in self.derived_columns if c not in columns]
        return (*columns, self.version_field, *(c for c in self._auto_now if c not in columns))

    @property
    def derived_columns(self) -> tuple[str, ...]:
        """Names of `derive`'s columns (declare them where `store` needs them before the first record)."""
        return ()

    def payload(self, obj: models.Model) -> dict:
        return {w.name: w.write(obj) for w in self.fields}

    def change(self, obj: models.Model) -> Change:
        return Change(
            self.name, self.gid(obj), getattr(obj, self.version_field), self.payload(obj), self.audience(obj)
        )

    def publish(self, objs: Iterable[models.Model]) -> None:
        """Publish these records' current state: call inside the transaction that changed them."""
        publish([self.change(obj) for obj in objs if self.publishable(obj)])

    def prepare(self, origin: str, gid: str, payload: dict) -> Prepared:
        """A peer's payload checked as untrusted input; its column values and its receivers' extras."""
        if self._claims_standards:
            standards_check(self.standards(payload))
        fields_exact(payload, self.wire_names, self.what or f"a {self.name} payload")
        values: dict[str, Any] = {}
        for name, column, read in self._readers:
            value = read(payload, name)
            if column:
                values[column] = value
        self.clean(origin, gid, payload, values)
        if self._derives:
            values.update(self.derive(values))
        return values, (self.extras(origin, values) if self._has_extras else {})

    def expanded(self, values: dict[str, Any] | type[Same], payload: dict) -> dict[str, Any]:
        """Prepared values with every `Same` replaced by the payload's own field."""
        if values is Same:
            get, columns = self._wire_lists
            return dict(zip(columns, get(payload), strict=True))
        if Same in values.values():
            for name, column in self.wire_columns:
                if values.get(column) is Same:
                    values[column] = payload[name]
        return values

    @cached_property
    def _wire_lists(self) -> tuple[Callable[[dict], tuple], tuple[str, ...]]:
        """(the payload's values of the column-filling fields, as a tuple; their columns)."""
        names = tuple(name for name, _ in self.wire_columns)
        get = itemgetter(*names) if len(names) > 1 else (lambda payload: tuple(payload[n] for n in names))
        return get, tuple(column for _, column in self.wire_columns)

    def live(self, origin: str) -> Iterator[tuple[str, int, dict]]:
        """(gid, version, payload) of every public record of `origin` held here."""
        if self.private:
            return
        for obj in self.live_rows(origin):
            if self.publishable(obj) and not self.audience(obj):
                yield self.gid(obj), getattr(obj, self.version_field), self.payload(obj)

    def _in_audience(self, values: dict[str, Any], origin: str) -> bool:
        """Whether this node may hold a record of a type whose records may each have an audience (a demand
        with a reach). A private type's record is fetched only by the nodes its stub names."""
        if type(self).audience is ReplicaType.audience or self.private:
            return True
        audience = self.audience(SimpleNamespace(**{self.origin_field or "origin": origin, **values}))
        return not audience or settings.NODE_CODE in audience

    def _held(self, origin: str, keys: list[str]) -> dict[str, models.Model]:
        rows = self.model.objects.filter(**{f"{self.key}__any": keys})
        if self.scoped:
            rows = rows.filter(**{self.origin_field: origin})
        key = attrgetter(self.key)
        return {key(row): row for row in rows}

    @cached_property
    def _defaults(self) -> list[tuple[str, models.Field]]:
        """The columns a new record takes from the model (what `Model()` would give it): all but a key or
        value the database generates, and a nullable one without a default (left NULL)."""
        return [
            (f.attname, f)
            for f in self.model._meta.concrete_fields
            if not (f.primary_key and f.db_returning)
            and not f.generated
            and not (f.null and not f.has_default() and not getattr(f, "auto_now_add", False))
        ]

    def apply_batch(
        self, origin: str, items: list[Item], *, repair: bool = False, prepared: Mapping | None = None
    ) -> dict[str, ValidationFailed]:
        """Apply records of `origin` (untrusted input): each checked, the newer ones written in bulk, then
        the receivers called with what was applied. Returns {gid: error} for the refused ones. Runs inside
        the caller's transaction. `prepared`: `prepare` of some items, done ahead (a ValidationFailed where
        it refused)."""
        errors: dict[str, ValidationFailed] = {}
        if repair:
            generation_bump()  # a repair rewrites records without moving the log's cursors
        ready: list[tuple[str, int, dict, dict]] = []
        prepared = prepared or {}
        expanded = self.expanded
        for gid, version, payload in items:
            done = prepared.get(gid)
            try:
                if done is None:
                    done = self.prepare(origin, gid, payload)
                elif isinstance(done, ValidationFailed):
                    raise done
                ready.append((gid, version, expanded(done[0], payload), done[1]))
            except ValidationFailed as exc:
                errors[gid] = exc
        key = self.key
        keys = [values[key] for _, _, values, _ in ready]
        self.lock(keys)
        held = self._held(origin, keys)
        receivers = receivers_of(self.name)
        batch = AppliedBatch(self, origin, repair=repair)
        creates: list[tuple[dict, int]] = []
        updates, gone = [], []
        now = timezone.now()
        audiences = self._audiences
        for gid, version, values, extras in ready:
            row = held.get(values[key])
            if audiences and not self._in_audience(values, origin):
                if row is not None:
                    gone.append(row.pk)  # its audience no longer includes this node
                continue
            if row is None:
                if not self.creates:
                    errors[gid] = payload_error("", "unknown", f"the record {gid} names is not here yet")
                    continue
                creates.append((values, version))
                if receivers:
                    batch.records.append(Applied(gid, version, values, extras, True, frozenset(values)))
                continue
            refused = self.conflict(row, values, origin)
            if refused is not None:
                errors[gid] = refused
            elif (mine := getattr(row, self.version_field)) < version or (mine == version and repair):
                changed = self._update(row, values, version, now)
                updates.append(row)
                batch.records.append(Applied(gid, version, values, extras, False, changed, row))
        if gone:
            self.model.objects.filter(pk__in=gone).delete()
        columns, rows = self._plain_rows(origin, creates, now)
        self.store(origin, rows, columns, updates, now)
        if batch.records:
            for receive in receivers:
                receive(batch)
        return errors

    def _update(self, row: models.Model, values: dict[str, Any], version: int, now) -> frozenset[str]:
        """Set a held row to a newer version's values; returns the columns that changed."""
        changed = frozenset(c for c, v in values.items() if getattr(row, c) != v)
        for column, value in values.items():
            setattr(row, column, value)
        setattr(row, self.version_field, version)
        for column in self._auto_now:
            setattr(row, column, now)
        return changed

    @cached_property
    def _audiences(self) -> bool:
        """Whether this type's records may each have an audience the apply checks."""
        return type(self).audience is not ReplicaType.audience and not self.private

    def _plain_rows(
        self, origin: str, creates: list[tuple[dict, int]], now
    ) -> tuple[tuple[str, ...], list[tuple]]:
        """New records as plain values: their own columns, version, origin and `on_create` columns, and
        every other column's default (auto-set times: now; one value per batch: COPY only reads them)."""
        if not creates:
            return (), []
        own = tuple(creates[0][0])
        fixed = {**self.on_create(origin)}
        if self.origin_field and self.origin_field not in own:
            fixed[self.origin_field] = origin
        fixed = {k: v for k, v in fixed.items() if k not in own and k != self.version_field}
        defaults = [(name, f) for name, f in self._defaults if name not in own and name not in fixed]
        defaults = [(name, f) for name, f in defaults if name != self.version_field]
        columns = (*own, self.version_field, *fixed, *(name for name, _ in defaults))
        tail = (
            *fixed.values(),
            *(
                now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
                for _, f in defaults
            ),
        )
        get = itemgetter(*own) if len(own) > 1 else (lambda values: (values[own[0]],))
        return columns, [(*get(values), version, *tail) for values, version in creates]


# --- The registry -------------------------------------------------------------------------------------------
_TYPES: dict[str, ReplicaType] = {}


def register(replica_type: ReplicaType) -> ReplicaType:
    if replica_type.name in _TYPES and type(_TYPES[replica_type.name]) is not type(replica_type):
        raise ValueError(f"record type {replica_type.name!r} is declared twice")
    _TYPES[replica_type.name] = replica_type
    return replica_type


def unregister(name: str) -> None:
    """For tests that declare a type of their own."""
    _TYPES.pop(name, None)
    receivers_forget(name)


def get(name: str) -> ReplicaType | None:
    return _TYPES.get(name)


def names(*, private: bool | None = False) -> list[str]:
    """Record type names: public ones by default, private ones with private=True, all with None."""
    return sorted(n for n, t in _TYPES.items() if private is None or t.private == private)
