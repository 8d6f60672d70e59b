#!/usr/bin/env python
"""Hold a node to its published OpenAPI schema: schemathesis with every check, as three callers.

Starts one seeded node (SQLite, file-system broker, a temporary data directory under var/, a free port) behind
gunicorn with the Docker image's request limits, makes an operator token (`manage.py seed`) and a participant
token (the example company of docs/examples/participant.json, registered, verified and logged in through the
API), then runs `schemathesis run --checks all` (schemathesis.toml) against the node's own /api/schema/ three
times side by side: as the operator, as the participant, anonymously. Exits non-zero when any run finds a
failure or runs out of time. Bounded: a fixed seed and a few examples per operation (docs/api.md, *The schema
is the contract*).

    .venv/bin/python scripts/schemathesis_run.py                  # what .ci/run runs
    .venv/bin/python scripts/schemathesis_run.py --max-examples 50 --only operator -- --include-path-regex dem
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLE = json.loads((ROOT / "docs/examples/participant.json").read_text("utf-8"))
CALLERS = ("operator", "participant", "anonymous")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_env(data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}}
    env.update(
        NODE_CODE="SHDEX",
        NODE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        NODE_DATA_DIR=str(data),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # The fuzzer sends thousands of requests from one address: rate limits would only answer 429.
        THROTTLE_ANON="100000/min",
        THROTTLE_WRITE="100000/min",
        THROTTLE_LOGIN="100000/min",
        THROTTLE_REGISTER="100000/min",
        THROTTLE_REGISTER_USCC="100000/min",
        PARTICIPANT_ACCESS_TTL="3600",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def call(url: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the node started here, over http
        url, data=data, headers=headers, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def wait_up(url: str, web: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("the node's web server exited")
        try:
            call(f"{url}/api/v1/node/")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the node did not answer")


def participant_token(api: str, operator: str) -> str:
    call(f"{api}/participants/", EXAMPLE, operator)
    call(f"{api}/participants/{EXAMPLE['uscc']}/verification/", {"status": "verified"}, operator)
    return call(f"{api}/auth/token/", EXAMPLE["account"])["access"]


def start_web(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    argv = [
        str(BIN / "gunicorn"),
        "registry.wsgi",
        "-c",
        "python:registry.gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        # The request limits of the Docker image's command.
        "--limit-request-line",
        "4094",
        "--limit-request-fields",
        "100",
        "--limit-request-field_size",
        "8190",
    ]
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def schemathesis(url: str, caller: str, token: str | None, args: argparse.Namespace, log: Path):
    argv = [
        str(BIN / "schemathesis"),
        "run",
        f"{url}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        # One worker per run (Hypothesis describes strategies from their source, which is not safe across
        # threads); the three callers run side by side instead.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        # A response slower than this fails (`--checks all` holds every response to 10 s): a login hashes its
        # password on purpose, and CI shares two cores between the node and three fuzzers.
        "--max-response-time",
        "30",
        "--no-color",
        *args.extra,
    ]
    if token:
        argv += ["--header", f"Authorization: {'Bearer' if caller == 'participant' else 'Token'} {token}"]
    with open(log, "wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def run_all(url: str, tokens: dict[str, str], args: argparse.Namespace, data: Path) -> list[str]:
    """The callers' runs side by side; each one's report printed whole; the callers whose run failed."""
    runs = {
        caller: schemathesis(url, caller, tokens.get(caller), args, data / f"{caller}.log")
        for caller in args.only or CALLERS
    }
    deadline = time.monotonic() + args.timeout
    failed = []
    for caller, run in runs.items():
        try:
            code = run.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
            code = -1
        print(f"=== schemathesis as {caller}: exit {code} ===", flush=True)
        print((data / f"{caller}.log").read_text("utf-8", errors="replace"), flush=True)
        if code != 0:
            failed.append(caller)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=3, help="per operation and phase")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for all runs together")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--only", choices=CALLERS, action="append", help="run only as this caller")
    parser.add_argument("--keep", action="store_true", help="keep the node's data directory")
    parser.add_argument("extra", nargs="*", help="more schemathesis options, after --")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="schemathesis-", dir=ROOT / "var"))
    port = free_port()
    env = node_env(data, port)
    url = f"http://127.0.0.1:{port}"
    web = None
    try:
        manage(env, "migrate", "--no-input")
        manage(env, "node_init")
        operator = manage(env, "seed", "--products", "5").splitlines()[-1]
        web = start_web(env, port, data / "web.log")
        wait_up(url, web)
        tokens = {"operator": operator, "participant": participant_token(f"{url}/api/v1", operator)}
        started = time.monotonic()
        failed = run_all(url, tokens, args, data)
        print(f"schemathesis ran for {time.monotonic() - started:.0f} s", flush=True)
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=30)
        log = data / "web.log"
        web_log_tail = (
            "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-60:]) if log.exists() else ""
        )
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    if failed:
        print(f"schemathesis failed as: {', '.join(failed)}", file=sys.stderr)
        print(f"the node's log, last lines:\n{web_log_tail}", file=sys.stderr)
        return 1
    print("schemathesis: no failures as operator, participant or anonymous")
    return 0


if __name__ == "__main__":
    sys.exit(main())
