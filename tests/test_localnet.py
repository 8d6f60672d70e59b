"""`make run`'s launcher (scripts/localnet.py) in this process: its settings, and how it stops what it started
(the real nodes are started and signalled in tests/multinode/test_localnet.py)."""

import importlib.util
import signal
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from tests.multinode.harness import ROOT

spec = importlib.util.spec_from_file_location("localnet", ROOT / "scripts" / "localnet.py")
localnet = importlib.util.module_from_spec(spec)
spec.loader.exec_module(localnet)

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
# A leader that starts a child in its group and exits on SIGTERM, leaving the child (which ignores it).
LEAVES_A_CHILD = (
    "import subprocess, sys, time; "
    f"subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}]); time.sleep(60)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (["SHDEX", "BJIDX", "GYBDX"], 8001, 30)),
        ({"DEMO": "0", "BASE_PORT": "9001", "NODES": "gybdx"}, (["GYBDX"], 9001, 0)),
    ],
)
def test_nodes_ports_and_demo_products_come_from_the_environment(monkeypatch, env, expected):
    for name in ("NODES", "BASE_PORT", "DEMO", "LOCALNET_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    codes, port, demo, base = localnet.settings_from_env()
    assert (codes, port, demo) == expected and base == ROOT / "var"


@pytest.mark.parametrize("demo", ["many", "-1"])
def test_a_bad_demo_count_stops_the_start_naming_it(monkeypatch, demo):
    monkeypatch.setenv("DEMO", demo)
    with pytest.raises(SystemExit, match="DEMO"):
        localnet.settings_from_env()


def test_the_light_layout_is_the_default_and_runs_beat_in_the_worker(monkeypatch, tmp_path):
    monkeypatch.delenv("LAYOUT", raising=False)
    assert localnet.layout_from_env() == "light"
    env = {"NODE_CODE": "SHDEX", "NODE_DATA_DIR": str(tmp_path)}
    light = localnet.servers(env, 8001)
    assert set(light) == {"web", "worker"}  # no beat process
    assert (
        light["worker"][light["worker"].index("--pool") + 1] == "solo" and "--beat-thread" in light["worker"]
    )
    assert light["web"][light["web"].index("--workers") + 1] == "1"
    full = localnet.servers(env, 8001, layout="full")
    assert set(full) == {"web", "worker", "beat"} and "--beat-thread" not in full["worker"]
    monkeypatch.setenv("LAYOUT", "FULL")
    assert localnet.layout_from_env() == "full"
    monkeypatch.setenv("LAYOUT", "tiny")
    with pytest.raises(SystemExit, match="LAYOUT must be one of light, full"):
        localnet.layout_from_env()


def _spawn(children, code: str):
    return children.spawn("test", [sys.executable, "-c", code], {}, server=True)


def test_stop_waits_for_the_leaders_then_kills_every_group_left(monkeypatch):
    monkeypatch.setattr(localnet, "STOP_GRACE", 1.0)
    children = localnet.Children()
    polite = _spawn(children, "import time; time.sleep(60)")
    stubborn = _spawn(children, IGNORES_SIGTERM)
    leaver = _spawn(children, LEAVES_A_CHILD)
    time.sleep(1)  # the interpreters are up (a signal before that would end them all at once)
    started = time.monotonic()
    children.stop()
    took = time.monotonic() - started
    assert polite.returncode == -signal.SIGTERM and stubborn.returncode == -signal.SIGKILL
    assert not any(localnet.group_alive(p.pid) for p in (polite, stubborn, leaver))  # the leaver's child too
    assert 1.0 <= took < 4.0
    children.stop()  # again: nothing to do, no error


def test_a_signal_during_the_stop_kills_at_once(monkeypatch):
    monkeypatch.setattr(localnet, "STOP_GRACE", 30.0)
    children = localnet.Children()
    stubborn = _spawn(children, IGNORES_SIGTERM)
    time.sleep(1)
    children.signals = 1
    # The second signal arrives during the launcher's first wait.
    clock = SimpleNamespace(monotonic=time.monotonic, sleep=lambda s: setattr(children, "signals", 2))
    monkeypatch.setattr(localnet, "time", clock)
    started = time.monotonic()
    children.stop()
    assert stubborn.returncode == -signal.SIGKILL and time.monotonic() - started < 5


def test_a_signal_ends_the_wait_for_a_setup_command_and_the_stop_ends_the_command(tmp_path):
    children = localnet.Children()
    children.signals = 1  # a signal already received: nothing more is started
    with pytest.raises(localnet.Stopped):
        children.spawn("refused", [sys.executable, "-c", "pass"], {})
    assert not children.procs
    children.signals = 0
    threading.Timer(1.0, children.on_signal, (signal.SIGTERM, None)).start()
    started = time.monotonic()
    with pytest.raises(localnet.Stopped):
        children.run("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path / "log")
    assert time.monotonic() - started < 3
    (proc,) = [p for _, p in children.procs]
    assert proc.poll() is None  # the wait ended, not the command: stop() does that
    children.stop()
    assert proc.returncode == -signal.SIGTERM
