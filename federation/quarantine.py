"""Quarantine: the entries a peer sent that were refused, kept for the operator with their reason — within
bounds, since what a peer sends is untrusted (a peer serving junk under fresh sequence numbers had every
refused entry stored in full: +41 MB in 40 s).

* One row per case. The digest — SHA-256 of the reason and of the refused item without its `seq` and its
  signature — identifies a repeat: the same junk again from the same source, at any seq, only raises the
  row's `count` and `last_seen`.
* Per source peer, at most FEDERATION["QUARANTINE_MAX_ROWS"] rows and FEDERATION["QUARANTINE_MAX_BYTES"]
  bytes of raw entries (UTF-8). Beyond the byte bound a new case is recorded without its raw body (origin,
  seq, source, type, gid, reason and digest); beyond the row bound it is not recorded. Either way it counts
  in the source's `QuarantineOverflow`, shown by `sync_status()`, and an ERROR is logged once per source per
  FEDERATION["QUARANTINE_ALERT_INTERVAL"] seconds. Repeats of held cases are counted whatever the bounds.
  The bounds are checked once per page, so concurrent pages from one source may pass them by a page.
* Recording never raises: a page's refusals are written in a savepoint of its transaction, and if the
  database refuses them they are logged and the page applies as if they had been written.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.text import storable
from federation.models import QuarantinedEntry, QuarantineOverflow

logger = logging.getLogger(__name__)
RAW_CHARS = 100_000  # of an entry as received: enough to see what is wrong with it


@dataclass(frozen=True)
class Refusal:
    """A refused feed item and why; `seq`, `record_type` and `gid` as far as the item tells (unverified for
    an entry whose envelope or signature was refused)."""

    item: Any
    reason: str
    seq: int = 0
    record_type: str = ""
    gid: str = ""


def claimed(item: Any, seq: int, reason: str) -> Refusal:
    """The refusal of an item whose envelope was refused: its type and gid as the item claims them."""
    entry = item.get("entry") if isinstance(item, dict) else None
    entry = entry if isinstance(entry, dict) else {}
    texts = [entry.get(key) for key in ("type", "gid")]
    record_type, gid = (text if isinstance(text, str) else "" for text in texts)
    return Refusal(item, reason, seq=seq, record_type=record_type, gid=gid)


def quarantine(origin: str, source: str, refused: list[Refusal]) -> None:
    """Record a page's refused entries from `source` (never raises; see the module's doc)."""
    if not refused:
        return
    try:
        with transaction.atomic():
            _record(origin, source, refused)
    except DatabaseError:
        logger.exception(
            "quarantine of %d entries of %s from %s could not be recorded", len(refused), origin, source
        )


def digest(item: Any, reason: str) -> str:
    """SHA-256 (hex) of `reason` and `item` without its signature and its entry's seq: the same refused entry
    at any seq has the same digest."""
    basis = item
    if isinstance(item, dict):
        basis = {key: value for key, value in item.items() if key != "signature"}
        if isinstance(basis.get("entry"), dict):
            basis["entry"] = {key: value for key, value in basis["entry"].items() if key != "seq"}
    text = _text(basis, ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(f"{reason}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: Any, **options) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), **options)
    except (TypeError, ValueError, RecursionError):
        try:
            return repr(value)
        except RecursionError:
            return f"<{type(value).__name__} nested too deeply>"


def _raw(item: Any) -> str:
    """The item as JSON for the operator, storable on every database (NUL, lone surrogates: see core.text)."""
    raw = _text(item, ensure_ascii=False)
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept as its JSON escape
        raw = _text(item, ensure_ascii=True)
    return storable(raw[:RAW_CHARS])


def _record(origin: str, source: str, refused: list[Refusal]) -> None:
    now = timezone.now()
    cases: dict[str, tuple[Refusal, str, int]] = {}  # digest: (first refusal, reason, times), in page order
    for refusal in refused:
        reason = storable(refusal.reason[:2000])
        key = digest(refusal.item, reason)
        first = cases.get(key)
        cases[key] = (refusal, reason, 1) if first is None else (first[0], first[1], first[2] + 1)
    held = set(
        QuarantinedEntry.objects.filter(source=source, origin=origin, digest__any=list(cases)).values_list(
            "digest", flat=True
        )
    )
    _count_again(origin, source, {key: cases[key][2] for key in held}, now)
    rows, over = _new_rows(
        origin, source, [(key, *case) for key, case in cases.items() if key not in held], now
    )
    _insert(rows)
    if over:
        _overflow(source, over, now)


def _count_again(origin: str, source: str, times: dict[str, int], now: datetime) -> None:
    """Cases already held: their count and last_seen only."""
    if not times:
        return
    by_times: dict[int, list[str]] = {}
    for key, n in times.items():
        by_times.setdefault(n, []).append(key)
    for n, keys in by_times.items():
        QuarantinedEntry.objects.filter(source=source, origin=origin, digest__any=keys).update(
            count=F("count") + n, last_seen=now
        )
    logger.info("%d refused entries of %s from %s seen again", sum(times.values()), origin, source)


def _new_rows(origin: str, source: str, new: list, now: datetime) -> tuple[list[QuarantinedEntry], int]:
    """Rows for the new cases within the source's bounds, and how many entries went beyond them."""
    bounds = settings.FEDERATION
    held = QuarantinedEntry.objects.filter(source=source).aggregate(n=Count("id"), size=Sum("raw_bytes"))
    n, size = held["n"], held["size"] or 0
    rows, over = [], 0
    for key, refusal, reason, times in new:
        if n >= bounds["QUARANTINE_MAX_ROWS"]:
            over += times
            continue
        raw = _raw(refusal.item)
        raw_bytes = len(raw.encode("utf-8"))
        if size + raw_bytes > bounds["QUARANTINE_MAX_BYTES"]:
            raw, raw_bytes = "", 0
            over += times
        n, size = n + 1, size + raw_bytes
        logger.warning("quarantined entry %s#%s from %s: %s", origin, refusal.seq, source, reason)
        rows.append(
            QuarantinedEntry(
                origin=origin,
                seq=refusal.seq,
                source=source,
                record_type=storable(refusal.record_type[:32]),
                gid=storable(refusal.gid[:96]),
                reason=reason,
                raw=raw,
                raw_bytes=raw_bytes,
                digest=key,
                count=times,
                last_seen=now,
            )
        )
    return rows, over


