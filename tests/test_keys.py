"""The node's signatures (`federation.keys.sign`) and the checks of other nodes' (`federation.keys.verify`),
made with libsodium, against `cryptography`'s, which makes and stores the keys: the same signatures, the
same verdicts on valid and tampered ones, stricter on malformed ones."""

from __future__ import annotations

import base64
import random

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation import keys

# The group order of Ed25519: S must be below it.
L = 2**252 + 27742317777372353535851937790883648493


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _public(key: Ed25519PrivateKey) -> str:
    return _b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _openssl(public: str, data: bytes, signature: bytes) -> bool:
    try:
        keys.public_key_from_b64(public).verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _flip(raw: bytes, index: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 1]) + raw[index + 1 :]


def test_same_verdict_as_openssl_on_valid_and_tampered_signatures():
    rng = random.Random(8)
    signers = [Ed25519PrivateKey.generate() for _ in range(4)]
    verdicts = {True: 0, False: 0}
    for _ in range(300):
        key = rng.choice(signers)
        data = rng.randbytes(rng.randrange(0, 3000))
        signature = key.sign(data)
        other = rng.choice(signers)
        cases = [(key, data, signature), (other, data, signature)]
        if data:
            cases.append((key, _flip(data, rng.randrange(len(data))), signature))
        cases.append((key, data, _flip(signature, rng.randrange(64))))
        for signer, message, sig in cases:
            public = _public(signer)
            expected = _openssl(public, message, sig)
            assert keys.verify(public, message, _b64(sig)) is expected
            verdicts[expected] += 1
    assert verdicts[True] >= 300 and verdicts[False] >= 600  # both verdicts were really exercised


def test_node_signature_is_the_one_openssl_makes_and_follows_a_new_key(tmp_path, settings):
    key = keys.private_key()
    for data in (b"", b"entry", "条目".encode() * 500):
        signature = base64.b64decode(keys.sign(data))
        assert signature == key.sign(data)  # Ed25519 is deterministic: byte for byte the same
        assert _openssl(keys.public_key_b64(), data, signature)
    before = keys.public_key_b64()
    settings.NODE_KEY_FILE = tmp_path / "node_key.pem"
    try:
        keys.key_generate(path=settings.NODE_KEY_FILE)  # a new key file: signed with at once
        assert keys.public_key_b64() != before
        signature = keys.sign(b"entry")
        assert keys.verify(keys.public_key_b64(), b"entry", signature)
        assert not keys.verify(before, b"entry", signature)
    finally:
        keys.private_key.cache_clear()  # the session's key again once `settings` is restored


@pytest.mark.parametrize(
    "public, signature",
    [
        ("not base64!", None),
        (_b64(b"\x01" * 31), None),  # a key of 31 bytes
        (None, "not base64!"),
        (None, ""),
        (None, _b64(b"\x00" * 63)),  # a signature of 63 bytes
        (None, _b64(b"\x00" * 65)),
    ],
)
def test_malformed_key_or_signature_is_refused(public, signature):
    key = Ed25519PrivateKey.generate()
    data = b"entry"
    public = public if public is not None else _public(key)
    signature = signature if signature is not None else _b64(key.sign(data))
    assert keys.verify(public, data, signature) is False


def test_non_canonical_s_is_refused():
    """S + L is the same scalar modulo L: a malleated copy of a valid signature, refused like OpenSSL does."""
    key = Ed25519PrivateKey.generate()
    data = b"entry"
    signature = key.sign(data)
    s = int.from_bytes(signature[32:], "little") + L
    malleated = signature[:32] + s.to_bytes(32, "little")
    assert keys.verify(_public(key), data, _b64(signature)) is True
    assert keys.verify(_public(key), data, _b64(malleated)) is False
    assert _openssl(_public(key), data, malleated) is False


def test_small_order_key_is_refused():
    """The neutral point as a public key with R the neutral point and S = 0 satisfies the verification
    equation for every message; libsodium refuses small-order keys, so no such 'signature' verifies."""
    neutral = (1).to_bytes(32, "little")
    forged = neutral + bytes(32)
    for data in (b"entry", b"another entry"):
        assert keys.verify(_b64(neutral), data, _b64(forged)) is False
