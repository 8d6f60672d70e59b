#!/usr/bin/env python
"""Run exchange nodes on this machine: per node a web server and a Celery worker (both queues) with beat.

LAYOUT chooses the processes (`servers`): `light` (the default, docs/operations.md "Light nodes"): gunicorn
with one worker and one Celery process, solo pool, beat as its thread; `full`: two gunicorn workers, a
prefork worker and beat as a process of its own.

Each node has its own SQLite database, file-system broker and Ed25519 key under var/<code>/. Nodes are
chosen with NODES (default: SHDEX BJIDX GYBDX), listen on 127.0.0.1 from BASE_PORT (default 8001) upwards,
and are peered with each other. DEMO is the number of sample products listed at each node that has none
(default 30; DEMO=0 lists none). LOCALNET_DIR moves var/ elsewhere (the tests' temporary directories).

Starting and stopping (docs/operations.md, "The local network"):
* Every child (the setup commands, each web server, worker and beat) leads its own process group in this
  launcher's session: a terminal's Ctrl-C, or a SIGTERM to the launcher's group (`kill`, `timeout`, CI),
  reaches only the launcher, which stops each child by signalling its group leader alone. Celery's prefork
  pool must not be signalled from outside: a pool process killed while it waits for a task holds the pool's
  shared queue lock, and the worker's exit then waits for that lock forever.
* Signals only count (no exception is raised from a handler): the launcher notices them within 0.1 s
  wherever it is, and stops everything it started: SIGTERM to each leader, then after STOP_GRACE seconds,
  or at once on a further signal, SIGKILL to each process group that still has a member.
* Web servers start first and the workers and beats only once every node answers, so no node tries a peer
  that is not listening yet; the banner comes when every node answers and every worker is ready.
"""

# ruff: noqa: S310 - the URLs opened are this launcher's own nodes
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable
STOP_GRACE = 8.0  # seconds each process has to stop after SIGTERM, before SIGKILL
START_TIMEOUT = 180.0  # seconds the nodes have to answer after their processes started
DEMO_DEFAULT = 30


class Stopped(Exception):
    """A signal asked the launcher to stop (raised by the launcher's own code, never by a handler)."""


class ChildFailed(Exception):
    pass


