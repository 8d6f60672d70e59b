"""A real PostgreSQL streaming replica of the test server, for tests/test_replica_streaming.py: a second
cluster cloned with `pg_basebackup -R` into a temporary directory, started with `pg_ctl` on a free loopback
port (as the `postgres` user when the tests run as root: PostgreSQL refuses to run as root), stopped and
removed afterwards (the directory by a background `rm`). `replica_unavailable` says why it cannot be made
here (the test skips with that reason); `.ci/pg-replication` lets the primary serve it replication."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

# A base backup copies the whole cluster (every database on the server, not only the test's): beyond this
# it would take minutes, not seconds. On the 2-core machine the test's set-up took 35-41 s for 3.3 GiB at load
# average 9-13, 11 s for 3.7 GiB at load average 5.5 (the files in the page cache).
MAX_CLUSTER_BYTES = 8 * 1024**3
START_SECONDS = 30
# Settings a hot standby must have at least as high as its primary's, or it refuses to start.
AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def _connect(primary: dict, **extra) -> psycopg.Connection:
    return psycopg.connect(
        host=primary["HOST"] or "127.0.0.1",
        port=primary["PORT"] or 5432,
        user=primary["USER"],
        password=primary["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
        **extra,
    )


def _bindir(major: int) -> Path | None:
    """The directory of this server's pg_basebackup, pg_ctl and postgres (Debian keeps one per version)."""
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin"), Path(f"/usr/pgsql-{major}/bin")):
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(os.path.realpath(found)).parent if found else None


def _run_as() -> str | None:
    """The user the cluster runs as: `postgres` when the tests run as root, else the tests' own user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return ""  # no user to run it as
    return "postgres"


def primary_facts(primary: dict) -> dict:
    with _connect(primary) as conn:
        facts = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("wal_level", "server_version_num", *AT_LEAST_PRIMARY)
        }
        facts["senders_used"] = conn.execute("SELECT count(*) FROM pg_stat_replication").fetchone()[0]
        facts["cluster_bytes"] = conn.execute(
            "SELECT sum(pg_database_size(oid)) FROM pg_database"
        ).fetchone()[0]
    return facts


def replica_unavailable(primary: dict) -> str | None:
    """Why no streaming replica of `primary` (a Django connection's settings) can be made here, or None."""
    facts = primary_facts(primary)
    major = int(facts["server_version_num"]) // 10000
    if facts["wal_level"] not in {"replica", "logical"}:
        return (
            f"the primary's wal_level is {facts['wal_level']}: a streaming replica needs replica (a restart)"
        )
    if int(facts["max_wal_senders"]) - facts["senders_used"] < 2:
        return "the primary has fewer than 2 free WAL senders (max_wal_senders) for pg_basebackup -X stream"
    if facts["cluster_bytes"] > MAX_CLUSTER_BYTES:
        size = facts["cluster_bytes"] / 1024**3
        return f"the primary's cluster holds {size:.1f} GiB: a base backup of it would take too long"
    bindir = _bindir(major)
    if bindir is None or not (bindir / "pg_basebackup").exists():
        return f"no pg_ctl and pg_basebackup of PostgreSQL {major} on this machine"
    if _run_as() == "":
        return "the tests run as root and there is no postgres user to run the replica as"
    try:
        with _connect(primary, replication="true") as conn:
            conn.pgconn.exec_(b"IDENTIFY_SYSTEM")
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1]
        return f"the primary refuses replication connections ({reason}): run .ci/pg-replication"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list, user: str | None, env: dict, timeout: int = 60) -> None:
    done = subprocess.run(  # noqa: S603 (PostgreSQL's own programs, this test's arguments)
        command, user=user, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")


def _options(primary: dict, facts: dict, home: Path, port: int) -> str:
    """The replica's settings, all on postgres's command line: they override whatever configuration the copied
    data directory holds (postgresql.auto.conf included), and this machine's own configuration files."""
    (home / "hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (home / "ident.conf").write_text("")
    (home / "replica.conf").write_text("")
    settings = {
        "config_file": home / "replica.conf",
        "hba_file": home / "hba.conf",
        "ident_file": home / "ident.conf",
        "port": port,
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": home,
        "hot_standby": "on",
        "shared_buffers": "16MB",
        "fsync": "off",
        "ssl": "off",
        **{name: facts[name] for name in AT_LEAST_PRIMARY},
    }
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def _wait_streaming(port: int, user: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user=user, dbname="postgres", autocommit=True
            ) as c:
                if c.execute("SELECT status FROM pg_stat_wal_receiver").fetchone() == ("streaming",):
                    return
        except psycopg.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the replica on port {port} is not streaming after {START_SECONDS} s")
        time.sleep(0.1)


@contextmanager
def streaming_replica(primary: dict) -> Iterator[int]:
    """A streaming replica of `primary` (a Django connection's settings) on loopback: yields its port."""
    facts = primary_facts(primary)
    bindir = _bindir(int(facts["server_version_num"]) // 10000)
    user = _run_as()
    home = Path(tempfile.mkdtemp(prefix="dxr-replica-"))
    if user:
        shutil.chown(home, user)
    data, port = home / "data", _free_port()
    env = {**os.environ, "PGPASSWORD": primary["PASSWORD"] or ""}
    try:
        source = [
            "-h",
            primary["HOST"] or "127.0.0.1",
            "-p",
            str(primary["PORT"] or 5432),
            "-U",
            primary["USER"],
        ]
        backup = [
            bindir / "pg_basebackup",
            *source,
            "-D",
            data,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-w",
            "--no-manifest",
        ]
        _run([*backup, "--no-sync"], user, env)
        options = _options(primary, facts, home, port)
        _run([bindir / "pg_ctl", "-D", data, "-o", options, "-l", home / "log", "-w", "start"], user, env)
        _wait_streaming(port, primary["USER"])
        yield port
    finally:
        if (data / "postmaster.pid").exists():
            stop = [bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
            subprocess.run(stop, user=user, capture_output=True, timeout=60)  # noqa: S603 (as _run)
        # A copy of the whole cluster takes seconds to delete: `rm` does it while the tests go on.
        subprocess.Popen(["rm", "-rf", str(home)], start_new_session=True)  # noqa: S603, S607
