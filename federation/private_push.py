"""Private records pushed with the wake-up (docs/federation.md, *Private records*, "Pushed with the wake-up").

Without it a private record takes three hops to a node of its audience: the origin's wake-up, that node's pull
of the sealed stub, then its fetch of the full entry (`federation.private_batch`). With it, the origin's
wake-up to a peer of the audience carries the full entries (each exactly as the origin signed it, with the
audience its stub names), and the peer verifies and applies them while it answers: one hop. The stub still
comes with the next pull, finds the record held and fetches nothing.

A push is only a speed-up, like the wake-up itself: whatever is not pushed (a peer that does not announce
`private_push`, more than PUSH_MAX entries or PUSH_BYTES since the last push, an entry older than the
PUSH_SCAN newest) or not applied (a bad signature, a record it depends on not there yet) is fetched after the
stub as before. Sender and receiver are the origin itself: a peer takes pushed entries only from the node that
signed them, and only those whose audience names it.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction

from core.exceptions import ValidationFailed
from federation import replica
from federation.envelope import EnvelopeError
from federation.http import PeerError
from federation.models import PrivateEntry, PrivateFetch, Wakeup
from federation.private import verified
from federation.private_batch import Checked, apply_each, apply_together, entry_key, record_key
from federation.stubs import stub_check

logger = logging.getLogger(__name__)
PUSH_MAX = 20  # entries one wake-up carries at most
PUSH_BYTES = 256 * 1024  # and the size of their bodies
PUSH_SCAN = 200  # the newest private entries of the origin looked at for one wake-up


def push_enabled() -> bool:
    return bool(settings.FEDERATION["PRIVATE_PUSH"])


def _takes_pushes(announced: object) -> bool:
    version = announced.get("private_push") if isinstance(announced, dict) else None
    return type(version) is int and version >= 1


# --- Sending ------------------------------------------------------------------------------------------------
def pushes_for(wakeups: list[Wakeup]) -> list[list[dict]]:
    """For each claimed wake-up, the private entries to push with it: those of its origin (this node)
    published after the last push to its peer and up to the seq it announces, whose audience names the peer,
    oldest first; none for a peer that does not announce `private_push`."""
    out: list[list[dict]] = []
    for wakeup in wakeups:
        peer = wakeup.peer
        if not push_enabled() or wakeup.origin != settings.NODE_CODE or not _takes_pushes(peer.protocols):
            out.append([])
            continue
        newest = (
            PrivateEntry.objects.filter(origin=wakeup.origin, seq__gt=wakeup.pushed_seq, seq__lte=wakeup.seq)
            .order_by("-seq")
            .values_list("audience", "body", "signature")[:PUSH_SCAN]
        )
        items, size = [], 0
        for audience, body, signature in newest:
            if peer.exchange_id not in audience:
                continue
            size += len(body.encode())
            if len(items) == PUSH_MAX or size > PUSH_BYTES:
                break
            items.append({"entry": json.loads(body), "signature": signature, "audience": audience})
        out.append(items[::-1])
    return out


# --- Receiving ----------------------------------------------------------------------------------------------
def _known(source: str, items: list) -> tuple[dict, dict]:
    """This node's fetches and held versions of the records `items` name, by key: two queries."""
    gids = {key[2] for key in map(entry_key, items) if key is not None and key[0] == source}
    fetches = {record_key(f): f for f in PrivateFetch.objects.filter(origin=source, gid__in=gids)}
    entries = PrivateEntry.objects.filter(origin=source, gid__in=gids)
    rows = entries.values_list("record_type", "gid", "version")
    return fetches, {(source, record_type, gid): version for record_type, gid, version in rows}


def _checked(source: str, item: dict, fetches: dict, held: dict) -> Checked | None:
    """The pushed `item` verified, or None (a bad signature told in the log) when this node does not take it.
    `fetches` and `held`: this node's fetches and held versions of the records pushed (`_known`)."""
    key = entry_key(item)
    if key is None or key[0] != source or source == settings.NODE_CODE:
        return None  # only the origin pushes its own records
    origin, record_type, gid = key
    stub = {"type": record_type, "gid": gid, "audience": item.get("audience")}
    try:  # the audience as the record's sealed stub carries it, checked as a stub is
        stub_check(f"{record_type}:{gid}", stub, known=replica.get(record_type) is not None)
    except ValidationFailed:
        return None
    if settings.NODE_CODE not in stub["audience"]:
        return None
    fetch = fetches.get(key)
    if fetch is not None and fetch.state == PrivateFetch.State.RUNNING:
        return None  # its stub came first and a fetch of it is under way: two applies would collide
    if fetch is None:  # the stub has not come yet: the audience is the origin's own word, as its stub's is
        fetch = PrivateFetch(origin=origin, record_type=record_type, gid=gid, version=0)
        fetch.audience = stub["audience"]
    try:
        got = verified(fetch, {"entry": item["entry"], "signature": item.get("signature")})
    except (PeerError, EnvelopeError) as exc:
        logger.warning("entry pushed by %s refused: %s %s: %s", source, record_type, gid, exc)
        return None
    if got is None or held.get(key, 0) >= got[0]["version"]:
        return None  # older than a stub already seen (its fetch gets the newer one), or held already
    return Checked(fetch, got[0], got[1], item["signature"])


def pushed_apply(*, source: str, items: list) -> int:
    """Apply the private entries peer `source` pushed with its wake-up; returns how many were applied. What
    is not applied is left to the fetch after the stub, so nothing here fails the wake-up."""
    if not items or not push_enabled():
        return 0
    try:
        fetches, held = _known(source, items)
        latest: dict[tuple, Checked] = {}  # one entry per record: its highest version pushed
        for c in (_checked(source, item, fetches, held) for item in items):
            key = None if c is None else record_key(c.fetch)
            if key is not None and (key not in latest or _version(latest[key]) < _version(c)):
                latest[key] = c
        checked = list(latest.values())
        if not checked:
            return 0
        try:
            with transaction.atomic():
                done, refused = apply_together(checked)
                _fetches_done(checked, done)
        except replica.APPLY_FAILURES:  # tell which entry raises: each in its own transaction
            done, refused = apply_each(checked)
            with transaction.atomic():
                _fetches_done(checked, done)
    except Exception:  # a speed-up must not fail the wake-up: the fetch after the stub covers it
        logger.exception("entries pushed by %s not applied", source)
        return 0
    for key, exc in refused.items():
        logger.info("entry pushed by %s not applied (the fetch after its stub asks): %s %s", source, key, exc)
    return len(done)


def _version(c: Checked) -> int:
    return c.envelope["version"]


def _fetches_done(checked: list[Checked], done: set) -> None:
    """A stub that came while the push was applied left a fetch: done, if it asks for no newer version."""
    for c in checked:
        if c.fetch.pk is None and record_key(c.fetch) in done:
            PrivateFetch.objects.filter(
                origin=c.fetch.origin,
                record_type=c.fetch.record_type,
                gid=c.fetch.gid,
                version__lte=c.envelope["version"],
            ).exclude(state=PrivateFetch.State.RUNNING).update(state=PrivateFetch.State.DONE, last_error="")
