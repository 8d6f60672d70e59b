"""Replication between nodes: peers, wake-ups, pulls, apply, repair.

Pull is the backbone: a node asks any peer for the feed of origin X after its cursor and applies what it
lacks. Push is only a wake-up. Every piece of work is a row (SyncState, Wakeup) with state, attempts, next
attempt and a lease, claimed with a conditional UPDATE, so several workers can run the same tasks and a
killed worker's work is picked up again when its lease runs out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from core.bulk import copy_rows
from core.exceptions import DomainError
from core.text import storable
from core.threads import process_pool
from exchanges.models import Exchange
from federation import keys, records
from federation.envelope import EnvelopeError, is_exchange_code
from federation.http import PeerError, peer_request
from federation.models import ENTRY_COLUMNS, Entry, Peer, QuarantinedEntry, SyncState, Wakeup
from federation.prepare import page_check, page_check_aside
from federation.selectors import digests, origin_public_key, origins_known, peers_enabled, record_hash

logger = logging.getLogger(__name__)
FEED_PATH = "/federation/v1/feed/{origin}/"
MAX_PULL_ROUNDS = 5


def _conf(name: str) -> int:
    return settings.FEDERATION[name]


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(_conf("MAX_BACKOFF"), 2 ** min(attempts, 16))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# --- Peers --------------------------------------------------------------------------------------------------
def peer_add(*, code: str, base_url: str, public_key: str, enabled: bool = True) -> Peer:
    code = code.upper()
    exchange = Exchange.objects.filter(code=code).first()
    if exchange is None:
        raise ValueError(f"unknown exchange code {code!r}")
    if code == settings.NODE_CODE:
        raise ValueError("a node is not its own peer")
    keys.public_key_from_b64(public_key)  # raises KeyError_ on a malformed key
    with transaction.atomic():
        peer, _ = Peer.objects.update_or_create(
            exchange=exchange,
            defaults={"base_url": base_url.rstrip("/"), "public_key": public_key, "enabled": enabled},
        )
        Exchange.objects.filter(pk=code).update(runs_node=True, node_url=peer.base_url)
        SyncState.objects.get_or_create(origin=code)
    return peer


def peer_remove(*, code: str) -> bool:
    with transaction.atomic():
        deleted, _ = Peer.objects.filter(exchange_id=code.upper()).delete()
        Exchange.objects.filter(pk=code.upper()).update(runs_node=False, node_url="")
    return bool(deleted)


def _peer_ok(peer: Peer) -> None:
    Peer.objects.filter(pk=peer.pk).update(
        consecutive_failures=0, backoff_until=None, last_success_at=timezone.now()
    )


def _peer_failed(peer: Peer, error: str) -> None:
    failures = peer.consecutive_failures + 1
    Peer.objects.filter(pk=peer.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        backoff_until=timezone.now() + backoff(failures),
        last_error=error[:2000],
        last_error_at=timezone.now(),
    )
    peer.consecutive_failures = failures


def _usable(peer: Peer) -> bool:
    return peer.enabled and (peer.backoff_until is None or peer.backoff_until <= timezone.now())


# --- Wake-ups (push) ----------------------------------------------------------------------------------------
def wakeups_enqueue(*, origin: str, seq: int) -> int:
    """Record "origin is at seq" for every enabled peer (one coalesced row per peer and origin)."""
    now = timezone.now()
    count = 0
    for peer in peers_enabled().exclude(exchange_id=origin):
        updated = Wakeup.objects.filter(peer=peer, origin=origin).update(
            seq=_at_least("seq", seq), state=Wakeup.State.PENDING, next_attempt_at=now, attempts=0
        )
        if not updated:
            try:
                with transaction.atomic():
                    Wakeup.objects.create(peer=peer, origin=origin, seq=seq, next_attempt_at=now)
            except DatabaseError:  # created concurrently: update that one
                Wakeup.objects.filter(peer=peer, origin=origin).update(
                    seq=_at_least("seq", seq), state=Wakeup.State.PENDING, next_attempt_at=now
                )
        count += 1
    return count


def _at_least(field: str, value: int) -> Greatest:
    """`field` raised to `value` if it is lower, in one UPDATE (never lowered by a late writer)."""
    return Greatest(F(field), value)


def _claim_wakeup(wakeup_id: int) -> bool:
    now = timezone.now()
    return bool(
        Wakeup.objects.filter(pk=wakeup_id)
        .filter(Q(state=Wakeup.State.PENDING) | Q(state=Wakeup.State.SENDING, lease_until__lt=now))
        .update(state=Wakeup.State.SENDING, lease_until=now + timedelta(seconds=_conf("PULL_LEASE")))
    )


WAKE_SENDERS = 8  # wake-ups sent at once: one slow peer must not hold up the others' by its timeout


def wakeups_deliver(*, limit: int = 200) -> int:
    """Send due wake-ups, several at once; transient failures back off, permanent ones stop (the periodic
    pull covers them). The claims and their outcomes are written here; only the HTTP requests run in
    threads."""
    now = timezone.now()
    due = (
        Wakeup.objects.select_related("peer")
        .filter(
            Q(state=Wakeup.State.PENDING, next_attempt_at__lte=now)
            | Q(state=Wakeup.State.SENDING, lease_until__lt=now)
        )
        .filter(peer__enabled=True)
        .filter(Q(peer__backoff_until__isnull=True) | Q(peer__backoff_until__lte=now))
        .order_by("next_attempt_at")[:limit]
    )
    claimed = [wakeup for wakeup in due if _claim_wakeup(wakeup.pk)]

    def send(wakeup: Wakeup) -> PeerError | None:
        try:
            peer_request(
                wakeup.peer,
                "POST",
                "/federation/v1/wake/",
                json_body={"origin": wakeup.origin, "seq": wakeup.seq},
            )
        except PeerError as exc:
            return exc
        return None

    if len(claimed) > 1:
        with ThreadPoolExecutor(max_workers=min(WAKE_SENDERS, len(claimed))) as pool:
            outcomes = list(pool.map(send, claimed))
    else:
        outcomes = [send(wakeup) for wakeup in claimed]
    sent = 0
    for wakeup, exc in zip(claimed, outcomes, strict=True):
        seq = wakeup.seq
        if exc is not None:
            logger.warning("wake-up of %s (%s at %s) failed: %s", wakeup.peer_id, wakeup.origin, seq, exc)
            attempts = wakeup.attempts + 1
            if exc.transient:
                _peer_failed(wakeup.peer, str(exc))
            Wakeup.objects.filter(pk=wakeup.pk).update(
                state=Wakeup.State.PENDING if exc.transient else Wakeup.State.FAILED,
                attempts=attempts,
                next_attempt_at=timezone.now() + backoff(attempts),
                last_error=str(exc)[:2000],
            )
            continue
        _peer_ok(wakeup.peer)
        # Done unless a newer seq was recorded while this one was in flight.
        Wakeup.objects.filter(pk=wakeup.pk, seq=seq).update(state=Wakeup.State.DONE, last_error="")
        Wakeup.objects.filter(pk=wakeup.pk, state=Wakeup.State.SENDING).update(state=Wakeup.State.PENDING)
        sent += 1
    return sent


def wake_receive(*, source: str, origin: str, seq: int) -> bool:
    """A peer says `origin` is at `seq`. Returns True if a pull was scheduled."""
    if origin == settings.NODE_CODE or not Peer.objects.filter(exchange_id=origin).exists():
        return False
    state, _ = SyncState.objects.get_or_create(origin=origin)
    now = timezone.now()
    SyncState.objects.filter(pk=origin, head_seen__lt=seq).update(head_seen=seq, head_seen_at=now)
    if seq <= state.cursor:
        return False
    SyncState.objects.filter(pk=origin).exclude(state=SyncState.State.RUNNING).update(
        state=SyncState.State.PENDING, next_attempt_at=now
    )
    pull_enqueue(origin)
    return True


def pull_enqueue(origin: str) -> bool:
    """Put a pull of `origin` on the queue unless one is already waiting there. At most one queued pull per
    origin: a busy node's queue cannot fill with periodic pulls that a wake-up's pull would wait behind. A
    queued pull not started after a few leases is taken for lost (a broker failure) and queued again."""
    now = timezone.now()
    stale = now - timedelta(seconds=4 * _conf("PULL_LEASE"))
    queued = (
        SyncState.objects.filter(pk=origin)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=stale))
        .update(queued_at=now)
    )
    if not queued:
        return False

    def send():
        from federation.tasks import pull_origin

        pull_origin.delay(origin)

    transaction.on_commit(send)
    return True


def pulls_due() -> list[str]:
    """Origins a periodic tick should pull: announced lag, a pending or retrying pull that is due, or no
    successful pull for POLL_INTERVAL (a lost wake-up). A failing origin waits out its backoff."""
    now = timezone.now()
    quiet_since = now - timedelta(seconds=_conf("POLL_INTERVAL"))
    origins = [origin for origin in origins_known() if origin != settings.NODE_CODE]
    states = SyncState.objects.in_bulk(origins)
    missing = [SyncState(origin=origin) for origin in origins if origin not in states]
    SyncState.objects.bulk_create(missing, ignore_conflicts=True)
    states.update({state.origin: state for state in missing})
    due = []
    for origin in origins:
        state = states[origin]
        if state.next_attempt_at is not None and state.next_attempt_at > now:
            continue
        if (
            state.head_seen > state.cursor
            or state.state == SyncState.State.PENDING
            or (state.state == SyncState.State.RUNNING and state.lease_until and state.lease_until < now)
            or state.last_success_at is None
            or state.last_success_at < quiet_since
        ):
            due.append(origin)
    return due


# --- Pull and apply -----------------------------------------------------------------------------------------
def _claim_pull(origin: str) -> SyncState | None:
    now = timezone.now()
    SyncState.objects.get_or_create(origin=origin)
    claimed = (
        SyncState.objects.filter(pk=origin)
        .filter(~Q(state=SyncState.State.RUNNING) | Q(lease_until__lt=now))
        .update(state=SyncState.State.RUNNING, lease_until=now + timedelta(seconds=_conf("PULL_LEASE")))
    )
    return SyncState.objects.get(pk=origin) if claimed else None


def _sources(origin: str) -> list[Peer]:
    """Where to pull `origin` from: the origin itself first, then every other peer (relays)."""
    peers = [p for p in peers_enabled() if _usable(p)]
    peers.sort(key=lambda p: (p.exchange_id != origin, random.random()))
    return peers


def pull_origin(*, origin: str) -> int:
    """Bring this node's copy of `origin` up to date from the first source that answers. Returns the number
    of entries applied. Safe to run concurrently and to kill at any point: the cursor moves only in the
    transaction that applied the page."""
    SyncState.objects.filter(pk=origin).update(queued_at=None)  # a wake-up from now on queues another
    state = _claim_pull(origin)
    if state is None:
        return 0
    applied = 0
    errors = []
    success = False
    for peer in _sources(origin):
        try:
            # Wake-ups that arrive while this pull runs find it claimed and schedule nothing: pull again
            # while the announced head is ahead of the cursor, instead of waiting for the next beat tick.
            for _ in range(MAX_PULL_ROUNDS):
                before = SyncState.objects.filter(pk=origin).values_list("cursor", flat=True).get()
                applied += _pull_from(peer, origin)
                head, cursor = SyncState.objects.filter(pk=origin).values_list("head_seen", "cursor").get()
                if head <= cursor or cursor == before:
                    break
            _peer_ok(peer)
            success = True
            source = peer.exchange_id
            if head <= cursor:
                break
            # Still behind what was announced: this peer (a lagging relay) has no more; ask the next one.
        except PeerError as exc:
            logger.warning(
                "pull of %s from %s failed (%s): %s",
                origin,
                peer.exchange_id,
                "transient" if exc.transient else "permanent",
                exc,
            )
            errors.append(f"{peer.exchange_id}: {exc}")
            if exc.transient:
                _peer_failed(peer, str(exc))
    now = timezone.now()
    if success:
        SyncState.objects.filter(pk=origin).update(
            state=SyncState.State.IDLE,
            lease_until=None,
            attempts=0,
            next_attempt_at=None,
            last_success_at=now,
            last_source=source,
            last_error="",
        )
    else:
        attempts = state.attempts + 1
        SyncState.objects.filter(pk=origin).update(
            state=SyncState.State.PENDING,
            lease_until=None,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            last_error="; ".join(errors)[:2000] or "no usable peer",
            last_error_at=now,
        )
    return applied


# (the origin's public key they were checked with, one result per item of the page)
Checked = tuple[str, list] | None


def _feed_page(peer: Peer, origin: str, after: int) -> tuple[list, Any]:
    """One page of `origin`'s feed from `peer`, after `after`: (entries, the head the peer announced)."""
    page = peer_request(
        peer, "GET", FEED_PATH.format(origin=origin), params={"after": after, "limit": _conf("PAGE_SIZE")}
    )
    if not isinstance(page, dict) or not isinstance(page.get("entries"), list):
        raise PeerError("feed answer has no entries list", transient=False)
    return page["entries"], page.get("head")


