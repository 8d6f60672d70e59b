"""The node's Ed25519 key pair, and the check of other nodes' signatures.

The private key lives in a PEM file (`NODE_KEY_FILE`, default `<NODE_DATA_DIR>/node_key.pem`, mode 0600)
or in the environment (`NODE_PRIVATE_KEY`, PEM text; `NODE_PRIVATE_KEY_FILE` works too). It is never in
the repository or the database. Public keys travel as base64 of the 32 raw bytes.

Keys are made and stored with `cryptography` (PEM, PKCS#8). Log entries, signed and checked by the
hundred thousand in a catch-up, are signed and verified with libsodium (PyNaCl): on the machines of
docs/performance.md it checks an Ed25519 signature in half the time of `cryptography`'s OpenSSL (about
46 µs against 93 µs) and signs in 0.6 of it, releases the GIL like it, makes the same signatures
(Ed25519 is deterministic) and refuses more malformed input (non-canonical `S`, small-order keys and
`R`), never less; tests/test_keys.py holds the two to the same signatures and verdicts.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cache, lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import CryptoError


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
def public_key_raw(value: str) -> bytes:
    """The 32 bytes of a base64 public key; raises KeyError_."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyError_("not base64") from exc
    if len(raw) != 32:
        raise KeyError_("an Ed25519 public key is 32 bytes")
    return raw


@cache
def public_key_from_b64(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key_raw(value))


@lru_cache(maxsize=2)
def _sodium_secret(key: Ed25519PrivateKey) -> bytes:
    """libsodium's 64-byte secret key (seed and public key) of a key pair (cached per key object, so a
    key file written again, which clears `private_key`'s cache, is signed with at once)."""
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return crypto_sign_seed_keypair(seed)[1]


def sign(data: bytes) -> str:
    """Base64 of the node's Ed25519 signature of `data` (libsodium)."""
    return base64.b64encode(crypto_sign(data, _sodium_secret(private_key()))[:64]).decode()


def verify(public_key_b64_: str, data: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` is the Ed25519 signature of `data` by `public_key_b64_` (libsodium)."""
    try:
        key = public_key_raw(public_key_b64_)
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError, KeyError_):
        return False
    if len(signature) != 64:
        return False
    try:
        crypto_sign_open(signature + data, key)
    except (CryptoError, ValueError, TypeError):  # BadSignatureError is a CryptoError
        return False
    return True
