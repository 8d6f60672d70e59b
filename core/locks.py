"""Transaction-scoped locks on names that may not have a row yet.

Two transactions that both decide "no row for this key exists, so I create it" race: on PostgreSQL (READ
COMMITTED) neither sees the other's uncommitted insert. A registration made here and one of the same company
applied from a peer at the same moment is such a race (both think they are the only registration; both create
this node's recognition row, and one fails on the unique constraint). `keys_lock` serialises those
transactions: the second waits at the lock until the first commits, then reads what it wrote.

SQLite needs nothing: its transactions are IMMEDIATE (registry/settings.py), so writers already run one at a
time and each reads what the previous one committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

from django.db import connection


def lock_id(namespace: str, key: str) -> int:
    """The signed 64-bit advisory-lock id of `key` in `namespace` (stable across processes and nodes)."""
    digest = blake2b(f"{namespace}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Each lock held takes a slot in PostgreSQL's shared lock table (max_locks_per_transaction x connections,
# about 6,400 by default, for the whole server): a bulk registration of 50,000 companies cannot take a lock
# per company. Beyond this many keys a transaction locks the namespace as a whole instead.
MAX_KEYS = 64


def keys_lock(namespace: str, keys: Iterable[str]) -> None:
    """Hold a lock on each of `keys` until the current transaction ends.

    Every caller first takes the namespace's lock — shared for up to MAX_KEYS keys, then the keys' own locks
    exclusively; exclusive for more, instead of the keys' — so a bulk change and a single one exclude each
    other with at most MAX_KEYS + 1 locks held. Keys are locked in one order (sorted ids, one statement), so
    two callers with overlapping sets cannot deadlock on them; taking a lock this transaction already holds
    is free. (A transaction that locks a few keys and later more than MAX_KEYS may deadlock with another
    doing the same; PostgreSQL then aborts one of them.)"""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("keys_lock needs a transaction: the lock is released when it ends")
    ids = sorted({lock_id(namespace, key) for key in keys})
    if not ids:
        return
    whole = lock_id(namespace, "\x00*")
    with connection.cursor() as cursor:
        if len(ids) > MAX_KEYS:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [whole])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [whole])
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k))"
            " FROM (SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS s",
            [ids],
        )
