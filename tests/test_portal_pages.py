"""Home, the catalog and the product page through Django's test client (docs/portal.md, "Pages"): what each
shows, in both languages, the API's own validation, the query counts (no query per row)."""

import copy
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from federation.models import Peer, SyncState
from products import services
from products.models import ProductStatus, Recognition
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_foreign_product, make_product, register_provider
from tests.portal_helpers import assert_portal_page, html, other_descriptor, signed_in


def _listed(**changes):
    descriptor = copy.deepcopy(EXAMPLE_DESCRIPTOR)
    descriptor.update(changes)
    return make_product(descriptor=descriptor, status=ProductStatus.LISTED)


def _many(n: int):
    for index in range(n):
        make_product(descriptor=other_descriptor(index), status=ProductStatus.LISTED)


@pytest.mark.django_db
def test_home_shows_the_24_exchanges_with_their_node_status_and_the_counts(django_assert_max_num_queries):
    product = _listed()
    now = timezone.now()
    Peer.objects.create(
        exchange_id="BJIDX", base_url="http://127.0.0.1:8002", public_key="k" * 43 + "=", last_success_at=now
    )
    Peer.objects.create(
        exchange_id="GYBDX",
        base_url="http://127.0.0.1:8003",
        public_key="k" * 43 + "=",
        last_success_at=now,
        consecutive_failures=3,
    )
    SyncState.objects.create(origin="BJIDX", cursor=7, head_seen=10, head_seen_at=now)
    with django_assert_max_num_queries(10):
        response = Client().get("/")
    page = assert_portal_page(response)
    assert page.count('class="card exchange-card"') == 24
    cards = dict(
        re.findall(
            r"<p class=\"muted\">(\w+) · .*?</p>\s*<p>\s*<span class=\"badge[^\"]*\">([^<]+)</span>",
            page,
            flags=re.S,
        )
    )
    assert cards["SHDEX"] == "本节点" and cards["BJIDX"] == "可达" and cards["GYBDX"] == "不可达"
    assert "3 条" in page  # BJIDX: three entries behind
    assert product.name in page and f"/catalog/{product.code}/" in page
    stats = re.findall(r'<span class="stat-value">(\d+)</span>', page)
    assert stats[0] == "1" and len(stats) == 4
    english = html(Client().get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert (
        "Reachable" in english
        and "Unreachable" in english
        and "Beijing International Big Data Exchange" in english
    )


@pytest.mark.django_db
def test_home_queries_do_not_grow_with_the_listings(django_assert_max_num_queries):
    _many(8)
    with django_assert_max_num_queries(10):
        Client().get("/")


@pytest.mark.django_db
def test_the_catalog_searches_in_chinese_with_the_apis_search_and_facets():
    product = _listed()
    _many(3)
    response = Client().get("/catalog/", {"q": "充电桩"})
    page = assert_portal_page(response)
    assert product.name in page and "共 1 个产品" in page
    assert 'value="充电桩"' in page  # the query stays in the box
    # The facets count the search's result: one product in industry D and at SHDEX.
    assert re.search(r'industry=D">电力、热力、燃气及水生产和供应业 <span class="count">1</span>', page)
    assert "上海数据交易所" in page
    api = Client().get("/api/v1/products/", {"q": "充电桩"}).json()
    assert api["count"] == 1 and api["results"][0]["code"] == product.code


@pytest.mark.django_db
def test_a_facet_link_filters_and_a_second_click_removes_the_filter():
    _listed()
    _many(4)
    client = Client()
    page = html(client.get("/catalog/"))
    assert "共 5 个产品" in page
    filtered = html(client.get("/catalog/", {"industry": "D"}))
    count = Client().get("/api/v1/products/", {"industry": "D"}).json()["count"]
    assert f"共 {count} 个产品" in filtered
    assert 'aria-current="true"' in filtered and 'href="?"' in filtered  # the active value removes the filter
    assert 'type="hidden" form="catalog-form" name="industry" value="D"' in filtered


@pytest.mark.django_db
def test_bad_filters_are_named_with_the_apis_rule():
    response = Client().get("/catalog/", {"industry": "Z", "sort": "cheapest"})
    assert response.status_code == 400
    page = html(response)
    assert "industry:" in page and "sort:" in page and 'role="alert"' in page
    english = html(Client().get("/catalog/", {"industry": "Z"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "industry: Not a valid choice." in english


@pytest.mark.django_db
def test_sorting_and_pagination_keep_the_query():
    _many(23)
    client = Client()
    first = html(client.get("/catalog/", {"sort": "price"}))
    assert "第 1 / 2 页" in first and 'href="?sort=price&amp;page=2"' in first
    second = html(client.get("/catalog/", {"sort": "price", "page": "2"}))
    assert second.count('<li class="card">') == 3
    prices = [float(p.replace(",", "")) for p in re.findall(r'<p class="price">¥([\d,]+)', first)]
    assert prices == sorted(prices)


@pytest.mark.django_db
def test_htmx_gets_only_the_results(django_assert_max_num_queries):
    _listed()
    _many(20)
    with django_assert_max_num_queries(14):
        response = Client().get("/catalog/", {"q": "企业"}, HTTP_HX_REQUEST="true")
    page = html(response)
    assert "<html" not in page and 'id="results-heading"' in page and "共 20 个产品" in page
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_the_catalogs_queries_do_not_grow_with_the_page(django_assert_max_num_queries):
    _many(25)
    with django_assert_max_num_queries(14):
        Client().get("/catalog/")


@pytest.mark.django_db
def test_the_product_page_lays_out_the_descriptor_and_the_recognition_matrix(django_assert_max_num_queries):
    product = _listed()
    Recognition.objects.create(
        product_code=product.code,
        exchange_id="BJIDX",
        status="recognised",
        product_version=product.version,
        decided_by="auto",
    )
    Recognition.objects.create(
        product_code=product.code,
        exchange_id="GZDEX",
        status="refused",
        product_version=product.version,
        decided_by="operator",
        reasons=["样例与数据字典不符"],
    )
    with django_assert_max_num_queries(12):
        response = Client().get(f"/catalog/{product.code}/")
    page = assert_portal_page(response)
    d = EXAMPLE_DESCRIPTOR
    assert d["summary"] in page and d["usage_restrictions"] in page and "SHDEX-AUTH-2024-0452" in page
    assert "上海市" in page and "每日" in page and "至今" in page and "接口调用" in page
    matrix = page[page.index('id="recognition-heading"') : page.index('id="quality"')]
    assert matrix.count("<tr>") == 25  # the head and the 24 members
    assert (
        "已互认" in matrix
        and "不予互认" in matrix
        and "样例与数据字典不符" in matrix
        and "尚无结论" in matrix
    )
    assert d["sample"]["records"][0]["pile_id"] in page
    assert 'href="https://data.example.cn' not in page  # a peer's URL is shown, not linked


@pytest.mark.django_db
def test_the_product_page_in_english_has_english_labels():
    product = _listed()
    page = html(Client().get(f"/catalog/{product.code}/", HTTP_ACCEPT_LANGUAGE="en"))
    for label in (
        "Recognition matrix",
        "Version history",
        "Summary",
        "Compliance",
        "Daily",
        "Shanghai",
        "No decision yet",
        "Passed",
    ):
        assert label in page, label


@pytest.mark.django_db
def test_the_version_history_shows_a_readable_diff(alice):
    product = _listed()
    descriptor = copy.deepcopy(product.descriptor)
    descriptor["summary"] = descriptor["summary"] + "新增：2025年起含快充桩。"
    descriptor["update_frequency"] = "weekly"
    product = services.product_update(actor=alice, product=product, descriptor=descriptor)
    page = html(Client().get(f"/catalog/{product.code}/"))
    history = page[page.index('id="history-heading"') :]
    assert f"第 {product.version - 1} 版与第 {product.version} 版的差异" in history
    assert "更新频率" in history and "<del>daily</del>" in history and "<ins>weekly</ins>" in history
    assert "新增：2025年起含快充桩。" in history
    # A visitor reads only the versions in which the product was public: the draft's stay the operators'.
    visitor = html(Client().get(f"/catalog/{product.code}/", {"from": 1, "to": 2}))
    assert f"第 {product.version - 1} 版与第 {product.version} 版的差异" in visitor
    insider = html(signed_in(alice).get(f"/catalog/{product.code}/", {"from": 1, "to": 2}))
    assert "第 1 版与第 2 版的差异" in insider and "两个版本的描述相同" in insider


@pytest.mark.django_db
def test_drafts_and_unknown_codes_are_not_found_for_visitors(alice):
    draft = make_product(status=ProductStatus.DRAFT)
    assert Client().get(f"/catalog/{draft.code}/").status_code == 404
    assert Client().get("/catalog/SHDEX-2026-999999-X/").status_code == 404
    assert signed_in(alice).get(f"/catalog/{draft.code}/").status_code == 200  # its exchange's operator


@pytest.mark.django_db
def test_actions_follow_the_signed_in_persons_role(alice, bob):
    product = _listed()
    buyer_id = "91520100M1RWG3G69L"
    register_provider(buyer_id, "贵阳买方科技有限公司", roles=("demander",))
    buyer = User.objects.create(username="buyer", role=User.Role.PARTICIPANT, participant_id=buyer_id)
    merchant = User.objects.create(
        username="merchant", role=User.Role.PARTICIPANT, participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"]
    )
    url = f"/catalog/{product.code}/"
    assert "/console/order/" not in html(Client().get(url))
    assert f"/console/order/{product.code}/" in html(signed_in(buyer).get(url))
    assert f"/demands/?product={product.code}" in html(signed_in(merchant).get(url))
    assert "本所产品，当前状态：已上架" in html(signed_in(alice).get(url))  # nothing to review
    assert "复核互认" not in html(signed_in(bob).get(url))  # BJIDX's operator: not this node's console
    foreign = make_foreign_product()
    recognise = f"/console/operator/recognitions/?product={foreign.code}"
    assert recognise in html(signed_in(alice).get(f"/catalog/{foreign.code}/"))


@pytest.mark.django_db
def test_the_product_page_lists_its_valid_quality_reports_and_the_catalog_its_grade(alice_api):
    from tests.quality_world import body

    product = _listed()
    url = f"/api/v1/products/{product.code}/quality-reports/"
    issued = alice_api.post(url, body(score=70), format="json")
    assert issued.status_code == 201, issued.content
    page = html(Client().get(f"/catalog/{product.code}/"))
    quality = page[page.index('id="quality-heading"') : page.index('id="history"')]
    assert '<th scope="row">C</th><td>70</td>' in quality and "总体良好" in quality
    assert "质量 C 级" in html(Client().get("/catalog/", {"quality_grade": "C"}))
