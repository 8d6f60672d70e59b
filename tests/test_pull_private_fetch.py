"""A pull fetches the private records whose sealed stubs a round applied before its next round (not after
its last one, nor only through the fetch task, which waits behind the pull on a one-process `sync` worker),
and a failing fetch does not fail the pull."""

import types

import pytest

from federation import pull
from federation.models import SyncState

pytestmark = pytest.mark.django_db
ORIGIN = "BJIDX"


@pytest.fixture
def rounds(monkeypatch):
    """Two rounds: the first applies entries 1..2 while a wake-up announced 4, the second 3..4."""
    calls: list[str] = []
    SyncState.objects.create(origin=ORIGIN, head_seen=4)
    peer = types.SimpleNamespace(exchange_id=ORIGIN)

    def pull_from(peer, origin):
        state = SyncState.objects.get(pk=origin)
        SyncState.objects.filter(pk=origin).update(cursor=state.cursor + 2)
        calls.append(f"round to {state.cursor + 2}")
        return 2

    monkeypatch.setattr(pull, "peers_to_pull", lambda origin: [peer])
    monkeypatch.setattr(pull, "pull_from", pull_from)
    monkeypatch.setattr(pull, "peer_ok", lambda peer: None)
    monkeypatch.setattr(pull, "private_fetches_waiting", lambda: True)
    return calls


def test_each_rounds_private_records_are_fetched_before_the_next_round(rounds, monkeypatch):
    monkeypatch.setattr(pull, "private_fetch_due", lambda: rounds.append("fetch") or 1)
    assert pull.pull_origin(origin=ORIGIN) == 4
    assert rounds == ["round to 2", "fetch", "round to 4", "fetch"]
    assert SyncState.objects.get(pk=ORIGIN).state == SyncState.State.IDLE


def test_a_failing_fetch_leaves_the_pull_to_finish(rounds, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(pull, "private_fetch_due", broken)
    assert pull.pull_origin(origin=ORIGIN) == 4
    state = SyncState.objects.get(pk=ORIGIN)
    assert (state.cursor, state.state, state.last_error) == (4, SyncState.State.IDLE, "")
    assert "fetching private records after a pull round failed" in caplog.text
