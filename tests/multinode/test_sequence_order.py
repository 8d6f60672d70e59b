"""Sequence numbers become visible in order: a reader that has seen seq n never later finds a committed entry
below n, even when transactions that publish overlap (docs/federation.md, "the change log").

In process, with real concurrent transactions on separate connections, so PostgreSQL only: SQLite takes its
write lock at BEGIN (transaction_mode IMMEDIATE), so there writers cannot overlap at all.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from federation.models import Entry
from federation.outbox import Change, publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only_and_no_broker(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL only (SQLite serialises writes at BEGIN)")

    class NoWake:
        def delay(self, *args, **kwargs):
            pass

    monkeypatch.setattr("federation.tasks.wake_peers", NoWake())  # publish's after-commit wake-up


def committed_seqs() -> list[int]:
    """What a reader sees right now, from its own connection (autocommit: each query a fresh snapshot)."""
    return list(Entry.objects.filter(origin=settings.NODE_CODE).order_by("seq").values_list("seq", flat=True))


def change(gid: str) -> Change:
    return Change("product", gid, 1, {"n": gid})


class Poller(threading.Thread):
    """A third connection that keeps reading the log and records every violation of the prefix rule."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.snapshots = 0
        self.violations: list[list[int]] = []
        self.error: BaseException | None = None

    def run(self):
        try:
            while not self.stop.is_set():
                seqs = committed_seqs()
                self.snapshots += 1
                if seqs != list(range(1, len(seqs) + 1)):
                    self.violations.append(seqs)
                time.sleep(0.002)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def run_in_thread(target, *args) -> threading.Thread:
    def body():
        try:
            target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def test_a_later_transaction_cannot_commit_a_sequence_number_before_an_open_one():
    with transaction.atomic():
        publish([change("G-0")])
    assert committed_seqs() == [1]
    poller = Poller()
    poller.start()
    t1_published, release_t1, t2_published = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def t1():
        with transaction.atomic():
            seen["t1"] = publish([change("G-1")])
            t1_published.set()
            assert release_t1.wait(20)
        seen["t1_committed_at"] = time.monotonic()

    def t2():
        with transaction.atomic():
            seen["t2"] = publish([change("G-2")])  # waits on the counter row T1 holds
            seen["t2_published_at"] = time.monotonic()
            t2_published.set()
        seen["t2_committed_at"] = time.monotonic()

    first = run_in_thread(t1)
    assert t1_published.wait(20)
    second = run_in_thread(t2)
    # While T1 is open, T2 can take no sequence number and the reader sees only the committed prefix.
    assert not t2_published.wait(1.5), "T2 published while T1 held the counter"
    assert committed_seqs() == [1]
    release_t1.set()
    first.join(20)
    second.join(20)
    poller.stop.set()
    poller.join(20)

    assert poller.error is None, poller.error
    assert seen["t1"] == 2 and seen["t2"] == 3
    assert seen["t2_published_at"] >= seen["t1_committed_at"]
    assert committed_seqs() == [1, 2, 3]
    assert poller.snapshots > 10 and not poller.violations, poller.violations[:3]


def test_many_overlapping_publishers_never_expose_a_gap():
    """Eight threads publish 40 transactions that hold their transaction open for a random while after
    publishing; a reader polling all along only ever sees 1..n."""
    poller = Poller()
    poller.start()
    rng = random.Random(5)
    plans = [[rng.uniform(0, 0.02) for _ in range(5)] for _ in range(8)]

    def publisher(index: int, pauses: list[float]):
        for j, pause in enumerate(pauses):
            with transaction.atomic():
                publish([change(f"P-{index}-{j}")])
                time.sleep(pause)  # commit late: the counter lock makes the others wait, not overtake

    threads = [run_in_thread(publisher, i, pauses) for i, pauses in enumerate(plans)]
    for thread in threads:
        thread.join(60)
    poller.stop.set()
    poller.join(20)

    assert poller.error is None, poller.error
    assert committed_seqs() == list(range(1, 41))
    assert poller.snapshots > 10 and not poller.violations, poller.violations[:3]
