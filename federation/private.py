"""Records with an audience: replicated only to the nodes that need them (e.g. a response to a demand goes to
the demander's and the responder's nodes, never to the rest of the network).

The origin's public log carries, at the record's sequence number, a signed *sealed stub*: record type
`sealed`, gid `<type>:<gid>`, payload `{type, gid, audience}` — no content. Every node applies the stub like
any entry, so cursors, relays, compaction and digests work unchanged. A node in the audience then fetches the
full entry (signed by the origin like every entry) from the origin or from another node of the audience,
with retries and backoff until it has it; a node outside the audience holds the stub only and is answered
404 if it asks. The full entries are kept in `PrivateEntry`, apart from the public log.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.exceptions import ValidationFailed
from core.jobs import LeasedJobs
from core.queue import enqueue_on_commit
from core.text import storable
from federation import replica
from federation.envelope import EnvelopeError, envelope_check
from federation.generation import generation_bump
from federation.http import PeerError, peer_request
from federation.models import Entry, Peer, PrivateEntry, PrivateFetch
from federation.replica import Prepared, ReplicaType
from federation.selectors import origin_public_key
from federation.stubs import SEALED, stub_check

logger = logging.getLogger(__name__)
PRIVATE_PATH = "/federation/v1/private/{origin}/{record_type}/{gid}/"
JOBS = LeasedJobs(PrivateFetch, waiting=PrivateFetch.State.PENDING, working=PrivateFetch.State.RUNNING)
FETCH_LEASE = 60  # seconds


class SealedReplica(ReplicaType):
    """The stub of a private record. Applying one: if this node is in its audience and lacks that version,
    it fetches the record. Not a table of its own: the stubs held are the log's entries."""

    name = SEALED
    private = False

    def prepare(self, origin: str, gid: str, payload: dict) -> Prepared:
        kind = payload.get("type") if isinstance(payload, dict) else None  # a peer's: any JSON value
        return stub_check(gid, payload, known=isinstance(kind, str) and replica.get(kind) is not None), {}

    def apply_batch(self, origin, items, *, repair=False, prepared=None) -> dict:
        errors: dict = {}
        due = []
        for gid, version, payload in items:
            try:
                stub, _ = self.prepare(origin, gid, payload)
            except ValidationFailed as exc:
                errors[gid] = exc
                continue
            if settings.NODE_CODE in stub["audience"] and origin != settings.NODE_CODE:
                due.append((stub, version))
        for stub, version in due:
            _fetch_wanted(origin, stub, version, repair=repair)
        if due:
            enqueue_on_commit("federation.tasks.fetch_private")
        return errors

    def live(self, origin: str):
        for entry in Entry.objects.filter(origin=origin, record_type=SEALED).iterator(chunk_size=2000):
            yield entry.gid, entry.version, json.loads(entry.body)["payload"]


def _fetch_wanted(origin: str, stub: dict, version: int, *, repair: bool) -> None:
    """Record that this node wants `version` of the record `stub` names (unless it holds it already)."""
    held = (
        PrivateEntry.objects.filter(origin=origin, record_type=stub["type"], gid=stub["gid"])
        .values_list("version", flat=True)
        .first()
    )
    if held is not None and held >= version and not repair:
        return
    now = timezone.now()
    fetch, created = PrivateFetch.objects.get_or_create(
        origin=origin,
        record_type=stub["type"],
        gid=stub["gid"],
        defaults={"version": version, "audience": stub["audience"], "next_attempt_at": now},
    )
    if not created and (fetch.version < version or fetch.state == PrivateFetch.State.DONE or repair):
        PrivateFetch.objects.filter(pk=fetch.pk).update(
            version=max(version, fetch.version),
            audience=stub["audience"],
            state=PrivateFetch.State.PENDING,
            attempts=0,
            next_attempt_at=now,
        )


SEALED_TYPE = replica.register(SealedReplica())


# --- Serving ------------------------------------------------------------------------------------------------
def private_for(*, peer: str, origin: str, record_type: str, gid: str) -> PrivateEntry | None:
    """The full entry, only if `peer` is in its audience (else None: the caller answers 404)."""
    entry = PrivateEntry.objects.filter(origin=origin, record_type=record_type, gid=gid).first()
    if entry is None or peer not in entry.audience:
        return None
    return entry


