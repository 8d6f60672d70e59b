"""A peer's health as the federation status shows it and the log tells it: a success clears the last error,
and a peer that has never answered since it was added (it is still starting) is not a WARNING yet."""

import logging
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from federation.models import Peer, SyncState
from federation.peers import PEER_STARTUP_GRACE, peer_add, peer_failure_level
from federation.pull import pull_origin
from federation.selectors import sync_status
from federation.wakeups import wakeups_deliver, wakeups_enqueue
from tests.loopback import serve
from tests.test_federation_apply import ORIGIN, _public_b64

pytestmark = pytest.mark.django_db

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused, a transient error


@pytest.fixture
def peer() -> Peer:
    return peer_add(code=ORIGIN, base_url=CLOSED, public_key=_public_b64(Ed25519PrivateKey.generate()))


def _pull_again() -> int:
    """Pull ORIGIN now, whatever backoff the last failure set."""
    Peer.objects.filter(pk=ORIGIN).update(backoff_until=None)
    SyncState.objects.filter(pk=ORIGIN).update(state=SyncState.State.PENDING, next_attempt_at=None)
    return pull_origin(origin=ORIGIN)


def _failures(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if "failed" in r.getMessage()]


def test_a_success_clears_the_last_error_of_the_peer_and_of_the_origin(peer):
    assert _pull_again() == 0
    status = sync_status()
    (shown_peer,) = status["peers"]
    (shown_origin,) = [o for o in status["origins"] if o["origin"] == ORIGIN]
    assert "Connection refused" in shown_peer["last_error"] and shown_peer["last_error_at"] is not None
    assert shown_origin["last_error"] and shown_origin["last_error_at"] is not None

    with serve(lambda path: (200, {"entries": [], "head": 0})) as url:
        Peer.objects.filter(pk=ORIGIN).update(base_url=url)
        _pull_again()
    status = sync_status()
    (shown_peer,) = status["peers"]
    (shown_origin,) = [o for o in status["origins"] if o["origin"] == ORIGIN]
    assert (shown_peer["last_error"], shown_peer["last_error_at"]) == ("", None)
    assert shown_peer["consecutive_failures"] == 0 and shown_peer["last_success_at"] is not None
    assert (shown_origin["last_error"], shown_origin["last_error_at"]) == ("", None)
    assert shown_origin["last_success_at"] is not None and shown_origin["last_source"] == ORIGIN


def test_a_peer_not_listening_yet_is_told_at_info_and_once_it_answered_at_warning(peer, caplog):
    caplog.set_level(logging.INFO, logger="federation")
    _pull_again()
    assert _failures(caplog) and {level for level, _ in _failures(caplog)} == {logging.INFO}

    caplog.clear()
    Peer.objects.filter(pk=ORIGIN).update(last_success_at=timezone.now() - timedelta(minutes=1))
    _pull_again()
    assert {level for level, _ in _failures(caplog)} == {logging.WARNING}


def test_a_wake_up_to_a_peer_not_listening_yet_is_told_at_info(peer, caplog):
    caplog.set_level(logging.INFO, logger="federation")
    assert wakeups_enqueue(origin="SHDEX", seq=3) == 1
    assert wakeups_deliver() == 0
    (failure,) = _failures(caplog)
    assert failure[0] == logging.INFO and failure[1].startswith(f"wake-up of {ORIGIN}")


def test_a_peer_that_never_answered_for_the_whole_grace_is_a_warning(peer):
    assert peer_failure_level(peer, transient=True) == logging.INFO
    assert peer_failure_level(peer, transient=False) == logging.WARNING  # a refused signature, a 4xx
    peer.created_at = timezone.now() - PEER_STARTUP_GRACE - timedelta(seconds=1)
    assert peer_failure_level(peer, transient=True) == logging.WARNING