def _pull_from(peer: Peer, origin: str, *, repair: bool = False) -> int:
    """Pull `origin`'s feed from `peer` page by page until it has no more."""
    after = 0 if repair else SyncState.objects.get(pk=origin).cursor
    return pages_apply(
        origin, partial(_feed_page, peer, origin), source=peer.exchange_id, after=after, repair=repair
    )


def pages_apply(
    origin: str,
    fetch: Callable[[int], tuple[list, Any]],
    *,
    source: str,
    after: int,
    repair: bool = False,
) -> int:
    """Apply `origin`'s entries page by page from `fetch(after) -> (entries, announced head)` until a page
    is empty; returns the number applied. The next page is fetched, and checked with the origin's key
    (signatures, each record's standard checks: `federation.prepare`, in the helper process for a long
    page), while this one is applied (from the highest seq the page claims; fetched again from the applied
    cursor when an entry did not verify), so a catch-up waits on the network and on the checks only once."""
    applied = 0
    key = origin_public_key(origin) if is_exchange_code(origin) else None

    def page(after: int) -> tuple[list, Any, Checked]:
        items, head = fetch(after)
        checked = None
        if key is not None and items:  # beside the page being applied: waits on the helper or on signatures
            checked = (key, page_check_aside(items, origin=origin, public_key=key))
        return items, head, checked

    fetcher = _prefetcher()
    pending = None
    try:
        pending, pending_after = fetcher.submit(page, after), after
        while True:
            items, head, checked = pending.result()
            if isinstance(head, int) and not isinstance(head, bool):
                SyncState.objects.filter(pk=origin, head_seen__lt=head).update(
                    head_seen=head, head_seen_at=timezone.now()
                )
            if not items:
                return applied
            claimed = max(_seq_hint(item) for item in items)
            if claimed > after:
                pending, pending_after = fetcher.submit(page, claimed), claimed
            applied_page, last_seq = apply_page(
                origin=origin,
                items=items,
                source=source,
                after=after,
                repair=repair,
                prechecked=checked,
            )
            applied += applied_page
            if last_seq <= after:
                return applied  # a peer that does not move forward is done, not looped on
            after = last_seq
            if pending_after != after:
                pending.cancel()
                pending, pending_after = fetcher.submit(page, after), after
    finally:
        if pending is not None and not pending.cancel():
            wait([pending])  # a page fetched for nothing: let it finish before the next pull uses the thread


