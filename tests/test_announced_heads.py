"""An origin's announced head (`SyncState.head_seen`) is bounded by what the origin itself reports.

A wake-up is only ever sent by a node about its own log (`federation.outbox` queues `wake_peers` with this
node's code), so one about another origin is ignored; a feed page's `head` counts only when the origin itself
serves it (a relay's claim counts no further than the entries it served and that verified); and the origin's
own answer lowers a head announced before it (decay). One signed wake-up used to set another origin's head to
2^62 for good: pulled every few seconds, `lag_entries` 4.6e18.
"""

import datetime
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from federation.models import Peer, SyncState
from federation.peers import peer_add
from federation.pull import pages_apply, pull_from, pull_origin, wake_receive
from federation.selectors import sync_status
from federation.signatures import COMPONENTS, TAG, Message
from tests.loopback import serve
from tests.test_federation_apply import ORIGIN, _public_b64, code, item, product, samples

pytestmark = pytest.mark.django_db
HUGE = 2**62
RELAY = "GYBDX"


class _Key(HTTPSignatureKeyResolver):
    def __init__(self, key: Ed25519PrivateKey):
        self.key = key

    def resolve_private_key(self, key_id: str):
        return self.key

    def resolve_public_key(self, key_id: str):
        return self.key.public_key()


def _signed_post(key: Ed25519PrivateKey, code: str, path: str, body: dict):
    """POST `body` to this node as peer `code` signs it, with that peer's own key."""
    data = json.dumps(body).encode()
    message = Message("POST", "http://testserver" + path, {"Content-Type": "application/json"})
    now = datetime.datetime.now(datetime.UTC)
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Key(key)).sign(
        message,
        key_id=code,
        created=now,
        expires=now + datetime.timedelta(seconds=60),
        label="node",
        tag=TAG,
        covered_component_ids=COMPONENTS,
        body=data,
    )
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items()}
    extra.pop("HTTP_CONTENT_TYPE")
    return Client().post(path, data, content_type="application/json", **extra)


