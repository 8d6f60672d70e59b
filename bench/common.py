"""Shared helpers for the benchmarks: a fresh PostgreSQL database, machine facts, percentiles, the timing loop,
and the catalogue of listed products that the search, facets and DCAT benchmarks load (or reuse) alike."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/registry_bench"


def bench_database_url(name: str, *, sqlite: bool = False) -> str:
    """Each benchmark gets its own database, so two can run at once without dropping each other's.

    `sqlite`: a file `<name>.sqlite3` in `BENCH_SQLITE_DIR` (default `var/bench/`) instead of PostgreSQL."""
    if sqlite:
        directory = Path(os.environ.get("BENCH_SQLITE_DIR") or ROOT / "var" / "bench")
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory.resolve() / name}.sqlite3"
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG) + "_" + name


def setup_django(database_url: str | None = None, *, fresh: bool = True) -> str:
    """Point Django at the benchmark database (recreated when `fresh`), migrate it, and set Django up."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The in-process benchmarks time the work a request does, not the public read cache's stored pages (an
    # anonymous search repeated within a change generation would be a cache hit: ~1 ms). bench/api_load.py
    # measures the cache, with its own servers' settings.
    os.environ.setdefault("READ_CACHE_SECONDS", "0")
    if fresh and url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif fresh and url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from federation.keys import key_generate

    key_generate()  # the node key the benchmark's node signs with (kept if it exists, never committed)
    return url


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    pg = ""
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}; "
        f"{pg or 'psql not found'}; SQLite {sqlite3.sqlite_version}"
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values_ms: list[float]) -> str:
    return (
        f"p50 {percentile(values_ms, 50):7.2f} ms  p95 {percentile(values_ms, 95):7.2f} ms  "
        f"mean {statistics.fmean(values_ms):7.2f} ms  (n={len(values_ms)})"
    )


RAW_INSERT = (
    "INSERT INTO bench_raw_product (code, exchange_id, version, status, descriptor, descriptor_version, name, "
    "provider_name, provider_uscc, product_form, industry, update_frequency, price_min, price_max, search_name, "
    "search_keywords, search_body, verdict, verdict_reasons, findings, status_reasons, is_home, created_at, "
    "updated_at) VALUES (%s, %s, 1, 'listed', %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s::jsonb, '[]', '[]', true, now(), now())"
)


def raw_product_row(code: str, origin: str, columns: dict) -> tuple:
    """The values of one product row, as `RAW_INSERT` takes them (from products.services.descriptor_columns)."""
    c = columns
    return (
        code,
        origin,
        json.dumps(c["descriptor"], ensure_ascii=False),
        c["descriptor_version"],
        c["name"],
        c["provider_name"],
        c["provider_uscc"],
        c["product_form"],
        c["industry"],
        c["update_frequency"],
        c["price_min"],
        c["price_max"],
        c["search_name"],
        c["search_keywords"],
        c["search_body"],
        c["verdict"],
        json.dumps(c["verdict_reasons"], ensure_ascii=False),
    )