# --- Fetching -----------------------------------------------------------------------------------------------
def _sources(fetch: PrivateFetch) -> list[Peer]:
    """The origin first, then the other nodes of the audience (they hold it once they fetched it)."""
    codes = [fetch.origin] + [c for c in fetch.audience if c not in {fetch.origin, settings.NODE_CODE}]
    peers = {p.exchange_id: p for p in Peer.objects.filter(exchange_id__in=codes, enabled=True)}
    return [peers[c] for c in codes if c in peers]


def _apply_full(fetch: PrivateFetch, item) -> bool:
    """Verify the origin's signature over the full entry and apply it. False if it is not the record asked
    for, or not new enough."""
    public_key = origin_public_key(fetch.origin)
    if public_key is None:
        raise PeerError(f"no public key on file for {fetch.origin}", transient=False)
    envelope, body = envelope_check(item, origin=fetch.origin, public_key=public_key)
    if envelope["type"] != fetch.record_type or envelope["gid"] != fetch.gid:
        raise EnvelopeError("the entry served is not the record asked for")
    if envelope["version"] < fetch.version:
        return False
    record = replica.get(fetch.record_type)
    with transaction.atomic():
        errors = record.apply_batch(fetch.origin, [(fetch.gid, envelope["version"], envelope["payload"])])
        generation_bump()  # applied outside the public log's cursors
        if errors:
            detail = "; ".join(f"{e.field}: {e.code}" for err in errors.values() for e in err.errors)
            raise EnvelopeError(f"invalid payload: {detail}")
        held = PrivateEntry.objects.filter(origin=fetch.origin, record_type=fetch.record_type, gid=fetch.gid)
        held.delete()
        PrivateEntry.objects.create(
            origin=fetch.origin,
            seq=envelope["seq"],
            record_type=fetch.record_type,
            gid=fetch.gid,
            version=envelope["version"],
            audience=fetch.audience,
            body=body,
            signature=item["signature"],
        )
        PrivateFetch.objects.filter(pk=fetch.pk, version__lte=envelope["version"]).update(
            state=PrivateFetch.State.DONE, last_error="", lease_until=None
        )
        PrivateFetch.objects.filter(pk=fetch.pk, state=PrivateFetch.State.RUNNING).update(
            state=PrivateFetch.State.PENDING, next_attempt_at=timezone.now()
        )
    return True


def _due_fetches():
    return PrivateFetch.objects.filter(JOBS.due())


def private_fetches_waiting() -> bool:
    """Whether a fetch is due (one indexed query): the tick queues a fetch task only then."""
    return _due_fetches().exists()


def private_fetch_due(*, limit: int = 100) -> int:
    """Fetch the private records this node lacks; returns how many were applied."""
    due = list(_due_fetches().order_by("next_attempt_at")[:limit])
    applied = 0
    for fetch in due:
        if not JOBS.claim(fetch.pk, lease=FETCH_LEASE):
            continue
        errors = []
        done = False
        for peer in _sources(fetch):
            path = PRIVATE_PATH.format(origin=fetch.origin, record_type=fetch.record_type, gid=fetch.gid)
            try:
                item = peer_request(peer, "GET", path)
                done = _apply_full(fetch, item)
            except (PeerError, EnvelopeError, *replica.APPLY_FAILURES) as exc:
                if not isinstance(exc, PeerError | EnvelopeError | DatabaseError):  # a check to tighten
                    logger.exception(
                        "private fetch of %s %s %s raised", fetch.origin, fetch.record_type, fetch.gid
                    )
                    exc = f"{exc.__class__.__name__}: {exc}"
                errors.append(f"{peer.exchange_id}: {exc}")
                continue
            if done:
                applied += 1
                break
        if not done:
            error = storable("; ".join(errors) or "no audience node is a peer")
            JOBS.retry(fetch.pk, attempts=fetch.attempts + 1, error=error)
            logger.warning(
                "private fetch %s %s %s failed: %s", fetch.origin, fetch.record_type, fetch.gid, errors
            )
    return applied
