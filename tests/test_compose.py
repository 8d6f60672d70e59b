"""docker-compose.yml, read with a YAML parser (Docker is not needed): its variables are the ones .env.example
lists, with the same defaults; its secrets come from files, through the node's `*_FILE` settings, out of
secrets/, which git ignores; and no secret is in the repository (docs/operations.md, "Running with Docker
Compose")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")
# What the node's containers find in /run/secrets/, and the setting that names each file.
FILE_SETTINGS = {
    "SECRET_KEY_FILE": "/run/secrets/secret_key",
    "DATABASE_URL_FILE": "/run/secrets/database_url",
    "NODE_PRIVATE_KEY_FILE": "/run/secrets/node_key",
    "METRICS_TOKEN_FILE": "/run/secrets/metrics_token",
}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


def _example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def _git() -> str:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return git


def test_env_example_lists_every_variable_the_compose_file_uses_with_its_default():
    used: dict[str, set[str]] = {}
    for match in VARIABLE.finditer(COMPOSE.read_text("utf-8")):
        used.setdefault(match["name"], set()).add(match["default"] or "")
    assert all(len(defaults) == 1 for defaults in used.values()), used
    assert _example() == {name: defaults.pop() for name, defaults in used.items()}


def test_the_nodes_read_their_secrets_from_files_never_from_the_environment():
    compose = _compose()
    files = {name: spec["file"] for name, spec in compose["secrets"].items()}
    assert files and all(re.fullmatch(r"\./secrets/[a-z]+_[a-z_]+(\.pem)?", f) for f in files.values())
    apps = {
        name: s for name, s in compose["services"].items() if s.get("image", "").startswith("dexnet-registry")
    }
    assert len(apps) == 3 * 6
    for name, service in apps.items():
        code = name.split("-")[0]
        env = service["environment"]
        assert {k: env[k] for k in FILE_SETTINGS} == FILE_SETTINGS, name
        assert not {"SECRET_KEY", "DATABASE_URL", "NODE_PRIVATE_KEY", "METRICS_TOKEN"} & set(env), name
        mounted = {f"/run/secrets/{s['target']}": s["source"] for s in service["secrets"]}
        assert mounted == {path: f"{code}_{path.rsplit('/', 1)[1]}" for path in FILE_SETTINGS.values()}, name
    databases = {name: s for name, s in compose["services"].items() if name.endswith("-db")}
    for name, service in databases.items():
        assert service["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
        assert "POSTGRES_PASSWORD" not in service["environment"]
        assert service["secrets"] == [
            {"source": f"{name.split('-')[0]}_db_password", "target": "db_password"}
        ]


def test_git_ignores_every_secret_and_env_file_but_the_example():
    names = [
        *(spec["file"].removeprefix("./") for spec in _compose()["secrets"].values()),
        "secrets/shdex_node_key.pub",
        ".env",
        ".env.production",
        "deploy/shdex_secret_key",
        "deploy/shdex_database_url",
        "deploy/shdex_db_password",
        "deploy/shdex_node_key.pem",
        "var/shdex/node_key.pem",
    ]
    done = subprocess.run(  # noqa: S603 (git, with paths of this test)
        [_git(), "check-ignore", "--no-index", "--verbose", "--non-matching", *names, ".env.example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # <source>:<line>:<pattern>\t<path>: "::" when no pattern matches, "!..." when one un-ignores the path.
    matches = (line.split("\t", 1) for line in done.stdout.splitlines())
    verdicts = {path: not how.split(":", 2)[2].startswith("!") and how != "::" for how, path in matches}
    assert verdicts == {**dict.fromkeys(names, True), ".env.example": False}


def test_no_private_key_or_secret_file_is_in_the_repository():
    done = subprocess.run(  # noqa: S603 (git, listing this repository)
        [_git(), "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    )
    tracked = [name for name in done.stdout.decode().split("\0") if name]
    assert "docker-compose.yml" in tracked
    named = [n for n in tracked if re.search(r"(^|/)(secrets/|\.env$|.*\.(pem|key)$|.*_secret_key$)", n)]
    assert named == []
    pem = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")  # does not match its own source
    holding = [n for n in tracked if (ROOT / n).is_file() and pem.search((ROOT / n).read_bytes())]
    assert holding == []
