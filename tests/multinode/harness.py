"""Real exchange nodes on loopback for the multi-node tests: per node a gunicorn web server, a Celery worker
and Celery beat, each in its own process group, with its own database, broker, key and log files.

The backend follows the environment the suite runs in: without DATABASE_URL every node gets a SQLite file and
a file-system broker in its data directory; with a PostgreSQL DATABASE_URL every node gets its own fresh
database (dropped at the end) and its own Redis database number for broker and cache.

Processes run with the node's data directory as their working directory, so nothing they write (kombu's
file-system broker keeps its fan-out table in ./control) lands in the repository or is shared by nodes.

A node runs the code of this repository unless given another source tree (`root`: an older commit extracted
somewhere, for a test of two versions replicating to each other); the interpreter and packages are this one.
"""

# ruff: noqa: S603 - every command line here is built by this module from constants and test parameters

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(sys.executable).parent
MANAGE = str(ROOT / "manage.py")
# The example descriptor's provider: registered (verified) at the first node of every federation.
EXAMPLE_PROVIDER = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))["provider"]
# The example registration (docs/participants.md); `Node.register_via_api` takes its public profile.
PARTICIPANT_EXAMPLE = json.loads((ROOT / "docs/examples/participant.json").read_text("utf-8"))
# Variables of the test process that must not leak into a node (each node gets its own, or the default).
_SCRUBBED = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "NODE_KEY_FILE",
    "NODE_PRIVATE_KEY",
    "NODE_PRIVATE_KEY_FILE",
    "NODE_CODE",
    "NODE_PUBLIC_URL",
    "NODE_DATA_DIR",
)


class HarnessError(AssertionError):
    pass


_PORTS_GIVEN: set[int] = set()


def free_port() -> int:
    """A free port below the kernel's ephemeral range: a port the kernel hands out (bind to 0) can be taken
    by any outgoing connection (to PostgreSQL, to another node) before the node's web server binds it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if port in _PORTS_GIVEN:  # handed to another node of this run, not bound yet
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], Any], timeout: float, *, interval: float = 0.25, message: str = "condition"
) -> Any:
    """Call `predicate` until it returns something truthy (returned) or `timeout` seconds pass (fails).
    Exceptions from the predicate count as "not yet"; the last one is shown on timeout."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except Exception as exc:  # a node that is not up yet raises: keep polling
            last_error, value = exc, None
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise HarnessError(f"timed out after {timeout:.0f}s waiting for {message}{detail}")
        time.sleep(interval)


# --- Backends ---------------------------------------------------------------------------------------------
class SqliteBackend:
    """Each node's default: a SQLite file and a file-system broker under NODE_DATA_DIR."""

    name = "sqlite"

    def provision(self, node: Node) -> dict[str, str]:
        return {}

    def release(self, node: Node) -> None:
        pass


class PostgresBackend:
    """A fresh database per node, named after the base URL's (`<db>_mn_<code>_<random>`), and a Redis database
    number per node (5..15) for broker and cache, flushed before use; with CELERY_BROKER_URL=filesystem://,
    no Redis: each node keeps the file-system broker and local cache of its default."""

    name = "postgres"
    REDIS_DBS = range(5, 16)

    def __init__(self, database_url: str, broker_url: str):
        self.database_url = database_url
        self.base = urlsplit(database_url)
        self.base_db = self.base.path.lstrip("/") or "registry"
        # A file-system broker asked for (a run that may not take Redis databases 5..15): no Redis at all.
        self.redis = not broker_url.startswith("filesystem")
        broker = urlsplit(broker_url if broker_url.startswith("redis") else "redis://127.0.0.1:6379/0")
        self.redis_host, self.redis_port = broker.hostname or "127.0.0.1", broker.port or 6379
        self._lock = threading.Lock()
        self._redis_free = list(self.REDIS_DBS)

    def _admin(self):
        import psycopg

        url = urlunsplit(self.base._replace(path="/postgres"))
        return psycopg.connect(url, autocommit=True)

    def provision(self, node: Node) -> dict[str, str]:
        import redis

        name = f"{self.base_db}_mn_{node.code.lower()}_{secrets.token_hex(3)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        if not self.redis:  # CELERY_BROKER_URL=filesystem://: each node's own file-system broker
            node.resources = {"database": name}
            return {"DATABASE_URL": urlunsplit(self.base._replace(path=f"/{name}"))}
        with self._lock:
            if not self._redis_free:
                raise HarnessError("no free Redis database number left for another node")
            number = self._redis_free.pop(0)
        redis.Redis(host=self.redis_host, port=self.redis_port, db=number).flushdb()
        node.resources = {"database": name, "redis_db": number}
        redis_url = f"redis://{self.redis_host}:{self.redis_port}/{number}"
        return {
            "DATABASE_URL": urlunsplit(self.base._replace(path=f"/{name}")),
            "CELERY_BROKER_URL": redis_url,
            "CACHE_URL": redis_url,
        }

    def release(self, node: Node) -> None:
        import redis

        resources = getattr(node, "resources", None) or {}
        if "database" in resources:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{resources["database"]}" WITH (FORCE)')
        if "redis_db" in resources:
            try:
                redis.Redis(host=self.redis_host, port=self.redis_port, db=resources["redis_db"]).flushdb()
            finally:
                with self._lock:
                    self._redis_free.append(resources["redis_db"])
        node.resources = {}


