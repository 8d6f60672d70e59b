from __future__ import annotations

import hashlib
import time
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from federation import keys, replica
from federation.envelope import canonical
from federation.models import (
    Entry,
    OriginCounter,
    Peer,
    PrivateFetch,
    QuarantinedEntry,
    QuarantineOverflow,
    SyncState,
    Wakeup,
)
from federation.protocols import comparing_under, protocols_agreed, protocols_announcement
from standards.versions import announcement_valid, standards_announcement, standards_differences


def peer_public_key(code: str) -> str | None:
    """The public key of an enabled peer, or None: what node signatures are verified with."""
    return Peer.objects.filter(exchange_id=code, enabled=True).values_list("public_key", flat=True).first()


def origin_public_key(origin: str) -> str | None:
    """The key an origin's entries must verify with (disabled peers' entries still verify when relayed)."""
    if origin == settings.NODE_CODE:
        return keys.public_key_b64()
    return Peer.objects.filter(exchange_id=origin).values_list("public_key", flat=True).first()


def peers_enabled() -> QuerySet[Peer]:
    return Peer.objects.filter(enabled=True).exclude(exchange_id=settings.NODE_CODE)


def origins_known() -> list[str]:
    """Every origin whose log this node follows: each peer (enabled or not) is an origin."""
    return list(Peer.objects.exclude(exchange_id=settings.NODE_CODE).values_list("exchange_id", flat=True))


# A feed page stops before its entries pass this many bytes (it always holds at least one): peers accept
# answers of at most FEDERATION_MAX_RESPONSE_BYTES, at least twice this. 1,000 typical product entries are
# about 4 MB; a page of large descriptors stops earlier and the pull goes on from its `next`.
FEED_PAGE_BYTES = 8 * 1024 * 1024


def feed_page(*, origin: str, after: int, limit: int) -> tuple[list[Entry], int]:
    """Entries of `origin` after `after`, in order (at most `limit`, and within FEED_PAGE_BYTES after the
    first), and the head (highest seq) this node holds for it."""
    entries: list[Entry] = []
    size = 0
    rows = Entry.objects.filter(origin=origin, seq__gt=after).order_by("seq").only("seq", "body", "signature")
    for entry in rows[:limit].iterator(chunk_size=100):
        size += len(entry.body.encode("utf-8")) + len(entry.signature) + 32  # the item's JSON around them
        if entries and size > FEED_PAGE_BYTES:
            break
        entries.append(entry)
    return entries, head_of(origin)


def head_of(origin: str) -> int:
    if origin == settings.NODE_CODE:
        return OriginCounter.objects.filter(origin=origin).values_list("last_seq", flat=True).first() or 0
    return SyncState.objects.filter(origin=origin).values_list("cursor", flat=True).first() or 0


def record_hash(gid: str, version: int, payload: dict) -> bytes:
    return hashlib.sha256(f"{gid}:{version}:".encode() + canonical(payload).encode("utf-8")).digest()


# Process-local: every peer asks for the digests of every origin each anti-entropy round, and each digest
# reads and hashes every live record of the origin. A cached value is reused while the origin's head has not
# moved, for half the round at most, so a row changed behind the node's back (head unmoved) is seen within a
# round. Keyed by origin and the protocol versions compared under (peers on different versions ask for
# different sets). Not in the shared cache: a value there could outlive the database it was computed from.
_digest_cache: dict[tuple[str, tuple], tuple[int, float, dict]] = {}


def digests(*, origin: str, fresh: bool = False, agreed: dict | None = None) -> dict[str, dict]:
    """Anti-entropy digest per record type: XOR of SHA-256(gid:version:canonical payload) over the live
    records this node holds for `origin`, and their count. Equal digests mean equal replicas. Computed under
    the protocol versions `agreed` with the node compared with (`federation.protocols.protocols_agreed`; none:
    every protocol at version 1, what a node on older code compares), at most once per head and half
    anti-entropy interval unless `fresh`."""
    under = protocols_agreed(protocols_announcement(), agreed or {})
    key = (origin, tuple(under.items()))
    head, now = head_of(origin), time.monotonic()
    cached = _digest_cache.get(key)
    if (
        not fresh
        and cached is not None
        and cached[0] == head
        and now - cached[1] < settings.FEDERATION["ANTI_ENTROPY_INTERVAL"] / 2
    ):
        return cached[2]
    result = {}
    with comparing_under(under):
        for name in replica.names():
            acc = count = 0
            for gid, version, payload in replica.get(name).live(origin):
                acc ^= int.from_bytes(record_hash(gid, version, payload), "big")
                count += 1
            if count or replica.get(name).digest_when_empty:
                result[name] = {"count": count, "digest": acc.to_bytes(32, "big").hex()}
    # An origin with nothing held here (any code a peer may name) is not kept: the cache stays bounded.
    if any(d["count"] for d in result.values()):
        _digest_cache[key] = (head, now, result)
    return result


