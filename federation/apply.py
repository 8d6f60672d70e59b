"""Applying a verified feed page: one transaction per page, a record type at a time in bulk. Each entry is
checked on its own: a bad one is quarantined with its reason and the rest still apply; the cursor only moves
over entries whose signature verified, so a forged sequence number cannot make this node skip the origin's
real entries."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.bulk import copy_rows
from core.exceptions import DomainError
from federation import replica
from federation.envelope import EnvelopeError, is_exchange_code
from federation.http import PeerError
from federation.models import ENTRY_COLUMNS, Entry, SyncState, at_least
from federation.prepare import page_check
from federation.quarantine import Refusal, claimed, quarantine
from federation.replica import ReplicaType
from federation.selectors import origin_public_key
from standards.versions import UNKNOWN_STANDARD

logger = logging.getLogger(__name__)

# (the origin's public key they were checked with, one result per item of the page)
Checked = tuple[str, list] | None


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
    refused: list[Refusal] = []
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
                refused.append(claimed(item, seq_hint(item), str(result)))
                continue
            envelope = item["entry"]  # this process's own item; the check saw an identical copy
            body, prepared = result
            if envelope["seq"] <= after:
                continue  # never go backwards
            last_seq = max(last_seq, envelope["seq"])
            checked.append((envelope, body, item["signature"], prepared))
        applied = _apply_checked(origin, checked, refused, repair=repair)
        quarantine(origin, source, refused)
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


Verified = tuple[dict, str, str]  # (envelope, canonical body, signature)
Checked4 = tuple[dict, str, str, Any]  # and its preparation


def _apply_checked(origin: str, checked: list[Checked4], refused: list[Refusal], *, repair: bool) -> int:
    """Apply verified entries (envelope, body, signature, preparation), a record type at a time, in
    batches; the refused ones are added to `refused`. Returns how many were applied."""
    latest: dict[tuple[str, str], Checked4] = {}
    for entry in checked:  # the same record twice in a page: the higher version
        envelope = entry[0]
        key = (envelope["type"], envelope["gid"])
        if key not in latest or latest[key][0]["version"] < envelope["version"]:
            latest[key] = entry
    by_type: dict[str, list[Checked4]] = {}
    for (type_name, _), entry in latest.items():
        by_type.setdefault(type_name, []).append(entry)
    applied = 0
    for type_name, group in by_type.items():
        replica_type = replica.get(type_name)
        if replica_type is None or replica_type.private:
            why = "unknown record type" if replica_type is None else "private record type in the public log"
            for envelope, _, signature, _ in group:
                _refuse(refused, envelope, signature, f"{why} {type_name!r}", type_name[:32])
            continue
        applied += _apply_group(origin, replica_type, group, refused, repair=repair)
    return applied


def _apply_group(
    origin: str, replica_type: ReplicaType, group: list[Checked4], refused: list[Refusal], *, repair: bool
) -> int:
    """Apply one type's entries of a page in one batch (one by one if the batch fails), keep the applied
    entries for relaying and quarantine the refused ones."""
    type_name = replica_type.name
    held = dict(
        Entry.objects.filter(
            origin=origin, record_type=type_name, gid__any=[e[0]["gid"] for e in group]
        ).values_list("gid", "version")
    )
    todo = [
        entry
        for entry in group
        if (mine := held.get(entry[0]["gid"])) is None
        or mine < entry[0]["version"]
        or (repair and mine == entry[0]["version"])
    ]
    if not todo:
        return 0
    prepared = {e["gid"]: ready for e, _, _, ready in todo if ready is not None}
    try:
        with transaction.atomic():
            items = [(e["gid"], e["version"], e["payload"]) for e, _, _, _ in todo]
            errors = replica_type.apply_batch(origin, items, repair=repair, prepared=prepared)
            stored = [entry[:3] for entry in todo if entry[0]["gid"] not in errors]
            _store_entries(origin, type_name, stored, held)
    except replica.APPLY_FAILURES:
        logger.exception("batch apply of %s %s entries failed; applying one by one", origin, type_name)
        stored, errors = _apply_one_by_one(origin, replica_type, [e[:3] for e in todo], held, repair=repair)
    for envelope, _, signature, _ in todo:
        exc = errors.get(envelope["gid"])
        if exc is not None:
            _refuse(refused, envelope, signature, refusal_reason(exc), type_name)
    return len(stored)


def refusal_reason(exc: DomainError) -> str:
    """The quarantine reason of a payload refused by its checks. An unknown standard version has its own
    code (`unknown_standard: ...`): such an entry is applied again once this node knows the version."""
    if exc.code == UNKNOWN_STANDARD:
        return f"{UNKNOWN_STANDARD}: {exc.message_en}"
    detail = "; ".join(f"{err.field}: {err.code}" for err in exc.errors) or exc.message_en
    return f"invalid payload: {detail}"


def _apply_one_by_one(
    origin: str, replica_type: ReplicaType, todo: list[Verified], held: dict[str, int], *, repair: bool
) -> tuple[list[Verified], dict[str, DomainError]]:
    """After a batch failed: each entry in a transaction of its own, so one bad entry cannot take its
    neighbours down. Returns (the entries applied, {gid: why} for the others)."""
    errors: dict[str, DomainError] = {}
    stored = []
    for verified in todo:
        e = verified[0]
        try:
            with transaction.atomic():
                one = replica_type.apply_batch(
                    origin, [(e["gid"], e["version"], e["payload"])], repair=repair
                )
                if not one:
                    _store_entries(origin, replica_type.name, [verified], held)
                    stored.append(verified)
                errors.update(one)
        except replica.APPLY_FAILURES as exc:
            why = str(exc)[:500]
            if not isinstance(exc, DatabaseError):  # a check that let a hostile value through
                logger.exception("apply of %s %s %s raised", origin, replica_type.name, e["gid"])
                why = f"{exc.__class__.__name__}: {why}"
            errors[e["gid"]] = DomainError(message=why, message_en=why, code="database")
    return stored, errors


def _refuse(refused: list[Refusal], envelope: dict, signature: str, reason: str, type_name: str) -> None:
    item = {"entry": envelope, "signature": signature}
    refused.append(Refusal(item, reason, seq=envelope["seq"], record_type=type_name, gid=envelope["gid"]))


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
