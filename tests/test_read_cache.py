"""The public read cache (api/read_cache.py): anonymous product pages, searches and the exchange directory are
stored per change generation, answered 304 for a matching ETag, never mixed with what a caller who
authenticated sees, and invalidated by a local change, a peer's applied change and the directory following a
peer."""

import copy

import pytest
from django.core.cache import caches

from exchanges.services import exchange_node_set
from federation.apply import apply_page
from federation.generation import generation
from products import services
from products.models import ProductStatus
from tests.factories import make_product, random_descriptor
from tests.test_federation_apply import ORIGIN, bjidx_key, code, item, product, samples  # noqa: F401

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def _listed(alice):
    return make_product(actor=alice, descriptor=random_descriptor(), status=ProductStatus.LISTED)


def _stored() -> int:
    """Pages in the read cache: local memory (the default) or Redis (CACHE_URL, the PostgreSQL leg)."""
    reads = caches["reads"]
    if hasattr(reads._cache, "get_client"):  # Redis: the keys under the cache's own prefix
        return sum(1 for _ in reads._cache.get_client().scan_iter(match=reads.make_key("*")))
    return len(reads._cache)


def test_an_anonymous_page_is_stored_once_and_served_byte_identical_with_its_etag(alice, anon):
    made = _listed(alice)
    url = f"{PRODUCTS}{made.code}/"
    first = anon.get(url)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert first["Cache-Control"] == "no-cache" and "Authorization" in first["Vary"]
    stored = _stored()
    assert stored == 1
    second = anon.get(url)
    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert second["Content-Type"] == first["Content-Type"] and second["Vary"] == first["Vary"]
    assert _stored() == stored  # served from the cache, not stored again


@pytest.mark.parametrize(
    "url", [PRODUCTS, f"{PRODUCTS}?q=数据", "/api/v1/exchanges/", "/api/v1/exchanges/SHDEX/"]
)
def test_a_matching_if_none_match_is_answered_304_without_a_body(alice, anon, url):
    _listed(alice)
    fresh = anon.get(url)
    assert fresh.status_code == 200
    etag = fresh["ETag"]
    for _ in range(2):  # the first answer after storing, then from the cache
        again = anon.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
        assert "Authorization" in again["Vary"]
    assert anon.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert anon.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304


def test_a_local_change_changes_the_page_and_its_etag(alice, anon):
    made = _listed(alice)
    url = f"{PRODUCTS}{made.code}/"
    before = anon.get(url)
    listed_before = anon.get(PRODUCTS).json()
    descriptor = copy.deepcopy(made.descriptor)
    descriptor["summary"] = descriptor["summary"] + "（第二版）"
    services.product_update(actor=alice, product=made, descriptor=descriptor)
    after = anon.get(url)
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["version"] == before.json()["version"] + 1
    assert after.json()["descriptor"]["summary"].endswith("（第二版）")
    assert anon.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    listed_after = anon.get(PRODUCTS).json()
    assert listed_after["results"][0]["version"] == listed_before["results"][0]["version"] + 1


def test_a_peers_applied_change_invalidates_its_pages(bjidx_key, anon):  # noqa: F811
    d = samples(1, seed=21)[0]
    apply_page(
        origin=ORIGIN,
        items=[item(bjidx_key, seq=1, gid=code(1), payload=product(1, d))],
        source=ORIGIN,
        after=0,
    )
    url = f"{PRODUCTS}{code(1)}/"
    before = anon.get(url)
    search = anon.get(PRODUCTS, {"q": "第二版"})
    assert before.status_code == 200 and search.json()["count"] == 0
    changed = {**d, "summary": "第二版的产品简介，用于检验缓存随同步失效。"}
    v2 = item(bjidx_key, seq=2, gid=code(1), version=2, payload=product(1, changed))
    assert apply_page(origin=ORIGIN, items=[v2], source=ORIGIN, after=1) == (1, 2)
    after = anon.get(url)
    assert after["ETag"] != before["ETag"] and after.json()["descriptor"]["summary"] == changed["summary"]
    assert anon.get(PRODUCTS, {"q": "第二版"}).json()["count"] == 1


def test_the_generation_reads_the_tables_of_its_models():
    from federation import generation as module
    from federation.models import OriginCounter, ReadGeneration, SyncState

    for model in (OriginCounter, SyncState, ReadGeneration):
        assert f'"{model._meta.db_table}"' in module._SQL


