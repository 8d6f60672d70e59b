"""The node's databases, from the environment: the primary (`DATABASE_URL`) and, optionally, a PostgreSQL
streaming replica that serves public reads (`DATABASE_REPLICA_URL`; `core.replicas` routes to it)."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from core.replicas import PRIMARY, REPLICA
from registry.environment import boolean, env, fail, integer

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"


def _parsed(name: str, default: str | None) -> dict:
    try:
        return env.db_url(name, default=default)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        fail(name, _masked(env.str(name, default="")), f"not a database URL ({exc})")
    return {}  # unreachable


def _masked(url: str) -> str:
    """The URL without its password, for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _postgresql(db: dict) -> dict:
    db["CONN_MAX_AGE"] = integer("DATABASE_CONN_MAX_AGE", 60)
    db["CONN_HEALTH_CHECKS"] = True
    # Server-side parameter binding: psycopg's client-side quoting of large JSON values in Python costs
    # more than the insert itself (measured in bench/import_products.py).
    db.setdefault("OPTIONS", {})["server_side_binding"] = boolean("DATABASE_SERVER_SIDE_BINDING", True)
    return db


def primary(data_dir: Path) -> dict:
    db = _parsed("DATABASE_URL", f"sqlite:///{data_dir / 'db.sqlite3'}")
    if db["ENGINE"] == SQLITE:
        # WAL lets the web server read while a worker writes; IMMEDIATE takes the write lock at BEGIN so two
        # writers queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
        db.setdefault("OPTIONS", {}).update(
            {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            }
        )
        if db["NAME"] and db["NAME"] != ":memory:":
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return db
    if db["ENGINE"] == POSTGRESQL:
        return _postgresql(db)
    fail(
        "DATABASE_URL", _masked(env.str("DATABASE_URL")), "only sqlite:// and postgres:// URLs are supported"
    )
    return db  # unreachable


def replica(primary_db: dict) -> dict | None:
    """The streaming replica's connection, or None when `DATABASE_REPLICA_URL` is unset or empty. It is a
    physical copy of the primary, so it must be PostgreSQL like the primary; in tests it mirrors the primary's
    test database (there is no second test database to create)."""
    url = env.str("DATABASE_REPLICA_URL", default="").strip()
    if not url:
        return None
    db = _parsed("DATABASE_REPLICA_URL", None)
    if db["ENGINE"] != POSTGRESQL:
        fail("DATABASE_REPLICA_URL", _masked(url), "must be a postgres:// URL (a streaming replica)")
    if primary_db["ENGINE"] != POSTGRESQL:
        fail("DATABASE_REPLICA_URL", _masked(url), "needs a PostgreSQL primary (DATABASE_URL=postgres://...)")
    db = _postgresql(db)
    # An unreachable replica costs a request this long before the primary takes its reads (core/replicas.py);
    # `?connect_timeout=` in the URL sets another.
    db["OPTIONS"].setdefault("connect_timeout", 3)
    db["TEST"] = {"MIRROR": PRIMARY}
    return db


def databases(data_dir: Path) -> dict[str, dict]:
    main = primary(data_dir)
    found = {PRIMARY: main}
    copy = replica(main)
    if copy is not None:
        found[REPLICA] = copy
    return found
