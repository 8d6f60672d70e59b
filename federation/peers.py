"""The peer directory: the other exchanges' nodes, the keys their signatures must verify with, and their
health. A peer that keeps failing is backed off, not hammered."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.jobs import backoff
from federation import keys
from federation.generation import generation_bump
from federation.models import Peer, SyncState
from federation.selectors import peers_enabled
from federation.signals import peer_changed
from standards.members import is_member
from standards.versions import announcement_valid


def peer_add(*, code: str, base_url: str, public_key: str, enabled: bool = True) -> Peer:
    code = code.upper()
    if not is_member(code):
        raise ValueError(f"unknown exchange code {code!r}")
    if code == settings.NODE_CODE:
        raise ValueError("a node is not its own peer")
    keys.public_key_from_b64(public_key)  # raises KeyError_ on a malformed key
    with transaction.atomic():
        peer, _ = Peer.objects.update_or_create(
            exchange_id=code,
            defaults={"base_url": base_url.rstrip("/"), "public_key": public_key, "enabled": enabled},
        )
        SyncState.objects.get_or_create(origin=code)
        peer_changed.send(sender=Peer, code=code, base_url=peer.base_url, enabled=enabled)
    return peer


def peer_remove(*, code: str) -> bool:
    code = code.upper()
    with transaction.atomic():
        deleted, _ = Peer.objects.filter(exchange_id=code).delete()
        peer_changed.send(sender=Peer, code=code, base_url="", enabled=False)
    return bool(deleted)


# How long after a peer is added its failures to answer are news (INFO) rather than a WARNING, until it
# answers once: nodes started together (`make run`, a new deployment) come up one after the other.
PEER_STARTUP_GRACE = timedelta(minutes=10)


def peer_ok(peer: Peer) -> None:
    """A success talking to `peer`: its failure count, backoff and last error are cleared."""
    Peer.objects.filter(pk=peer.pk).update(
        consecutive_failures=0,
        backoff_until=None,
        last_success_at=timezone.now(),
        last_error="",
        last_error_at=None,
    )


def peer_failure_level(peer: Peer, *, transient: bool) -> int:
    """The log level of a failure talking to `peer`: INFO for a transient one (not listening, a timeout) of
    a peer that never answered and was added less than PEER_STARTUP_GRACE ago, WARNING otherwise."""
    starting = peer.last_success_at is None and timezone.now() - peer.created_at < PEER_STARTUP_GRACE
    return logging.INFO if transient and starting else logging.WARNING


def peer_failed(peer: Peer, error: str) -> None:
    """A transient failure talking to `peer`: it is left alone for a backoff that grows with each one."""
    failures = peer.consecutive_failures + 1
    Peer.objects.filter(pk=peer.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        backoff_until=timezone.now() + backoff(failures),
        last_error=error[:2000],
        last_error_at=timezone.now(),
    )
    peer.consecutive_failures = failures


def peer_usable(peer: Peer) -> bool:
    return peer.enabled and (peer.backoff_until is None or peer.backoff_until <= timezone.now())


def peers_to_pull(origin: str) -> list[Peer]:
    """Where to pull `origin` from: the origin itself first, then every other usable peer (relays)."""
    peers = [p for p in peers_enabled() if peer_usable(p)]
    peers.sort(key=lambda p: (p.exchange_id != origin, random.random()))
    return peers


def peer_standards_record(peer: Peer, announced: object) -> bool:
    """Keep what `peer` announced of its standards (versions and combined hash, `standards.versions`), as
    read from its anti-entropy answer. An announcement of another shape (a node on older code sends none) is
    not kept. Returns whether it was."""
    if not announcement_valid(announced):
        return False
    changed = peer.standards != announced
    Peer.objects.filter(pk=peer.pk).update(standards=announced, standards_at=timezone.now())
    peer.standards = announced
    if changed:  # the version of the recognition check it applies is read into product pages
        generation_bump()
    return True
