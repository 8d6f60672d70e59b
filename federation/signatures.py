"""HTTP Message Signatures (RFC 9421) between nodes, with each node's Ed25519 key.

Every request a node sends to a peer covers @method, @target-uri and (when there is a body) Content-Digest,
with `created`, `expires` and `keyid` = the sending node's exchange code. The receiver looks the key id up
in its peer directory, refuses unknown or disabled peers, bad signatures, and signatures older than
FEDERATION["SIGNATURE_MAX_AGE"] seconds (which bounds replay).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from federation import keys

COMPONENTS = ("@method", "@target-uri")
TAG = "dexnet-federation"


@dataclass
class Message:
    """The minimal request shape the signing library reads and writes."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class _OwnKey(HTTPSignatureKeyResolver):
    def resolve_private_key(self, key_id: str):
        return keys.private_key()

    def resolve_public_key(self, key_id: str):
        return keys.private_key().public_key()


class _PeerKeys(HTTPSignatureKeyResolver):
    def __init__(self, lookup: Callable[[str], str | None]):
        self.lookup = lookup

    def resolve_public_key(self, key_id: str):
        public_key = self.lookup(key_id)
        if public_key is None:
            raise InvalidSignature(f"unknown or disabled peer {key_id!r}")
        try:
            return keys.public_key_from_b64(public_key)
        except keys.KeyError_ as exc:
            raise InvalidSignature(f"bad public key on file for {key_id!r}") from exc


def sign_request(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    """Return `headers` plus Signature-Input, Signature and (with a body) Content-Digest."""
    message = Message(method=method.upper(), url=url, headers=dict(headers))
    now = datetime.datetime.now(datetime.UTC)
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey())
    signer.sign(
        message,
        key_id=settings.NODE_CODE,
        created=now,
        expires=now + datetime.timedelta(seconds=settings.FEDERATION["SIGNATURE_MAX_AGE"]),
        label="node",
        tag=TAG,
        covered_component_ids=COMPONENTS,
        body=body if body else None,
    )
    return message.headers


class SignatureRejected(Exception):
    pass


def verify_request(
    method: str, url: str, headers: dict[str, str], body: bytes, lookup: Callable[[str], str | None]
) -> str:
    """Verify a peer's request; return the peer's code (the signed key id) or raise SignatureRejected."""
    message = Message(method=method.upper(), url=url, headers=headers)
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=_PeerKeys(lookup))
    try:
        results = verifier.verify(
            message,
            max_age=datetime.timedelta(seconds=settings.FEDERATION["SIGNATURE_MAX_AGE"]),
            expect_tag=TAG,
            require_components=COMPONENTS,
            body=body,
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise SignatureRejected(str(exc)) from exc
    except Exception as exc:
        raise SignatureRejected(f"malformed signature: {exc.__class__.__name__}") from exc
    key_ids = {r.parameters.get("keyid") for r in results}
    if len(key_ids) != 1 or None in key_ids:
        raise SignatureRejected("exactly one signing node is expected")
    params = results[0].parameters
    if "expires" not in params:
        raise SignatureRejected("the signature must carry expires")
    return key_ids.pop()
