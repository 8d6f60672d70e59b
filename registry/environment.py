"""The environment a node's settings are read from, parsed strictly: a bad value stops the start with a
message that names the variable. Secrets may come from a file named by `<NAME>_FILE`."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").exists():
    environ.FileAwareEnv.read_env(str(BASE_DIR / ".env"))


def fail(name: str, value: object, rule: str) -> None:
    raise ImproperlyConfigured(f"Bad setting {name}={value!r}: {rule}")


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.str(name, default=default)
    if value not in choices:
        fail(name, value, f"must be one of {', '.join(choices)}")
    return value


def integer(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        value = env.int(name, default=default)
    except (ValueError, TypeError):
        fail(name, env.str(name), "must be a whole number")
    if value < minimum:
        fail(name, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        fail(name, value, f"must be at most {maximum}")
    return value


def basis_points(name: str, default: int) -> int:
    """A rate in basis points: a whole number from 0 to 10000 (100 %)."""
    value = integer(name, default)
    if value > 10000:
        fail(name, value, "must be at most 10000 basis points (100 %)")
    return value


def boolean(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    fail(name, raw, "must be true or false")
    return default  # unreachable


def rate(name: str, default: str) -> str:
    value = env.str(name, default=default)
    number, _, period = value.partition("/")
    if not number.isdigit() or not period or period[0] not in "smhd":
        fail(name, value, "must look like 100/min (a number, then /s, /min, /hour or /day)")
    return value
