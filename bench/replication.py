"""Replication apply throughput on PostgreSQL: signed entries of other origins, verified and upserted by the
real apply path, beside the raw Ed25519 verify rate and the raw INSERT rate of the same product rows.

    .venv/bin/python bench/replication.py [--count 20000]

Two feeds, as they really are: (1) a listing origin's log (BJIDX): each listing is a product entry and its
home exchange's recognition entry; (2) another exchange's log (GYBDX) holding its recognitions of those
products — at network scale most records are recognitions (every exchange records one per product).

The entries are produced the way an origin produces them (canonical JSON of the envelope, Ed25519-signed
with the origin's key) and applied by the pull's own loop (`federation.pull.pages_apply`, pages served
from memory instead of a peer's web server), page by page: envelope checks, signature verification (the next
page's in the fetch thread while one is applied, as in a pull), the full descriptor standard, upsert,
version history, this node's recognition (evaluated and published to its own log), and storage of the entry
for relaying.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import sys
import tempfile
import time
from pathlib import Path

from common import (
    bench_database_url,
    machine,
    raw_insert_rate,
    raw_product_row,
    setup_django,
    signed_recognition,
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument(
        "--page", type=int, default=None, help="entries per page (default: FEDERATION_PAGE_SIZE)"
    )
    parser.add_argument(
        "--network-listings",
        type=int,
        default=None,
        help="listings of the whole-network mix (default: a tenth of --count; 0 skips it)",
    )
    args = parser.parse_args()

    import os

    os.environ["NODE_KEY_FILE"] = str(Path(tempfile.mkdtemp()) / "node_key.pem")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    url = setup_django(bench_database_url("replication"))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from federation import keys
    from federation.envelope import canonical
    from federation.peers import peer_add
    from federation.pull import pages_apply
    from products.columns import descriptor_columns
    from products.models import Product
    from products.replicas import PRODUCT
    from products.sample_data import descriptors
    from standards.product_code import product_code_build

    keys.key_generate(path=Path(settings.NODE_KEY_FILE))
    origin_key = Ed25519PrivateKey.generate()
    origin_pub = base64.b64encode(
        origin_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=origin_pub)
    print(f"machine: {machine()}")
    args.page = args.page or settings.FEDERATION["PAGE_SIZE"]
    print(f"database: {url}  entries: {args.count}  page: {args.page}")

    # The origin's entries, built outside the timed section.
    items, rows = [], []
    for i, d in enumerate(descriptors(args.count, seed=77)):
        code = product_code_build(origin="BJIDX", year=2026, serial=i + 1)
        product = Product(
            code=code,
            exchange_id="BJIDX",
            version=3,
            status="listed",
            descriptor=d,
            listed_at=None,
            delisted_at=None,
            status_reasons=[],
        )
        envelope = {
            "origin": "BJIDX",
            "seq": i + 1,
            "type": "product",
            "gid": code,
            "version": 3,
            "payload": PRODUCT.payload(product),
        }
        body = canonical(envelope)
        items.append(
            {"entry": envelope, "signature": base64.b64encode(origin_key.sign(body.encode())).decode()}
        )
        rows.append(raw_product_row(code, "BJIDX", descriptor_columns(d)))
    # Round-trip through JSON as a feed page would arrive.
    items = json.loads(json.dumps(items, ensure_ascii=False))

    # Baseline 1: raw Ed25519 verification of the same bodies, with the library the apply uses (libsodium,
    # federation.keys) and with cryptography's OpenSSL (what the node used before, and what makes the keys).
    from nacl.bindings import crypto_sign_open

    public = origin_key.public_key()
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    bodies = [(canonical(it["entry"]).encode(), base64.b64decode(it["signature"])) for it in items]
    started = time.perf_counter()
    for body, sig in bodies:
        crypto_sign_open(sig + body, raw_public)
    verify_rate = len(bodies) / (time.perf_counter() - started)
    started = time.perf_counter()
    for body, sig in bodies:
        public.verify(sig, body)
    openssl_rate = len(bodies) / (time.perf_counter() - started)

    # Baseline 2: raw INSERT of the same product rows into a copy of the table.
    insert_rate = raw_insert_rate(rows)

    # A second origin whose log holds its verdicts on BJIDX's products.
    gybdx_key = Ed25519PrivateKey.generate()
    peer_add(
        code="GYBDX",
        base_url="http://127.0.0.1:9",
        public_key=base64.b64encode(
            gybdx_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
    )

    def recognition(code: str, exchange: str, seq: int, key) -> dict:
        decided_by = "home" if exchange == "BJIDX" else "auto"
        return signed_recognition(code, exchange, seq, key, product_version=3, decided_by=decided_by)

    listing = []  # BJIDX's log: product, then its home recognition, per listing
    for i, it in enumerate(items):
        it = json.loads(json.dumps(it))
        it["entry"]["seq"] = 2 * i + 1
        body = canonical(it["entry"])
        it["signature"] = base64.b64encode(origin_key.sign(body.encode())).decode()
        listing += [it, recognition(it["entry"]["gid"], "BJIDX", 2 * i + 2, origin_key)]
    verdicts = [recognition(it["entry"]["gid"], "GYBDX", i + 1, gybdx_key) for i, it in enumerate(items)]
    listing = json.loads(json.dumps(listing, ensure_ascii=False))
    verdicts = json.loads(json.dumps(verdicts, ensure_ascii=False))

    def apply_feed(origin: str, feed: list) -> float:
        """Apply `feed` as a pull does (`pages_apply`: the next page's signatures checked in the fetch
        thread while this one is applied), its pages served from memory instead of a peer's web server."""
        seqs = [it["entry"]["seq"] for it in feed]

        def fetch(after: int) -> tuple[list, int]:
            start = bisect.bisect_right(seqs, after)
            return feed[start : start + args.page], seqs[-1]

        started = time.perf_counter()
        pages_apply(origin, fetch, source=origin, after=0)
        return time.perf_counter() - started

    listing_seconds = apply_feed("BJIDX", listing)
    applied = Product.objects.filter(exchange_id="BJIDX").count()
    if applied != args.count:
        print(f"FAILED: {applied} of {args.count} applied", file=sys.stderr)
        return 1
    verdict_seconds = apply_feed("GYBDX", verdicts)
    from products.models import Recognition

    if Recognition.objects.filter(exchange_id="GYBDX").count() != args.count:
        print("FAILED: GYBDX's recognitions not all applied", file=sys.stderr)
        return 1
    print(
        f"raw Ed25519 verify of the same entries:            {verify_rate:9.0f} /s "
        f"(libsodium, as the apply does; OpenSSL through cryptography: {openssl_rate:.0f} /s)"
    )
    print(f"raw INSERT of the same product rows (executemany): {insert_rate:9.0f} rows/s")
    print(
        f"apply a listing origin's log (product + its home recognition, verify + validate + upsert + "
        f"this node's own recognition):\n"
        f"                                                   {len(listing) / listing_seconds:9.0f} records/s "
        f"({len(listing)} records, {args.count / listing_seconds:.0f} products/s, {listing_seconds:.1f} s)"
    )
    print(
        f"apply another exchange's recognitions of them:     {len(verdicts) / verdict_seconds:9.0f} records/s "
        f"({len(verdicts)} records, {verdict_seconds:.1f} s)"
    )
    total = len(listing) + len(verdicts)
    print(
        f"both feeds:                                        {total / (listing_seconds + verdict_seconds):9.0f} "
        f"records/s"
    )

    # What a node of the whole network receives: for each listing, the product and its home recognition
    # from the home exchange, and one recognition from each of the other member exchanges (its own it
    # decides and publishes itself). New listings; every other member a peer with its own key.
    network = args.count // 10 if args.network_listings is None else args.network_listings
    if network > 0:
        from exchanges.models import Exchange

        others = list(
            Exchange.objects.exclude(code__in=[settings.NODE_CODE, "BJIDX"])
            .order_by("code")
            .values_list("code", flat=True)
        )
        signers = {"GYBDX": gybdx_key}
        for exchange in others:
            if exchange not in signers:
                signers[exchange] = Ed25519PrivateKey.generate()
                raw = (
                    signers[exchange]
                    .public_key()
                    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                )
                peer_add(
                    code=exchange, base_url="http://127.0.0.1:9", public_key=base64.b64encode(raw).decode()
                )
        fresh, seq = [], 2 * args.count
        for i, d in enumerate(descriptors(network, seed=78)):
            code = product_code_build(origin="BJIDX", year=2026, serial=args.count + i + 1)
            envelope = {
                "origin": "BJIDX",
                "seq": seq + 1,
                "type": "product",
                "gid": code,
                "version": 3,
                "payload": {
                    "code": code,
                    "status": "listed",
                    "descriptor": d,
                    "listed_at": None,
                    "delisted_at": None,
                    "status_reasons": [],
                },
            }
            body = canonical(envelope)
            signature = base64.b64encode(origin_key.sign(body.encode())).decode()
            fresh += [
                {"entry": envelope, "signature": signature},
                recognition(code, "BJIDX", seq + 2, origin_key),
            ]
            seq += 2
        codes = [it["entry"]["gid"] for it in fresh[::2]]
        feeds = [("BJIDX", fresh)]
        for exchange in others:
            first = args.count if exchange == "GYBDX" else 0
            feeds.append(
                (
                    exchange,
                    [recognition(c, exchange, first + i + 1, signers[exchange]) for i, c in enumerate(codes)],
                )
            )
        feeds = json.loads(json.dumps(feeds, ensure_ascii=False))
        records = sum(len(feed) for _, feed in feeds)
        seconds = sum(apply_feed(origin, feed) for origin, feed in feeds)
        held = Recognition.objects.filter(product_code__in=codes).count()
        members = len(others) + 2
        if held != members * network:
            print(f"FAILED: {held} recognitions of the {network} network listings, not {members * network}")
            return 1
        print(
            f"a {members}-member network's mix ({network} listings: product, home recognition and "
            f"{len(others)} other members' recognitions each):\n"
            f"                                                   {records / seconds:9.0f} records/s "
            f"({records} records, {seconds:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
