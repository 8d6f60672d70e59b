"""When pulls are queued: at most one queued pull per origin, periodic polls only where they are due, and a
pull that finds part of its page already applied by another skips it.

A busy node (24 peers on two cores in bench/federation24.py) used to queue a pull of every origin on every
tick; its queue grew faster than its worker drained it and a wake-up's pull waited minutes behind them.
"""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from federation.apply import apply_page
from federation.models import SyncState
from federation.peers import peer_add
from federation.pull import pull_enqueue, pulls_due, wake_receive
from federation.tasks import sync_tick
from tests.loopback import serve
from tests.test_federation_apply import ORIGIN, _public_b64, code, item, product, samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def origin_key() -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    return key


def _state(**fields) -> SyncState:
    SyncState.objects.filter(pk=ORIGIN).update(**fields)
    return SyncState.objects.get(pk=ORIGIN)


def test_a_pull_is_queued_once_until_it_starts(origin_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        assert pull_enqueue(ORIGIN) is True
        assert pull_enqueue(ORIGIN) is False  # already waiting on the queue
        assert wake_receive(source=ORIGIN, origin=ORIGIN, seq=5) is True  # scheduled, not queued twice
    assert len(sent) == 1
    assert SyncState.objects.get(pk=ORIGIN).queued_at is not None

    # A queued pull that never started (its message lost with a broker) is queued again after four leases.
    _state(queued_at=timezone.now() - timedelta(seconds=121))
    with django_capture_on_commit_callbacks() as sent:
        assert pull_enqueue(ORIGIN) is True
    assert len(sent) == 1


def test_a_started_pull_lets_the_next_wake_up_queue_another(origin_key, django_capture_on_commit_callbacks):
    from federation.pull import pull_origin

    pull_enqueue(ORIGIN)
    # The peer (http://127.0.0.1:9) refuses the connection: the pull fails, but it started.
    pull_origin(origin=ORIGIN)
    state = SyncState.objects.get(pk=ORIGIN)
    assert state.queued_at is None and state.state == SyncState.State.PENDING and state.last_error
    with django_capture_on_commit_callbacks() as sent:
        assert pull_enqueue(ORIGIN) is True
    assert len(sent) == 1


@override_settings(FEDERATION={**settings.FEDERATION, "POLL_INTERVAL": 30})
def test_periodic_ticks_pull_only_what_is_due(origin_key, django_capture_on_commit_callbacks):
    now = timezone.now()
    _state(last_success_at=None)
    assert pulls_due() == [ORIGIN]  # never pulled
    _state(last_success_at=now - timedelta(seconds=5), state=SyncState.State.IDLE, cursor=10, head_seen=10)
    assert pulls_due() == []  # current, polled recently
    _state(head_seen=12)
    assert pulls_due() == [ORIGIN]  # a wake-up announced entries not applied yet
    _state(head_seen=10, last_success_at=now - timedelta(seconds=31))
    assert pulls_due() == [ORIGIN]  # the safety poll: a wake-up may have been lost
    _state(state=SyncState.State.PENDING, attempts=3, next_attempt_at=now + timedelta(seconds=60))
    assert pulls_due() == []  # failing: waits out its backoff
    _state(next_attempt_at=now - timedelta(seconds=1))
    assert pulls_due() == [ORIGIN]

    # The tick queues due pulls once, however many ticks pass before a worker starts them.
    with django_capture_on_commit_callbacks() as sent:
        sync_tick()
        sync_tick()
        sync_tick()
    pulls = [c for c in sent if getattr(c, "name", "") == "federation.tasks.pull_origin"]
    assert len(pulls) == 1


def test_a_page_partly_applied_by_another_pull_is_skipped_and_the_lease_renewed(origin_key):
    d = samples(3, seed=21)
    items = [item(origin_key, seq=i + 1, gid=code(i + 1), payload=product(i + 1, d[i])) for i in range(3)]
    assert apply_page(origin=ORIGIN, items=items[:2], source=ORIGIN, after=0) == (2, 2)
    lease = timezone.now() + timedelta(seconds=1)
    _state(state=SyncState.State.RUNNING, lease_until=lease)
    # A second pull fetched from cursor 0 before the first committed: it applies only entry 3.
    assert apply_page(origin=ORIGIN, items=items, source="GYBDX", after=0) == (1, 3)
    state = SyncState.objects.get(pk=ORIGIN)
    assert state.cursor == 3
    assert state.lease_until > lease  # renewed by the page it applied


class _SlowPeer(BaseHTTPRequestHandler):
    """A peer's /federation/v1/wake/ that takes its time: counts how many requests are in flight at once."""

    lock = threading.Lock()
    in_flight = 0
    most = 0
    paths: list = []

    def do_POST(self):
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most = max(cls.most, cls.in_flight)
            cls.paths.append(self.path)
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.5)
        with cls.lock:
            cls.in_flight -= 1
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"scheduled": true}')

    def log_message(self, *args):
        pass


