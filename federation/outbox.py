"""Publishing: a change to a record this node owns writes its signed change-log entry in the same
transaction as the change (transactional outbox), and wakes the peers after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.bulk import copy_rows
from core.queue import enqueue_on_commit
from federation.envelope import EnvelopeSigner, envelope_body
from federation.models import ENTRY_COLUMNS, Entry, OriginCounter, PrivateEntry
from federation.stubs import SEALED, sealed_stub


@dataclass(frozen=True)
class Change:
    record_type: str
    gid: str
    version: int
    payload: dict
    # Empty: public, every node gets it. Otherwise the exchange codes of the only nodes that may hold it:
    # the log then carries a sealed stub and the full entry is kept aside (federation.private).
    audience: tuple[str, ...] = ()


# A queued wake-up task that has not started after this long is taken for lost and queued again.
WAKE_QUEUE_STALE = timedelta(seconds=60)


def _allocate(count: int) -> tuple[int, bool]:
    """Reserve `count` sequence numbers; the counter row stays locked until this transaction commits.
    Also returns whether this transaction queues the wake-up: only if none is waiting on the queue, since
    the task announces the head as it is when it runs (one task per commit at 50 commits a second would
    outrun the worker, and each later wake-up would wait behind the earlier ones)."""
    OriginCounter.objects.get_or_create(origin=settings.NODE_CODE)
    counter = OriginCounter.objects.select_for_update().get(origin=settings.NODE_CODE)
    first = counter.last_seq + 1
    counter.last_seq += count
    now = timezone.now()
    queue = counter.wake_queued_at is None or counter.wake_queued_at < now - WAKE_QUEUE_STALE
    if queue:
        counter.wake_queued_at = now
    counter.save(update_fields=["last_seq", "wake_queued_at"])
    return first, queue


def wake_started(origin: str) -> int:
    """A wake-up task starts: later commits queue their own again. Returns the head to announce, read after
    the flag is cleared (the UPDATE waits for a publishing transaction holding the counter, so a commit
    either sees the flag cleared and queues a task, or is included in this head)."""
    with transaction.atomic():
        OriginCounter.objects.filter(origin=origin).update(wake_queued_at=None)
    return OriginCounter.objects.filter(origin=origin).values_list("last_seq", flat=True).first() or 0


def publish(changes: list[Change]) -> int:
    """Append `changes` to this node's log; returns the last sequence number. Call inside the change's
    transaction, after the change itself, so the counter lock is held for as short a time as possible."""
    return publish_begin(changes).finish()


class Publication:
    """Entries of this node numbered and handed to the signer (`publish_begin`), not yet written: the
    caller may write its own rows while the signatures are made, then `finish()`."""

    def __init__(
        self, origin: str, signer: EnvelopeSigner, signed: list, private: list, last: int, wake: bool
    ):
        self.origin, self.signer, self.signed, self.private = origin, signer, signed, private
        self.last, self.wake = last, wake

    def finish(self) -> int:
        """Write the signed entries; returns the last sequence number (0: nothing was published)."""
        if not self.signed:
            return 0
        entries = []
        now = timezone.now()
        for target, signature in zip(self.signed, self.signer.signatures(), strict=True):
            if isinstance(target, PrivateEntry):
                target.signature = signature
            else:
                entries.append((*target, signature, now))
        origin, last = self.origin, self.last
        for row in self.private:
            PrivateEntry.objects.filter(origin=origin, record_type=row.record_type, gid=row.gid).delete()
        PrivateEntry.objects.bulk_create(self.private)
        copy_rows(Entry, ENTRY_COLUMNS, entries)
        self.signed = []

        if self.wake:
            enqueue_on_commit("federation.tasks.wake_peers", origin, last)
        return last


def publish_begin(changes: list[Change]) -> Publication:
    """`publish`'s first half: number the entries (the counter row stays locked until commit), compact
    the log and start signing them; `finish()` writes them. A caller with more rows to write in the same
    transaction writes them in between, while the signatures are made on the signature pool (a feed
    page's own recognitions: their rows are copied meanwhile)."""
    origin = settings.NODE_CODE
    if not changes:
        return Publication(origin, EnvelopeSigner(), [], [], 0, False)
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction of the change it records")
    latest: dict[tuple[str, str], Change] = {}
    for change in changes:  # the same record changed twice in one transaction: its last state wins
        latest.pop((change.record_type, change.gid), None)
        latest[(change.record_type, change.gid)] = change
    changes = list(latest.values())
    first, queue_wake = _allocate(len(changes))
    private = []
    signer = EnvelopeSigner()
    # In the order their bodies went to the signer: a private entry, or a public one as
    # (origin, seq, record_type, gid, version, body) — ENTRY_COLUMNS without the signature and time.
    signed: list[PrivateEntry | tuple] = []
    by_type: dict[str, list[str]] = {}
    for offset, change in enumerate(changes):
        seq = first + offset
        record_type, gid, payload = change.record_type, change.gid, change.payload
        if change.audience:
            body = envelope_body(
                origin=origin,
                seq=seq,
                record_type=record_type,
                gid=gid,
                version=change.version,
                payload=payload,
            )
            signer.add(body)
            private.append(
                PrivateEntry(
                    origin=origin,
                    seq=seq,
                    record_type=record_type,
                    gid=gid,
                    version=change.version,
                    audience=sorted(set(change.audience)),
                    body=body,
                )
            )
            signed.append(private[-1])
            record_type, gid, payload = SEALED, *sealed_stub(change.record_type, change.gid, change.audience)
        body = envelope_body(
            origin=origin,
            seq=seq,
            record_type=record_type,
            gid=gid,
            version=change.version,
            payload=payload,
        )
        signer.add(body)
        signed.append((origin, seq, record_type, gid, change.version, body))
        by_type.setdefault(record_type, []).append(gid)
    # Compaction, while the signatures are made: the log keeps only the latest entry of each record.
    for record_type, gids in by_type.items():
        Entry.objects.filter(origin=origin, record_type=record_type, gid__any=gids).delete()
    return Publication(origin, signer, signed, private, first + len(changes) - 1, queue_wake)
