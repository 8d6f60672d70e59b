"""The portal's public pages (issue 21; docs/portal.md, "Pages"): the demand board and a demand's matches, a
participant's trust page, the standards with the live naming check. Each page calls the selectors and
services the API's views call, so the tests compare with the API where both serve the same data."""

import json
import re

import pytest
from django.test import Client

from accounts.models import User
from products.models import ProductStatus
from tests.factories import make_product, random_descriptor, register_provider
from tests.portal_helpers import assert_portal_page, html, signed_in
from tests.portal_public_world import DEMANDER, PROVIDER, evaluate_provider, list_example_product, post_demand

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def demand(alice):
    list_example_product(alice)
    return post_demand()


@pytest.fixture
def merchant(db) -> User:
    return User.objects.create(username="merchant-1", role=User.Role.PARTICIPANT, participant_id=PROVIDER)


def _titles(page: str) -> list[str]:
    return re.findall(r'<h2 class="card-title"><a href="/demands/[^"]+/">([^<]+)</a>', page)


class TestDemandBoard:
    def test_the_board_lists_open_demands_with_the_apis_filters(self, demand):
        page = assert_portal_page(Client().get("/demands/"))
        assert _titles(page) == [demand.title]
        assert f'href="/demands/{demand.gid}/"' in page
        kept = ["industry=D", "form=dataset", "region=310000", "origin=SHDEX", "budget_min=100000"]
        kept += ["q=充电桩"]
        dropped = ["industry=A", "form=model", "region=110000", "origin=BJIDX", "budget_min=300000"]
        dropped += ["budget_max=10000", "status=closed", "q=天气"]
        for query in kept:
            assert _titles(html(Client().get(f"/demands/?{query}"))) == [demand.title], query
        for query in dropped:
            assert _titles(html(Client().get(f"/demands/?{query}"))) == [], query

    def test_the_api_serves_the_same_filters(self, demand):
        api = Client().get("/api/v1/demands/?region=310000&budget_min=100000&budget_max=60000").json()
        assert [d["id"] for d in api["results"]] == [demand.gid]
        assert Client().get("/api/v1/demands/?region=110000").json()["results"] == []
        refused = Client().get("/api/v1/demands/?budget_min=lots")
        assert refused.status_code == 400 and "budget_min" in refused.content.decode()

    def test_a_bad_filter_is_a_400_naming_the_field_and_keeping_what_was_typed(self, demand):
        response = Client().get("/demands/?budget_min=lots&q=充电桩")
        assert response.status_code == 400
        page = assert_portal_page(response)
        assert 'role="alert"' in page and "budget_min" in page and 'value="充电桩"' in page
        assert _titles(page) == []

    def test_htmx_gets_only_the_results_and_the_page_one_query_per_list(
        self, demand, django_assert_max_num_queries
    ):
        for _ in range(4):
            post_demand()
        with django_assert_max_num_queries(6):
            response = Client().get("/demands/?industry=D", **HX)
        page = html(response)
        assert "<html" not in page and len(_titles(page)) == 5

    def test_pages_of_twenty(self, demand):
        for _ in range(20):
            post_demand()
        page = html(Client().get("/demands/"))
        assert len(_titles(page)) == 20 and "page=2" in page
        assert len(_titles(html(Client().get("/demands/?page=2")))) == 1


class TestDemandPage:
    def test_a_demand_shows_its_matches_explained_as_the_api_ranks_them(
        self, demand, alice, django_assert_max_num_queries
    ):
        for _ in range(6):  # more products to rank and show: no more queries (4 when this was written)
            descriptor = random_descriptor(industry="D", summary="上海市新能源汽车充电桩运行数据")
            make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        with django_assert_max_num_queries(6):
            response = Client().get(f"/demands/{demand.gid}/")
        page = assert_portal_page(response)
        assert demand.title in page and "电力、热力、燃气及水生产和供应业" in page and "数据不出境" in page
        api = Client().get(f"/api/v1/demands/{demand.gid}/matches/").json()["results"]
        assert len(api) > 2 and page.count('<li class="card">') == len(api)
        assert f'<a href="/catalog/{api[0]["product"]}/">{api[0]["name"]}</a>' in page  # the product page
        for factor in api[0]["factors"]:
            assert factor["reason"] in page.replace("&#x27;", "'")
        assert "文本相关度" in page and "价格与预算" in page
        assert f'href="/participants/{PROVIDER}/"' in page and f'href="/participants/{DEMANDER}/"' in page

    def test_respond_is_offered_to_a_signed_in_merchant_only(self, demand, merchant):
        respond = f'href="/console/demands/{demand.gid}/respond/"'
        assert respond not in html(Client().get(f"/demands/{demand.gid}/"))
        assert respond in html(signed_in(merchant).get(f"/demands/{demand.gid}/"))

    def test_an_unknown_demand_is_404(self, db):
        assert Client().get("/demands/SHDEX-0123456789abcdef0123456789abcdef/").status_code == 404


