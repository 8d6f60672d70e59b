#!/usr/bin/env python3
"""Make the secrets and node keys of a compose deployment (docs/operations.md, "Secrets and node keys").

    sudo .venv/bin/python scripts/make_secrets.py --env-file .env shdex bjidx gybdx

For each node code it writes the files that docker-compose.yml's `secrets:` read, into secrets/ next to it:

    <code>_secret_key      Django's secret key (SECRET_KEY_FILE)
    <code>_db_password     the PostgreSQL password (POSTGRES_PASSWORD_FILE)
    <code>_database_url    the database URL with that password, host <code>-db (DATABASE_URL_FILE)
    <code>_node_key.pem    the node's Ed25519 private key, PKCS#8 PEM (NODE_PRIVATE_KEY_FILE)
    <code>_metrics_token   the bearer token that reads GET /metrics (METRICS_TOKEN_FILE; and Prometheus)

each with mode 0600 in a directory of mode 0700, and <code>_node_key.pub (its public key, not secret). A file
that exists is never replaced: it is checked, and a wrong mode is reported, not changed. The four files the
node's containers read must belong to the image's user (uid and gid 10001; --owner), because compose mounts a
secret file as it is on the host, owner and mode included: run as root and the script hands them over (new
and existing ones); otherwise it says which `chown` is left to do. The database password stays with the user
running the script (PostgreSQL's entrypoint reads it as root).

It prints each node's public key as a `<CODE>_PUBLIC_KEY=...` line (what the peers' directories need), and
with --env-file sets those lines in that file (made from .env.example when missing), its other lines kept.
Exit status: 0 when every file is there and usable, 1 when something is left to fix (said on standard error),
2 for bad arguments. Needs only the project's own `cryptography`.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from standards.members import members  # noqa: E402  (the project's root is on the path only now)

IMAGE_USER = "10001:10001"  # the Dockerfile's `registry` user and group
READ_BY_THE_NODE = ("secret_key", "database_url", "node_key.pem", "metrics_token")  # /run/secrets/


def _create(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write a new file with its mode from the start; fails if it exists (never replaces one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), mode)
        fh.write(content)


def _read(path: Path) -> bytes | None:
    """The file's content, or None when this user may not read it (it belongs to the image's user)."""
    try:
        return path.read_bytes()
    except PermissionError:
        return None


def _new_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Node:
    """One node's files in the secrets directory, and what is wrong with them."""

    def __init__(self, directory: Path, code: str, owner: tuple[int, int]):
        self.code, self.directory, self.owner = code, directory, owner
        self.problems: list[str] = []
        self.chown: list[Path] = []

    def path(self, name: str) -> Path:
        return self.directory / f"{self.code.lower()}_{name}"

    def make(self) -> str:
        """Create what is missing, check what exists; returns the node's public key (base64 of 32 bytes)."""
        self._ensure("secret_key", lambda: secrets.token_urlsafe(64).encode())
        password = self._password()
        self._ensure("db_password", lambda: password.encode())
        url = f"postgres://registry:{quote(password, safe='')}@{self.code.lower()}-db:5432/registry"
        self._ensure("database_url", url.encode)
        self._ensure("node_key.pem", _new_key)
        self._ensure("metrics_token", lambda: secrets.token_urlsafe(32).encode())
        self._check_url(password)
        for name in READ_BY_THE_NODE:
            self._hand_over(self.path(name))
        return self._public_key()

    def _ensure(self, name: str, content) -> None:
        path = self.path(name)
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != 0o600:
                self.problems.append(f"{path} has mode {mode:o}, not 600: chmod 600 {path}")
            print(f"{path}: kept", file=sys.stderr)
        else:
            _create(path, content())
            print(f"{path}: made", file=sys.stderr)

    def _password(self) -> str:
        """The existing password (from the password file, else from the URL file), or a new one."""
        text = _read(self.path("db_password")) if self.path("db_password").exists() else None
        if text is not None:
            return text.decode().strip()
        url = _read(self.path("database_url")) if self.path("database_url").exists() else None
        if url is not None and urlsplit(url.decode().strip()).password:
            return unquote(urlsplit(url.decode().strip()).password)
        if self.path("db_password").exists() or self.path("database_url").exists():
            sys.exit(f"cannot read {self.path('db_password')} or {self.path('database_url')}: run as root")
        return secrets.token_urlsafe(32)

    def _check_url(self, password: str) -> None:
        url = _read(self.path("database_url"))
        if url is not None and unquote(urlsplit(url.decode().strip()).password or "") != password:
            self.problems.append(
                f"{self.path('database_url')} does not hold the password of {self.path('db_password')}"
            )

    def _hand_over(self, path: Path) -> None:
        """Give a file the containers read to the image's user: as root now, otherwise say how."""
        st = path.stat()
        if (st.st_uid, st.st_gid) == self.owner:
            return
        if os.geteuid() == 0:
            os.chown(path, *self.owner)
        else:
            self.chown.append(path)

    def _public_key(self) -> str:
        pem_path, pub_path = self.path("node_key.pem"), self.path("node_key.pub")
        pem = _read(pem_path)
        if pem is None:  # handed to the image's user: the public half was kept beside it
            if pub_path.exists():
                return pub_path.read_text("ascii").strip()
            sys.exit(f"cannot read {pem_path} and there is no {pub_path}: run as root")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            sys.exit(f"{pem_path} is not a PEM private key: {exc}")
        if not isinstance(key, Ed25519PrivateKey):
            sys.exit(f"{pem_path} is not an Ed25519 key")
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        public = base64.b64encode(raw).decode()
        if not pub_path.exists() or pub_path.read_text("ascii").strip() != public:
            pub_path.unlink(missing_ok=True)
            _create(pub_path, f"{public}\n".encode(), mode=0o644)
        return public