@pytest.fixture
def keys_of() -> dict[str, Ed25519PrivateKey]:
    """BJIDX (the origin) and GYBDX (another peer, a relay), each with its own key."""
    keys = {ORIGIN: Ed25519PrivateKey.generate(), RELAY: Ed25519PrivateKey.generate()}
    for peer, key in keys.items():
        peer_add(code=peer, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    return keys


def _feed(origin_key, n: int, *, head: object) -> callable:
    """A feed serving entries 1..n of BJIDX in pages of 2, each page announcing `head`."""
    docs = samples(n, seed=41)
    entries = [item(origin_key, seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in range(1, n + 1)]

    def answer(path: str) -> tuple[int, dict]:
        from urllib.parse import parse_qs, urlsplit

        after = int(parse_qs(urlsplit(path).query)["after"][0])
        page = [e for e in entries if e["entry"]["seq"] > after][:2]
        return 200, {"origin": ORIGIN, "after": after, "entries": page, "head": head}

    return answer


def _origin_state() -> SyncState:
    return SyncState.objects.get(pk=ORIGIN)


def _lag() -> int:
    return next(o["lag_entries"] for o in sync_status()["origins"] if o["origin"] == ORIGIN)


def test_a_signed_wake_up_about_another_origin_changes_nothing(keys_of, django_capture_on_commit_callbacks):
    SyncState.objects.update_or_create(origin=ORIGIN, defaults={"cursor": 3, "head_seen": 3})
    with django_capture_on_commit_callbacks() as queued:
        response = _signed_post(
            keys_of[RELAY], RELAY, "/federation/v1/wake/", {"origin": ORIGIN, "seq": HUGE}
        )
    assert response.status_code == 202, response.content
    assert response.json()["scheduled"] is False
    state = _origin_state()
    assert (state.cursor, state.head_seen, state.head_seen_at, state.state) == (3, 3, None, "idle")
    assert state.queued_at is None and queued == []  # no pull queued either
    assert _lag() == 0
    # The origin's own wake-up still counts (and schedules a pull).
    with django_capture_on_commit_callbacks() as queued:
        response = _signed_post(keys_of[ORIGIN], ORIGIN, "/federation/v1/wake/", {"origin": ORIGIN, "seq": 7})
    assert response.json()["scheduled"] is True and _origin_state().head_seen == 7 and len(queued) == 1


def test_an_origin_that_announced_2_62_and_serves_head_5_ends_with_head_seen_5(keys_of):
    assert wake_receive(source=ORIGIN, origin=ORIGIN, seq=HUGE) is True
    assert _origin_state().head_seen == HUGE  # the origin's word, until its feed says otherwise
    with serve(_feed(keys_of[ORIGIN], 5, head=5)) as url:
        Peer.objects.filter(pk=ORIGIN).update(base_url=url)
        assert pull_origin(origin=ORIGIN) == 5
    state = _origin_state()
    assert (state.cursor, state.head_seen, state.state) == (5, 5, "idle")
    assert _lag() == 0  # after one successful pull from the origin


def test_a_relays_inflated_head_does_not_stick(keys_of):
    """A relay announces 2^62 but serves entries 1..3: the head counts only up to what it served."""
    relay = Peer.objects.get(pk=RELAY)
    with serve(_feed(keys_of[ORIGIN], 3, head=HUGE)) as url:
        Peer.objects.filter(pk=RELAY).update(base_url=url)
        relay.refresh_from_db()
        assert pull_from(relay, ORIGIN) == 3
    state = _origin_state()
    assert (state.cursor, state.head_seen) == (3, 3) and _lag() == 0
    # A relay that lags behind does not lower what the origin announced either.
    assert wake_receive(source=ORIGIN, origin=ORIGIN, seq=10) is True
    with serve(_feed(keys_of[ORIGIN], 3, head=3)) as url:
        Peer.objects.filter(pk=RELAY).update(base_url=url)
        relay.refresh_from_db()
        assert pull_from(relay, ORIGIN) == 0
    assert _origin_state().head_seen == 10


def test_a_head_announced_before_the_origin_answered_decays_a_later_one_does_not(keys_of):
    """The origin's page lowers only what was announced before it was asked: an announcement recorded while
    its answer travelled (a wake-up for an entry published meanwhile) is newer than the answer."""
    from django.utils import timezone

    docs = samples(4, seed=43)
    entries = [
        item(keys_of[ORIGIN], seq=i, gid=code(i), payload=product(i, docs[i - 1])) for i in (1, 2, 3, 4)
    ]

    def fetch_from(n: int):
        return lambda after: ([e for e in entries[:n] if e["entry"]["seq"] > after][:2], n)

    earlier = timezone.now() - datetime.timedelta(seconds=1)
    SyncState.objects.filter(pk=ORIGIN).update(head_seen=HUGE, head_seen_at=earlier)
    assert pages_apply(ORIGIN, fetch_from(3), source=ORIGIN, after=0) == 3
    assert (_origin_state().cursor, _origin_state().head_seen) == (3, 3)

    later = timezone.now() + datetime.timedelta(seconds=60)  # recorded after the pull asked the origin
    SyncState.objects.filter(pk=ORIGIN).update(head_seen=9, head_seen_at=later)
    assert pages_apply(ORIGIN, fetch_from(4), source=ORIGIN, after=3) == 1
    assert (_origin_state().cursor, _origin_state().head_seen) == (4, 9)


@pytest.mark.parametrize("head", [2**64, -1, True, "12", None])
def test_a_head_no_sequence_number_can_be_is_ignored(keys_of, head):
    """A head beyond 2^62 used to stop the pull with the database's overflow error (a bigint column)."""
    with serve(_feed(keys_of[ORIGIN], 2, head=head)) as url:
        Peer.objects.filter(pk=ORIGIN).update(base_url=url)
        assert pull_origin(origin=ORIGIN) == 2
    state = _origin_state()
    assert (state.cursor, state.head_seen, state.last_error) == (2, 2, "")
