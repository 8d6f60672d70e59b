"""docker-compose.scale.yml, the scaled layout of one node on top of docker-compose.yml, read with a YAML
parser (Docker is not needed): a streaming replica the webs read from, two webs behind a load balancer that
takes over their published port, two default-queue workers, still one sync worker and one beat
(docs/operations.md, "When one machine is not enough")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.test_compose import VARIABLE, _compose, _example

ROOT = Path(__file__).resolve().parents[1]
SCALE = ROOT / "docker-compose.scale.yml"


class _Reset:
    """Compose's `!reset` tag: the base file's value is dropped."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reset", lambda loader, node: _Reset())


def _scale() -> dict:
    return yaml.load(SCALE.read_text("utf-8"), Loader=_Loader)  # noqa: S506 (a SafeLoader with one more tag)


def test_the_scaled_layout_extends_the_node_it_names_and_adds_a_replica_and_a_load_balancer():
    base, scale = _compose()["services"], _scale()["services"]
    assert set(scale) - set(base) == {"shdex-db-replica", "shdex-lb"}
    assert all(name.startswith("shdex-") for name in scale)
    # Beat exactly one per node; the sync worker one (pulls contend for the log counter).
    assert "shdex-beat" not in scale and "shdex-sync-worker" not in scale
    assert scale["shdex-web"]["deploy"] == {"replicas": 2} and scale["shdex-worker"]["deploy"] == {
        "replicas": 2
    }


def test_the_webs_read_the_replica_through_a_secret_file_and_the_balancer_publishes_their_port():
    base, scale = _compose(), _scale()
    web = scale["services"]["shdex-web"]
    assert isinstance(web["ports"], _Reset)
    assert scale["services"]["shdex-lb"]["ports"] == base["services"]["shdex-web"]["ports"]
    assert web["environment"]["DATABASE_REPLICA_URL_FILE"] == "/run/secrets/database_replica_url"
    assert "DATABASE_REPLICA_URL" not in web["environment"]
    assert web["secrets"] == [{"source": "shdex_database_replica_url", "target": "database_replica_url"}]
    assert re.fullmatch(r"\./secrets/shdex_[a-z_]+", scale["secrets"]["shdex_database_replica_url"]["file"])
    assert web["depends_on"]["shdex-db-replica"] == {"condition": "service_healthy"}
    # Two proxies in front (the exchange's, the balancer) append to X-Forwarded-For.
    assert base["x-node-env"]["NUM_PROXIES"] == "1" and web["environment"]["NUM_PROXIES"] == "2"


def test_the_replica_follows_the_primary_which_allows_it_to():
    services = _scale()["services"]
    replica, primary = services["shdex-db-replica"], services["shdex-db"]
    assert replica["image"] == _compose()["x-db"]["image"]
    assert replica["environment"]["PRIMARY_HOST"] == "shdex-db"
    assert replica["secrets"] == [{"source": "shdex_db_password", "target": "db_password"}]
    mounted = {volume.split(":")[0] for service in services.values() for volume in service.get("volumes", [])}
    for path in {m for m in mounted if m.startswith("./")}:
        assert (ROOT / path).is_file(), path
    hba = (ROOT / "docker" / "postgres" / "pg_hba.conf").read_text("utf-8").split("\n")
    assert "host    replication     registry        all                     scram-sha-256" in hba
    assert primary["command"] == [
        "postgres",
        "-c",
        "shared_buffers=${DB_SHARED_BUFFERS:-2GB}",  # the base file's setting, kept
        "-c",
        "hba_file=/etc/postgresql/pg_hba.conf",
    ]
    script = (ROOT / "docker" / "postgres" / "replica.sh").read_text("utf-8")
    assert "pg_basebackup" in script and " -R " in script and "hot_standby=on" in script


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_the_replica_entrypoint_is_valid_shell():
    script = ROOT / "docker" / "postgres" / "replica.sh"
    done = subprocess.run(["sh", "-n", str(script)], capture_output=True)  # noqa: S603, S607
    assert done.returncode == 0, done.stderr


def test_every_variable_the_scaled_layout_uses_is_in_the_env_example_with_the_same_default():
    used = {m["name"]: m["default"] or "" for m in VARIABLE.finditer(SCALE.read_text("utf-8"))}
    assert used and {name: _example()[name] for name in used} == used