def sync_status() -> dict:
    now = timezone.now()
    counter = (
        OriginCounter.objects.filter(origin=settings.NODE_CODE).values_list("last_seq", flat=True).first()
    )
    quarantined: dict[str, int] = {}  # rows per origin
    by_source: dict[str, list[int]] = {}  # rows and raw bytes per source
    groups = QuarantinedEntry.objects.values_list("origin", "source").annotate(
        n=Count("id"), size=Sum("raw_bytes")
    )
    for origin, source, n, size in groups:
        quarantined[origin] = quarantined.get(origin, 0) + n
        held = by_source.setdefault(source, [0, 0])
        held[0], held[1] = held[0] + n, held[1] + (size or 0)
    fetches = dict(
        PrivateFetch.objects.exclude(state=PrivateFetch.State.DONE)
        .values_list("origin")
        .annotate(n=Count("id"))
        .values_list("origin", "n")
    )
    origins = []
    for state in SyncState.objects.order_by("origin"):
        lag, lag_seconds = origin_lag(state, now)
        origins.append(
            {
                "origin": state.origin,
                "cursor": state.cursor,
                "head_seen": state.head_seen,
                "lag_entries": lag,
                "lag_seconds": lag_seconds,
                "state": state.state,
                "last_success_at": state.last_success_at,
                "last_source": state.last_source,
                "last_error": state.last_error,
                "last_error_at": state.last_error_at,
                "quarantined": quarantined.get(state.origin, 0),
                "private_fetches_pending": fetches.get(state.origin, 0),
            }
        )
    overflow = {row.source: row for row in QuarantineOverflow.objects.order_by("source")}
    peers = _peers_status(by_source, overflow)
    return {
        "node": settings.NODE_CODE,
        "own_seq": counter or 0,
        # This node's standards, and the peers whose announced standards differ (docs/standards/versions.md).
        "standards": standards_announcement(),
        "peers_standards_differ": [p["code"] for p in peers if p["standards_status"] == "differ"],
        "peers": peers,
        "origins": origins,
        "quarantined_total": sum(quarantined.values()),
        # Refused entries beyond a source's quarantine bounds, per source: the alert (docs/operations.md).
        "quarantine_overflow": {source: row.entries for source, row in overflow.items()},
        "quarantine_overflow_total": sum(row.entries for row in overflow.values()),
        "private_fetches_pending": sum(fetches.values()),
    }


def _peers_status(by_source: dict[str, list[int]], overflow: dict[str, QuarantineOverflow]) -> list[dict]:
    peers = []
    for p in Peer.objects.annotate(
        pending=Count("wakeups", filter=Q(wakeups__state=Wakeup.State.PENDING))
    ).order_by("exchange_id"):
        (held, size), beyond = by_source.get(p.exchange_id, (0, 0)), overflow.get(p.exchange_id)
        peers.append(
            {
                "code": p.exchange_id,
                "base_url": p.base_url,
                "enabled": p.enabled,
                "consecutive_failures": p.consecutive_failures,
                "backoff_until": p.backoff_until,
                "last_success_at": p.last_success_at,
                "last_error": p.last_error,
                "last_error_at": p.last_error_at,
                "pending_wakeups": p.pending,
                "quarantined": held,
                "quarantined_bytes": size,
                "quarantine_overflow": beyond.entries if beyond else 0,
                "quarantine_overflow_since": beyond.first_at if beyond else None,
                "quarantine_overflow_last_at": beyond.last_at if beyond else None,
                **_peer_standards(p),
            }
        )
    return peers


def _peer_standards(peer: Peer) -> dict:
    """What `peer` last announced of its standards, and how it differs from this node's: `standards_status`
    is `same`, `differ` or `unknown` (nothing announced yet, or a node on code that announces none)."""
    announced = peer.standards if announcement_valid(peer.standards) else None
    differences = standards_differences(announced) if announced else []
    status = "unknown" if announced is None else "differ" if differences else "same"
    return {
        "standards": announced,
        "standards_at": peer.standards_at,
        "standards_status": status,
        "standards_differences": differences,
    }


def origin_lag(state: SyncState, now: datetime) -> tuple[int, float]:
    """How far this node is behind an origin: the entries it announced and this node has not applied
    (`head_seen - cursor`), and the seconds since it announced that head (0 without lag)."""
    lag = max(0, state.head_seen - state.cursor)
    return lag, _seconds(now, state.head_seen_at) if lag else 0.0


def _seconds(now: datetime, then: datetime | None) -> float:
    return round((now - then).total_seconds(), 3) if then else 0.0
