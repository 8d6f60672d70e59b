"""Node-to-node endpoints in process: RFC 9421 signatures accepted and refused, feeds, wake-ups, status."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.test import Client
from http_message_signatures import HTTPMessageSigner, algorithms

from federation import keys
from federation.models import OriginCounter, Peer, SyncState
from federation.peers import peer_add
from federation.signatures import COMPONENTS, TAG, Message, _OwnKey, sign_request
from products.models import ProductStatus
from tests.factories import make_product, random_descriptor, register_provider
from tests.loopback import serve

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture
def as_bjidx(settings):
    """Sign requests as if this process were BJIDX's node, with this test node's own key pair."""
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())

    def send(method, path, body=None, *, code="BJIDX", headers=None):
        settings.NODE_CODE, original = code, settings.NODE_CODE
        try:
            data = json.dumps(body).encode() if body is not None else None
            signed = headers or sign_request(method, BASE + path, {"Content-Type": "application/json"}, data)
        finally:
            settings.NODE_CODE = original
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if k.lower() != "content-type"
        }
        return Client().generic(method, path, data or b"", content_type="application/json", **extra)

    return send


def test_signed_feed_returns_the_origins_entries_in_order(alice, as_bjidx):
    descriptors = [random_descriptor(), random_descriptor()]
    for d in descriptors:  # providers first: their registrations are entries too
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
    base = OriginCounter.objects.get(origin="SHDEX").last_seq
    for d in descriptors:
        make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED)
    response = as_bjidx("GET", f"/federation/v1/feed/SHDEX/?after={base}&limit=3")
    assert response.status_code == 200, response.content
    page = response.json()
    seqs = [item["entry"]["seq"] for item in page["entries"]]
    assert seqs == [base + 1, base + 2, base + 3] and page["next"] == base + 3 and page["head"] == base + 4
    rest = as_bjidx("GET", f"/federation/v1/feed/SHDEX/?after={base + 3}&limit=10").json()
    assert [item["entry"]["seq"] for item in rest["entries"]] == [base + 4]


def test_without_limit_a_feed_page_holds_this_nodes_page_size(as_bjidx, settings):
    settings.FEDERATION = {**settings.FEDERATION, "PAGE_SIZE": 2}
    for _ in range(3):
        d = random_descriptor()
        register_provider(d["provider"]["uscc"], d["provider"]["name"])  # an entry each
    page = as_bjidx("GET", "/federation/v1/feed/SHDEX/?after=0").json()
    assert len(page["entries"]) == 2 and page["next"] == page["entries"][-1]["entry"]["seq"] < page["head"]


def test_a_feed_page_ends_at_its_byte_bound_and_the_next_page_goes_on_from_it(as_bjidx, monkeypatch):
    """A page holds at most FEED_PAGE_BYTES of entries after the first, whatever `limit` asks for, so a
    page of large descriptors never exceeds what a peer accepts; it is never empty, and `next` loses none."""
    from core.bulk import copy_insert
    from federation import selectors
    from federation.models import Entry

    sizes = [3000, 3000, 3000, 9000, 100]  # bytes of each body (ASCII here; UTF-8 length is what counts)
    copy_insert(
        Entry,
        [
            Entry(
                origin="GZDEX",
                seq=i + 1,
                record_type="product",
                gid=f"G{i}",
                version=1,
                body=json.dumps({"seq": i + 1, "pad": "x" * (n - 30)}),
                signature="c2ln",
            )
            for i, n in enumerate(sizes)
        ],
    )
    monkeypatch.setattr(selectors, "FEED_PAGE_BYTES", 7000)
    pages, after = [], 0
    while True:
        page = as_bjidx("GET", f"/federation/v1/feed/GZDEX/?after={after}&limit=1000").json()
        if not page["entries"]:
            break
        pages.append([item["entry"]["seq"] for item in page["entries"]])
        after = page["next"]
    # Two bodies fit in 7,000 bytes; the 9,000-byte one comes alone rather than never.
    assert pages == [[1, 2], [3], [4], [5]]


def test_unsigned_request_is_401(client):
    response = client.get("/federation/v1/feed/SHDEX/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_unknown_peer_is_401(as_bjidx):
    response = as_bjidx("GET", "/federation/v1/feed/SHDEX/", code="GZDEX")
    assert (
        response.status_code == 401 and "unknown or disabled peer" in response.json()["error"]["message_en"]
    )


def test_known_peer_with_another_key_is_401(as_bjidx):
    other = keys.public_key_b64(
        __import__("cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"])
        .Ed25519PrivateKey.generate()
        .public_key()
    )
    Peer.objects.filter(pk="BJIDX").update(public_key=other)
    assert as_bjidx("GET", "/federation/v1/feed/SHDEX/").status_code == 401


def test_disabled_peer_is_401(as_bjidx):
    Peer.objects.filter(pk="BJIDX").update(enabled=False)
    assert as_bjidx("GET", "/federation/v1/feed/SHDEX/").status_code == 401


def test_signature_older_than_the_window_is_401(as_bjidx, settings):
    created = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=600)
    message = Message("GET", BASE + "/federation/v1/feed/SHDEX/", {})
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey()).sign(
        message,
        key_id="BJIDX",
        created=created,
        expires=created + datetime.timedelta(seconds=60),
        label="node",
        tag=TAG,
        covered_component_ids=COMPONENTS,
    )
    response = as_bjidx("GET", "/federation/v1/feed/SHDEX/", headers=message.headers)
    assert response.status_code == 401


def test_tampered_body_is_401(as_bjidx, settings):
    settings.NODE_CODE = "BJIDX"
    try:
        headers = sign_request(
            "POST", BASE + "/federation/v1/wake/", {}, json.dumps({"origin": "BJIDX", "seq": 1}).encode()
        )
    finally:
        settings.NODE_CODE = "SHDEX"
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = Client().post(
        "/federation/v1/wake/",
        json.dumps({"origin": "BJIDX", "seq": 999}),
        content_type="application/json",
        **extra,
    )
    assert response.status_code == 401


def test_wake_records_the_announced_head(as_bjidx):
    response = as_bjidx("POST", "/federation/v1/wake/", {"origin": "BJIDX", "seq": 42})
    # the answer says what this node speaks: the waking origin learns it from its first wake-up
    assert response.status_code == 202
    protocols = {"participant_recognition": 2, "private_push": 1, "recognition": 2}
    assert response.json() == {"scheduled": True, "applied": 0, "protocols": protocols}
    state = SyncState.objects.get(origin="BJIDX")
    assert state.head_seen == 42 and state.state == "pending"


def test_wake_with_bad_fields_is_400(as_bjidx):
    response = as_bjidx("POST", "/federation/v1/wake/", {"origin": "bj", "seq": -1, "extra": 1})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["error"]["errors"]} == {"origin", "seq", "extra"}


def test_status_needs_an_operator_of_this_node_or_a_peer(alice_api, bob_api, anon, as_bjidx):
    assert anon.get("/federation/v1/status/").status_code == 401
    assert bob_api.get("/federation/v1/status/").status_code == 403
    body = alice_api.get("/federation/v1/status/").json()
    assert body["node"] == "SHDEX" and [p["code"] for p in body["peers"]] == ["BJIDX"]
    assert as_bjidx("GET", "/federation/v1/status/").status_code == 200


def test_node_identity_is_public(client):
    body = client.get("/federation/v1/node/").json()
    assert body["code"] == "SHDEX" and body["public_key"] == keys.public_key_b64()


def test_peers_command_adds_lists_and_removes(capsys):
    call_command("peers", "add", "gybdx", "http://127.0.0.1:8003", keys.public_key_b64())
    call_command("peers", "list")
    out = capsys.readouterr().out
    assert "GYBDX" in out and "enabled" in out
    from exchanges.models import Exchange

    assert Exchange.objects.get(pk="GYBDX").runs_node is True
    call_command("peers", "remove", "GYBDX")
    assert not Peer.objects.exists() and Exchange.objects.get(pk="GYBDX").runs_node is False


def test_peers_command_refuses_bad_input():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="unknown exchange"):
        call_command("peers", "add", "NOPE", "http://x", keys.public_key_b64())
    with pytest.raises(CommandError, match=r"32 bytes|base64"):
        call_command("peers", "add", "GYBDX", "http://x", "bm90LWEta2V5")


def test_a_feed_of_something_that_is_not_an_exchange_code_is_404_in_the_error_shape(as_bjidx):
    response = as_bjidx("GET", "/federation/v1/feed/bad-1/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_feed_query_errors_are_400_naming_the_field(as_bjidx):
    response = as_bjidx("GET", "/federation/v1/feed/SHDEX/?after=-1&limit=5000")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["error"]["errors"]} == {"after", "limit"}


def test_status_query_count_does_not_grow_with_peers(alice_api, django_assert_max_num_queries):
    for code in ("BJIDX", "GYBDX", "SZDEX", "GZDEX"):
        peer_add(code=code, base_url=f"http://{code.lower()}.invalid", public_key=keys.public_key_b64())
    # token, counter, quarantine counts, sync states, quarantine overflow, peers
    with django_assert_max_num_queries(7):
        assert alice_api.get("/federation/v1/status/").status_code == 200


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"entries": [], "head": NaN}', "NaN"),
        (b'{"entries": [\xff]}', "not UTF-8"),
        (b"<html>busy</html>", "not JSON"),
    ],
    ids=["deep", "nan", "bytes", "html"],
)
def test_an_answer_that_is_not_json_is_a_permanent_peer_error(body, why):
    """A peer's answer is untrusted: whatever it sends, the caller gets a PeerError, never another exception
    that would end the pull without its state recorded."""
    from federation.http import PeerError, peer_request

    with serve(lambda path: (200, body)) as url:
        peer = peer_add(code="GYBDX", base_url=url, public_key=keys.public_key_b64())
        with pytest.raises(PeerError) as caught:
            peer_request(peer, "GET", "/federation/v1/feed/GYBDX/", params={"after": 0})
    assert caught.value.transient is False and "not JSON" in str(caught.value), why


def test_a_peer_request_is_signed_over_the_target_as_sent_on_the_wire():
    """requests re-quotes a URL as it prepares it (`%44`, an unreserved character, goes out as `D`): the
    signature must cover what the peer receives, or the peer refuses it with 401."""
    from federation.http import peer_request
    from federation.signatures import verify_request

    seen: list = []
    with serve(lambda path: (200, {"ok": True}), seen) as url:
        peer = peer_add(code="GYBDX", base_url=url, public_key=keys.public_key_b64())
        path = "/federation/v1/private/SHDEX/demand/a%44b%2Cc/"
        assert peer_request(peer, "GET", path, params={"x": "1,2"}) == {"ok": True}
    (raw, headers), host = seen[0], url.removeprefix("http://")
    assert raw == "/federation/v1/private/SHDEX/demand/aDb%2Cc/?x=1%2C2"  # re-quoted on the way out
    me = keys.public_key_b64()
    assert verify_request("GET", f"http://{host}{raw}", headers, b"", lambda code: me) == "SHDEX"


def test_the_signature_is_checked_against_the_raw_target_where_the_server_passes_it(as_bjidx, settings):
    """Django decodes `%2C` in a path and quotes it again as `,`: verified against that, a request signed
    over what it sent is refused. gunicorn passes the raw request-target on (RAW_URI); it is used."""
    path = "/federation/v1/feed/SH%2CDEX/"
    home, settings.NODE_CODE = settings.NODE_CODE, "BJIDX"  # signed as BJIDX, a peer (as_bjidx)
    signed = sign_request("GET", BASE + path, {}, None)
    settings.NODE_CODE = home
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items()}
    as_peer = Client()
    # What the signature covers is what was sent (RAW_URI): the request reaches the view, which refuses the
    # origin (an exchange code has no comma) as it refuses any unknown origin.
    reached = as_peer.get(path, RAW_URI=path, **extra)
    assert reached.status_code == 404, reached.content
    # The same request with its raw target written otherwise (the same decoded path) is not what was signed.
    refused = as_peer.get(path, RAW_URI="/federation/v1/feed/SH%2cDEX/", **extra)
    assert refused.status_code == 401
    # Without RAW_URI (another server), the URI Django rebuilds is checked: `,` is not `%2C`.
    assert as_peer.get(path, **extra).status_code == 401