class TestParticipantPage:
    def test_the_trust_view_with_a_chart_by_dimension(self, alice, django_assert_max_num_queries):
        evaluate_provider(alice)
        evaluate_provider(alice, score=70)
        with django_assert_max_num_queries(6):
            response = Client().get(f"/participants/{PROVIDER.lower()}/")
        page = assert_portal_page(response)
        assert PROVIDER in page and "已核验" in page and "数据质量能力" in page and "上海数据交易所" in page
        block = re.search(r'<script id="evaluation-chart" type="application/json">(.*?)</script>', page, re.S)
        chart = json.loads(block.group(1))
        assert chart["data"]["labels"][2] == "数据质量能力" and chart["data"]["datasets"][0]["data"][2] == 78
        assert 'data-chart="evaluation-chart"' in page and "chart-4.6.2.umd.min.js" in page
        trust = Client().get(f"/api/v1/participants/{PROVIDER}/trust/").json()
        assert len(trust["evaluations"][0]["evaluations"]) == 2

    def test_no_personal_data(self, db):
        private = {"phone": "+86 21 5555 0100", "email": "contact@pushu-example.cn", "contacts": []}
        register_provider(DEMANDER, "上海浦数智能科技有限公司", roles=("demander",), private=private)
        page = html(Client().get(f"/participants/{DEMANDER}/"))
        assert "上海浦数智能科技有限公司" in page and "暂无" in page
        assert " 5555 0" not in page and "pushu-example" not in page
        assert 'data-chart="evaluation-chart"' not in page  # no evaluation, no chart

    def test_an_unknown_participant_is_404(self, db):
        assert Client().get("/participants/91110000000000000X/").status_code == 404


class TestStandards:
    @pytest.mark.parametrize(
        ("url", "text"),
        [
            ("/standards/", "数据产品描述标准"),
            ("/standards/naming/", "绝对化用语"),
            ("/standards/compliance/", "C1.source_legality"),
            ("/standards/vocabularies/", "电力、热力、燃气及水生产和供应业"),
            ("/standards/glossary/", "数据出境"),
        ],
    )
    def test_each_page_renders_the_standards_data(self, url, text, django_assert_max_num_queries):
        with django_assert_max_num_queries(2):
            response = Client().get(url)
        assert text in assert_portal_page(response)

    def test_versions_are_those_the_api_serves(self):
        page = html(Client().get("/standards/"))
        for standard in Client().get("/api/v1/standards/").json()["standards"]:
            assert f"<code>{standard['code']}</code>" in page and standard["sha256"][:14] in page

    def test_the_naming_check_gives_the_apis_verdict(self):
        name = "全网最全企业信用报告"
        api = (
            Client()
            .post(
                "/api/v1/standards/naming/check/",
                {"name": name, "product_form": "dataset", "spatial_coverage": ["310000"]},
                content_type="application/json",
            )
            .json()
        )
        form = {"name": name, "product_form": "dataset", "spatial_coverage": "310000"}
        fragment = html(Client().post("/standards/naming/check/", form, **HX))
        assert "<html" not in fragment and "不符合命名规则" in fragment
        for violation in api["violations"]:
            assert violation["message"] in fragment
        assert api["suggestion"] in fragment
        page = assert_portal_page(Client().post("/standards/naming/check/", form))
        assert api["suggestion"] in page and f'value="{name}"' in page
        ok = {"name": "上海市企业信用数据集", "product_form": "dataset", "spatial_coverage": "310000"}
        assert "符合命名规则" in html(Client().post("/standards/naming/check/", ok, **HX))

    def test_a_bad_check_is_a_400_naming_the_field(self):
        response = Client().post("/standards/naming/check/", {"name": "某某数据集", "product_form": "nope"})
        assert response.status_code == 400
        page = html(response)
        assert 'aria-invalid="true"' in page and "product_form" in page and 'value="某某数据集"' in page

    def test_the_check_needs_csrf(self):
        client = Client(enforce_csrf_checks=True)
        refused = client.post("/standards/naming/check/", {"name": "x", "product_form": "dataset"})
        assert refused.status_code == 403

    def test_the_glossary_searches_as_the_api_does(self):
        api = Client().get("/api/v1/standards/terms/", {"q": "出境"}).json()["results"]
        fragment = html(Client().get("/standards/glossary/", {"q": "出境"}, **HX))
        found = re.findall(r'<dt id="term-([a-z0-9-]+)">', fragment)
        assert found == [t["id"] for t in api][: len(found)] and found
        refused = Client().get("/standards/glossary/", {"q": "字" * 101})
        assert refused.status_code == 400 and 'role="alert"' in html(refused)


def test_the_pages_speak_english(demand):
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    pages = {
        "/demands/": ["Demand board", "Industry", "Budget at least (CNY)"],
        f"/demands/{demand.gid}/": ["Matching products", "Text relevance", "Data must not leave the country"],
        f"/participants/{PROVIDER}/": ["Evaluations", "Data quality capability", "Recognition by exchange"],
        "/standards/": ["Standard versions", "Product descriptor standard"],
        "/standards/naming/": ["Check my product name", "Product name"],
        "/standards/glossary/": ["Search the glossary", "cross-border data transfer"],
    }
    for url, texts in pages.items():
        page = html(english.get(url))
        for text in texts:
            assert text in page, (url, text)
