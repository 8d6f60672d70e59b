"""scripts/make_secrets.py: the secrets and node keys of a compose deployment (docs/operations.md, "Secrets
and node keys"). It makes every file docker-compose.yml's `secrets:` read, with mode 0600, never replaces one,
and its keys and URLs are what the node's own settings and key loader accept."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from federation import keys

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_secrets.py"
ME = f"{os.getuid()}:{os.getgid()}"  # no hand-over to the image's user (that needs root): tested apart


def _run(directory: Path, *args: str, owner: str = ME) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter and the script of this repository)
        [sys.executable, str(SCRIPT), "--dir", str(directory), "--owner", owner, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _script():
    spec = importlib.util.spec_from_file_location("make_secrets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compose_secret_files() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return {name: spec["file"] for name, spec in compose["secrets"].items()}


def _state(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for p in sorted(directory.iterdir())
    }


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_makes_every_secret_file_the_compose_file_reads_with_mode_0600(tmp_path):
    files = _compose_secret_files()
    codes = sorted({name.split("_")[0] for name in files})
    assert codes == ["bjidx", "gybdx", "shdex"]
    done = _run(tmp_path / "secrets", *codes)
    assert done.returncode == 0, done.stderr
    assert _mode(tmp_path / "secrets") == 0o700
    secret_files = {p.name for p in (tmp_path / "secrets").iterdir() if p.suffix != ".pub"}
    assert {f"./secrets/{name}" for name in secret_files} == set(files.values())
    for name in secret_files:
        assert _mode(tmp_path / "secrets" / name) == 0o600, name
    for code in codes:
        assert _mode(tmp_path / "secrets" / f"{code}_node_key.pub") == 0o644  # the public half only
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert list(printed) == ["BJIDX_PUBLIC_KEY", "GYBDX_PUBLIC_KEY", "SHDEX_PUBLIC_KEY"]
    assert len(set(printed.values())) == 3


def test_the_key_is_loaded_by_the_nodes_own_key_loader_and_signs(tmp_path, settings):
    done = _run(tmp_path, "shdex")
    assert done.returncode == 0, done.stderr
    (printed,) = [line.split("=", 1)[1] for line in done.stdout.splitlines()]
    settings.NODE_PRIVATE_KEY = (tmp_path / "shdex_node_key.pem").read_text("ascii")
    keys.private_key.cache_clear()
    try:
        assert (
            keys.public_key_b64() == printed == (tmp_path / "shdex_node_key.pub").read_text("ascii").strip()
        )
        assert keys.verify(printed, b"entry", keys.sign(b"entry"))
    finally:
        keys.private_key.cache_clear()


def test_a_production_node_starts_on_the_files_through_its_file_settings(tmp_path):
    """The node reads the files as compose mounts them (SECRET_KEY_FILE, DATABASE_URL_FILE,
    NODE_PRIVATE_KEY_FILE, METRICS_TOKEN_FILE): production settings accept the secret key and the metrics
    token, the URL names the node's database with the password PostgreSQL is given, and the key is the one
    printed for the peers."""
    assert _run(tmp_path, "gybdx").returncode == 0
    names = ("DATABASE_URL", "NODE_", "SECRET_KEY", "METRICS_TOKEN")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(
        REGISTRY_ENV="production",
        NODE_CODE="GYBDX",
        ALLOWED_HOSTS="gybdx-web",
        NODE_DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY_FILE=str(tmp_path / "gybdx_secret_key"),
        DATABASE_URL_FILE=str(tmp_path / "gybdx_database_url"),
        NODE_PRIVATE_KEY_FILE=str(tmp_path / "gybdx_node_key.pem"),
        METRICS_TOKEN_FILE=str(tmp_path / "gybdx_metrics_token"),
        DJANGO_SETTINGS_MODULE="registry.settings",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; from federation import keys; "
        "db = settings.DATABASES['default']; "
        "token = settings.METRICS_TOKEN; "
        "print(json.dumps([settings.SECRET_KEY, db, keys.public_key_b64(), token], default=str))"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter and a constant program)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    secret_key, database, public, metrics_token = json.loads(done.stdout)
    assert metrics_token == (tmp_path / "gybdx_metrics_token").read_text() and len(metrics_token) >= 24
    assert secret_key == (tmp_path / "gybdx_secret_key").read_text() and len(secret_key) >= 50
    assert database["ENGINE"].endswith("postgresql") and database["HOST"] == "gybdx-db"
    assert (database["NAME"], database["USER"]) == ("registry", "registry")
    assert database["PASSWORD"] == (tmp_path / "gybdx_db_password").read_text()
    assert public == (tmp_path / "gybdx_node_key.pub").read_text().strip()


def test_running_it_again_changes_nothing(tmp_path):
    first = _run(tmp_path, "shdex", "bjidx")
    before = _state(tmp_path)
    again = _run(tmp_path, "shdex", "bjidx")
    assert again.returncode == 0, again.stderr
    assert _state(tmp_path) == before
    assert again.stdout == first.stdout
    assert "made" not in again.stderr and again.stderr.count(": kept") == 10  # five files each


def test_an_existing_file_is_never_replaced_and_the_missing_ones_agree_with_it(tmp_path):
    script = _script()
    script._create(tmp_path / "shdex_secret_key", b"the operator's own key")
    script._create(tmp_path / "shdex_db_password", b"pass-word")
    done = _run(tmp_path, "shdex")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shdex_secret_key").read_bytes() == b"the operator's own key"
    url = urlsplit((tmp_path / "shdex_database_url").read_text())
    assert (url.password, url.hostname, url.path) == ("pass-word", "shdex-db", "/registry")
    assert "shdex_secret_key: kept" in done.stderr and "shdex_database_url: made" in done.stderr


def test_a_wrong_mode_or_a_url_without_the_password_is_reported_and_left_alone(tmp_path):
    (tmp_path / "bjidx_db_password").write_text("one")
    (tmp_path / "bjidx_db_password").chmod(0o644)
    _script()._create(tmp_path / "bjidx_database_url", b"postgres://registry:two@bjidx-db:5432/registry")
    done = _run(tmp_path, "bjidx")
    assert done.returncode == 1
    assert f"{tmp_path / 'bjidx_db_password'} has mode 644, not 600" in done.stderr
    assert "bjidx_database_url does not hold the password of" in done.stderr
    assert _mode(tmp_path / "bjidx_db_password") == 0o644
    assert (tmp_path / "bjidx_db_password").read_text() == "one"


def test_an_unknown_code_writes_nothing(tmp_path):
    done = _run(tmp_path / "secrets", "shdex", "NOPE")
    assert done.returncode == 2 and "not the code of a member exchange: NOPE" in done.stderr
    assert not (tmp_path / "secrets").exists()


def test_the_env_file_is_made_from_the_example_and_only_its_key_lines_change(tmp_path):
    env = tmp_path / ".env"
    first = _run(tmp_path / "secrets", "--env-file", str(env), "shdex", "bjidx")
    assert first.returncode == 0, first.stderr
    lines = env.read_text().splitlines()
    example = (ROOT / ".env.example").read_text().splitlines()
    assert len(lines) == len(example)
    assert [line for line in lines if line not in example] == first.stdout.splitlines()
    assert "GYBDX_PUBLIC_KEY=" in lines and "SHDEX_HTTP_BIND=127.0.0.1:8001" in lines
    env.write_text(
        env.read_text().replace("SHDEX_HTTP_BIND=127.0.0.1:8001", "SHDEX_HTTP_BIND=127.0.0.1:9001")
    )
    (tmp_path / "secrets" / "shdex_node_key.pem").unlink()  # a new key: the rotation of docs/operations.md
    (tmp_path / "secrets" / "shdex_node_key.pub").unlink()
    second = _run(tmp_path / "secrets", "--env-file", str(env), "shdex")
    assert second.returncode == 0, second.stderr
    text = env.read_text()
    assert second.stdout.strip() in text and second.stdout.strip() != first.stdout.splitlines()[0]
    assert "SHDEX_HTTP_BIND=127.0.0.1:9001" in text and first.stdout.splitlines()[1] in text


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another user needs root")
def test_as_root_the_files_the_containers_read_go_to_the_images_user(tmp_path):
    done = _run(tmp_path, "shdex", owner="10001:10001")
    assert done.returncode == 0, done.stderr
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in tmp_path.iterdir()}
    for name in ("shdex_secret_key", "shdex_database_url", "shdex_node_key.pem", "shdex_metrics_token"):
        assert owners.pop(name) == (10001, 10001)
    assert set(owners.values()) == {(0, 0)}  # the password (PostgreSQL reads it as root) and the public key


def test_without_root_it_says_which_chown_is_left(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    status = _script().main(["--dir", str(tmp_path), "--owner", "10001:10001", "gybdx"])
    assert status == 1
    read = ("secret_key", "database_url", "node_key.pem", "metrics_token")
    wanted = " ".join(str(tmp_path / f"gybdx_{n}") for n in read)
    assert f"run, as root: chown 10001:10001 {wanted}" in capsys.readouterr().err
    assert {(p.stat().st_uid, p.stat().st_gid) for p in tmp_path.iterdir()} == {(os.getuid(), os.getgid())}
