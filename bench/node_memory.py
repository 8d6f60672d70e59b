"""A node's memory at idle, process by process, in each process layout (issue 25, target 4: ≤ 250 MB per node).

    .venv/bin/python bench/node_memory.py [--nodes 2] [--idle 30] [--layouts full,before,light]

Starts NODES nodes (SQLite and the file-system broker each, peered with each other: the embedded default, as
`make run` and `bench/federation24.py` run them) in each layout, one layout after another, waits IDLE seconds
after every node answers and its worker is ready, then reads every process of each node from /proc: RSS
(VmRSS) and PSS (`Pss` of /proc/<pid>/smaps_rollup: a page shared by n processes counts 1/n in each, so the
sum over a node is what the node costs the host, a forked child's shared pages counted once).

Layouts:
* `full`: `make run`'s until this change (gunicorn 2 workers x 4 threads, Celery prefork worker of concurrency
  2, Celery beat as its own process);
* `before`: `bench/federation24.py`'s until this change (gunicorn 1 worker x 2 threads, prefork concurrency 1,
  beat embedded with `-B`, which forks it as a child of the worker);
* `light`: the light-node layout (`scripts/localnet.py`'s `LAYOUT=light`, docs/operations.md).

Each node is read at idle, then again right after one anonymous Chinese search (which loads the segmentation
dictionary into the web worker, see standards/segmentation.py). `--before-tree` runs the `full` and `before` layouts on another source tree: the code before this change
(the segmentation dictionary and rdflib loaded at start), for the before-and-after in one run. Baseline in
the same run: a bare `import django; django.setup()` process of the same settings (RSS, PSS).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

sys.path.insert(0, str(ROOT))

from scripts.localnet import servers
from tests.multinode.harness import BIN, PYTHON, Federation, Node

# bench/federation24.py's light node until this change: -B forks beat as a child of the prefork worker.
BEFORE = {
    "web": [
        "registry.wsgi",
        "--workers",
        "1",
        "--threads",
        "2",
        "--timeout",
        "120",
        "--graceful-timeout",
        "2",
    ],
    "worker": [
        "-A",
        "registry",
        "worker",
        "-B",
        "-Q",
        "celery,sync",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
    ],
}


def commands(layout: str, node: Node) -> dict[str, list[str]]:
    if layout == "before":
        return {
            "web": [str(BIN / "gunicorn"), *BEFORE["web"], "--bind", f"127.0.0.1:{node.port}"],
            "worker": [str(BIN / "celery"), *BEFORE["worker"], "--schedule", str(node.data_dir / "beat")],
        }
    return servers({"NODE_CODE": node.code, "NODE_DATA_DIR": str(node.data_dir)}, node.port, layout=layout)


def _argv(layout: str, node: Node, name: str) -> list[str]:
    argv = commands(layout, node)[name]
    if name == "worker":
        argv += ["--without-mingle", "--without-gossip"]
    return argv


TARGET_MB = 250  # issue 25, target 4


def node_class(layout: str) -> type[Node]:
    """A harness node whose processes are started with the layout's command lines."""

    class LayoutNode(Node):
        def start_web(self, *, wait: bool = True) -> None:
            self._start("web", _argv(layout, self, "web"))
            if wait:
                self.wait_web(timeout=300)

        def start_worker(self, *, wait: bool = True, only=None, layout_=None) -> None:
            self._start("worker", _argv(layout, self, "worker"))
            if wait:
                self.wait_worker(timeout=300)

        def wait_worker(self, timeout: float = 300, *, only=None) -> None:
            self.workers = (("worker", "", 0),)
            super().wait_worker(timeout)

        def start_beat(self) -> None:
            if "beat" in commands(layout, self):
                self._start("beat", _argv(layout, self, "beat"))

        def start_all(self) -> None:
            self.start_web(wait=False)
            self.start_worker(wait=False)
            self.start_beat()
            self.wait_web(timeout=300)
            self.wait_worker(timeout=300)

    return LayoutNode


def _memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process in MiB."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss / 1024, pss / 1024


