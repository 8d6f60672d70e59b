"""Recognitions at national size (issue 25, target 3): what every exchange's verdict on every product costs a
node — rows, bytes and apply time — measured at N products and projected to 1,000,000.

    .venv/bin/python bench/recognitions.py [--count 10000] [--peers 23] [--page N]

This node (SHDEX) lists N products through the real bulk import (as bench/search.py loads them: one import
worker here, so the machine's other work is not crowded out), which also writes its own home recognition of
each. Then each of the PEERS other member exchanges, a peer with its own Ed25519 key, sends its recognition
of every product as signed feed entries, applied page by page through the real apply path
(`federation.apply.apply_page`: envelope checks, signature verification, the record type's checks, bulk
upsert, the entry kept for relaying). Reported: recognition rows, bytes of the recognition table and its
indexes and of the federation log entries the recognitions make, and apply time per 1,000 entries, beside a
baseline in the same run — a bare INSERT (executemany, one transaction) of the same recognition rows and log
rows into copies of the two tables with the same indexes. Then the projection to 1,000,000 products.

Before it, in the same run, the new scheme (recognition protocol 2, docs/federation.md "Recognitions at national
size"): every peer sends only its exceptions — operators' decisions on a share `--exceptions` of the products
(default 0.05, one product in twenty reviewed at every exchange; each peer a different share) — and every other
exchange's verdict is computed here from the verdict stored once per product (`Product.verdict`): its rows,
bytes (the exceptions, their log entries, the verdict columns) and apply time, and the time of one
`recognised_by` count over the computed verdicts; then the peers' rows and entries are removed (VACUUM FULL)
and the old scheme is measured as above.
PostgreSQL only (its own database, `<BENCH_DATABASE_URL>_recognitions`): sizes come from its catalogue.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

from common import bench_database_url, load, load_average, machine, setup_django, signed_recognition

PROJECT_TO = 1_000_000


def _sizes(cur) -> dict[str, int]:
    """Heap and index bytes of the recognition table and of the federation log."""
    out = {}
    for table in ("products_recognition", "federation_entry"):
        cur.execute("SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)", [table, table])
        out[table + ".heap"], out[table + ".indexes"] = cur.fetchone()
    return out


def _signers(count: int) -> list[tuple[str, object]]:
    """COUNT member exchanges other than this node, each made a peer with a fresh key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from exchanges.models import Exchange
    from federation.peers import peer_add

    codes = list(
        Exchange.objects.exclude(code=settings.NODE_CODE).order_by("code").values_list("code", flat=True)
    )[:count]
    out = []
    for code in codes:
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=base64.b64encode(raw).decode())
        out.append((code, key))
    return out


def _feed(
    exchange: str, key, products: list[tuple[str, int]], *, first: int = 1, decided_by: str = "auto"
) -> list[dict]:
    """EXCHANGE's log of its verdicts on PRODUCTS from sequence number FIRST, signed as its node signs them."""
    return [
        signed_recognition(code, exchange, seq, key, product_version=version, decided_by=decided_by)
        for seq, (code, version) in enumerate(products, start=first)
    ]


def _exceptions(products: list[tuple[str, int]], share: float, n: int) -> list[tuple[str, int]]:
    """The products the N-th peer's operators decided by hand: every (1/SHARE)-th, from an offset of its own."""
    step = max(1, round(1 / share)) if share > 0 else 0
    return [p for i, p in enumerate(products) if step and (i + n * 7) % step == 0]


def _timed_count(queryset) -> tuple[float, int]:
    started = time.perf_counter()
    n = queryset.count()
    return (time.perf_counter() - started) * 1000, n


def _new_scheme(cur, signers, products, page: int, share: float) -> dict:
    """Recognition protocol 2: the peers' exceptions applied; rows, bytes, time, and a computed read."""
    from products.models import Product, Recognition
    from products.selectors import product_filter_recognised_by
    from standards.recognition import recognition_evaluate

    cur.execute("VACUUM (ANALYZE)")
    before = _sizes(cur)
    seconds, entries = 0.0, 0
    for n, (exchange, key) in enumerate(signers):
        items = _feed(exchange, key, _exceptions(products, share, n), decided_by="operator")
        seconds += _apply(exchange, items, page) if items else 0.0
        entries += len(items)
    cur.execute("VACUUM (ANALYZE)")
    after = _sizes(cur)
    cur.execute(
        "SELECT coalesce(sum(pg_column_size(verdict) + pg_column_size(verdict_reasons)), 0) FROM products_product"
    )
    verdict_bytes = cur.fetchone()[0]
    descriptors = list(Product.objects.order_by("id").values_list("descriptor", flat=True)[:1000])
    started = time.perf_counter()
    for d in descriptors:
        recognition_evaluate(d)
    check_us = (time.perf_counter() - started) / max(1, len(descriptors)) * 1e6
    read_ms, recognised = _timed_count(
        product_filter_recognised_by(Product.objects.filter(status="listed"), exchange_code=signers[-1][0])
    )
    return {
        "rows": Recognition.objects.count(),
        "entries": entries,
        "seconds": seconds,
        "rec_bytes": after["products_recognition.heap"] + after["products_recognition.indexes"],
        "log_delta": sum(after[k] - before[k] for k in ("federation_entry.heap", "federation_entry.indexes")),
        "verdict_bytes": verdict_bytes,
        "check_us": check_us,
        "read_ms": read_ms,
        "recognised": recognised,
    }