def _insert(rows: list[QuarantinedEntry]) -> None:
    if not rows:
        return
    try:
        with transaction.atomic():
            QuarantinedEntry.objects.bulk_create(rows)
    except IntegrityError:  # a concurrent page from the same source recorded one of these cases first
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                _count_again(row.origin, row.source, {row.digest: row.count}, row.last_seen)


def _overflow(source: str, entries: int, now: datetime) -> None:
    """Count `entries` beyond `source`'s bounds; log the alert unless it was logged within the interval."""
    beyond = QuarantineOverflow.objects.filter(source=source)
    if not beyond.update(entries=F("entries") + entries, last_at=now):
        try:
            with transaction.atomic():
                QuarantineOverflow.objects.create(source=source, entries=entries, first_at=now, last_at=now)
        except IntegrityError:  # created concurrently
            beyond.update(entries=F("entries") + entries, last_at=now)
    quiet = now - timedelta(seconds=settings.FEDERATION["QUARANTINE_ALERT_INTERVAL"])
    if beyond.filter(Q(logged_at__isnull=True) | Q(logged_at__lte=quiet)).update(logged_at=now):
        row = beyond.get()
        logger.error(
            "quarantine of entries from %s is over its bounds (FEDERATION_QUARANTINE_MAX_ROWS=%d, "
            "FEDERATION_QUARANTINE_MAX_BYTES=%d): %d refused entries not kept in full since %s; "
            "see docs/operations.md, When a peer's quarantine overflows",
            source,
            settings.FEDERATION["QUARANTINE_MAX_ROWS"],
            settings.FEDERATION["QUARANTINE_MAX_BYTES"],
            row.entries,
            row.first_at.isoformat(timespec="seconds"),
        )
