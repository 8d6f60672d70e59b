"""Anti-entropy: peers compare digests of what they hold per origin and record type; a difference is
repaired from this node's own signed entries (a row changed behind the node's back) or by pulling the
origin's whole feed again from the peer."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from federation import keys, replica
from federation.http import PeerError, peer_request
from federation.models import Entry, Peer
from federation.peers import peer_standards_record
from federation.protocols import (
    peer_protocols_record,
    protocols_agreed,
    protocols_announcement,
    protocols_param,
)
from federation.pull import pull_from
from federation.selectors import digests, origin_public_key, origins_known, record_hash
from federation.unknown_standards import unknown_standards_waiting

logger = logging.getLogger(__name__)


def repair_local(*, origin: str) -> int:
    """Re-apply this node's own signed entries of `origin` wherever the live record differs from them
    (a row changed behind the node's back). Returns the number of records restored."""
    restored = 0
    for name in replica.names():
        live = {
            gid: record_hash(gid, version, payload)
            for gid, version, payload in replica.get(name).live(origin)
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
                replica.get(name).apply_batch(
                    origin, [(entry.gid, entry.version, envelope["payload"])], repair=True
                )
            restored += 1
    return restored


DIGESTS = "/federation/v1/digests/"


def _peer_digests(peer: Peer, origins: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """The peer's digests of `origins` in one request, and the protocol versions both sides digest under
    (the answer's `agreed`; version 1 from a peer that names none). The request states this node's versions;
    a peer on older code that refuses the parameter (400) is asked again without it. From a peer without
    the batch endpoint (an older version, 404), one request per origin. A failed origin maps to its
    PeerError."""
    wanted = ",".join(origins)
    try:
        try:
            answer = peer_request(
                peer, "GET", DIGESTS, params={"origins": wanted, "protocols": protocols_param()}
            )
        except PeerError as exc:
            if exc.status != 400:  # a peer on older code refuses the parameter it does not know
                raise
            answer = peer_request(peer, "GET", DIGESTS, params={"origins": wanted})
        if isinstance(answer, dict):  # its standards and protocols come with its digests (docs/federation.md)
            peer_standards_record(peer, answer.get("standards"))
            peer_protocols_record(peer, answer.get("protocols"))
        agreed = _agreed(answer)
        if isinstance(answer, dict) and isinstance(answer.get("digests"), dict):
            return {origin: answer["digests"].get(origin) for origin in origins}, agreed
        return dict.fromkeys(origins), agreed
    except PeerError as exc:
        if exc.status != 404:
            return dict.fromkeys(origins, exc), _agreed(None)
    found: dict[str, Any] = {}
    agreed = _agreed(None)
    for origin in origins:
        try:
            answer = peer_request(peer, "GET", f"{DIGESTS}{origin}/")
            found[origin] = answer.get("digests") if isinstance(answer, dict) else None
        except PeerError as exc:
            found[origin] = exc
    return found, agreed


def _agreed(answer: object) -> dict[str, int]:
    """The versions this node digests its own records under to compare with `answer`: what the answer says
    it digested under, never above this node's own (an answer without `agreed` is an older node's: 1)."""
    stated = answer.get("agreed") if isinstance(answer, dict) else None
    return protocols_agreed(protocols_announcement(), stated if isinstance(stated, dict) else {})


def digests_agree(theirs: dict, ours: dict) -> bool:
    """Equal replicas: the same count and digest for every record type either side holds records of. A type
    with no record is left out, so a peer whose code predates a record type (or one that knows a type this
    node does not) agrees while nobody has written one (docs/federation.md, "Anti-entropy")."""
    return _held(theirs) == _held(ours)


def _held(answer: dict) -> dict:
    return {name: d for name, d in answer.items() if not (isinstance(d, dict) and d.get("count") == 0)}


def anti_entropy_check(*, peer: Peer) -> list[dict]:
    """Compare digests with `peer` for every origin both follow; repair what differs. Returns a report.
    This node's digests are those of this round (`selectors.digests`); on a difference they are recomputed
    before anything is repaired."""
    report = []
    origins = sorted({*origins_known(), settings.NODE_CODE})
    answers, agreed = _peer_digests(peer, origins)
    for origin, theirs in answers.items():
        if isinstance(theirs, PeerError):
            report.append(
                {"peer": peer.exchange_id, "origin": origin, "status": "error", "error": str(theirs)}
            )
            continue
        if not isinstance(theirs, dict):
            report.append({"peer": peer.exchange_id, "origin": origin, "status": "error"})
            continue
        if digests_agree(theirs, digests(origin=origin, agreed=agreed)) or digests_agree(
            theirs, digests(origin=origin, fresh=True, agreed=agreed)
        ):
            report.append({"peer": peer.exchange_id, "origin": origin, "status": "equal"})
            continue
        restored = repair_local(origin=origin)
        repaired = 0
        waiting = unknown_standards_waiting(origin) if origin != settings.NODE_CODE else 0
        if waiting and not restored:  # the difference is what this node cannot apply yet: no re-pull
            report.append(
                {
                    "peer": peer.exchange_id,
                    "origin": origin,
                    "status": "waiting_for_standard",
                    "entries": waiting,
                }
            )
            continue
        # Fresh already (the comparison above); again only if rows were just restored.
        if origin != settings.NODE_CODE and not digests_agree(
            digests(origin=origin, fresh=bool(restored), agreed=agreed), theirs
        ):
            try:
                repaired = pull_from(peer, origin, repair=True)
            except PeerError as exc:
                report.append(
                    {"peer": peer.exchange_id, "origin": origin, "status": "error", "error": str(exc)}
                )
                continue
            digests(origin=origin, fresh=True, agreed=agreed)
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
