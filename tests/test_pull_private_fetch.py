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


def test_a_pull_fetches_after_each_page_not_once_the_feed_runs_dry():
    """An origin publishing steadily keeps the feed from running dry for seconds: the private records a page's
    stubs named are fetched once that page committed (while the next page is asked for), not after the
    last page."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from federation.models import Entry
    from federation.peers import peer_add
    from products.models import Product
    from tests.test_federation_apply import _public_b64, code, item, product, samples

    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    docs = samples(5, seed=35)
    entries = [item(key, seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in range(1, 6)]
    fetches: list[str] = []

    def fetch(after: int) -> tuple[list, int]:
        return [e for e in entries if e["entry"]["seq"] > after][:2], 5

    def fetched() -> None:
        cursor = SyncState.objects.get(pk=ORIGIN).cursor
        fetches.append(f"cursor {cursor}, {Entry.objects.filter(origin=ORIGIN).count()} held")

    assert pull.pages_apply(ORIGIN, fetch, source=ORIGIN, after=0, after_page=fetched) == 5
    # One fetch per page applied, each after that page committed; none after the empty page.
    assert fetches == ["cursor 2, 2 held", "cursor 4, 4 held", "cursor 5, 5 held"]
    assert Product.objects.filter(exchange_id=ORIGIN).count() == 5


def test_pull_from_fetches_after_each_page(monkeypatch):
    """`pull_from` (a pull's round and a repair) passes the fetch as the page hook."""
    seen = {}

    def pages_apply(origin, fetch, **kwargs):
        seen.update(kwargs)
        return 0

    SyncState.objects.create(origin=ORIGIN)
    monkeypatch.setattr(pull, "pages_apply", pages_apply)
    pull.pull_from(types.SimpleNamespace(exchange_id=ORIGIN), ORIGIN)
    assert seen["after_page"] is pull._fetch_private_now
