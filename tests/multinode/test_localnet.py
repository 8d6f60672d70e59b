"""`make run`'s launcher (scripts/localnet.py) started for real, in a temporary directory on free ports, and
stopped by signals at different moments: it exits within seconds, leaves no process of its session behind,
and neither it nor its nodes log an ERROR (docs/operations.md, "The local network")."""

# ruff: noqa: S603 - the command lines are this repository's launcher with this interpreter

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.multinode.harness import PYTHON, ROOT, free_port

LAUNCHER = ROOT / "scripts" / "localnet.py"
CODES = ("SHDEX", "BJIDX")
STOPS_WITHIN = 20.0  # seconds from the signal to the launcher's exit: at most 8 s of grace, then SIGKILL
START_TIMEOUT = 400.0  # two nodes' first start on a busy 2-core machine takes up to two minutes
# What an error looks like in the output: a log line at ERROR, a traceback, and billiard's "Process
# 'ForkPoolWorker-1' pid:12 exited with 'signal 15 (SIGTERM)'" (an ERROR its own logger prints bare).
ERROR_MARKS = (" ERROR ", "Traceback", "exited with 'signal")
# Variables of the test process that must not reach the nodes: the launcher's nodes use SQLite and the
# file-system broker, each under its own data directory.
SCRUBBED = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "NODE_CODE", "NODE_PUBLIC_URL", "NODE_DATA_DIR")


def _free_ports(count: int) -> int:
    """A first port such that it and the next `count - 1` are free."""
    for _ in range(50):
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise AssertionError("no run of free ports found")


