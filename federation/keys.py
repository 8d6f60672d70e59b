"""The node's Ed25519 key pair.

The private key lives in a PEM file (`NODE_KEY_FILE`, default `<NODE_DATA_DIR>/node_key.pem`, mode 0600)
or in the environment (`NODE_PRIVATE_KEY`, PEM text; `NODE_PRIVATE_KEY_FILE` works too). It is never in
the repository or the database. Public keys travel as base64 of the 32 raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KeyError_(ValueError):
    """A public key that is not 32 bytes of base64."""


def key_file() -> Path:
    return Path(settings.NODE_KEY_FILE)


def key_generate(*, path: Path | None = None, overwrite: bool = False) -> tuple[Path, bool]:
    """Create the node's key file if missing; returns (path, created)."""
    path = path or key_file()
    if path.exists() and not overwrite:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    private_key.cache_clear()
    return path, True


@cache
def private_key() -> Ed25519PrivateKey:
    pem = settings.NODE_PRIVATE_KEY.encode() if settings.NODE_PRIVATE_KEY else None
    if pem is None:
        path = key_file()
        if not path.exists():
            raise ImproperlyConfigured(
                f"No node key at {path}: run `manage.py node_init` or set NODE_PRIVATE_KEY"
            )
        pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("The node key must be an Ed25519 private key")
    return key


def public_key_b64(key: Ed25519PublicKey | None = None) -> str:
    key = key or private_key().public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@cache
def public_key_from_b64(value: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyError_("not base64") from exc
    if len(raw) != 32:
        raise KeyError_("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(data: bytes) -> str:
    return base64.b64encode(private_key().sign(data)).decode()


def verify(public_key_b64_: str, data: bytes, signature_b64: str) -> bool:
    try:
        public_key_from_b64(public_key_b64_).verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError, KeyError_):
        return False
    return True
