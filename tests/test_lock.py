"""The locks in requirements/ agree with pyproject.toml (docs/operations.md, "Dependencies and locks").

`make lock` makes them with uv; `make install`, the Dockerfile and CI install from them with
`--require-hashes`. This reads them as text, offline: every dependency pyproject.toml declares is locked at a
version it allows, every direct dependency a lock names is still declared, every pin carries hashes, and the
runtime lock is the dev lock's runtime part. (`make lock-check`, run by CI, also compares them with a fresh
`make lock`.)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
PROJECT = "dexnet-registry (pyproject.toml)"  # how uv names pyproject.toml in a `# via` annotation


@dataclass
class Pin:
    version: str
    hashes: list[str] = field(default_factory=list)
    via: set[str] = field(default_factory=set)


def read_lock(text: str) -> dict[str, Pin]:
    """A lock as uv writes it: `name==version [; marker] \\`, `--hash=` lines, then `# via` annotations."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in text.splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line:
            continue
        if line.startswith("--hash="):
            current.hashes.append(line.removeprefix("--hash="))
        elif line.startswith("#"):
            name = line.lstrip("#").strip().removeprefix("via").strip()
            if current is not None and name:
                current.via.add(name)
        else:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"not pinned exactly: {line}"
            current = pins[canonicalize_name(req.name)] = Pin(spec.version)
    return pins


def _declared(reqs: list[str]) -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def lock_problems(pyproject: dict, runtime: dict[str, Pin], dev: dict[str, Pin], build_in: str) -> list[str]:
    """Every way the locks disagree with pyproject.toml, in words; empty when they agree."""
    project = pyproject["project"]
    wanted_runtime = _declared(project["dependencies"])
    wanted_dev = wanted_runtime | _declared(project.get("optional-dependencies", {}).get("dev", []))
    problems = []
    for lock_name, lock, wanted in (("runtime", runtime, wanted_runtime), ("dev", dev, wanted_dev)):
        for name, req in sorted(wanted.items()):
            pin = lock.get(name)
            if pin is None:
                problems.append(f"{req} is in pyproject.toml but not in the {lock_name} lock")
            elif not req.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{req} is in pyproject.toml but the {lock_name} lock has {pin.version}")
        for name, pin in sorted(lock.items()):
            if PROJECT in pin.via and name not in wanted:
                problems.append(
                    f"the {lock_name} lock has {name} from pyproject.toml, which no longer has it"
                )
            if not pin.hashes:
                problems.append(f"{name} has no hash in the {lock_name} lock")
    for name, pin in sorted(runtime.items()):
        if name not in dev or (dev[name].version, set(dev[name].hashes)) != (pin.version, set(pin.hashes)):
            problems.append(f"{name}=={pin.version} of the runtime lock differs in the dev lock")
    backend = [line for line in build_in.splitlines() if line.strip() and not line.startswith("#")]
    if backend != pyproject["build-system"]["requires"]:
        problems.append(f"requirements/build.in {backend} is not [build-system] requires")
    for name in _declared(backend):
        if name not in dev:
            problems.append(f"the build backend {name} is not in the dev lock")
    return problems


def _real() -> tuple[dict, dict[str, Pin], dict[str, Pin], str]:
    return (
        tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8")),
        read_lock((LOCKS / "runtime.txt").read_text("utf-8")),
        read_lock((LOCKS / "dev.txt").read_text("utf-8")),
        (LOCKS / "build.in").read_text("utf-8"),
    )


def test_the_locks_agree_with_pyproject():
    assert lock_problems(*_real()) == []


def test_a_dependency_added_to_pyproject_but_not_locked_is_reported():
    pyproject, runtime, dev, build_in = _real()
    pyproject["project"]["dependencies"].append("pytz==2024.1")
    pyproject["project"]["optional-dependencies"]["dev"].append("mypy==1.0.0")
    assert lock_problems(pyproject, runtime, dev, build_in) == [
        "pytz==2024.1 is in pyproject.toml but not in the runtime lock",
        "mypy==1.0.0 is in pyproject.toml but not in the dev lock",
        "pytz==2024.1 is in pyproject.toml but not in the dev lock",
    ]


def test_a_changed_removed_or_unhashed_dependency_is_reported():
    pyproject, runtime, dev, build_in = _real()
    deps = pyproject["project"]["dependencies"]
    deps[deps.index("Django==5.2.19")] = "Django==5.2.20"
    deps.remove("tqdm==4.70.1")
    dev["ruff"].hashes.clear()
    problems = lock_problems(pyproject, runtime, dev, build_in.replace(">=68", ">=70"))
    assert "Django==5.2.20 is in pyproject.toml but the runtime lock has 5.2.19" in problems
    assert "the runtime lock has tqdm from pyproject.toml, which no longer has it" in problems
    assert "ruff has no hash in the dev lock" in problems
    assert "requirements/build.in ['setuptools>=70'] is not [build-system] requires" in problems


def test_every_lock_pins_every_package_with_hashes_and_names_no_index():
    """pip's `--require-hashes` refuses a lock without them anyway; an index URL in a lock would make it
    depend on where it was made."""
    for path in sorted(LOCKS.glob("*.txt")):
        text = path.read_text("utf-8")
        pins = read_lock(text)
        assert pins, path
        for name, pin in pins.items():
            assert pin.hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), name
        assert not re.search(r"^\s*-(-index-url|i|-extra-index-url|-find-links|f)\b", text, flags=re.M), path
        header = "# This file was autogenerated by uv via the following command:\n#    make lock\n"
        assert text.startswith(header), path


def test_the_lock_tool_is_pinned_by_its_own_lock():
    (wanted,) = [
        Requirement(line)
        for line in (LOCKS / "uv.in").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pins = read_lock((LOCKS / "uv.txt").read_text("utf-8"))
    assert list(pins) == ["uv"] and str(wanted.specifier) == f"=={pins['uv'].version}"