def become_subreaper() -> None:
    """Linux: the children's own children that outlive their parent (a pool process, a gunicorn worker)
    become this launcher's to reap, instead of init's, which in a container may never reap them: a zombie
    keeps its process group alive."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a member (a zombie counts until it is reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Children:
    """The launcher's children, each the leader of its own process group, and the signals received."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.servers: set[int] = set()  # the pids of the processes that must keep running
        self.signals = 0

    def on_signal(self, signum, frame) -> None:
        self.signals += 1

    def check(self) -> None:
        if self.signals:
            raise Stopped

    def sleep(self, seconds: float) -> None:
        """Sleep, noticing a signal within 0.1 s."""
        end = time.monotonic() + seconds
        while True:
            self.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str], *, server: bool = False, **streams
    ) -> subprocess.Popen:
        self.check()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, process_group=0, **streams)
        self.procs.append((name, proc))
        if server:
            self.servers.add(proc.pid)
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> str:
        """Run a command to its end (a signal stops the wait); its stdout is returned, its stderr logged."""
        with tempfile.TemporaryFile() as out, open(log, "ab") as err:
            proc = self.spawn(name, argv, env, stdout=out, stderr=err)
            while self.reap() is None and proc.poll() is None:
                self.sleep(0.1)
            out.seek(0)
            text = out.read().decode()
        if not group_alive(proc.pid):  # done, and left nothing behind
            self.procs.remove((name, proc))
        if proc.returncode != 0:
            raise ChildFailed(f"{name} exited with {proc.returncode} (see {log})")
        return text.strip()

    def reap(self) -> None:
        """Collect every child that exited: ours (their exit status kept) and adopted orphans."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            for _, proc in self.procs:
                if proc.pid == pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)

    def exited(self) -> str | None:
        self.reap()
        for name, proc in self.procs:
            if proc.pid in self.servers and proc.poll() is not None:
                return f"{name} exited with {proc.returncode} (see its log)"
        return None

    def stop(self) -> None:
        """Stop every child and its process group; safe to call again, and to signal while it runs."""
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        signals, deadline = self.signals, time.monotonic() + STOP_GRACE
        left = self._left()
        while left and time.monotonic() < deadline and self.signals == signals:
            time.sleep(0.05)
            left = self._left()
        if left:  # still running after the grace, or a further signal said not to wait
            names = ", ".join(name for name, proc in self.procs if proc in left)
            say(f"killing what has not stopped{'' if self.signals > signals else ' in time'}: {names}")
        for proc in left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while left and time.monotonic() < deadline:  # the killed, reaped: none is left a zombie
            time.sleep(0.05)
            left = self._left()
        self.procs.clear()
        self.servers.clear()

    def _left(self) -> list[subprocess.Popen]:
        self.reap()  # a zombie would keep its group alive
        return [proc for _, proc in self.procs if group_alive(proc.pid)]


def say(text: str) -> None:
    print(text, flush=True)


def node_env(code: str, port: int, base: Path) -> dict[str, str]:
    env = dict(os.environ)
    data = base / code.lower()
    env.update(
        NODE_CODE=code,
        NODE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        NODE_DATA_DIR=str(data),
        PYTHONUNBUFFERED="1",
    )
    (data / "logs").mkdir(parents=True, exist_ok=True)
    return env


LAYOUTS = ("light", "full")


def servers(env: dict[str, str], port: int, *, layout: str = "light") -> dict[str, list[str]]:
    """The command lines of a node's processes (docs/operations.md, "Light nodes").

    `light` (the default): a web server of one gunicorn worker with 4 threads, and one Celery process that
    runs both queues' tasks (solo pool) and beat as a thread: three processes with gunicorn's master.
    `full`: gunicorn with 2 workers, a prefork worker of concurrency 2, beat on its own (seven processes)."""
    data = Path(env["NODE_DATA_DIR"])
    web = [
        str(BIN / "gunicorn"),
        *("registry.wsgi", "-c", "python:registry.gunicorn", "--bind", f"127.0.0.1:{port}"),
        *(
            ("--workers", "1", "--threads", "4")
            if layout == "light"
            else ("--workers", "2", "--threads", "4")
        ),
        # The request limits of the Docker image's command (gunicorn's defaults, stated).
        *("--limit-request-line", "4094", "--limit-request-fields", "100"),
        *("--limit-request-field_size", "8190"),
    ]
    # One worker for both queues, the default one and `sync` (pulls, anti-entropy): the nodes share this
    # machine's cores. Production runs one per queue (docker-compose.yml, docs/operations.md).
    worker = [
        str(BIN / "celery"),
        *("-A", "registry", "worker", "-Q", "celery,sync", "--loglevel", "INFO"),
        *("--hostname", f"worker@{env['NODE_CODE'].lower()}"),
    ]
    schedule = str(data / "celerybeat-schedule")
    if layout == "light":
        return {"web": web, "worker": [*worker, "--pool", "solo", "--beat-thread", "--schedule", schedule]}
    return {
        "web": web,
        "worker": [*worker, "--concurrency", "2"],
        "beat": [str(BIN / "celery"), "-A", "registry", "beat", "--loglevel", "INFO", "--schedule", schedule],
    }


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def worker_ready(log: Path, offset: int) -> bool:
    try:
        with open(log, "rb") as fh:
            fh.seek(offset)
            return b" ready." in fh.read()
    except OSError:
        return False


def wait_for(children: Children, what: str, ready) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        failed = children.exited()
        if failed:
            raise ChildFailed(f"{failed} while waiting for {what}")
        if time.monotonic() > deadline:
            raise ChildFailed(f"timed out after {START_TIMEOUT:.0f} s waiting for {what}")
        children.sleep(0.25)


def prepare(children: Children, envs: dict[str, dict[str, str]], demo: int) -> dict[str, str]:
    """Migrate, key, peer and seed every node; returns each node's demo operator token."""
    keys: dict[str, str] = {}

    def manage(code: str, *args: str) -> str:
        log = Path(envs[code]["NODE_DATA_DIR"]) / "logs" / "setup.log"
        return children.run(f"{code} manage.py {args[0]}", [PYTHON, "manage.py", *args], envs[code], log)

    for code in envs:
        say(f"{code}: migrating its database ...")
        manage(code, "migrate", "--no-input")
        keys[code] = manage(code, "node_init").splitlines()[-1]
        say(f"{code}: node key ready")
    say(f"peering {', '.join(envs)} with each other ...")
    for code in envs:
        for other in envs:
            if other != code:
                manage(code, "peers", "add", other, envs[other]["NODE_PUBLIC_URL"], keys[other])
    tokens = {}
    for code in envs:
        say(f"{code}: demo operator{f' and up to {demo} sample products' if demo else ''} ...")
        tokens[code] = manage(code, "seed", "--products", str(demo)).splitlines()[-1]
    return tokens