def _prefetcher() -> ThreadPoolExecutor:
    """One fetch thread per process, so its HTTP session and keep-alive connections to peers last from one
    pull to the next."""
    return process_pool("feed-prefetch", 1)


def _quarantine(
    origin: str, source: str, item, reason: str, seq: int = 0, record_type: str = "", gid: str = ""
) -> None:
    import json

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
                (i, r) for i, r in zip(items, prechecked[1], strict=True) if not 0 < _seq_hint(i) <= after
            ]
        else:
            fresh = [item for item in items if not 0 < _seq_hint(item) <= after]
            pairs = zip(fresh, page_check(fresh, origin=origin, public_key=public_key), strict=True)
        for item, result in pairs:
            if isinstance(result, EnvelopeError):
                _quarantine(origin, source, item, str(result), seq=_seq_hint(item))
                continue
            envelope = item["entry"]  # this process's own item; the check saw an identical copy
            body, prepared = result
            if envelope["seq"] <= after:
                continue  # never go backwards
            last_seq = max(last_seq, envelope["seq"])
            checked.append((envelope, body, item["signature"], prepared))
        applied = _apply_checked(origin, checked, source, repair=repair)
        # A long catch-up renews its lease with every page, so no other worker takes the origin over.
        lease = {"lease_until": timezone.now() + timedelta(seconds=_conf("PULL_LEASE"))}
        if state.state != SyncState.State.RUNNING:
            lease = {}
        if not repair and last_seq > state.cursor:
            SyncState.objects.filter(pk=origin).update(
                cursor=last_seq, head_seen=_at_least("head_seen", last_seq), **lease
            )
        elif lease:
            SyncState.objects.filter(pk=origin).update(**lease)
    return applied, last_seq