def session_members(sid: int, width: int = 160) -> list[str]:
    """The processes of session `sid` still there (read from /proc: pid and command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session ...
        if int(fields[3]) == sid:
            found.append(f"{entry.name} {fields[0]} {cmdline[:width]}")
    return found


class Launch:
    """One run of the launcher, in its own session (as a terminal or a service manager would start it)."""

    def __init__(self, data_dir: Path, *, port: int):
        self.data_dir = data_dir
        self.port = port
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update(NODES=" ".join(CODES), BASE_PORT=str(port), DEMO="0", LOCALNET_DIR=str(data_dir))
        self.log_sizes = {path: path.stat().st_size for path in data_dir.glob("*/logs/*.log")}
        self.out_path = data_dir / f"launcher-{time.monotonic_ns()}.out"
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(
                [PYTHON, str(LAUNCHER)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def node_logs(self) -> str:
        """What the nodes logged during this run."""
        parts = []
        for path in sorted(self.data_dir.glob("*/logs/*.log")):
            with open(path, "rb") as fh:
                fh.seek(self.log_sizes.get(path, 0))
                parts.append(f"--- {path.relative_to(self.data_dir)}\n{fh.read().decode(errors='replace')}")
        return "\n".join(parts)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"the launcher exited {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"no {text!r} after {timeout:.0f} s:\n{self.output()}")
            time.sleep(0.1)

    def stop_time(self, *signals: int, between: float = 0.5) -> float:
        """Send the signals to the launcher, `between` seconds apart; seconds until it exited."""
        started = time.monotonic()
        for i, sig in enumerate(signals):
            if i:
                time.sleep(between)
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=STOPS_WITHIN + 30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the launcher did not exit:\n{self.output()}") from None
        return time.monotonic() - started

    def left(self) -> list[str]:
        deadline = time.monotonic() + 1  # the kernel may take a moment to reap what the launcher killed
        while (members := session_members(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return members

    def kill(self) -> None:
        """After a failure: nothing of this run survives the test."""
        for line in session_members(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def assert_clean_stop(self, seconds: float) -> None:
        print(f"the launcher stopped {seconds:.1f} s after the first signal")
        left = self.left()
        self.kill()
        assert not left, "processes left behind:\n" + "\n".join(left)
        assert seconds < STOPS_WITHIN, f"stopping took {seconds:.1f} s:\n{self.output()}"
        for name, text in (("launcher", self.output()), ("nodes", self.node_logs())):
            bad = [line for line in text.splitlines() if any(mark in line for mark in ERROR_MARKS)]
            assert not bad, f"the {name} logged errors:\n" + "\n".join(bad[:20])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, int]:
    """A data directory where the nodes have been started once (migrated, keyed, peered), and its ports."""
    data_dir, port = tmp_path_factory.mktemp("localnet"), _free_ports(len(CODES))
    launch = Launch(data_dir, port=port)
    try:
        launch.wait_for("Exchange nodes running")
        launch.assert_clean_stop(launch.stop_time(signal.SIGINT))
    finally:
        launch.kill()
    return data_dir, port


def test_a_sigterm_during_the_first_migration_stops_the_launcher_and_the_migration(tmp_path):
    launch = Launch(tmp_path, port=_free_ports(len(CODES)))
    try:
        launch.wait_for(f"{CODES[0]}: migrating", timeout=120)
        time.sleep(1)  # into the migration itself
        launch.assert_clean_stop(launch.stop_time(signal.SIGTERM))
        assert "Exchange nodes running" not in launch.output()
    finally:
        launch.kill()


def test_the_banner_comes_when_every_node_answers_and_ctrl_c_stops_all_quickly(prepared):
    data_dir, port = prepared
    launch = Launch(data_dir, port=port)
    try:
        launch.wait_for("Exchange nodes running")
        for i in range(len(CODES)):  # no wait: answering is what the banner announces
            assert requests.get(f"http://127.0.0.1:{port + i}/api/v1/node/", timeout=5).status_code == 200
            products = requests.get(f"http://127.0.0.1:{port + i}/api/v1/products/", timeout=5).json()
            assert products["count"] == 0  # DEMO=0: no sample products
        out = launch.output()
        assert out.index("migrating") < out.index("peering") < out.index("starting the web servers")
        # The web servers were up before any worker ran: no node warned about a peer it could not reach.
        warnings = [line for line in launch.node_logs().splitlines() if " WARNING " in line]
        assert not warnings, "\n".join(warnings)
        launch.assert_clean_stop(launch.stop_time(signal.SIGINT))
    finally:
        launch.kill()


def test_the_light_layout_runs_three_processes_a_node_and_its_clock_ticks(prepared):
    """`make run`'s default layout (docs/operations.md, "Light nodes"): per node gunicorn's master and one
    worker, and one Celery process (solo pool) with beat as a thread: no beat process, no pool child. The
    clock runs: the heartbeats it queues every 15 s reach both queues (`worker_alive`,
    `sync_worker_alive`)."""
    data_dir, port = prepared
    launch = Launch(data_dir, port=port)
    try:
        launch.wait_for("Exchange nodes running")
        members = [line.split(" ", 2)[2] for line in session_members(launch.proc.pid, 4000)]
        for i, code in enumerate(CODES):
            web = [m for m in members if "gunicorn" in m and f"127.0.0.1:{port + i} " in m]
            worker = [m for m in members if "celery" in m and f"worker@{code.lower()}" in m]
            assert len(web) == 2 and len(worker) == 1, "\n".join(members)
            assert "--pool solo" in worker[0] and "--beat-thread" in worker[0]
        assert not [m for m in members if " beat " in m], "\n".join(members)
        assert len(members) == 1 + 3 * len(CODES), "\n".join(members)  # the launcher and three a node

        def ticking(i: int) -> bool:
            node = requests.get(f"http://127.0.0.1:{port + i}/api/v1/node/", timeout=5).json()
            return node["worker_alive"] and node["sync_worker_alive"]

        deadline = time.monotonic() + 60
        while not all(ticking(i) for i in range(len(CODES))):
            assert time.monotonic() < deadline, f"no heartbeat within 60 s:\n{launch.node_logs()[-3000:]}"
            time.sleep(1)
        launch.assert_clean_stop(launch.stop_time(signal.SIGINT))
    finally:
        launch.kill()


def test_a_second_signal_while_stopping_ends_the_stop_at_once(prepared):
    data_dir, port = prepared
    launch = Launch(data_dir, port=port)
    try:
        launch.wait_for("Exchange nodes running")
        launch.assert_clean_stop(launch.stop_time(signal.SIGTERM, signal.SIGTERM, between=0.3))
    finally:
        launch.kill()


def test_signals_while_the_servers_start_stop_them_too(prepared):
    data_dir, port = prepared
    launch = Launch(data_dir, port=port)
    try:
        launch.wait_for("starting the web servers")
        launch.assert_clean_stop(launch.stop_time(signal.SIGINT, signal.SIGTERM, between=0.05))
        assert "Exchange nodes running" not in launch.output()
    finally:
        launch.kill()