def backend_from_env() -> SqliteBackend | PostgresBackend:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresBackend(url, os.environ.get("CELERY_BROKER_URL", ""))
    return SqliteBackend()


# --- A node -----------------------------------------------------------------------------------------------
class Node:
    web_workers = 1  # gunicorn worker processes (each with 4 threads)

    def __init__(
        self,
        code: str,
        base_dir: Path,
        backend,
        *,
        extra_env: dict[str, str] | None = None,
        root: Path = ROOT,
    ):
        self.code = code.upper()
        # The source tree the node runs: its PYTHONPATH (what gunicorn and Celery import) and its manage.py.
        self.root = Path(root).resolve()
        self.workers = self.WORKERS
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(base_dir) / self.code.lower()
        self.log_dir = self.data_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.resources: dict[str, Any] = {}
        self.public_key: str | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, Any] = {}
        self._token: str | None = None
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env.update(
            NODE_CODE=self.code,
            NODE_PUBLIC_URL=self.url,
            NODE_DATA_DIR=str(self.data_dir),
            PYTHONPATH=str(self.root),
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="registry.settings",
            FEDERATION_SYNC_INTERVAL="1",
            FEDERATION_POLL_INTERVAL="1",
            FEDERATION_PULL_LEASE="5",
            FEDERATION_ANTI_ENTROPY_INTERVAL="3600",
            FEDERATION_MAX_BACKOFF="4",
            THROTTLE_ANON="1000000/min",
            THROTTLE_WRITE="1000000/min",
            THROTTLE_LOGIN="1000000/min",
            LOG_LEVEL="INFO",
            STATIC_ROOT=str(self.data_dir / "static"),
        )
        env.update(backend.provision(self))
        env.update(extra_env or {})
        self.env = env

    def __repr__(self) -> str:
        return f"<Node {self.code} {self.url}>"

    # --- management commands ---
    def manage(self, *args: str, timeout: float = 300, check: bool = True, env: dict | None = None) -> str:
        done = subprocess.run(
            [PYTHON, str(self.root / "manage.py"), *args],
            cwd=self.data_dir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise HarnessError(
                f"{self.code}: manage.py {' '.join(args)} exited {done.returncode}\n"
                f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def shell_json(self, code: str, *, timeout: float = 300) -> Any:
        """Run `code` in the node's Django shell; it must print one JSON document as its last line."""
        out = self.manage("shell", "--no-imports", "-c", code, timeout=timeout)
        lines = [line for line in out.splitlines() if line.strip()]
        if not lines:
            raise HarnessError(f"{self.code}: shell printed nothing")
        return json.loads(lines[-1])

    def migrate(self) -> None:
        self.manage("migrate", "--no-input")

    def init_key(self) -> str:
        self.public_key = self.manage("node_init").strip().splitlines()[-1]
        return self.public_key

    def add_peer(self, other: Node, *, disabled: bool = False, public_key: str | None = None) -> str:
        args = ["peers", "add", other.code, other.url, public_key or other.public_key]
        if disabled:
            args.append("--disabled")
        return self.manage(*args).strip()

    def token_for_operator(self, username: str = "operator") -> str:
        return self.manage("operator_token", self.code, username).strip().splitlines()[-1]

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.token_for_operator()
        return self._token

    # --- processes ---
    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        old = self.procs.get(name)
        if old is not None and old.poll() is None:
            raise HarnessError(f"{self.code} {name} is already running")
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in _reap
        log.write(f"\n===== start {name} at {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            cwd=self.data_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs[name] = proc
        self._logs[name] = log
        return proc

    def start_web(self, *, wait: bool = True) -> None:
        self._start(
            "web",
            [
                str(BIN / "gunicorn"),
                "registry.wsgi",
                # Its configuration module (metrics across worker processes, JSON logs), as the Docker image
                # starts it; an older source tree has none.
                *(
                    ("-c", "python:registry.gunicorn")
                    if (self.root / "registry/gunicorn.py").exists()
                    else ()
                ),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.web_workers),
                "--threads",
                "4",
                "--timeout",
                "120",
                "--graceful-timeout",
                "2",
                # The request limits of the Docker image's command (gunicorn's defaults, stated).
                "--limit-request-line",
                "4094",
                "--limit-request-fields",
                "100",
                "--limit-request-field_size",
                "8190",
                "--access-logfile",
                "-",
            ],
        )
        if wait:
            self.wait_web()

    def wait_web(self, timeout: float = 60) -> None:
        def up():
            self._check_alive("web")
            return requests.get(f"{self.url}/federation/v1/node/", timeout=2).status_code == 200

        wait_until(up, timeout, message=f"{self.code} web server")

    # A node's Celery workers as (process name, queues, concurrency). By default one worker for both queues,
    # as `make run` runs them; SPLIT is docker-compose.yml's production layout, a worker per queue (the
    # default queue's: wake-ups, demand matching; `sync`: pulls, anti-entropy). "The worker" in a test is
    # whichever run.
    WORKERS = (("worker", "celery,sync", 2),)
    SPLIT = (("worker", "celery", 2), ("sync", "sync", 1))

    def start_worker(
        self, *, wait: bool = True, only: str | None = None, layout: tuple | None = None
    ) -> None:
        """Start the node's workers (`only`: just the one of that name; `layout`: from now on this one)."""
        if layout is not None:
            self.workers = layout
        uid = secrets.token_hex(3)
        for name, queue, concurrency in self.workers:
            if only is not None and name != only:
                continue
            # Mingle and gossip would only make the workers of different nodes talk about each other.
            self._start(
                name,
                [
                    str(BIN / "celery"),
                    "-A",
                    "registry",
                    "worker",
                    "-Q",
                    queue,
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"{name}@{self.code.lower()}-{uid}",
                    "--without-mingle",
                    "--without-gossip",
                ],
            )
        if wait:
            self.wait_worker(only=only)

    def wait_worker(self, timeout: float = 60, *, only: str | None = None) -> None:
        for name, _, _ in self.workers:
            if only is not None and name != only:
                continue
            log = self.log_dir / f"{name}.log"
            start = log.read_bytes().rfind(f"===== start {name}".encode())

            def ready(name=name, log=log, start=start):
                self._check_alive(name)
                return b" ready." in log.read_bytes()[start:]

            wait_until(ready, timeout, message=f"{self.code} {name} worker ready")

    def start_beat(self) -> None:
        self._start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "registry",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.data_dir / "beat"),
            ],
        )

    def start_all(self) -> None:
        self.start_web(wait=False)
        self.start_worker(wait=False)
        self.start_beat()
        self.wait_web()
        self.wait_worker()

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def _check_alive(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"{self.code} {name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        proc = self.procs.get(name)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                # SIGTERM goes to the leader, which shuts its children down in order (a group-wide SIGTERM
                # makes Celery's pool children die mid-shutdown and the worker wait for them); SIGKILL hits
                # the whole group at once, like a crash.
                if sig == signal.SIGKILL:
                    os.killpg(proc.pid, sig)
                else:
                    os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        # The group may outlive its leader (a prefork child): make sure nothing of it is left.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self._reap(name)

    def _reap(self, name: str) -> None:
        self.procs.pop(name, None)
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()

    def stop_worker(self, sig: int = signal.SIGKILL) -> None:
        for name in ("worker", "sync"):
            self.stop(name, sig)

    def stop_all(self, sig: int = signal.SIGTERM, timeout: float = 3) -> None:
        """Stop the node: beat first, then the worker, then the web server. A Celery worker's warm shutdown
        takes about 6 s even when idle; after `timeout` seconds the rest of it is killed."""
        for name in ("beat", "worker", "sync", "web"):
            self.stop(name, sig, timeout)

    def release(self) -> None:
        self.stop_all(signal.SIGKILL)
        self.backend.release(self)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return "(no log)"
        text = path.read_text("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])

    def logs_tail(self, lines: int = 40) -> str:
        return "\n".join(
            f"----- {self.code} {name}.log -----\n{self.log_tail(name, lines)}"
            for name in ("web", "worker", "sync", "beat")
        )

    # --- HTTP ---
    def api(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        timeout: float = 30,
        **kwargs,
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Token {token}"
        return requests.request(
            method, self.url + path, json=json, headers=headers, timeout=timeout, **kwargs
        )

    def sync_status(self) -> dict:
        response = self.api("GET", "/federation/v1/status/", token=self.token, timeout=10)
        response.raise_for_status()
        return response.json()

    def origin_state(self, origin: str) -> dict | None:
        return next((o for o in self.sync_status()["origins"] if o["origin"] == origin), None)

    def own_seq(self) -> int:
        return self.sync_status()["own_seq"]

    # --- products ---
    def list_product(self, descriptor: dict) -> dict:
        """Create, submit and approve a product through the API; returns the listed product. Its provider
        must be registered at some node (the federation registers the example's at its first node)."""
        self.wait_participant(descriptor["provider"]["uscc"])
        created = self.api("POST", "/api/v1/products/", token=self.token, json={"descriptor": descriptor})
        if created.status_code != 201:
            raise HarnessError(f"create at {self.code}: {created.status_code} {created.text[:1000]}")
        code = created.json()["code"]
        for path, body in (("submit/", None), ("review/", {"decision": "approve"})):
            response = self.api("POST", f"/api/v1/products/{code}/{path}", token=self.token, json=body)
            if response.status_code != 200:
                raise HarnessError(
                    f"{path} {code} at {self.code}: {response.status_code} {response.text[:1000]}"
                )
        return response.json()

    def import_listed(self, descriptors: Iterable[dict], *, name: str = "import") -> str:
        """Import listed products; their providers are first registered (verified) here if no node has."""
        path = self.data_dir / f"{name}-{secrets.token_hex(3)}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for d in descriptors:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        self.shell_json(
            "import json\nfrom participants.services import providers_register_verified\n"
            f"rows = [json.loads(line) for line in open({str(path)!r}, encoding='utf-8')]\n"
            "pairs = [(d['provider']['uscc'], d['provider']['name']) for d in rows]\n"
            "n = providers_register_verified(pairs)\n"
            "print(json.dumps(n))"
        )
        return self.manage("import_products", str(path), "--status", "listed", "--no-progress")

    def register_providers(self, pairs: list[tuple[str, str]]) -> int:
        """Register (uscc, name) pairs as verified data merchants of this node, unless known here."""
        return self.shell_json(
            "import json\nfrom participants.services import providers_register_verified\n"
            f"print(json.dumps(providers_register_verified({pairs!r})))"
        )

    def register_via_api(
        self, *, uscc: str, legal_name: str, roles: list[str], account: dict | None = None
    ) -> dict:
        """Register a participant here through the API (the example registration's profile, no private
        fields) and verify it; returns the verified registration. Works on a node of any source tree."""
        body = {
            **PARTICIPANT_EXAMPLE,
            "uscc": uscc,
            "legal_name": legal_name,
            "roles": roles,
            "business_categories": ["data_products"] if "data_merchant" in roles else [],
        }
        for private in ("contacts", "phone", "email", "documents", "account"):
            body.pop(private, None)
        if account is not None:
            body["account"] = account
        created = self.api("POST", "/api/v1/participants/", token=self.token, json=body)
        if created.status_code != 201:
            raise HarnessError(f"register {uscc} at {self.code}: {created.status_code} {created.text[:1000]}")
        verified = self.api(
            "POST",
            f"/api/v1/participants/{uscc}/verification/",
            token=self.token,
            json={"status": "verified"},
        )
        if verified.status_code != 200:
            raise HarnessError(f"verify {uscc} at {self.code}: {verified.status_code} {verified.text[:1000]}")
        return verified.json()

    def wait_participant(self, participant_id: str, timeout: float = 30, *, status: str = "verified") -> dict:
        """Wait until this node holds `participant_id` (replicated if it is registered elsewhere)."""

        def known():
            response = self.api("GET", f"/api/v1/participants/{participant_id}/", timeout=10)
            return response.status_code == 200 and response.json()["status"] == status and response.json()

        return wait_until(known, timeout, message=f"participant {participant_id} ({status}) at {self.code}")

    def patch_summary(self, code: str, summary: str) -> dict:
        response = self.api(
            "PATCH", f"/api/v1/products/{code}/", token=self.token, json={"descriptor": {"summary": summary}}
        )
        if response.status_code != 200:
            raise HarnessError(f"PATCH {code} at {self.code}: {response.status_code} {response.text[:1000]}")
        return response.json()

    def dump(self, origin: str) -> dict:
        """This node's copy of `origin`'s records, straight from its database."""
        return self.shell_json(DUMP_SCRIPT.replace("__ORIGIN__", origin))


DUMP_SCRIPT = """
import json
from django.db.models import Count, F
from federation.models import Entry, QuarantinedEntry
from products.models import Product, ProductVersion, Recognition
origin = "__ORIGIN__"
products = {p.code: [p.version, p.status, p.descriptor, p.name]
            for p in Product.objects.filter(exchange_id=origin).order_by("code")}
codes = list(products)
recognitions = {}
for r in Recognition.objects.filter(product_code__in=codes).order_by("product_code", "exchange_id"):
    recognitions.setdefault(r.product_code, {})[r.exchange_id] = [r.status, r.decided_by, r.version]
entries = {f"{e.record_type}:{e.gid}": [e.seq, e.version] for e in Entry.objects.filter(origin=origin)}
print(json.dumps({
    "products": products,
    "product_rows": Product.objects.filter(exchange_id=origin).count(),
    "version_rows_missing": Product.objects.filter(exchange_id=origin).exclude(
        versions__version=F("version")).count(),
    "recognitions": recognitions,
    "recognition_rows": Recognition.objects.filter(product_code__in=codes).count(),
    "duplicate_recognitions": Recognition.objects.values("product_code", "exchange_id").annotate(
        n=Count("id")).filter(n__gt=1).count(),
    "entries": entries,
    "entry_rows": Entry.objects.filter(origin=origin).count(),
    "quarantined": QuarantinedEntry.objects.filter(origin=origin).count(),
}, ensure_ascii=False, default=str))
"""


# --- A federation of nodes --------------------------------------------------------------------------------
class Federation:
    node_class: type[Node] = Node

    def __init__(
        self,
        codes: Iterable[str],
        base_dir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        backend=None,
        roots: dict[str, Path] | None = None,
    ):
        """`roots`: the source tree of some nodes, by code (see `Node`); the others run this repository."""
        self.backend = backend or backend_from_env()
        self.nodes: dict[str, Node] = {}
        self.base_dir = Path(base_dir)
        self.extra_env = extra_env or {}
        self.codes = [c.upper() for c in codes]
        self.roots = {code.upper(): Path(root) for code, root in (roots or {}).items()}
        unknown = sorted(set(self.roots) - set(self.codes))
        if unknown:
            raise HarnessError(f"a source tree for nodes not in the federation: {unknown}")

    def __getitem__(self, code: str) -> Node:
        return self.nodes[code]

    def __iter__(self):
        return iter(self.nodes.values())

    def parallel(self, fn: Callable[[Node], Any], nodes: Iterable[Node] | None = None) -> list:
        nodes = list(nodes or self.nodes.values())
        with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
            return list(pool.map(fn, nodes))

    def start(self) -> Federation:
        """Create, migrate, key, peer (full mesh) and start every node, in parallel where independent."""
        for code in self.codes:
            # `root` only where one was given: a node class that does not take it keeps working.
            extra = {"root": self.roots[code]} if code in self.roots else {}
            self.nodes[code] = self.node_class(
                code, self.base_dir, self.backend, extra_env=self.extra_env, **extra
            )

        def prepare(node: Node) -> None:
            node.migrate()
            node.init_key()

        self.parallel(prepare)

        first = self.nodes[self.codes[0]]

        def peer(node: Node) -> None:
            if node.code in self.roots:
                # Another source tree (an older commit): its module paths need not be this tree's, so only its
                # command-line interface; the example provider is registered through its API once it runs.
                for other in self:
                    if other is not node:
                        node.add_peer(other)
                node._token = node.token_for_operator()
                return
            # One process per node instead of one `peers add` per peer plus `operator_token`: each Django
            # start costs seconds on a small machine. `Node.add_peer` is the same through the CLI.
            script = (
                "import json\nfrom accounts.services import api_token_issue, operator_ensure\n"
                "from exchanges.models import Exchange\nfrom federation.peers import peer_add\n"
                + "".join(
                    f"peer_add(code={o.code!r}, base_url={o.url!r}, public_key={o.public_key!r})\n"
                    for o in self
                    if o is not node
                )
                + (
                    "from participants.services import providers_register_verified\n"
                    "providers_register_verified("
                    f"[({EXAMPLE_PROVIDER['uscc']!r}, {EXAMPLE_PROVIDER['name']!r})])\n"
                    if node is self.nodes[self.codes[0]]
                    else ""
                )
                + f"exchange = Exchange.objects.get(code={node.code!r})\n"
                "user = operator_ensure(exchange=exchange, username='operator')\n"
                "print(json.dumps({'token': api_token_issue(user=user, name='multinode')}))"
            )
            node._token = node.shell_json(script)["token"]

        self.parallel(peer)
        self.parallel(Node.start_all)
        if first.code in self.roots:
            first.register_via_api(
                uscc=EXAMPLE_PROVIDER["uscc"], legal_name=EXAMPLE_PROVIDER["name"], roles=["data_merchant"]
            )
        return self

    def ensure_running(self) -> None:
        """Restart whatever a previous test left stopped."""

        def heal(node: Node) -> None:
            if not node.running("web"):
                node.start_web(wait=False)
            if not all(node.running(name) for name, _, _ in node.workers):
                node.stop_worker()  # what is left of them
                node.start_worker(wait=False)
            if not node.running("beat"):
                node.start_beat()
            node.wait_web()
            node.wait_worker()

        self.parallel(heal)

    def logs_tail(self, lines: int = 40) -> str:
        return "\n".join(node.logs_tail(lines) for node in self)

    def close(self) -> None:
        errors = []
        for node in self.nodes.values():
            try:
                node.stop_all(signal.SIGKILL)
            except Exception as exc:  # keep killing the others
                errors.append(exc)
        for node in self.nodes.values():
            try:
                node.backend.release(node)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


# --- A signer: another node's identity, without a running node ---------------------------------------------
def key_pair() -> tuple[str, str]:
    """A fresh Ed25519 key: (PEM of the private key, base64 of the public key)."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pem, base64.b64encode(raw).decode()


class Signer:
    """Signs requests as node `code` with its own key, through the project's own
    `federation.signatures.sign_request`, run in that node's environment (a Django shell; no database)."""

    def __init__(self, code: str, base_dir: Path, *, max_age: int = 60, key: tuple[str, str] | None = None):
        self.code = code.upper()
        self.pem, self.public_key = key or key_pair()
        self.data_dir = Path(base_dir) / f"signer-{self.code.lower()}-{secrets.token_hex(2)}"
        self.data_dir.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env.update(
            NODE_CODE=self.code,
            NODE_DATA_DIR=str(self.data_dir),
            NODE_PRIVATE_KEY=self.pem,
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="registry.settings",
            FEDERATION_SIGNATURE_MAX_AGE=str(max_age),
            STATIC_ROOT=str(self.data_dir / "static"),
        )
        self.env = env

    def sign(self, requests_: list[tuple[str, str, bytes | None]]) -> list[dict[str, str]]:
        """Headers (Signature-Input, Signature, Content-Digest with a body) for each (method, url, body)."""
        spec = json.dumps([[m, u, b.decode() if b is not None else None] for m, u, b in requests_])
        script = (
            "import json\nfrom federation.signatures import sign_request\n"
            f"spec = json.loads({spec!r})\n"
            "print(json.dumps([sign_request(m, u, {'Accept': 'application/json'}, b.encode() if b else None) "
            "for m, u, b in spec]))"
        )
        done = subprocess.run(
            [PYTHON, MANAGE, "shell", "--no-imports", "-c", script],
            cwd=self.data_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"signing as {self.code} failed:\n{done.stderr[-3000:]}")
        return json.loads([line for line in done.stdout.splitlines() if line.strip()][-1])