def test_the_directory_follows_a_peer_without_a_log_entry(anon):
    before = anon.get("/api/v1/exchanges/BJIDX/")
    assert before.json()["runs_node"] is False
    start = generation()
    exchange_node_set(code="BJIDX", node_url="http://bjidx.example:8000")
    assert generation() == start + 1
    after = anon.get("/api/v1/exchanges/BJIDX/")
    assert after.json()["node_url"] == "http://bjidx.example:8000" and after["ETag"] != before["ETag"]


@pytest.mark.parametrize("anonymous_first", [True, False])
def test_what_an_operator_sees_is_never_stored_or_served_to_anonymous(
    alice, alice_api, anon, anonymous_first
):
    draft = make_product(actor=alice)  # a draft: its exchange's operators read it, anonymous callers do not
    url = f"{PRODUCTS}?status=draft"
    if anonymous_first:
        assert anon.get(url).json()["count"] == 0
    operator = alice_api.get(url)
    assert [p["code"] for p in operator.json()["results"]] == [draft.code]
    assert operator["Cache-Control"] == "private" and "ETag" not in operator
    assert "Authorization" in operator["Vary"]
    assert anon.get(url).json()["count"] == 0
    assert anon.get(f"{PRODUCTS}{draft.code}/").status_code == 404
    assert alice_api.get(f"{PRODUCTS}{draft.code}/").status_code == 200
    assert anon.get(f"{PRODUCTS}{draft.code}/").status_code == 404  # a 404 is not stored either
    assert alice_api.get(url).json()["count"] == 1  # the operator is never served the anonymous page


def test_the_cache_is_off_with_zero_seconds(alice, anon, settings):
    settings.READ_CACHE_SECONDS = 0
    made = _listed(alice)
    response = anon.get(f"{PRODUCTS}{made.code}/")
    assert response.status_code == 200 and "ETag" not in response and _stored() == 0


def test_pages_of_another_host_are_stored_apart(alice, anon):
    """A page's links name the host it was asked at: each host's page is its own."""
    _listed(alice)
    _listed(alice)
    here = anon.get(f"{PRODUCTS}?page_size=1", HTTP_HOST="localhost")
    there = anon.get(f"{PRODUCTS}?page_size=1", HTTP_HOST="127.0.0.1")
    assert here.json()["next"].startswith("http://localhost/")
    assert there.json()["next"].startswith("http://127.0.0.1/")
    assert _stored() == 2


def test_the_lean_recognitions_equal_the_recognition_serializer(alice):
    from api.serializers.products import RecognitionSerializer, recognitions_represented
    from products.models import Recognition
    from products.recognition import recognition_review

    made = _listed(alice)
    recognition_review(actor=alice, product=made, status="not_recognised", reasons=["理由一", "理由二"])
    rows = Recognition.objects.filter(product_code=made.code).select_related("exchange")
    expected = RecognitionSerializer(rows.order_by("exchange__order"), many=True).data
    assert len(expected) >= 1 and any(r["reasons"] for r in expected)
    assert recognitions_represented(made) == [dict(r) for r in expected]
    assert list(recognitions_represented(made)[0]) == list(RecognitionSerializer().fields)  # key order


def test_the_redis_cache_reuses_one_client_per_connection_pool():
    """core/cache.py: Django's own builds a client per operation (no server is needed to tell)."""
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    from core.cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/3", {})._cache
    assert cache.get_client("a") is cache.get_client("b", write=True)
    django_cache = DjangoRedisCache("redis://127.0.0.1:6379/3", {})._cache
    assert django_cache.get_client("a") is not django_cache.get_client("a")  # what core/cache.py is for


def test_an_admins_edit_of_the_directory_raises_the_generation(anon):
    from django.contrib import admin

    from exchanges.models import Exchange

    before = anon.get("/api/v1/exchanges/GYBDX/")
    exchange = Exchange.objects.get(pk="GYBDX")
    exchange.name_en = "Guiyang Big Data Exchange (renamed)"
    admin.site._registry[Exchange].save_model(None, exchange, None, True)
    after = anon.get("/api/v1/exchanges/GYBDX/")
    assert after.json()["name_en"].endswith("(renamed)") and after["ETag"] != before["ETag"]
