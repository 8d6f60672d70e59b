"""Fetching private records in batches (docs/federation.md, *Private records*, private fetch protocol 2).

The due fetches a worker claimed are grouped by the source to ask: each fetch's first source (the origin,
then the other nodes of its audience) that it has not tried yet. Each source gets ONE signed
`POST /federation/v1/private/` naming up to PRIVATE_BATCH_MAX records; it answers the entries it holds whose
audience names the asking node, each exactly as its origin signed it. What verifies is applied in ONE
transaction (record types that create before those that only update a held row, then by origin and `seq`),
each full entry kept and its fetch marked done in it. What a source did not serve (or served wrong) is asked
of the fetch's next source in the next round; a fetch no source gave is retried after the backoff.

A peer on the protocol before batches has no such endpoint and answers 404 (405, or 501 from a server
without POST there): it is asked record by record (`GET private/{origin}/{type}/{gid}/`, each applied in its
own transaction), as before, for the rest of this run.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from itertools import groupby
from typing import NamedTuple

from django.db import DatabaseError, transaction

from federation import replica
from federation.envelope import EnvelopeError
from federation.http import PeerError, peer_request
from federation.models import Peer, PrivateFetch
from federation.private import (
    PRIVATE_BATCH_MAX,
    PRIVATE_BATCH_PATH,
    fetch_failed,
    fetch_one,
    keep_full,
    payload_refusal,
    sources,
    verified,
)

logger = logging.getLogger(__name__)
NO_BATCH_ENDPOINT = {404, 405, 501}  # a peer on the protocol before batches (501: no POST at all)


class Checked(NamedTuple):
    fetch: PrivateFetch
    envelope: dict
    body: str
    signature: str


def fetch_batched(claimed: list[PrivateFetch]) -> int:
    """Fetch the claimed `PrivateFetch` rows, a batch per source and round; returns how many were applied."""
    peers = {p.exchange_id: p for p in Peer.objects.filter(enabled=True)}
    errors: dict[int, list[str]] = defaultdict(list)
    tried: dict[int, set[str]] = defaultdict(set)
    old: set[str] = set()  # sources found without the batch endpoint in this run
    remaining, applied = claimed, 0
    while remaining:
        groups: dict[str, list[PrivateFetch]] = defaultdict(list)
        for fetch in remaining:
            peer = next((p for p in sources(fetch, peers) if p.exchange_id not in tried[fetch.pk]), None)
            if peer is None:
                fetch_failed(fetch, errors[fetch.pk])
                continue
            tried[fetch.pk].add(peer.exchange_id)
            groups[peer.exchange_id].append(fetch)
        remaining = []
        for code, fetches in groups.items():
            done = _from_peer(peers[code], fetches, errors, old)
            applied += len(done)
            remaining += [f for f in fetches if f.pk not in done]
    return applied


def _from_peer(peer: Peer, fetches: list[PrivateFetch], errors: dict, old: set[str]) -> set[int]:
    done: set[int] = set()
    for start in range(0, len(fetches), PRIVATE_BATCH_MAX):
        chunk = fetches[start : start + PRIVATE_BATCH_MAX]
        if peer.exchange_id not in old:
            try:
                asked = time.perf_counter()
                items = _ask(peer, chunk)
            except PeerError as exc:
                if exc.status not in NO_BATCH_ENDPOINT:
                    for fetch in chunk:
                        errors[fetch.pk].append(f"{peer.exchange_id}: {exc}")
                    continue
                old.add(peer.exchange_id)
                logger.info("%s has no batch endpoint for private records: one by one", peer.exchange_id)
            else:
                answered = time.perf_counter()
                done |= _apply_served(peer, chunk, items, errors)
                logger.info(  # where a fetch's time goes (bench/deal_steps.py reads these lines at INFO)
                    "private batch of %d from %s: request %.1f ms, verify and apply %.1f ms",
                    len(chunk),
                    peer.exchange_id,
                    (answered - asked) * 1000,
                    (time.perf_counter() - answered) * 1000,
                )
                continue
        done |= {fetch.pk for fetch in chunk if _one(peer, fetch, errors)}
    return done


def _ask(peer: Peer, chunk: list[PrivateFetch]) -> list:
    body = {"records": [{"origin": f.origin, "type": f.record_type, "gid": f.gid} for f in chunk]}
    answer = peer_request(peer, "POST", PRIVATE_BATCH_PATH, json_body=body)
    if not isinstance(answer, dict) or not isinstance(answer.get("entries"), list):
        raise PeerError("the batch answer is not {entries: [...]}", transient=False)
    return answer["entries"]


def entry_key(item) -> tuple | None:
    entry = item.get("entry") if isinstance(item, dict) else None
    if not isinstance(entry, dict):
        return None
    key = (entry.get("origin"), entry.get("type"), entry.get("gid"))
    return key if all(isinstance(part, str) for part in key) else None


def _apply_served(peer: Peer, chunk: list[PrivateFetch], items: list, errors: dict) -> set[int]:
    """Verify what `peer` served for `chunk` and apply it in one transaction; the ids of the fetches done."""
    asked = {(f.origin, f.record_type, f.gid): f for f in chunk}
    checked: list[Checked] = []
    for item in items:
        fetch = asked.pop(entry_key(item), None)
        if fetch is None:  # not asked for, or served twice: ignored
            continue
        try:
            got = verified(fetch, item)
        except (PeerError, EnvelopeError) as exc:
            errors[fetch.pk].append(f"{peer.exchange_id}: {exc}")
            continue
        if got is None:
            errors[fetch.pk].append(f"{peer.exchange_id}: holds an older version than the stub's")
            continue
        checked.append(Checked(fetch, got[0], got[1], item["signature"]))
    for fetch in asked.values():
        errors[fetch.pk].append(f"{peer.exchange_id}: not served (not held there, or not for this node)")
    if not checked:
        return set()
    try:
        with transaction.atomic():
            done, refused = apply_together(checked)
    except replica.APPLY_FAILURES:  # tell which entry raises: each in its own transaction
        done, refused = apply_each(checked)
    for c in checked:
        if record_key(c.fetch) in refused:
            errors[c.fetch.pk].append(f"{peer.exchange_id}: {refused[record_key(c.fetch)]}")
    return {c.fetch.pk for c in checked if record_key(c.fetch) in done}


def _order(item: Checked) -> tuple:
    creates = replica.get(item.fetch.record_type).creates
    return (not creates, item.fetch.origin, item.envelope["seq"])


def record_key(fetch: PrivateFetch) -> tuple[str, str, str]:
    """(origin, type, gid): what `apply_together` and `apply_each` tell their records apart by (a pushed
    entry's fetch may be one not saved: federation.private_push)."""
    return fetch.origin, fetch.record_type, fetch.gid


def apply_together(checked: list[Checked]) -> tuple[set[tuple], dict[tuple, Exception]]:
    """Apply `checked` (one entry per record) in the caller's transaction: the records' keys done, and the
    refused ones' with why."""
    done, refused = set(), {}
    ordered = sorted(checked, key=_order)
    for (origin, record_type), run in groupby(ordered, key=lambda c: (c.fetch.origin, c.fetch.record_type)):
        run = list(run)
        items = [(c.fetch.gid, c.envelope["version"], c.envelope["payload"]) for c in run]
        bad = replica.get(record_type).apply_batch(origin, items)
        for c in run:
            if c.fetch.gid in bad:
                refused[record_key(c.fetch)] = payload_refusal({c.fetch.gid: bad[c.fetch.gid]})
            else:
                keep_full(c.fetch, c.envelope, c.body, c.signature)
                done.add(record_key(c.fetch))
    return done, refused


def apply_each(checked: list[Checked]) -> tuple[set[tuple], dict[tuple, Exception | str]]:
    done, refused = set(), {}
    for c in sorted(checked, key=_order):
        try:
            with transaction.atomic():
                more, bad = apply_together([c])
        except replica.APPLY_FAILURES as exc:
            refused[record_key(c.fetch)] = _failure(c.fetch, exc)
            continue
        done |= more
        refused.update(bad)
    return done, refused


def _one(peer: Peer, fetch: PrivateFetch, errors: dict) -> bool:
    """One record from a peer without the batch endpoint."""
    try:
        if fetch_one(peer, fetch):
            return True
        errors[fetch.pk].append(f"{peer.exchange_id}: holds an older version than the stub's")
    except (PeerError, EnvelopeError, *replica.APPLY_FAILURES) as exc:
        errors[fetch.pk].append(f"{peer.exchange_id}: {_failure(fetch, exc)}")
    return False


def _failure(fetch: PrivateFetch, exc: Exception) -> Exception | str:
    if isinstance(exc, PeerError | EnvelopeError | DatabaseError):
        return exc
    # a check to tighten: the apply raised on a verified entry
    logger.exception("private fetch of %s %s %s raised", fetch.origin, fetch.record_type, fetch.gid)
    return f"{exc.__class__.__name__}: {exc}"