def raw_insert_rate(rows: list[tuple]) -> float:
    """Rows per second inserted with psycopg's executemany into a copy of the products table (same indexes
    and generated search column): the database's own speed for these rows, nothing validated."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_product")
        cur.execute("CREATE TABLE bench_raw_product (LIKE products_product INCLUDING ALL)")
    raw = connection.connection
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cur:
        for i in range(0, len(rows), 1000):
            cur.executemany(RAW_INSERT, rows[i : i + 1000])
    seconds = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_raw_product")
    return len(rows) / seconds


def signed_recognition(
    code: str, exchange: str, seq: int, key, *, product_version: int, decided_by: str
) -> dict:
    """A feed item: EXCHANGE's recognition of product CODE at SEQ of its log, signed with KEY as its node signs."""
    import base64  # lazy: only the federation benchmarks sign

    from federation.envelope import canonical  # lazy: Django is set up by the caller first

    envelope = {
        "origin": exchange,
        "seq": seq,
        "type": "recognition",
        "gid": f"{code}@{exchange}",
        "version": 1,
        "payload": {
            "product": code,
            "exchange": exchange,
            "status": "recognised",
            "reasons": [],
            "product_version": product_version,
            "decided_by": decided_by,
            "policy": "1.0",
        },
    }
    signature = key.sign(canonical(envelope).encode())
    return {"entry": envelope, "signature": base64.b64encode(signature).decode()}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Milliseconds of each of `n` calls of `fn`, timed with `time.perf_counter()`."""
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def load_average(when: str) -> str:
    """The line every benchmark prints at its start and end: the machine is shared."""
    return f"load average (1, 5, 15 min) at the {when}: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def rss_peaks() -> tuple[float, list[float]]:
    """Peak resident memory (VmHWM, MiB) of this process and of each live child (the import's workers)."""

    def hwm(pid: int | str) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return 0.0

    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        children = []
    return hwm(os.getpid()), [hwm(pid) for pid in children]


def load(
    count: int, seed: int, *, jobs: int = 2, report_every: int = 100_000, raw_baseline: int = 0
) -> float:
    """Import COUNT listed products through the real bulk import (JOBS worker processes); returns seconds.

    The descriptors are streamed from their generator, twice (it is deterministic): once for their providers'
    registration, once for the import, so memory stays flat at any COUNT. Every REPORT_EVERY products it
    prints the rate so far and over the last REPORT_EVERY, and the peak RSS of this process and of the
    import's workers. `raw_baseline`: first time the raw INSERT of that many of the product rows
    (`raw_insert_rate`), the database's own speed for them, in the same run."""
    from participants.services import providers_register_verified
    from products.importing import import_stream
    from products.sample_data import descriptors

    if raw_baseline:
        from products.columns import descriptor_columns  # lazy: Django is set up by the caller first
        from standards.descriptor import descriptor_validate  # lazy: as above

        sample = descriptors(min(raw_baseline, count), seed=seed)
        rows = [
            raw_product_row(f"RAWXX-2026-{i + 1:06d}-X", "SHDEX", descriptor_columns(descriptor_validate(d)))
            for i, d in enumerate(sample)
        ]
        print(
            f"raw INSERT of {len(rows)} product rows (executemany, 1 connection): {raw_insert_rate(rows):.0f} rows/s"
        )
        del rows
    # Products need registered providers (registered before the timed import).
    started = time.perf_counter()
    registered = providers_register_verified(
        (d["provider"]["uscc"], d["provider"]["name"]) for d in descriptors(count, seed=seed)
    )
    seconds = time.perf_counter() - started
    print(f"registered {registered} providers in {seconds:.1f} s ({registered / max(seconds, 1e-9):.0f}/s)")
    lines = (json.dumps(d, ensure_ascii=False) for d in descriptors(count, seed=seed))
    started = time.perf_counter()
    rejected = done = 0
    mark, mark_at, peak_workers = 0, started, 0.0
    for read, results in import_stream(lines, actor_id=None, status="listed", batch_size=500, jobs=jobs):
        rejected += sum(1 for r in results if not r.accepted)
        done += read
        if done - mark >= report_every:
            now = time.perf_counter()
            own, workers = rss_peaks()
            peak_workers = max([peak_workers, *workers])
            print(
                f"  {done:>9} products {now - started:8.1f} s: {done / (now - started):6.0f}/s over the run, "
                f"{(done - mark) / (now - mark_at):6.0f}/s over the last {done - mark}; peak RSS this process "
                f"{own:.0f} MiB, workers {', '.join(f'{w:.0f}' for w in workers) or '-'} MiB "
                f"({load_average('mark').split(': ')[1]})",
                flush=True,
            )
            mark, mark_at = done, now
    seconds = time.perf_counter() - started
    if rejected:
        print(f"warning: {rejected} descriptors rejected by the import", file=sys.stderr)
    return seconds


def _grade(key: str) -> str:
    # mod() rather than %, which a statement with parameters would take for a placeholder.
    return f"CASE mod({key}, 10) WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'C' ELSE '' END"


def grade_some(connection) -> None:
    """Grades as the quality app keeps them: A, B and C on 10% of the products each, the rest unassessed
    (the quality filters' selectivity; idempotent, so a `--reuse` run grades the same rows)."""
    grade = _grade("id")
    with connection.cursor() as cur:  # only the rows whose grade differs: a 10^6 table is not rewritten
        cur.execute(f"UPDATE products_product SET quality_grade = {grade} WHERE quality_grade <> {grade}")


def replicate(connection, times: int) -> int:
    """Make the catalogue `times` times as large by copying its products in SQL (PostgreSQL): the 10^6
    products of issue 25 from 100,000 imported (docs/performance.md, "A million products").

    Copy k of a product has the code `<code>-copy<k>` and the name `<name> #<k>`, the same segmented text,
    columns and coverage (its ProductRegion rows made from `region_codes`), the primary key `id + (k - 1) *
    max(id)` (each copy a block of newer keys, as if imported after the originals) and the grade
    `grade_some` gives that key. No versions, log entries or recognitions are copied: the copies serve
    the search and list benchmarks, not the federation. Once only: a catalogue whose newest product is a
    copy is left as it is (recreate the database to copy again). Returns the number of products copied."""
    from products.models import Product, ProductRegion

    if connection.vendor != "postgresql" or times <= 1:
        return 0
    table, regions = Product._meta.db_table, ProductRegion._meta.db_table
    kept = [f.column for f in Product._meta.concrete_fields if f.column not in ("id", "code", "name")]
    columns = ", ".join(c for c in kept if c != "quality_grade")
    copied = 0
    with connection.cursor() as cur:
        cur.execute(f"SELECT id, code FROM {table} ORDER BY id DESC LIMIT 1")
        span, newest = cur.fetchone()
        if "-copy" in newest:
            print("the catalogue holds copies already: not copied again", file=sys.stderr)
            return 0
        for k in range(2, times + 1):
            started = time.perf_counter()
            shift = (k - 1) * span
            cur.execute(
                f"INSERT INTO {table} (id, code, name, quality_grade, {columns}) "
                f"SELECT id + %s, code || %s, left(name, 72) || %s, {_grade('id + %s')}, {columns} "
                f"FROM {table} WHERE id <= %s ORDER BY id",
                [shift, f"-copy{k}", f" #{k}", shift, span],
            )
            copied += cur.rowcount
            cur.execute(
                f"INSERT INTO {regions} (product_id, code) "
                f"SELECT id, unnest(string_to_array(region_codes, ' ')) FROM {table} WHERE id > %s AND id <= %s",
                [shift, shift + span],
            )
            print(f"copy {k}: {time.perf_counter() - started:.1f} s", flush=True)
        # The key sequence past the copies, so that a product made later gets a new key.
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return copied


def prepare(connection) -> None:
    """What a live database would have: statistics on PostgreSQL (autovacuum's), nothing on SQLite."""
    grade_some(connection)
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            cur.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            print(f"SQLite database file: {cur.fetchone()[0] / 2**20:.0f} MiB (not analysed)")
            return
        started = time.perf_counter()
        # VACUUM as well: it sets the visibility map that autovacuum would set on a live table, without
        # which count(*) cannot use an index-only scan; measuring before it would time a transient state.
        cur.execute("VACUUM (ANALYZE)")
        print(f"VACUUM (ANALYZE): {time.perf_counter() - started:.1f} s")
        cur.execute("SELECT pg_size_pretty(pg_relation_size('products_product_search'))")
        print(f"GIN index products_product_search: {cur.fetchone()[0]}")


def catalogue(
    url: str, *, count: int, seed: int, reuse: bool, raw_baseline: int = 0, replicas: int = 1
) -> int:
    """The start every catalogue benchmark shares: print the machine, the database and the load average,
    load COUNT listed products (or, with `reuse`, keep those already loaded if there are enough), copy them
    in SQL until there are `replicas` times as many (`replicate`), `prepare` the database; returns the
    number of listed products."""
    from django.db import connection

    from products.models import Product

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print(load_average("start"))
    listed = Product.objects.filter(status="listed").count()
    if reuse and listed >= count:
        print(f"reusing {listed} listed products")
    else:
        if reuse:
            print("--reuse given but the database is not loaded; loading", file=sys.stderr)
        seconds = load(count, seed, raw_baseline=raw_baseline)
        listed = Product.objects.filter(status="listed").count()
        print(
            f"loaded {listed} listed products in {seconds:.1f} s ({listed / seconds:.0f}/s, import_stream jobs=2)"
        )
    if replicas > 1 and listed < count * replicas:
        copied = replicate(connection, replicas)
        listed = Product.objects.filter(status="listed").count()
        print(f"copied {copied} products in SQL: {listed} listed (synthetic beyond the imported {count})")
    prepare(connection)
    return listed