def env_update(path: Path, values: dict[str, str]) -> None:
    """Set `NAME=value` lines in an env file (from .env.example when it is missing), the others untouched."""
    if path.exists():
        lines = path.read_text("utf-8").splitlines()
    else:
        example = ROOT / ".env.example"
        lines = example.read_text("utf-8").splitlines() if example.exists() else []
    for name, value in values.items():
        line = f"{name}={value}"
        found = [i for i, old in enumerate(lines) if re.match(rf"\s*{name}\s*=", old)]
        if found:
            lines[found[0]] = line
        else:
            lines.append(line)
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _owner(value: str) -> tuple[int, int]:
    uid, _, gid = value.partition(":")
    try:
        return int(uid), int(gid or uid)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not UID:GID: {value}") from None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("codes", nargs="+", metavar="CODE", help="node codes, e.g. shdex bjidx gybdx")
    parser.add_argument(
        "--dir", type=Path, default=ROOT / "secrets", help="default: secrets/ of the checkout"
    )
    parser.add_argument(
        "--owner",
        type=_owner,
        default=_owner(IMAGE_USER),
        help=f"UID:GID owning the files the containers read (default {IMAGE_USER}, the image's user)",
    )
    parser.add_argument("--env-file", type=Path, help="set the <CODE>_PUBLIC_KEY lines in this file (.env)")
    args = parser.parse_args(argv)
    known = {m.code for m in members()}
    unknown = [c for c in args.codes if c.upper() not in known]
    if unknown:
        parser.error(
            f"not the code of a member exchange: {', '.join(unknown)} (standards/data/exchanges.csv)"
        )
    args.codes = list(dict.fromkeys(c.upper() for c in args.codes))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    args.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(args.dir.stat().st_mode)
    problems = [f"{args.dir} has mode {mode:o}: chmod 700 {args.dir}"] if mode & 0o077 else []
    chown: list[Path] = []
    keys = {}
    for code in args.codes:
        node = Node(args.dir, code, args.owner)
        keys[f"{code}_PUBLIC_KEY"] = node.make()
        problems += node.problems
        chown += node.chown
    for name, key in keys.items():
        print(f"{name}={key}")
    if args.env_file:
        env_update(args.env_file, keys)
        print(f"{args.env_file}: {', '.join(keys)} set", file=sys.stderr)
    if chown:
        uid, gid = args.owner
        problems.append(
            f"the containers (uid {uid}) cannot read these files until you run, as root: "
            f"chown {uid}:{gid} {' '.join(map(str, chown))}"
        )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
