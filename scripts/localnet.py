#!/usr/bin/env python
"""Run exchange nodes on this machine: per node a web server, a Celery worker (both queues) and Celery beat.

Each node has its own SQLite database, file-system broker and Ed25519 key under var/<code>/. Nodes are
chosen with NODES (default: SHDEX BJIDX GYBDX), listen on 127.0.0.1 from BASE_PORT (default 8001) upwards,
and are peered with each other. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable


def node_env(code: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    data = ROOT / "var" / code.lower()
    env.update(
        NODE_CODE=code,
        NODE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        NODE_DATA_DIR=str(data),
        PYTHONUNBUFFERED="1",
    )
    (data / "logs").mkdir(parents=True, exist_ok=True)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def start(env: dict[str, str], name: str, argv: list[str]) -> subprocess.Popen:
    log = open(Path(env["NODE_DATA_DIR"]) / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives with the child
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def main() -> int:
    codes = [c.upper() for c in os.environ.get("NODES", "SHDEX BJIDX GYBDX").replace(",", " ").split()]
    base_port = int(os.environ.get("BASE_PORT", "8001"))
    procs: list[tuple[str, subprocess.Popen]] = []
    lines = []
    envs, public_keys = {}, {}
    for i, code in enumerate(codes):
        envs[code] = node_env(code, base_port + i)
        manage(envs[code], "migrate", "--no-input")
        public_keys[code] = manage(envs[code], "node_init").splitlines()[-1]
    for code in codes:
        for other in codes:
            if other != code:
                manage(envs[code], "peers", "add", other, envs[other]["NODE_PUBLIC_URL"], public_keys[other])
    for i, code in enumerate(codes):
        port = base_port + i
        env = envs[code]
        token = manage(env, "seed").splitlines()[-1]
        procs.append(
            (
                f"{code} web",
                start(
                    env,
                    "web",
                    [
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
                        # The request limits of the Docker image's command (gunicorn's defaults, stated).
                        "--limit-request-line",
                        "4094",
                        "--limit-request-fields",
                        "100",
                        "--limit-request-field_size",
                        "8190",
                    ],
                ),
            )
        )
        # One worker for both queues, the default one and `sync` (pulls, anti-entropy): three nodes share this
        # machine's cores. Production runs one per queue (docker-compose.yml, docs/operations.md).
        procs.append(
            (
                f"{code} worker",
                start(
                    env,
                    "worker",
                    [
                        str(BIN / "celery"),
                        "-A",
                        "registry",
                        "worker",
                        "-Q",
                        "celery,sync",
                        "--loglevel",
                        "INFO",
                        "--concurrency",
                        "2",
                        "--hostname",
                        f"worker@{code.lower()}",
                    ],
                ),
            )
        )
        procs.append(
            (
                f"{code} beat",
                start(
                    env,
                    "beat",
                    [
                        str(BIN / "celery"),
                        "-A",
                        "registry",
                        "beat",
                        "--loglevel",
                        "INFO",
                        "--schedule",
                        str(Path(env["NODE_DATA_DIR"]) / "celerybeat-schedule"),
                    ],
                ),
            )
        )
        lines.append(
            f"  {code}  http://127.0.0.1:{port}/api/docs/   (Swagger UI)\n"
            f"         http://127.0.0.1:{port}/api/v1/products/\n"
            f"         demo operator token: {token}\n"
            f"         logs: var/{code.lower()}/logs/"
        )

    def stop(*_):
        for _, proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for _, proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def interrupted(*_):
        raise KeyboardInterrupt

    # Set both explicitly: a shell starting this in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    print("Exchange nodes running (Ctrl-C to stop):\n" + "\n".join(lines), flush=True)
    try:
        while True:
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping all (see its log)", flush=True)
                    stop()
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