def _seq_hint(item) -> int:
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
                _quarantine(
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
                _quarantine(
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


# --- Anti-entropy -------------------------------------------------------------------------------------------
def repair_local(*, origin: str) -> int:
    """Re-apply this node's own signed entries of `origin` wherever the live record differs from them
    (a row changed behind the node's back). Returns the number of records restored."""
    import json

    restored = 0
    for name in records.names():
        live = {
            gid: record_hash(gid, version, payload)
            for gid, version, payload in records.get(name).live(origin)
        }
        for entry in Entry.objects.filter(origin=origin, record_type=name).iterator():
            envelope = json.loads(entry.body)
            expected = record_hash(entry.gid, entry.version, envelope["payload"])
            if live.get(entry.gid) == expected:
                continue
            if not keys.verify(origin_public_key(origin) or "", entry.body.encode("utf-8"), entry.signature):
                logger.error("stored entry %s#%s no longer verifies; pulling it again", origin, entry.seq)
                continue
            with transaction.atomic():
                records.get(name).apply_batch(
                    origin, [(entry.gid, entry.version, envelope["payload"])], repair=True
                )
            restored += 1
    return restored


def _peer_digests(peer: Peer, origins: list[str]) -> dict[str, Any]:
    """The peer's digests of `origins` in one request; from a peer without the batch endpoint (an older
    version, 404), one request per origin. A failed origin maps to its PeerError."""
    try:
        answer = peer_request(peer, "GET", "/federation/v1/digests/", params={"origins": ",".join(origins)})
        if isinstance(answer, dict) and isinstance(answer.get("digests"), dict):
            return {origin: answer["digests"].get(origin) for origin in origins}
        return dict.fromkeys(origins)
    except PeerError as exc:
        if exc.status != 404:
            return dict.fromkeys(origins, exc)
    found: dict[str, Any] = {}
    for origin in origins:
        try:
            answer = peer_request(peer, "GET", f"/federation/v1/digests/{origin}/")
            found[origin] = answer.get("digests") if isinstance(answer, dict) else None
        except PeerError as exc:
            found[origin] = exc
    return found


def anti_entropy_check(*, peer: Peer) -> list[dict]:
    """Compare digests with `peer` for every origin both follow; repair what differs. Returns a report.
    This node's digests are those of this round (`selectors.digests`); on a difference they are recomputed
    before anything is repaired."""
    report = []
    origins = sorted({*origins_known(), settings.NODE_CODE})
    for origin, theirs in _peer_digests(peer, origins).items():
        if isinstance(theirs, PeerError):
            report.append(
                {"peer": peer.exchange_id, "origin": origin, "status": "error", "error": str(theirs)}
            )
            continue
        if not isinstance(theirs, dict):
            report.append({"peer": peer.exchange_id, "origin": origin, "status": "error"})
            continue
        if theirs == digests(origin=origin) or theirs == digests(origin=origin, fresh=True):
            report.append({"peer": peer.exchange_id, "origin": origin, "status": "equal"})
            continue
        restored = repair_local(origin=origin)
        repaired = 0
        # Fresh already (the comparison above); again only if rows were just restored.
        if origin != settings.NODE_CODE and digests(origin=origin, fresh=bool(restored)) != theirs:
            try:
                repaired = _pull_from(peer, origin, repair=True)
            except PeerError as exc:
                report.append(
                    {"peer": peer.exchange_id, "origin": origin, "status": "error", "error": str(exc)}
                )
                continue
            digests(origin=origin, fresh=True)
        report.append(
            {
                "peer": peer.exchange_id,
                "origin": origin,
                "status": "repaired" if restored or repaired else "differs",
                "restored_locally": restored,
                "repaired_from_peer": repaired,
            }
        )
    return report
