"""The Docker image's rules, checked without Docker (docs/operations.md, "The image").

The Dockerfile is read with dockerfile-parse and the build context computed from .dockerignore with
docker-py's own matcher (the one `docker build` clients use), so no daemon or registry is needed: the base
image is pinned by digest, the packages come from the runtime lock with hashes, the image runs as an
unprivileged user, and its context holds the code a node runs, without tests, benchmarks, documentation,
local state or secrets.
"""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from django.conf import settings
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.test_architecture import LAYERS
from tests.test_lock import read_lock

ROOT = Path(__file__).resolve().parents[1]
# An official python image, with its full version and Debian release, pinned by the digest of its index.
PINNED = re.compile(r"python:(?P<version>3\.\d+\.\d+)-slim-[a-z]+@sha256:[0-9a-f]{64}")
KEPT_OUT = ("tests/", "bench/", "docs/", "scripts/", ".venv/", ".venv-lock/", "var/", "secrets/", ".git/")


def _stages(path: Path = ROOT / "Dockerfile") -> list[list[dict]]:
    """The instructions of each stage, FROM first, comments left out."""
    stages: list[list[dict]] = []
    for item in DockerfileParser(str(path)).structure:
        if item["instruction"] == "FROM":
            stages.append([])
        if item["instruction"] != "COMMENT":
            stages[-1].append(item)
    return stages


def _context(root: Path) -> set[str]:
    """The files `docker build` sends from root that COPY can use: those its .dockerignore does not exclude
    (the Dockerfile and .dockerignore are always sent, for the builder only)."""
    lines = (root / ".dockerignore").read_text("utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    sent = {p for p in exclude_paths(str(root), patterns) if (root / p).is_file()}
    return sent - {"Dockerfile", ".dockerignore"}


def test_every_stage_starts_from_the_same_official_python_image_pinned_by_digest():
    bases = DockerfileParser(str(ROOT / "Dockerfile")).parent_images
    assert len(bases) == 2 and len(set(bases)) == 1, bases
    match = PINNED.fullmatch(bases[0])
    assert match, f"{bases[0]} is not pinned by digest"
    python = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["requires-python"]
    assert match["version"] in SpecifierSet(python)


def test_a_digest_placeholder_is_refused(tmp_path):
    """A Dockerfile whose digest was never filled in fails the check above."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    unpinned = re.sub(r"@sha256:[0-9a-f]{64}", "@sha256:<DIGEST-PLACEHOLDER>", text, count=1)
    (tmp_path / "Dockerfile").write_text(unpinned, "utf-8")
    bases = DockerfileParser(str(tmp_path / "Dockerfile")).parent_images
    assert not all(PINNED.fullmatch(base) for base in bases)


def test_packages_come_from_the_runtime_lock_with_hashes_and_only_the_environment_is_kept():
    build, runtime = _stages()
    assert build[0]["value"].endswith(" AS build") and runtime[0]["value"].endswith(" AS runtime")
    copies = [i["value"] for i in build if i["instruction"] == "COPY"]
    assert copies == ["requirements/runtime.txt /tmp/runtime.txt"]
    (install,) = [i["value"] for i in build if i["instruction"] == "RUN"]
    words = shlex.split(install.replace("\\\n", " "))
    for flag in ("--require-hashes", "--only-binary", "--without-pip"):
        assert flag in words, flag
    assert words[words.index("-r") + 1] == copies[0].split()[1]
    # The final stage installs nothing: it takes the environment, then the code.
    run = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert "pip" not in run and "apt-get" not in run
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv", ". ."]
    env = " ".join(i["value"] for i in runtime if i["instruction"] == "ENV")
    assert "PATH=/opt/venv/bin:$PATH" in env.split()


def test_the_image_runs_as_an_unprivileged_user():
    runtime = _stages()[-1]
    users = [i for i in runtime if i["instruction"] == "USER"]
    assert [u["value"] for u in users] == ["registry"]
    run = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert "--uid 10001" in run and "--gid 10001" in run
    after = [i["instruction"] for i in runtime if i["startline"] > users[0]["startline"]]
    assert "RUN" not in after and "COPY" not in after and "CMD" in after


def test_the_build_context_holds_the_code_and_no_tests_benchmarks_or_documentation():
    context = _context(ROOT)
    code = {"manage.py", "docker/peer-setup.sh", "requirements/runtime.txt"} | {
        path.relative_to(ROOT).as_posix()
        for package in LAYERS
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(p.startswith("standards/data/") for p in code)
    assert code <= context, sorted(code - context)[:10]
    assert not [p for p in context if p.startswith(KEPT_OUT)]


def test_secrets_and_local_state_never_enter_the_build_context(tmp_path):
    (tmp_path / ".dockerignore").write_text((ROOT / ".dockerignore").read_text("utf-8"), "utf-8")
    kept = ["manage.py", "products/models.py", "standards/data/exchanges.csv", "docker/peer-setup.sh"]
    left_out = [
        ".env",
        ".env.example",
        "registry/.env",
        "secrets/shdex_secret_key",
        "secrets/shdex_node_key.pem",
        "registry/stray.pem",
        "federation/old.key",
        "var/shdex/node_key.pem",
        "var/shdex/db.sqlite3",
        "db.sqlite3",
        ".venv/bin/python",
        ".venv-lock/bin/uv",
        "tests/test_api_products.py",
        "bench/run_all.py",
        "docs/operations.md",
        "scripts/make_secrets.py",
        "products/__pycache__/models.cpython-311.pyc",
        ".git/config",
    ]
    for name in kept + left_out:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", "utf-8")
    assert _context(tmp_path) == set(kept)


def _third_party(module: str) -> str | None:
    top = module.split(".")[0]
    return None if top in sys.stdlib_module_names or top in LAYERS else top


def test_the_code_in_the_image_needs_only_packages_of_the_runtime_lock():
    """A module the image runs that imports a development-only package (pytest, factory_boy) would pass
    every test and fail in the image: every third-party import of the code, and every app and middleware the
    settings name, belongs to a distribution of requirements/runtime.txt."""
    modules = set()
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    modules.add(node.module)
    modules.update(settings.INSTALLED_APPS, settings.MIDDLEWARE, ["gunicorn"])
    runtime = read_lock((ROOT / "requirements" / "runtime.txt").read_text("utf-8"))
    dists = packages_distributions()
    missing = {
        top: dists.get(top)
        for top in filter(None, map(_third_party, modules))
        if not any(canonicalize_name(d) in runtime for d in dists.get(top, []))
    }
    assert missing == {}


@pytest.mark.parametrize("module", ["pytest", "factory"])
def test_a_development_package_is_not_in_the_runtime_lock(module):
    """The check above can fail: the test tools are not runtime distributions."""
    runtime = read_lock((ROOT / "requirements" / "runtime.txt").read_text("utf-8"))
    assert not any(canonicalize_name(d) in runtime for d in packages_distributions()[module])