def test_wake_ups_go_to_several_peers_at_once_and_each_outcome_is_recorded(db):
    from federation.models import Peer, Wakeup
    from federation.wakeups import wakeups_deliver, wakeups_enqueue

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowPeer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SlowPeer.most, _SlowPeer.paths = 0, []
    try:
        for code in ("BJIDX", "GYBDX", "SZDEX"):  # three peers answering slowly
            key = Ed25519PrivateKey.generate()
            peer_add(
                code=code, base_url=f"http://127.0.0.1:{server.server_port}", public_key=_public_b64(key)
            )
        peer_add(
            code="TJNBD", base_url="http://127.0.0.1:9", public_key=_public_b64(Ed25519PrivateKey.generate())
        )
        assert wakeups_enqueue(origin="SHDEX", seq=7) == 4
        assert wakeups_deliver() == 3
    finally:
        server.shutdown()
    assert _SlowPeer.most >= 2  # not one after the other
    assert _SlowPeer.paths == ["/federation/v1/wake/"] * 3
    states = dict(Wakeup.objects.values_list("peer_id", "state"))
    assert states == {"BJIDX": "done", "GYBDX": "done", "SZDEX": "done", "TJNBD": "pending"}
    refused = Peer.objects.get(pk="TJNBD")  # connection refused: transient, the peer is backed off
    assert refused.consecutive_failures == 1 and refused.backoff_until is not None
    assert Wakeup.objects.get(peer_id="TJNBD").attempts == 1


class _Feed:
    """A source on loopback serving fixed feed pages keyed by `after` (what a relay chooses to send)."""

    pages: dict = {}
    asked: list = []

    @classmethod
    def answer(cls, path: str) -> tuple[int, dict]:
        from urllib.parse import parse_qs, urlsplit

        after = int(parse_qs(urlsplit(path).query)["after"][0])
        cls.asked.append(after)
        head = max([e["entry"]["seq"] for page in cls.pages.values() for e in page] or [0])
        return 200, {"entries": cls.pages.get(after, []), "head": head}


@pytest.fixture
def feed_source(origin_key):
    from federation.models import Peer

    _Feed.asked = []
    with serve(_Feed.answer) as url:
        Peer.objects.filter(pk=ORIGIN).update(base_url=url)
        yield Peer.objects.get(pk=ORIGIN)


