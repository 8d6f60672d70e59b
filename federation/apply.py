"""Applying a verified feed page: one transaction per page, a record type at a time in bulk. Each entry is
checked on its own: a bad one is quarantined with its reason and the rest still apply; the cursor only moves
over entries whose signature verified, so a forged sequence number cannot make this node skip the origin's
real entries."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.bulk import copy_rows
from core.exceptions import DomainError
from core.text import storable
from federation import records
from federation.envelope import EnvelopeError, is_exchange_code
from federation.http import PeerError
from federation.models import ENTRY_COLUMNS, Entry, QuarantinedEntry, SyncState, at_least
from federation.prepare import page_check
from federation.selectors import origin_public_key

logger = logging.getLogger(__name__)

# (the origin's public key they were checked with, one result per item of the page)
Checked = tuple[str, list] | None


def quarantine(
    origin: str, source: str, item, reason: str, seq: int = 0, record_type: str = "", gid: str = ""
) -> None:
    try:
        raw = json.dumps(item, ensure_ascii=False)
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept as its JSON escape
        raw = json.dumps(item, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        raw = repr(item)
    # What the peer sent may hold text the database cannot store (NUL, lone surrogates): the record of it
    # must never fail, or one hostile entry would stop the feed behind it.
    texts = (reason[:2000], gid, record_type, raw[:100_000])
    reason, gid, record_type, raw = (storable(v) for v in texts)
    logger.warning("quarantined entry %s#%s from %s: %s", origin, seq, source, reason)
    QuarantinedEntry.objects.update_or_create(  # an entry fetched again is not recorded twice
        origin=origin,
        seq=seq,
        source=source,
        reason=reason,
        defaults={"record_type": record_type, "gid": gid, "raw": raw},
    )


def apply_page(
    *, origin: str, items: list, source: str, after: int, repair: bool = False, prechecked: Checked = None
) -> tuple[int, int]:
    """Verify and apply one feed page in one transaction; returns (applied, highest verified seq).

    Each entry is checked on its own: a bad one is quarantined with its reason and the rest still apply. The
    cursor only moves over entries whose signature verified, so a forged sequence number cannot make this
    node skip the origin's real entries. `prechecked`: (public key, `federation.prepare.page_check` of
    `items`) done ahead by the fetch thread or the helper; used only if that key is still the origin's key
    on file and it holds one result per item.
    """
    public_key = origin_public_key(origin)
    if public_key is None or not is_exchange_code(origin):
        raise PeerError(f"no public key on file for origin {origin}", transient=False)
    checked: list[tuple[dict, str, str, Any]] = []
    with transaction.atomic():
        state = SyncState.objects.select_for_update().get(pk=origin)
        if not repair:
            # Another pull may have applied part of this page while this one fetched it: skip that part.
            after = max(after, state.cursor)
        last_seq = after
        # Entries already applied (a peer must only send entries after the cursor) are not even checked.
        if prechecked is not None and prechecked[0] == public_key and len(prechecked[1]) == len(items):
            pairs = [
                (i, r) for i, r in zip(items, prechecked[1], strict=True) if not 0 < seq_hint(i) <= after
            ]
        else:
            fresh = [item for item in items if not 0 < seq_hint(item) <= after]
            pairs = zip(fresh, page_check(fresh, origin=origin, public_key=public_key), strict=True)
        for item, result in pairs:
            if isinstance(result, EnvelopeError):
                quarantine(origin, source, item, str(result), seq=seq_hint(item))
                continue
            envelope = item["entry"]  # this process's own item; the check saw an identical copy
            body, prepared = result
            if envelope["seq"] <= after:
                continue  # never go backwards
            last_seq = max(last_seq, envelope["seq"])
            checked.append((envelope, body, item["signature"], prepared))
        applied = _apply_checked(origin, checked, source, repair=repair)
        # A long catch-up renews its lease with every page, so no other worker takes the origin over.
        lease = {"lease_until": timezone.now() + timedelta(seconds=settings.FEDERATION["PULL_LEASE"])}
        if state.state != SyncState.State.RUNNING:
            lease = {}
        if not repair and last_seq > state.cursor:
            SyncState.objects.filter(pk=origin).update(
                cursor=last_seq, head_seen=at_least("head_seen", last_seq), **lease
            )
        elif lease:
            SyncState.objects.filter(pk=origin).update(**lease)
    return applied, last_seq


def seq_hint(item) -> int:
    entry = item.get("entry") if isinstance(item, dict) else None
    seq = entry.get("seq") if isinstance(entry, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**62 else 0


def _apply_checked(
    origin: str, checked: list[tuple[dict, str, str, Any]], source: str, *, repair: bool
) -> int:
    """Apply verified entries (envelope, body, signature, preparation), a record type at a time, in
    batches."""
    latest: dict[tuple[str, str], tuple[dict, str, str]] = {}
    prepared: dict[tuple[str, str], Any] = {}
    for envelope, body, signature, ready in checked:  # the same record twice in a page: the higher version
        key = (envelope["type"], envelope["gid"])
        if key not in latest or latest[key][0]["version"] < envelope["version"]:
            latest[key] = (envelope, body, signature)
            prepared[key] = ready
    applied = 0
    by_type: dict[str, list[tuple[dict, str, str]]] = {}
    for (type_name, _), value in latest.items():
        by_type.setdefault(type_name, []).append(value)
    for type_name, group in by_type.items():
        record_type = records.get(type_name)
        if record_type is None or record_type.private:
            why = "unknown record type" if record_type is None else "private record type in the public log"
            for envelope, _, signature in group:
                quarantine(
                    origin,
                    source,
                    {"entry": envelope, "signature": signature},
                    f"{why} {type_name!r}",
                    seq=envelope["seq"],
                    record_type=type_name[:32],
                    gid=envelope["gid"],
                )
            continue
        held = dict(
            Entry.objects.filter(
                origin=origin, record_type=type_name, gid__any=[e["gid"] for e, _, _ in group]
            ).values_list("gid", "version")
        )
        todo = [
            (e, b, s)
            for e, b, s in group
            if e["gid"] not in held
            or held[e["gid"]] < e["version"]
            or (repair and held[e["gid"]] == e["version"])
        ]
        if not todo:
            continue
        ahead = {}
        if record_type.prepare is not None:
            ready = ((e["gid"], prepared[(type_name, e["gid"])]) for e, _, _ in todo)
            ahead = {"prepared": {gid: p for gid, p in ready if p is not None}}
        try:
            with transaction.atomic():
                batch = [(e["gid"], e["version"], e["payload"]) for e, _, _ in todo]
                errors = record_type.apply_batch(origin, batch, repair=repair, **ahead)
                stored = [(e, b, s) for e, b, s in todo if e["gid"] not in errors]
                _store_entries(origin, type_name, stored, held)
        except records.APPLY_FAILURES:
            logger.exception("batch apply of %s %s entries failed; applying one by one", origin, type_name)
            errors = {}
            stored = []
            for e, b, s in todo:
                try:
                    with transaction.atomic():
                        one = record_type.apply_batch(
                            origin, [(e["gid"], e["version"], e["payload"])], repair=repair
                        )
                        if not one:
                            _store_entries(origin, type_name, [(e, b, s)], held)
                            stored.append((e, b, s))
                        errors.update(one)
                except records.APPLY_FAILURES as exc:
                    why = str(exc)[:500]
                    if not isinstance(exc, DatabaseError):  # a check that let a hostile value through
                        logger.exception("apply of %s %s %s raised", origin, type_name, e["gid"])
                        why = f"{exc.__class__.__name__}: {why}"
                    errors[e["gid"]] = DomainError(message=why, message_en=why, code="database")
        for envelope, _, signature in todo:
            exc = errors.get(envelope["gid"])
            if exc is not None:
                detail = "; ".join(f"{err.field}: {err.code}" for err in exc.errors) or exc.message_en
                quarantine(
                    origin,
                    source,
                    {"entry": envelope, "signature": signature},
                    f"invalid payload: {detail}",
                    seq=envelope["seq"],
                    record_type=type_name,
                    gid=envelope["gid"],
                )
        applied += len(stored)
    return applied


def _store_entries(
    origin: str, type_name: str, stored: list[tuple[dict, str, str]], held: dict[str, int]
) -> None:
    """Keep the applied entries for relaying: the latest entry of each record, as the origin signed it."""
    newer = [(e, b, s) for e, b, s in stored if held.get(e["gid"], 0) < e["version"]]
    if not newer:
        return
    # `held` lists every entry of these records this node holds (read under the origin's lock): only those
    # are replaced; a catch-up's new records have none to delete.
    replaced = [e["gid"] for e, _, _ in newer if e["gid"] in held]
    if replaced:
        Entry.objects.filter(origin=origin, record_type=type_name, gid__any=replaced).delete()
    # An entry already held at one of these sequence numbers (an origin that lost its log and numbered
    # again): only the page's span of seqs is searched, so the check costs an index range, not a scan of
    # every entry of the origin when the planner's statistics lag behind a catch-up.
    seqs = [e["seq"] for e, _, _ in newer]
    Entry.objects.filter(origin=origin, seq__gte=min(seqs), seq__lte=max(seqs), seq__any=seqs).delete()
    now = timezone.now()
    copy_rows(
        Entry,
        ENTRY_COLUMNS,
        ((origin, e["seq"], type_name, e["gid"], e["version"], b, s, now) for e, b, s in newer),
    )
