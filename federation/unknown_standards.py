"""Entries made under a standard version this node did not know, applied once it knows it.

Such an entry is quarantined with the reason `unknown_standard: ...` (`federation.standard_claims`), its raw
entry kept like any quarantined one. After an upgrade the node knows more versions: `unknown_standards_retry`
(run by the first sync tick of every worker process, so after each restart, and by `manage.py sync retry`)
takes every such row whose standards are now all known, verifies and applies its entry again through the
ordinary page apply (repair mode: the cursor stays, versions never go backwards), and deletes the row. The
outcome is then recorded like any entry's: applied, superseded by a newer version held here, or quarantined
anew with its real reason. A row without its raw entry (beyond the quarantine's byte bound) cannot be
replayed: anti-entropy finds the record missing and pulls the origin's feed again, which applies it; the row
is deleted once the entry is held here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from federation import replica
from federation.apply import apply_page
from federation.http import PeerError
from federation.models import Entry, QuarantinedEntry
from federation.standard_claims import claims_unknown
from standards.versions import UNKNOWN_STANDARD

logger = logging.getLogger(__name__)
REASON_PREFIX = f"{UNKNOWN_STANDARD}:"


def _item(raw: str) -> dict | None:
    """The quarantined feed item, if its raw JSON is whole and has the shape of one."""
    try:
        item = json.loads(raw) if raw else None
    except ValueError:  # cut at the quarantine's length limit
        return None
    entry = item.get("entry") if isinstance(item, dict) else None
    return item if isinstance(entry, dict) and isinstance(entry.get("payload"), dict) else None


def _held(row: QuarantinedEntry, version: Any = None) -> bool:
    """Whether this node holds the row's record (at least at `version`, when it is known)."""
    entries = Entry.objects.filter(origin=row.origin, record_type=row.record_type, gid=row.gid)
    if isinstance(version, int):
        entries = entries.filter(version__gte=version)
    return entries.exists()


def _still_unknown(row: QuarantinedEntry, item: dict) -> bool:
    record_type = replica.get(row.record_type)
    if record_type is None:
        return True
    return bool(claims_unknown(record_type.standards(item["entry"]["payload"])))


def unknown_standards_retry() -> dict[str, int]:
    """Apply again the entries quarantined for an unknown standard version that this node now knows (see
    the module's doc). Returns counts: `retried` (entries replayed), `held` (rows whose record arrived
    otherwise), `waiting` (still unknown, or no raw entry and not held yet)."""
    pages: dict[tuple[str, str], list[tuple[QuarantinedEntry, dict]]] = {}
    done: list[int] = []
    held = waiting = 0
    for row in QuarantinedEntry.objects.filter(reason__startswith=REASON_PREFIX).order_by("origin", "seq"):
        item = _item(row.raw)
        if item is None:
            if _held(row):
                done.append(row.pk)
                held += 1
            else:
                waiting += 1
            continue
        if _still_unknown(row, item):
            waiting += 1
            continue
        pages.setdefault((row.origin, row.source), []).append((row, item))
    retried = 0
    for (origin, source), rows in pages.items():
        try:
            apply_page(origin=origin, items=[item for _, item in rows], source=source, after=0, repair=True)
        except PeerError as exc:  # the origin is no longer a peer: its entries cannot be verified
            logger.warning("entries of %s waiting for a standard not applied: %s", origin, exc)
            waiting += len(rows)
            continue
        done += [row.pk for row, _ in rows]
        retried += len(rows)
    if done:
        QuarantinedEntry.objects.filter(pk__in=done).delete()
    if retried or held:
        logger.info(
            "entries quarantined for an unknown standard: %d applied again, %d arrived", retried, held
        )
    return {"retried": retried, "held": held, "waiting": waiting}


def unknown_standards_waiting(origin: str) -> int:
    """How many entries of `origin` wait in quarantine for a standard version this node does not know yet.
    Anti-entropy does not pull the origin's feed again for them (it would only quarantine them again, every
    round); a row without its raw entry does not count, since only a pull can bring it back."""
    waiting = 0
    for row in QuarantinedEntry.objects.filter(origin=origin, reason__startswith=REASON_PREFIX).exclude(
        raw=""
    ):
        item = _item(row.raw)
        waiting += item is not None and _still_unknown(row, item)
    return waiting


_retried_in_this_process = False


def unknown_standards_retry_once() -> None:
    """`unknown_standards_retry` the first time a process calls it: the sync tick's, so each worker process
    replays after a restart (an upgrade restarts them) and not on every tick."""
    global _retried_in_this_process
    if not _retried_in_this_process:
        _retried_in_this_process = True
        unknown_standards_retry()
