"""core/locks.py: per-key transaction locks on PostgreSQL, bounded in number for bulk changes."""

import threading

import pytest
from django.db import connection, connections, transaction

from core.locks import MAX_KEYS, keys_lock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises writers at BEGIN")


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_few_keys_take_a_lock_each_and_many_take_one():
    before = _advisory_locks_held()  # the test's own transaction registered the example provider
    with transaction.atomic():
        keys_lock("test", [f"k{i}" for i in range(10)])
        assert _advisory_locks_held() - before == 11  # the namespace (shared) and the ten keys
        keys_lock("test", ["k1", "k2"])  # held already: nothing new
        assert _advisory_locks_held() - before == 11
        keys_lock("bulk", [f"k{i}" for i in range(50_000)])  # 50,000 would overflow the lock table
        assert _advisory_locks_held() - before == 12


def _hold(keys, started, release, errors):
    try:
        with transaction.atomic():
            keys_lock("race", keys)
            started.set()
            release.wait(10)
    except Exception as exc:  # reported to the test
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.parametrize("first,second", [(["x"], ["x"]), ([f"b{i}" for i in range(MAX_KEYS + 1)], ["x"])])
def test_a_second_locker_waits_for_the_first_to_commit(first, second):
    """One key against the same key, and a bulk change against any single key."""
    started, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold, args=(first, started, release, errors))
    holder.start()
    assert started.wait(10)
    got = threading.Event()

    def second_locker():
        try:
            with transaction.atomic():
                keys_lock("race", second)
                got.set()
        finally:
            connections.close_all()

    waiter = threading.Thread(target=second_locker)
    waiter.start()
    assert not got.wait(0.5), "the second transaction did not wait"
    release.set()
    holder.join(10)
    assert got.wait(10) and not errors
    waiter.join(10)