def start(
    children: Children, envs: dict[str, dict[str, str]], ports: dict[str, int], layout: str = "light"
) -> None:
    """Web servers first; workers and beats once every node answers, so no node calls a peer too early."""
    logs = {code: Path(env["NODE_DATA_DIR"]) / "logs" for code, env in envs.items()}
    say("starting the web servers: " + ", ".join(f"{code} :{port}" for code, port in ports.items()))
    for code, env in envs.items():
        with open(logs[code] / "web.log", "ab") as log:
            argv = servers(env, ports[code], layout=layout)["web"]
            children.spawn(f"{code} web", argv, env, server=True, stdout=log, stderr=log)
    for code, port in ports.items():
        wait_for(children, f"{code} to answer", lambda p=port: answers(f"http://127.0.0.1:{p}/api/v1/node/"))
    say("starting the Celery workers and beats ...")
    offsets = {}
    for code, env in envs.items():
        for name in [n for n in servers(env, ports[code], layout=layout) if n != "web"]:
            path = logs[code] / f"{name}.log"
            offsets[(code, name)] = path.stat().st_size if path.exists() else 0
            with open(path, "ab") as log:
                argv = servers(env, ports[code], layout=layout)[name]
                children.spawn(f"{code} {name}", argv, env, server=True, stdout=log, stderr=log)
    for code in envs:
        path, offset = logs[code] / "worker.log", offsets[(code, "worker")]
        wait_for(children, f"{code}'s worker", lambda p=path, o=offset: worker_ready(p, o))


def banner(envs: dict[str, dict[str, str]], ports: dict[str, int], tokens: dict[str, str]) -> str:
    lines = ["Exchange nodes running (Ctrl-C to stop):"]
    for code, port in ports.items():
        logs = Path(envs[code]["NODE_DATA_DIR"]) / "logs"
        shown = logs.relative_to(ROOT) if logs.is_relative_to(ROOT) else logs
        lines.append(
            f"  {code}  http://127.0.0.1:{port}/api/docs/   (Swagger UI)\n"
            f"         http://127.0.0.1:{port}/api/v1/products/\n"
            f"         demo operator token (for {code} at :{port} only): {tokens[code]}\n"
            f"         logs: {shown}/"
        )
    return "\n".join(lines)


def settings_from_env() -> tuple[list[str], int, int, Path]:
    codes = [c.upper() for c in os.environ.get("NODES", "SHDEX BJIDX GYBDX").replace(",", " ").split()]
    try:
        base_port = int(os.environ.get("BASE_PORT", "8001"))
        demo = int(os.environ.get("DEMO", str(DEMO_DEFAULT)))
    except ValueError as exc:
        raise SystemExit(f"BASE_PORT and DEMO must be whole numbers: {exc}") from exc
    if demo < 0:
        raise SystemExit("DEMO must be 0 (no sample products) or more")
    base = Path(os.environ.get("LOCALNET_DIR") or ROOT / "var").resolve()
    return codes, base_port, demo, base


def layout_from_env() -> str:
    layout = os.environ.get("LAYOUT", "light").strip().lower()
    if layout not in LAYOUTS:
        raise SystemExit(f"LAYOUT must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    return layout


def main() -> int:
    children = Children()
    # First of all, and both explicitly: a shell starting this in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, children.on_signal)
    signal.signal(signal.SIGTERM, children.on_signal)
    become_subreaper()
    codes, base_port, demo, base = settings_from_env()
    layout = layout_from_env()
    ports = {code: base_port + i for i, code in enumerate(codes)}
    envs = {code: node_env(code, port, base) for code, port in ports.items()}
    try:
        tokens = prepare(children, envs, demo)
        start(children, envs, ports, layout)
        say(banner(envs, ports, tokens))
        while True:
            failed = children.exited()
            if failed:
                raise ChildFailed(failed)
            children.sleep(0.5)
    except Stopped:
        say("stopping ...")
        return 0
    except ChildFailed as exc:
        say(f"{exc}; stopping all")
        return 1
    finally:
        children.stop()


if __name__ == "__main__":
    sys.exit(main())