def test_the_next_page_is_fetched_while_one_is_applied_and_nothing_is_skipped(origin_key, feed_source):
    from federation.pull import pull_from

    docs = samples(5, seed=31)
    entries = [item(origin_key, seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in range(1, 6)]
    _Feed.pages = {0: entries[:2], 2: entries[2:4], 4: entries[4:], 5: []}
    assert pull_from(feed_source, ORIGIN) == 5
    assert SyncState.objects.get(pk=ORIGIN).cursor == 5
    assert _Feed.asked == [0, 2, 4, 5]  # each page asked for once, the next one while this one applied


def test_a_page_whose_last_entry_does_not_verify_is_fetched_again_from_the_applied_cursor(
    origin_key, feed_source
):
    """A relay serves [1, 2, forged 50]: the page fetched ahead from 50 is dropped and the pull goes on from
    2, so entries 3 and 4 are not skipped."""
    from federation.models import QuarantinedEntry
    from federation.pull import pull_from

    docs = samples(4, seed=32)
    real = [item(origin_key, seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in range(1, 5)]
    forged = item(Ed25519PrivateKey.generate(), seq=50, gid=code(50), payload=product(50, docs[0]))
    _Feed.pages = {0: [*real[:2], forged], 2: real[2:], 4: [], 50: []}
    assert pull_from(feed_source, ORIGIN) == 4
    assert SyncState.objects.get(pk=ORIGIN).cursor == 4
    # The page ahead from 50 is asked for unless it was cancelled before its turn came; never used.
    assert [after for after in _Feed.asked if after != 50] == [0, 2, 4] and _Feed.asked.count(50) <= 1
    assert list(QuarantinedEntry.objects.filter(origin=ORIGIN).values_list("seq", flat=True)) == [50]


def test_pages_apply_takes_any_page_source_and_asks_from_each_applied_cursor(origin_key):
    """The pull's page loop (`pages_apply`) with pages from memory, as bench/replication.py feeds it."""
    from federation.pull import pages_apply
    from products.models import Product

    docs = samples(5, seed=34)
    entries = [item(origin_key, seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in range(1, 6)]
    asked = []

    def fetch(after: int) -> tuple[list, int]:
        asked.append(after)
        return [e for e in entries if e["entry"]["seq"] > after][:2], 5

    assert pages_apply(ORIGIN, fetch, source=ORIGIN, after=0) == 5
    assert asked == [0, 2, 4, 5]
    state = SyncState.objects.get(pk=ORIGIN)
    assert (state.cursor, state.head_seen) == (5, 5)
    assert Product.objects.filter(exchange_id=ORIGIN).count() == 5


def test_the_tick_queues_a_private_fetch_only_when_one_is_due(monkeypatch):
    """Every node's tick used to queue a fetch task every 5 s whether or not anything was waiting (24 nodes:
    five useless tasks a second on two cores)."""
    from federation import tasks
    from federation.models import PrivateFetch

    queued = []
    monkeypatch.setattr(tasks.fetch_private, "delay", lambda: queued.append(1))
    tasks.sync_tick()
    assert queued == []
    fetch = PrivateFetch.objects.create(
        origin="BJIDX", record_type="demand_response", gid="BJIDX-" + "b" * 32, version=1,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    tasks.sync_tick()
    assert queued == []  # backed off: not due yet
    PrivateFetch.objects.filter(pk=fetch.pk).update(next_attempt_at=timezone.now())
    tasks.sync_tick()
    assert queued == [1]
    expired = timezone.now() - timedelta(seconds=1)
    PrivateFetch.objects.filter(pk=fetch.pk).update(state="running", lease_until=expired)
    tasks.sync_tick()
    assert queued == [1, 1]  # a fetch whose worker died: taken over


def test_a_pull_fetches_the_private_records_its_stubs_named_in_the_same_task(monkeypatch):
    """A deal's step reaches the other party's node through a pull (its sealed stub) and a fetch: the pull
    task makes the fetch itself once it is done, rather than leave it to a task queued behind other pulls."""
    from federation import tasks
    from federation.models import PrivateFetch

    fetched, stubs = [], []

    def pull(origin):
        for gid in stubs:
            PrivateFetch.objects.create(
                origin=origin, record_type="deal_step", gid=gid, version=1, audience=[origin, "SHDEX"],
                next_attempt_at=timezone.now(),
            )  # fmt: skip
        stubs.clear()

    monkeypatch.setattr(tasks, "pull_origin_now", lambda origin: pull(origin))
    monkeypatch.setattr(tasks, "private_fetch_due", lambda: fetched.append(1))
    stubs.append("BJIDX-" + "c" * 32)
    tasks.pull_origin("BJIDX")
    assert fetched == [1]
    PrivateFetch.objects.update(state="done")
    tasks.pull_origin("BJIDX")  # no stub for this node: no fetch
    assert fetched == [1]
