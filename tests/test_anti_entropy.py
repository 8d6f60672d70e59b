"""Anti-entropy rounds that a busy node can afford: one digests request per peer, this node's digests
computed once per round, and one task per peer spread over the interval.

bench/federation24.py found a round (23 peers x 24 origins, each digest recomputed for each peer, all in one
task) holding a node's only worker for up to a minute, while a demand's pull and match waited behind it.
"""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db.models import F

from federation import selectors, tasks
from federation.peers import peer_add
from federation.repair import anti_entropy_check, digests_agree
from federation.selectors import digests
from products.models import Product, ProductStatus
from tests.factories import make_product, random_descriptor, register_provider
from tests.loopback import serve
from tests.test_federation_apply import _public_b64
from tests.test_federation_http import as_bjidx  # noqa: F401 - the signed-request fixture

pytestmark = pytest.mark.django_db


def _list_one(alice) -> Product:
    descriptor = random_descriptor()
    register_provider(descriptor["provider"]["uscc"], descriptor["provider"]["name"])
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


def test_the_digests_of_several_origins_come_in_one_signed_answer(alice, as_bjidx):  # noqa: F811
    _list_one(alice)
    response = as_bjidx("GET", "/federation/v1/digests/?origins=SHDEX,bjidx")
    assert response.status_code == 200, response.content
    batch = response.json()["digests"]
    assert sorted(batch) == ["BJIDX", "SHDEX"]
    for origin in ("SHDEX", "BJIDX"):
        assert batch[origin] == as_bjidx("GET", f"/federation/v1/digests/{origin}/").json()["digests"]
    assert batch["SHDEX"]["product"]["count"] >= 1
    # Without a choice: every origin this node follows (its peers) and its own.
    assert sorted(as_bjidx("GET", "/federation/v1/digests/").json()["digests"]) == ["BJIDX", "SHDEX"]


@pytest.mark.parametrize("origins", ["SH", "SHDEX;BJIDX", ",".join(["SHDEX"] * 65), "SHDEX,"])
def test_a_bad_list_of_origins_is_400_naming_the_field(as_bjidx, origins):  # noqa: F811
    response = as_bjidx("GET", f"/federation/v1/digests/?origins={origins}")
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["error"]["errors"]] == ["origins"]


def test_unsigned_digests_are_401(client):
    assert client.get("/federation/v1/digests/").status_code == 401


def test_digests_are_computed_once_per_head_unless_asked_fresh(alice):
    _list_one(alice)
    first = digests(origin="SHDEX")
    Product.objects.filter(exchange_id="SHDEX").update(version=F("version") + 1)  # behind the node's back
    assert digests(origin="SHDEX") == first  # the same round: reused
    changed = digests(origin="SHDEX", fresh=True)
    assert changed["product"]["digest"] != first["product"]["digest"]
    assert digests(origin="SHDEX") == changed  # the fresh value replaces the cached one
    _list_one(alice)  # the head moves: computed again
    moved = digests(origin="SHDEX")
    assert moved["product"]["count"] == changed["product"]["count"] + 1


def test_a_cached_digest_expires_after_half_a_round(alice, settings, monkeypatch):
    _list_one(alice)
    first = digests(origin="SHDEX")
    Product.objects.filter(exchange_id="SHDEX").update(version=F("version") + 1)
    clock = selectors.time.monotonic()
    monkeypatch.setattr(
        selectors.time, "monotonic", lambda: clock + settings.FEDERATION["ANTI_ENTROPY_INTERVAL"] / 2 + 1
    )
    assert digests(origin="SHDEX") != first


def test_a_round_is_one_task_per_enabled_peer_spread_over_the_interval(settings, monkeypatch):
    codes = ["BJIDX", "GYBDX", "SZDEX", "TJNBD"]
    for code in codes:
        key = _public_b64(Ed25519PrivateKey.generate())
        peer_add(code=code, base_url="http://127.0.0.1:9", public_key=key, enabled=code != "TJNBD")
    queued = []
    monkeypatch.setattr(
        tasks.anti_entropy_peer, "apply_async", lambda args, countdown: queued.append((args, countdown))
    )
    tasks.anti_entropy()
    interval = settings.FEDERATION["ANTI_ENTROPY_INTERVAL"]
    spread = [round(i * interval / 3, 1) for i in range(3)]
    assert queued == [((code,), countdown) for code, countdown in zip(codes[:3], spread, strict=True)]


