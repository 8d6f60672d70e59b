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
from django.db import transaction
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
PRIVATE_BATCH_PATH = "/federation/v1/private/"
PRIVATE_BATCH_MAX = 100  # records one batch request names at most
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


def private_batch_for(*, peer: str, wanted: list[tuple[str, str, str]]) -> list[PrivateEntry]:
    """The full entries of the records `wanted` ((origin, type, gid) each) that this node holds and whose
    audience names `peer`, in the order asked; the others are left out, as a 404 would say."""
    held = {
        (e.origin, e.record_type, e.gid): e
        for e in PrivateEntry.objects.filter(gid__in={gid for _, _, gid in wanted})
    }
    out, seen = [], set()
    for key in wanted:
        entry = held.get(key)
        if entry is not None and peer in entry.audience and key not in seen:
            seen.add(key)
            out.append(entry)
    return out


# --- Fetching -----------------------------------------------------------------------------------------------
def sources(fetch: PrivateFetch, peers: dict[str, Peer]) -> list[Peer]:
    """The origin first, then the other nodes of the audience (they hold it once they fetched it), among
    `peers` (the enabled ones, by code)."""
    codes = [fetch.origin] + [c for c in fetch.audience if c not in {fetch.origin, settings.NODE_CODE}]
    return [peers[c] for c in codes if c in peers]


def verified(fetch: PrivateFetch, item) -> tuple[dict, str] | None:
    """The envelope and canonical body of `item` once the origin's signature over it verifies and it is the
    record `fetch` asks for; None if it is not new enough. Raises PeerError or EnvelopeError."""
    public_key = origin_public_key(fetch.origin)
    if public_key is None:
        raise PeerError(f"no public key on file for {fetch.origin}", transient=False)
    envelope, body = envelope_check(item, origin=fetch.origin, public_key=public_key)
    if envelope["type"] != fetch.record_type or envelope["gid"] != fetch.gid:
        raise EnvelopeError("the entry served is not the record asked for")
    if envelope["version"] < fetch.version:
        return None
    return envelope, body


def payload_refusal(errors: dict) -> EnvelopeError:
    detail = "; ".join(f"{e.field}: {e.code}" for err in errors.values() for e in err.errors)
    return EnvelopeError(f"invalid payload: {detail}")


def keep_full(fetch: PrivateFetch, envelope: dict, body: str, signature: str) -> None:
    """After its apply, in its transaction: keep the full entry (to serve the rest of the audience) and mark
    the fetch done (pending again if a newer stub came meanwhile)."""
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
        signature=signature,
    )
    PrivateFetch.objects.filter(pk=fetch.pk, version__lte=envelope["version"]).update(
        state=PrivateFetch.State.DONE, last_error="", lease_until=None
    )
    PrivateFetch.objects.filter(pk=fetch.pk, state=PrivateFetch.State.RUNNING).update(
        state=PrivateFetch.State.PENDING, next_attempt_at=timezone.now()
    )


def _apply_full(fetch: PrivateFetch, item) -> bool:
    """Verify the origin's signature over the full entry and apply it. False if it is not the record asked
    for, or not new enough."""
    checked = verified(fetch, item)
    if checked is None:
        return False
    envelope, body = checked
    record = replica.get(fetch.record_type)
    with transaction.atomic():
        errors = record.apply_batch(fetch.origin, [(fetch.gid, envelope["version"], envelope["payload"])])
        generation_bump()  # applied outside the public log's cursors
        if errors:
            raise payload_refusal(errors)
        keep_full(fetch, envelope, body, item["signature"])
    return True


def _due_fetches():
    return PrivateFetch.objects.filter(JOBS.due())


def private_fetches_waiting() -> bool:
    """Whether a fetch is due (one indexed query): the tick queues a fetch task only then."""
    return _due_fetches().exists()


def private_fetch_due(*, limit: int = 100) -> int:
    """Fetch the private records this node lacks; returns how many were applied. The due fetches are
    claimed, then asked for in one signed request per source (federation.private_batch)."""
    from federation.private_batch import fetch_batched  # lazy: private_batch builds on this module

    due = list(_due_fetches().order_by("next_attempt_at")[:limit])
    claimed = [fetch for fetch in due if JOBS.claim(fetch.pk, lease=FETCH_LEASE)]
    return fetch_batched(claimed) if claimed else 0


def fetch_one(peer: Peer, fetch: PrivateFetch) -> bool:
    """The protocol before batches: `GET private/{origin}/{type}/{gid}/` of one record, applied in its own
    transaction. True if applied; raises PeerError, EnvelopeError or one of APPLY_FAILURES."""
    path = PRIVATE_PATH.format(origin=fetch.origin, record_type=fetch.record_type, gid=fetch.gid)
    return _apply_full(fetch, peer_request(peer, "GET", path))


def fetch_failed(fetch: PrivateFetch, errors: list[str]) -> None:
    """No source gave `fetch`: pending again after the backoff, each source's error kept."""
    error = storable("; ".join(errors) or "no audience node is a peer")
    JOBS.retry(fetch.pk, attempts=fetch.attempts + 1, error=error)
    logger.warning("private fetch %s %s %s failed: %s", fetch.origin, fetch.record_type, fetch.gid, errors)
