"""Participant token verification at a non-home node, in one process: the rate of the real verification beside
the raw Ed25519 verify rate of the same signing inputs.

    .venv/bin/python bench/participant_tokens.py [--count 20000] [--rounds 3] [--participants 20000]

The database is `registry_bench_participant_tokens` (bench/common.py), recreated on every run.

Target (the issue): verifying a participant token at a non-home node, at least 5,000 verifications/s on one
core, beside the raw Ed25519 verify rate.

This node is SHDEX. BJIDX is a peer (`federation.peers.peer_add`) with its own Ed25519 key; its tokens are
signed here with PyJWT exactly as `participants.tokens.access_token_issue` signs them at BJIDX (EdDSA,
header kid BJIDX and typ participant+jwt, claims iss/sub/pid/roles/iat/exp/jti), each with its own `jti` and
user, so no two tokens are alike; every round uses fresh ones. Measured in one process and one thread, the
lines alternating in chunks of 500 tokens so that a busy machine weighs on every line alike (the median
round is reported):

(a) raw: `Ed25519PublicKey.verify` of each token's signature over its signing input (header.payload), with
    the key object and the decoded signature ready: the floor that any verification pays;
(b) `participants.tokens.access_token_verify` on the BJIDX tokens (header parsed, alg/typ/kid checked, the
    peer's key from the key cache, signature, issuer, expiry with leeway, required claims, claim types);
(c) the whole DRF authentication, `ParticipantTokenAuthentication().authenticate(request)`: the Bearer
    header, (b), and the standing lookup in this node's database (the BJIDX registration replicated here:
    a Participant row with is_home False, verified);
plus, for reference, (d) `access_token_verify` on tokens this node issued itself (`access_token_issue`),
(e) `standing_for_token` alone for the same participants, and (f) the SQL statement it issues, captured and
replayed on the cursor (the database's share of (e)). A cProfile of (b) is printed when (b) misses the
target, or with `--profile`.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import bench_database_url, machine, setup_django

TARGET_PER_S = 5_000.0
PEER = "BJIDX"
CHUNK = 500


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def rate(fn, items) -> float:
    """Items per second of `fn` applied to each item, in a plain loop."""
    started = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000, help="distinct tokens per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--participants", type=int, default=20_000, help="registrations of the peer in the database"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of (b) whatever the rate")
    args = parser.parse_args()

    os.environ["NODE_CODE"] = "SHDEX"
    os.environ["NODE_KEY_FILE"] = str(Path(tempfile.mkdtemp()) / "node_key.pem")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ["LOG_LEVEL"] = "WARNING"
    url = setup_django(bench_database_url("participant_tokens"))

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings
    from django.test import RequestFactory
    from django.utils import timezone
    from rest_framework.request import Request

    from federation import keys
    from federation.peers import peer_add
    from participants import tokens
    from participants.authentication import ParticipantTokenAuthentication
    from participants.models import Participant, ParticipantStatus
    from participants.selectors import standing_for_token
    from products.sample_data import REGIONS, make_uscc

    assert settings.NODE_CODE != PEER
    keys.key_generate(path=Path(settings.NODE_KEY_FILE))
    peer_key = Ed25519PrivateKey.generate()
    peer_public = peer_key.public_key()
    peer_add(
        code=PEER,
        base_url="http://127.0.0.1:9",
        public_key=base64.b64encode(
            peer_public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
    )
    tokens.key_cache_clear()

    print(f"machine: {machine()}")
    print(f"database: {url}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # The peer's registrations, replicated here (setup, not measured).
    rng = random.Random(args.seed)
    pids: list[str] = []
    seen: set[str] = set()
    while len(pids) < args.participants:
        code = make_uscc(rng, rng.choice(REGIONS)[0])
        if code not in seen:
            seen.add(code)
            pids.append(code)
    now = timezone.now()
    Participant.objects.bulk_create(
        [
            Participant(
                participant_id=pid,
                home_id=PEER,
                is_home=False,
                legal_name=f"北京数据科技有限公司{i}",
                entity_type="enterprise",
                region=pid[2:8],
                roles=["data_merchant"],
                business_categories=["data_products"],
                services=[],
                status=ParticipantStatus.VERIFIED,
                registered_at=now,
                verified_at=now,
            )
            for i, pid in enumerate(pids)
        ],
        batch_size=2000,
    )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) participants_participant")

    def peer_token(i: int) -> str:
        """A token as BJIDX's `access_token_issue` signs it, with BJIDX's key."""
        issued = int(time.time())
        claims = {
            "iss": PEER,
            "sub": f"user{i}",
            "pid": pids[i % len(pids)],
            "roles": ["data_merchant"],
            "iat": issued,
            "exp": issued + settings.PARTICIPANT_ACCESS_TTL,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, peer_key, algorithm=tokens.ALGORITHM, headers={"kid": PEER, "typ": tokens.TOKEN_TYPE}
        )

    factory = RequestFactory()

    def round_inputs(r: int):
        base = r * args.count
        peer = [peer_token(base + i) for i in range(args.count)]
        raw = []
        for t in peer:
            signing_input, _, signature = t.rpartition(".")
            raw.append((b64url_decode(signature), signing_input.encode("ascii")))
        home = [
            tokens.access_token_issue(
                username=f"home{base + i}", participant_id=pids[i % len(pids)], roles=["data_merchant"]
            )[0]
            for i in range(args.count)
        ]
        auth_tokens = [peer_token(base + i) for i in range(args.count)]
        requests = [
            Request(factory.get("/api/v1/participants/", HTTP_AUTHORIZATION=f"Bearer {t}"))
            for t in auth_tokens
        ]
        return peer, raw, home, requests

    # Correctness first: every kind of input is accepted as it should be.
    peer, raw, home, requests = round_inputs(args.rounds)
    first = pids[(args.rounds * args.count) % len(pids)]  # the participant of the round's first tokens
    claims = tokens.access_token_verify(peer[0])
    assert claims.issuer == PEER and claims.participant_id == first, claims
    assert tokens.access_token_verify(home[0]).issuer == settings.NODE_CODE
    principal, _ = ParticipantTokenAuthentication().authenticate(requests[0])
    assert principal.home == PEER and principal.participant_id == first, principal
    peer_public.verify(*raw[0])
    try:
        tokens.access_token_verify(peer[1][:-4] + ("AAAA" if not peer[1].endswith("AAAA") else "BBBB"))
    except tokens.TokenInvalid:
        pass
    else:
        raise SystemExit("a token with a broken signature was accepted")
    sizes = [len(si) for _, si in raw]
    print(
        f"tokens: {args.count} distinct per round, {args.rounds} rounds; signing input "
        f"{min(sizes)}–{max(sizes)} bytes, token {len(peer[0])} bytes; peer registrations in the database: "
        f"{Participant.objects.filter(home_id=PEER).count()}"
    )

    authenticate = ParticipantTokenAuthentication().authenticate

    def auth(request):
        if authenticate(request) is None:
            raise SystemExit("authentication returned None")

    def standing(pid):
        if standing_for_token(participant_id=pid, home=PEER) is None:
            raise SystemExit("no standing")

    # (f): the SQL statement standing_for_token issues, captured once and replayed on the cursor.
    captured: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, tuple(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        standing_for_token(participant_id=pids[0], home=PEER)
    ((standing_sql, captured_params),) = captured
    assert pids[0] in captured_params and PEER in captured_params, captured

    def standing_params(pid: str) -> tuple:
        return tuple(pid if p == pids[0] else p for p in captured_params)

    def standing_raw(params):
        with connection.cursor() as cur:
            cur.execute(standing_sql, params)
            if cur.fetchone() is None:
                raise SystemExit("no row")

    lines = {
        "a": "(a) raw Ed25519 verify, same signing inputs",
        "b": "(b) access_token_verify, peer-issued tokens",
        "c": "(c) DRF authenticate incl. standing lookup",
        "d": "(d) access_token_verify, this node's tokens",
        "e": "(e) standing_for_token alone (ORM + database)",
        "f": "(f) the same standing query, raw on the cursor",
    }
    # Each round in chunks, the measurements alternating chunk by chunk, so that another process taking the
    # CPU for a while weighs on every line alike; a line's rate is its tokens over its summed time.
    rates: dict[str, list[float]] = {k: [] for k in lines}
    for r in range(args.rounds):
        peer, raw, home, requests = round_inputs(r)
        ids = [pids[(r * args.count + i) % len(pids)] for i in range(args.count)]
        inputs = {
            "a": (lambda sr: peer_public.verify(*sr), raw),
            "b": (tokens.access_token_verify, peer),
            "c": (auth, requests),
            "d": (tokens.access_token_verify, home),
            "e": (standing, ids),
            "f": (standing_raw, [standing_params(pid) for pid in ids]),
        }
        spent = dict.fromkeys(lines, 0.0)
        for start in range(0, args.count, CHUNK):
            for k, (fn, items) in inputs.items():
                chunk = items[start : start + CHUNK]
                spent[k] += len(chunk) / rate(fn, chunk)
        for k in lines:
            rates[k].append(args.count / spent[k])
        print(
            f"  round {r + 1}: "
            + "  ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items())
            + f"  (load {os.getloadavg()[0]:.2f})"
        )

    raw_rate = statistics.median(rates["a"])
    print(f"\nmedian of {args.rounds} rounds, {args.count} tokens each, one process, one thread:")
    print(f"  {'':<46} {'per s':>9} {'µs each':>9} {'vs raw':>7}")
    for k, label in lines.items():
        value = statistics.median(rates[k])
        print(f"  {label:<46} {value:9,.0f} {1e6 / value:9.1f} {value / raw_rate:7.2f}")
    verify_rate = statistics.median(rates["b"])
    overhead_us = 1e6 / verify_rate - 1e6 / raw_rate
    print(f"\n(b) costs {overhead_us:.1f} µs per token beyond the raw Ed25519 verify")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if args.profile or verify_rate < TARGET_PER_S:
        import cProfile
        import pstats

        peer = [peer_token(i) for i in range(min(args.count, 5000))]
        profiler = cProfile.Profile()
        profiler.enable()
        for t in peer:
            tokens.access_token_verify(t)
        profiler.disable()
        print("\ncProfile of (b):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)
    print(
        f"target ≥ {TARGET_PER_S:,.0f} verifications/s at a non-home node: "
        f"{'MET' if verify_rate >= TARGET_PER_S else 'NOT MET'} ((b) {verify_rate:,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
