"""Node-to-node authentication against a running node (gunicorn), with raw HTTP requests.

Requests are signed by other nodes' identities through the project's own `sign_request`, run in each
identity's environment (`Signer`): GZDEX is a known, enabled peer; an impostor claims BJIDX (a known peer)
with a key of its own; SZDEX is no peer at all; CQWDT is a peer that is disabled. Every refusal is paired with
a request that succeeds, so a 401 means the check worked, not that signing was broken.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.multinode.harness import Node, Signer, backend_from_env, key_pair

pytestmark = pytest.mark.multinode

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/examples/product-descriptor.json").read_text()
)
MAX_AGE = 5
CLOCK_SKEW = 5  # http_message_signatures.HTTPMessageVerifier.max_clock_skew
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """SHDEX with signatures valid for 5 s, one listed product, and its peer directory set up."""
    base = tmp_path_factory.mktemp("security")
    node = Node("SHDEX", base, backend_from_env(), extra_env={"FEDERATION_SIGNATURE_MAX_AGE": str(MAX_AGE)})
    try:
        node.migrate()
        node.init_key()
        node.start_web()
        signers = {
            "peer": Signer("GZDEX", base, max_age=MAX_AGE),
            "impostor": Signer("BJIDX", base, max_age=MAX_AGE),
            "stranger": Signer("SZDEX", base, max_age=MAX_AGE),
            "disabled": Signer("CQWDT", base, max_age=MAX_AGE),
        }
        node.manage("peers", "add", "GZDEX", NOWHERE, signers["peer"].public_key)
        node.manage(
            "peers", "add", "BJIDX", NOWHERE, key_pair()[1]
        )  # the real BJIDX's key, not the impostor's
        node.manage("peers", "add", "CQWDT", NOWHERE, signers["disabled"].public_key, "--disabled")
        node.register_providers([(EXAMPLE["provider"]["uscc"], EXAMPLE["provider"]["name"])])
        node.listed = node.list_product(EXAMPLE)
        node.signers = signers
        yield node
    finally:
        node.release()


def feed_url(node: Node, after: int = 0) -> str:
    return f"{node.url}/federation/v1/feed/SHDEX/?after={after}&limit=10"


def send(method: str, url: str, headers: dict | None = None, body: bytes | None = None) -> requests.Response:
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    return requests.request(method, url, headers=headers, data=body, timeout=10, allow_redirects=False)


def assert_refused(response: requests.Response, why: str = "") -> None:
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.headers.get("WWW-Authenticate", "").startswith("Signature"), response.headers
    assert why in response.text, response.text[:300]
    assert "entries" not in response.text


def assert_feed(response: requests.Response, code: str) -> None:
    assert response.status_code == 200, (response.status_code, response.text[:300])
    page = response.json()
    assert page["origin"] == "SHDEX"
    assert code in {item["entry"]["gid"] for item in page["entries"]}


def test_unsigned_requests_are_refused(target):
    assert_refused(send("GET", feed_url(target)))
    assert_refused(send("GET", f"{target.url}/federation/v1/digests/SHDEX/"))
    assert_refused(send("POST", f"{target.url}/federation/v1/wake/", body=b'{"origin":"GZDEX","seq":1}'))
    # A Signature header without its Signature-Input is not a signature either.
    assert_refused(send("GET", feed_url(target), {"Signature": "node=:AAAA:"}))


def test_signed_by_a_known_peer_is_served(target):
    url = feed_url(target)
    wake = f"{target.url}/federation/v1/wake/"
    body = b'{"origin":"GZDEX","seq":1}'
    feed_headers, wake_headers = target.signers["peer"].sign([("GET", url, None), ("POST", wake, body)])
    assert_feed(send("GET", url, feed_headers), target.listed["code"])
    response = send("POST", wake, wake_headers, body)
    assert response.status_code == 202, response.text


def test_unknown_key_id_is_refused(target):
    url = feed_url(target)
    [headers] = target.signers["stranger"].sign([("GET", url, None)])
    assert 'keyid="SZDEX"' in headers["Signature-Input"]
    assert_refused(send("GET", url, headers), "SZDEX")


def test_known_peer_id_with_the_wrong_key_is_refused(target):
    url = feed_url(target)
    [headers] = target.signers["impostor"].sign([("GET", url, None)])
    assert 'keyid="BJIDX"' in headers["Signature-Input"]
    assert_refused(send("GET", url, headers))


def test_signature_bound_to_target_and_body(target):
    """A signature covers the method, the full target URI and (Content-Digest) the body."""
    url = feed_url(target, after=0)
    wake = f"{target.url}/federation/v1/wake/"
    body = b'{"origin":"GZDEX","seq":1}'
    feed_headers, wake_headers = target.signers["peer"].sign([("GET", url, None), ("POST", wake, body)])
    assert_refused(send("GET", feed_url(target, after=1), feed_headers))  # another query string
    assert_refused(send("GET", f"{target.url}/federation/v1/digests/SHDEX/", feed_headers))  # another path
    assert_refused(send("POST", wake, wake_headers, b'{"origin":"GZDEX","seq":999}'))  # another body
    assert_feed(send("GET", url, feed_headers), target.listed["code"])  # the untouched request still passes


def test_replayed_request_older_than_max_age_is_refused(target):
    """Replaying a captured request works only within the window: FEDERATION_SIGNATURE_MAX_AGE plus the
    5 s of clock skew the signature library tolerates (docs/federation.md)."""
    url = feed_url(target)
    [headers] = target.signers["peer"].sign([("GET", url, None)])
    signed_at = time.monotonic()
    assert_feed(send("GET", url, headers), target.listed["code"])
    assert_feed(send("GET", url, headers), target.listed["code"])  # a replay inside the window passes
    time.sleep(max(0.0, MAX_AGE + CLOCK_SKEW + 2 - (time.monotonic() - signed_at)))
    assert_refused(send("GET", url, headers), "refused")


def test_disabled_peer_is_refused_until_enabled(target):
    signer = target.signers["disabled"]
    url = feed_url(target)
    [headers] = signer.sign([("GET", url, None)])
    assert_refused(send("GET", url, headers), "CQWDT")
    target.manage("peers", "add", "CQWDT", NOWHERE, signer.public_key)  # enable it
    try:
        [headers] = signer.sign([("GET", url, None)])
        assert_feed(send("GET", url, headers), target.listed["code"])
    finally:
        target.manage("peers", "add", "CQWDT", NOWHERE, signer.public_key, "--disabled")
    [headers] = signer.sign([("GET", url, None)])
    assert_refused(send("GET", url, headers))


def test_a_percent_encoded_target_is_verified_as_it_was_sent(target):
    """gunicorn hands Django the raw request-target: a signature over `/feed/SH%2CDEX/` verifies (the view
    then refuses the origin, 404), although Django decodes the path to `/feed/SH,DEX/`; the same path written
    with other escapes (`%2c`) is not what was signed."""
    import http.client
    from urllib.parse import urlsplit

    target_path = "/federation/v1/feed/SH%2CDEX/?after=0&limit=10"
    (headers,) = target.signers["peer"].sign([("GET", target.url + target_path, None)])
    where = urlsplit(target.url)

    def raw_get(path: str) -> tuple[int, str]:
        """The request-target exactly as written (requests would normalise `%2c` to `%2C`)."""
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    status, text = raw_get(target_path)
    assert status == 404 and "not_found" in text, (status, text[:300])
    status, text = raw_get(target_path.replace("%2C", "%2c"))
    assert status == 401 and "Node signature refused" in text, (status, text[:300])