class _Peer:
    """A peer on loopback serving digests, with or without the one-request endpoint (an older version)."""

    answers: dict = {}
    batch = True
    paths: list = []

    @classmethod
    def answer(cls, full_path: str) -> tuple[int, dict]:
        cls.paths.append(full_path)
        path = full_path.split("?")[0]
        if path == "/federation/v1/digests/" and cls.batch:
            return 200, {"digests": cls.answers}
        if path.startswith("/federation/v1/digests/") and path.count("/") == 5:
            origin = path.rstrip("/").rsplit("/", 1)[1]
            return 200, {"origin": origin, "digests": cls.answers[origin]}
        return 404, {"error": {"code": "not_found"}}


@pytest.fixture
def loopback_peer():
    _Peer.paths = []
    with serve(_Peer.answer) as url:
        yield peer_add(code="BJIDX", base_url=url, public_key=_public_b64(Ed25519PrivateKey.generate()))


@pytest.mark.parametrize("batch", [True, False], ids=["one request", "older peer: one per origin"])
def test_a_check_asks_a_peer_once_or_origin_by_origin_if_it_is_older(alice, loopback_peer, batch):
    _list_one(alice)
    _Peer.batch = batch
    _Peer.answers = {origin: digests(origin=origin, fresh=True) for origin in ("BJIDX", "SHDEX")}
    report = anti_entropy_check(peer=loopback_peer)
    assert {(r["origin"], r["status"]) for r in report} == {("BJIDX", "equal"), ("SHDEX", "equal")}
    paths = [p.split("?")[0] for p in _Peer.paths]
    if batch:
        assert paths == ["/federation/v1/digests/"] and "origins=BJIDX%2CSHDEX" in _Peer.paths[0]
    else:
        assert paths == [
            "/federation/v1/digests/",
            "/federation/v1/digests/BJIDX/",
            "/federation/v1/digests/SHDEX/",
        ]


def test_a_difference_hidden_by_this_rounds_cache_is_found_before_anything_is_repaired(alice, loopback_peer):
    """The peer's digest differs from this node's cached one only because the cached one is stale: the
    check recomputes and finds them equal, and repairs nothing."""
    _list_one(alice)
    cached = digests(origin="SHDEX")
    Product.objects.filter(exchange_id="SHDEX").update(version=F("version") + 1)
    _Peer.answers = {"BJIDX": digests(origin="BJIDX"), "SHDEX": digests(origin="SHDEX", fresh=True)}
    key = next(k for k in selectors._digest_cache if k[0] == "SHDEX")  # (origin, versions compared under)
    selectors._digest_cache[key] = (*selectors._digest_cache[key][:2], cached)  # this round's, stale
    report = {r["origin"]: r for r in anti_entropy_check(peer=loopback_peer)}
    assert report["SHDEX"]["status"] == "equal"


def test_digests_of_origins_with_nothing_held_are_not_kept(as_bjidx):  # noqa: F811
    """A peer may name any well-formed code: those answers are computed, not cached."""
    response = as_bjidx("GET", "/federation/v1/digests/?origins=ABCD,EFGHI")
    assert response.status_code == 200
    assert all(d["count"] == 0 for d in response.json()["digests"]["ABCD"].values())
    assert not {origin for origin, _ in selectors._digest_cache} & {"ABCD", "EFGHI"}


def test_digests_agree_across_a_record_type_only_one_side_knows():
    """A node whose code predates a record type answers without it; while nobody wrote one, the two agree
    (and a record written, or any other difference, still disagrees)."""
    held = {"product": {"count": 2, "digest": "ab" * 32}}
    empty = {"count": 0, "digest": "00" * 32}
    assert digests_agree(held, {**held, "exchange_terms": empty})
    assert digests_agree({**held, "evaluation": empty}, held)
    assert not digests_agree(held, {**held, "exchange_terms": {"count": 1, "digest": "cd" * 32}})
    assert not digests_agree(held, {"product": {"count": 2, "digest": "ef" * 32}})
    assert not digests_agree(held, {})


@pytest.mark.django_db
def test_a_type_newer_than_the_first_protocol_is_listed_only_once_records_of_it_exist():
    """A peer on older code compares digests strictly: an empty `exchange_terms` would differ there forever;
    an empty type of the first protocol is still listed (older peers list it too)."""
    answer = selectors.digests(origin="ZZTEST", fresh=True)
    assert answer["product"] == {"count": 0, "digest": "00" * 32}
    assert "exchange_terms" not in answer