def _reset(cur, node: str) -> None:
    """Back to this node's own recognitions only: the peers' rows and log entries removed, tables rewritten."""
    cur.execute("DELETE FROM products_recognition WHERE exchange_id <> %s", [node])
    cur.execute("DELETE FROM federation_entry WHERE record_type = 'recognition' AND origin <> %s", [node])
    cur.execute("VACUUM FULL products_recognition, federation_entry")


def _apply(exchange: str, items: list[dict], page: int) -> float:
    """Seconds to apply ITEMS page by page, as a pull applies a fetched page."""
    from federation.apply import apply_page

    started = time.perf_counter()
    after = 0
    for i in range(0, len(items), page):
        _, after = apply_page(origin=exchange, items=items[i : i + page], source=exchange, after=after)
    return time.perf_counter() - started


def _raw_insert(cur, feeds: list[tuple[str, list[dict]]]) -> tuple[float, dict[str, int]]:
    """Seconds of a bare INSERT of the same recognition and log rows into copies of both tables (same
    indexes), and the copies' sizes."""
    from federation.envelope import canonical

    rec, log = [], []
    for exchange, items in feeds:
        for it in items:
            e, p = it["entry"], it["entry"]["payload"]
            rec.append((p["product"], exchange, p["status"], p["product_version"], p["decided_by"]))
            log.append((exchange, e["seq"], e["gid"], canonical(e), it["signature"]))
    cur.execute("DROP TABLE IF EXISTS bench_raw_recognition, bench_raw_entry")
    cur.execute("CREATE TABLE bench_raw_recognition (LIKE products_recognition INCLUDING ALL)")
    cur.execute("CREATE TABLE bench_raw_entry (LIKE federation_entry INCLUDING ALL)")
    raw = cur.connection
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as c:
        for i in range(0, len(rec), 1000):
            c.executemany(
                "INSERT INTO bench_raw_recognition (product_code, exchange_id, status, reasons, "
                "product_version, decided_by, policy_version, version, updated_at) "
                "VALUES (%s, %s, %s, '[]', %s, %s, '1.0', 1, now())",
                rec[i : i + 1000],
            )
            c.executemany(
                "INSERT INTO bench_raw_entry (origin, seq, record_type, gid, version, body, signature, "
                "recorded_at) VALUES (%s, %s, 'recognition', %s, 1, %s, %s, now())",
                log[i : i + 1000],
            )
    seconds = time.perf_counter() - started
    sizes = {}
    for table in ("bench_raw_recognition", "bench_raw_entry"):
        cur.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
        sizes[table] = cur.fetchone()[0]
    cur.execute("DROP TABLE bench_raw_recognition, bench_raw_entry")
    return seconds, sizes


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000, help="listed products")
    parser.add_argument("--peers", type=int, default=23, help="other member exchanges sending recognitions")
    parser.add_argument(
        "--page", type=int, default=None, help="entries per page (default: FEDERATION_PAGE_SIZE)"
    )
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument(
        "--exceptions",
        type=float,
        default=0.05,
        help="share of products each peer decides by hand (new scheme)",
    )
    args = parser.parse_args()

    os.environ.setdefault("NODE_KEY_FILE", str(Path(tempfile.mkdtemp()) / "node_key.pem"))
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    url = setup_django(bench_database_url("recognitions"))
    from django.conf import settings
    from django.db import connection

    from products.models import Product, Recognition
    from products.selectors import product_filter_recognised_by

    page = args.page or settings.FEDERATION["PAGE_SIZE"]
    print(f"machine: {machine()}")
    print(f"database: {url}  products: {args.count}  peers: {args.peers}  page: {page}")
    print(load_average("start"))
    seconds = load(args.count, args.seed, jobs=1)
    products = list(Product.objects.filter(status="listed").order_by("code").values_list("code", "version"))
    print(f"loaded {len(products)} listed products in {seconds:.1f} s (import_stream jobs=1)")
    signers = _signers(args.peers)
    with connection.cursor() as cur:
        new = _new_scheme(cur, signers, products, page, args.exceptions)
        _reset(cur, settings.NODE_CODE)
        cur.execute("VACUUM (ANALYZE)")
        before = _sizes(cur)
    first = max(1, new["entries"] + 1)  # each peer's log goes on after its exceptions

    feeds, applied_seconds = [], 0.0
    for exchange, key in signers:
        items = _feed(exchange, key, products, first=first)
        applied_seconds += _apply(exchange, items, page)
        feeds.append((exchange, items))
    entries = sum(len(items) for _, items in feeds)
    held = Recognition.objects.count()
    members = len(signers) + 1
    if held != members * len(products):
        print(f"FAILED: {held} recognitions held, not {members} × {len(products)}", file=sys.stderr)
        return 1
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE)")
        after = _sizes(cur)
        cur.execute("SELECT count(*) FROM federation_entry WHERE record_type = 'recognition'")
        log_rows = cur.fetchone()[0]
        raw_seconds, raw_sizes = _raw_insert(cur, feeds)

    rec_bytes = after["products_recognition.heap"] + after["products_recognition.indexes"]
    log_delta = sum(after[k] - before[k] for k in ("federation_entry.heap", "federation_entry.indexes"))
    per_entry_log = log_delta / entries
    per_row_rec = rec_bytes / held
    print(
        f"recognition rows: {held:,} ({members} exchanges × {len(products):,} products); "
        f"recognition log entries: {log_rows:,}"
    )
    print(
        f"recognition table: {_mb(after['products_recognition.heap'])} heap + "
        f"{_mb(after['products_recognition.indexes'])} indexes = {_mb(rec_bytes)} ({per_row_rec:.0f} B/row)"
    )
    print(
        f"log entries of the {entries:,} applied recognitions: {_mb(log_delta)} heap + indexes "
        f"({per_entry_log:.0f} B/entry)"
    )
    print(
        f"apply {entries:,} recognition entries (apply_page: verify + check + upsert + keep the entry): "
        f"{applied_seconds:.1f} s = {applied_seconds / entries * 1000 * 1000:.0f} ms per 1,000 entries "
        f"({entries / applied_seconds:,.0f} entries/s)"
    )
    print(
        f"baseline, bare INSERT of the same recognition + log rows (executemany, same indexes): "
        f"{raw_seconds:.1f} s = {raw_seconds / entries * 1000 * 1000:.0f} ms per 1,000 "
        f"({entries / raw_seconds:,.0f} entries/s, two rows each), {_mb(sum(raw_sizes.values()))}; apply/INSERT "
        f"{applied_seconds / raw_seconds:.1f}×"
    )
    scale = PROJECT_TO / len(products)
    rows = members * PROJECT_TO
    disk = per_row_rec * rows + per_entry_log * rows
    print(
        f"projection to {PROJECT_TO:,} products × {members} exchanges: {rows:,} rows, recognition table "
        f"{_gb(per_row_rec * rows)} + log {_gb(per_entry_log * rows)} = {_gb(disk)}; applying the "
        f"{len(signers)} peers' {len(signers) * PROJECT_TO:,} entries (a new node's catch-up of them) "
        f"{applied_seconds * scale / 3600:.1f} h at this rate (bare INSERT {raw_seconds * scale / 3600:.1f} h)"
    )
    _report_new(new, members, len(products), per_entry_log, per_row_rec, args.exceptions)
    read_ms, recognised = _timed_count(
        product_filter_recognised_by(Product.objects.filter(status="listed"), exchange_code=signers[-1][0])
    )
    print(
        f"recognised_by={signers[-1][0]} count over records (old scheme): {read_ms:.1f} ms ({recognised:,}); "
        f"over computed verdicts (new scheme): {new['read_ms']:.1f} ms ({new['recognised']:,})"
    )
    print(load_average("end"))
    return 0