def processes(node: Node) -> list[tuple[int, str, float, float]]:
    """(pid, command, RSS, PSS) of every process in the groups the node started (helpers and children too)."""
    groups = {p.pid for p in node.procs.values() if p.poll() is None}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) not in groups:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append((int(entry.name), _short(cmd), *_memory(int(entry.name))))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(found)


def _short(cmd: str) -> str:
    words = cmd.split()
    keep = [w for w in words if not w.startswith("/") or w.endswith(("gunicorn", "celery"))]
    return " ".join(Path(w).name if w.startswith("/") else w for w in keep)[:90]


def bare_django(base: Path) -> tuple[float, float]:
    """The baseline: one process that only sets Django up with the node's settings, measured after 3 s."""
    env = {
        **os.environ,
        "NODE_CODE": "SHDEX",
        "NODE_DATA_DIR": str(base / "bare"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "registry.settings",
    }
    (base / "bare").mkdir(parents=True, exist_ok=True)
    code = "import django, sys, time; django.setup(); print('up', flush=True); time.sleep(60)"
    proc = subprocess.Popen([PYTHON, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()
        time.sleep(3)
        return _memory(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def run_layout(layout: str, codes: list[str], idle: float, tree: Path | None) -> list[tuple[str, str, list]]:
    cls = node_class(layout)
    federation = type("LayoutFederation", (Federation,), {"node_class": cls})(
        codes,
        Path(tempfile.mkdtemp(prefix=f"node-memory-{layout}-")),
        roots=dict.fromkeys(codes, tree) if tree else None,
        extra_env={"LOG_LEVEL": "WARNING", "FEDERATION_SYNC_INTERVAL": "5", "FEDERATION_POLL_INTERVAL": "30"},
    )
    try:
        started = time.perf_counter()
        federation.start()
        print(
            f"{layout} ({tree or 'this tree'}): {len(codes)} nodes up in {time.perf_counter() - started:.0f} s; idle {idle:.0f} s"
        )
        time.sleep(idle)
        readings = [(node.code, "idle", processes(node)) for node in federation]
        # A Chinese search loads the segmentation dictionary into the web worker (first use, 34 MB).
        for node in federation:
            node.api("GET", "/api/v1/products/?q=交通数据", timeout=30).raise_for_status()
        time.sleep(2)
        return readings + [(node.code, "searched", processes(node)) for node in federation]
    finally:
        federation.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=2, help="nodes at once, peered (at most 3 here)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds idle before the reading")
    parser.add_argument("--layouts", default="full,before,light")
    parser.add_argument(
        "--before-tree",
        type=Path,
        help="the source tree the full and before layouts run (the code before the light-node change, e.g. a "
        "`git worktree add` of its parent commit); default: this tree",
    )
    parser.add_argument("--verbose", action="store_true", help="every process, not only each node's sum")
    args = parser.parse_args()
    codes = ["SHDEX", "BJIDX", "GYBDX", "SZDEX"][: args.nodes]
    print(f"machine: {machine()}")
    print(f"load average at the start: {os.getloadavg()}")
    base = Path(tempfile.mkdtemp(prefix="node-memory-"))
    rss, pss = bare_django(base)
    print(f"baseline: a bare django.setup() process  RSS {rss:6.1f} MiB  PSS {pss:6.1f} MiB")
    light_idle = []
    for layout in args.layouts.split(","):
        tree = args.before_tree.resolve() if args.before_tree and layout != "light" else None
        for code, when, procs in run_layout(layout, codes, args.idle, tree):
            total_rss = sum(p[2] for p in procs)
            total_pss = sum(p[3] for p in procs)
            if layout == "light" and when == "idle":
                light_idle.append(total_pss)
            print(
                f"  {layout:7} {code} {when:8}: {len(procs)} processes  RSS {total_rss:6.1f} MiB  "
                f"PSS {total_pss:6.1f} MiB"
            )
            if args.verbose:
                for pid, cmd, r, p in procs:
                    print(f"      {pid:>7}  RSS {r:6.1f}  PSS {p:6.1f}  {cmd}")
    print(f"load average at the end: {os.getloadavg()}")
    if light_idle:
        met = max(light_idle) <= TARGET_MB
        print(f"target a light node idles at <= {TARGET_MB} MB in total (PSS): {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