def _report_new(new: dict, members: int, n: int, old_entry_bytes: float, old_row_bytes: float, share) -> None:
    """The new scheme's figures beside the old one's, and both projected to PROJECT_TO products."""
    rows, entries = new["rows"], new["entries"]
    disk = new["rec_bytes"] + new["log_delta"] + new["verdict_bytes"]
    old_disk = (old_row_bytes + old_entry_bytes) * members * n
    print(
        f"new scheme (protocol 2, {share:.0%} of products decided by hand at each peer): recognition rows "
        f"{rows:,} (this node's {n:,} + {rows - n:,} peers' exceptions); log entries of the peers' exceptions "
        f"{entries:,} ({_mb(new['log_delta'])}); recognition table {_mb(new['rec_bytes'])}; verdict columns "
        f"{_mb(new['verdict_bytes'])} ({new['verdict_bytes'] / n:.0f} B/product); on disk {_mb(disk)} "
        f"against {_mb(old_disk)} in the old scheme ({old_disk / max(disk, 1):.1f}×)"
    )
    per_1000 = new["seconds"] / entries * 1e6 if entries else 0.0
    print(
        f"new scheme apply of the peers' {entries:,} exception entries: {new['seconds']:.1f} s "
        f"({per_1000:.0f} ms per 1,000); the automatic check computed once per product: "
        f"{new['check_us']:.0f} µs per product"
    )
    scale = PROJECT_TO / n
    print(
        f"new scheme projected to {PROJECT_TO:,} products: {rows * scale:,.0f} rows, {_gb(disk * scale)} "
        f"on disk, the peers' exceptions applied in {new['seconds'] * scale / 60:.1f} min; computing the "
        f"check for every product {new['check_us'] * PROJECT_TO / 1e6 / 60:.1f} min of one core"
    )


if __name__ == "__main__":
    sys.exit(main())
