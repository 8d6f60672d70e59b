"""Listing, filtering and Chinese full-text search of products, with query-count baselines."""

import pytest
from django.db import connection

from products.models import ProductStatus
from tests.factories import make_product, random_descriptor

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def _listed(alice, **overrides):
    descriptor = random_descriptor(**overrides)
    # The random descriptor's source text names a random product (it can say 充电桩): a fixed one, so that
    # relevance depends only on the words each test gives, whatever ran before it.
    descriptor["data_source"]["description"] = "自有业务系统合法采集。"
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


def _codes(response):
    assert response.status_code == 200, response.content
    return [p["code"] for p in response.json()["results"]]


@pytest.fixture
def catalogue(alice):
    """A fixed set of products whose relevance for Chinese queries is obvious to a person."""
    kw = {"keywords": ["数据"], "spatial_coverage": ["310000"]}
    return {
        "charging_name": _listed(
            alice,
            name="上海市新能源汽车充电桩运行数据集",
            product_form="dataset",
            summary="全市公共充电设施的实时运行状态与充电量统计。",
            industry="D",
            **kw,
        ),
        "charging_summary": _listed(
            alice,
            name="上海市城市能源消费分析报告",
            product_form="report",
            summary="报告分析了居民用电、充电桩建设对城市能源消费的影响。",
            industry="D",
            **kw,
        ),
        "credit": _listed(
            alice,
            name="上海市企业信用评价数据接口",
            product_form="api",
            summary="企业工商、司法、经营异常等信用信息的综合评价。",
            industry="L",
            keywords=["企业信用", "征信"],
            spatial_coverage=["310000"],
        ),
        "weather": _listed(
            alice,
            name="上海市气象观测数据集",
            product_form="dataset",
            summary="地面气象站逐小时观测的温度、降水、风速数据。",
            industry="M",
            **kw,
        ),
    }


class TestSearch:
    def test_name_match_ranks_above_summary_match(self, anon, catalogue):
        codes = _codes(anon.get(URL, {"q": "充电桩"}))
        assert codes[:2] == [catalogue["charging_name"].code, catalogue["charging_summary"].code]
        assert catalogue["weather"].code not in codes

    def test_multi_word_query_requires_every_word(self, anon, catalogue):
        assert _codes(anon.get(URL, {"q": "企业信用评价"})) == [catalogue["credit"].code]
        assert _codes(anon.get(URL, {"q": "企业信用 气象"})) == []

    def test_keyword_query_and_rank_is_reported(self, anon, catalogue):
        response = anon.get(URL, {"q": "征信"})
        assert _codes(response) == [catalogue["credit"].code]
        assert response.json()["results"][0]["rank"] > 0

    def test_query_of_only_punctuation_matches_nothing(self, anon, catalogue):
        assert _codes(anon.get(URL, {"q": "？！，"})) == []

    def test_search_sees_edits_and_drops_delisted(self, alice, alice_api, anon, catalogue):
        weather = catalogue["weather"]
        edited = alice_api.patch(
            f"{URL}{weather.code}/", {"descriptor": {"keywords": ["台风路径"]}}, format="json"
        )
        assert edited.status_code == 200, edited.content
        assert _codes(anon.get(URL, {"q": "台风路径"})) == [weather.code]
        alice_api.post(f"{URL}{weather.code}/delist/", {"reasons": ["停止"]}, format="json")
        assert _codes(anon.get(URL, {"q": "台风路径"})) == []

    def test_quotes_and_operators_in_queries_are_plain_text(self, anon, catalogue):
        for q in ["'", '"', "a & b | !c", "充电桩' OR 1=1 --", "NEAR(a b)", "\\"]:
            assert anon.get(URL, {"q": q}).status_code == 200


class TestFilters:
    def test_filters_by_industry_form_exchange_and_region(self, anon, catalogue):
        assert set(_codes(anon.get(URL, {"industry": "D"}))) == {
            catalogue["charging_name"].code,
            catalogue["charging_summary"].code,
        }
        assert _codes(anon.get(URL, {"form": "api"})) == [catalogue["credit"].code]
        assert len(_codes(anon.get(URL, {"exchange": "SHDEX"}))) == 4
        assert _codes(anon.get(URL, {"exchange": "BJIDX"})) == []
        # a district of Shanghai is covered by products covering the whole municipality
        assert len(_codes(anon.get(URL, {"region": "310000"}))) == 4
        assert _codes(anon.get(URL, {"region": "110000"})) == []

    def test_anonymous_status_filter_cannot_reveal_drafts(self, alice, anon, catalogue):
        make_product(actor=alice)
        assert _codes(anon.get(URL, {"status": "draft"})) == []

    def test_pagination_is_stable_and_complete(self, alice, anon):
        made = {_listed(alice).code for _ in range(7)}
        seen = []
        for page in (1, 2, 3):
            seen += _codes(anon.get(URL, {"page_size": 3, "page": page}))
        assert len(seen) == 7 and set(seen) == made


class TestQueryCounts:
    """List endpoints must not issue a query per row (netbox-style baselines)."""

    def test_list_query_count_is_constant(self, alice, anon, django_assert_max_num_queries):
        for _ in range(3):
            _listed(alice)
        with django_assert_max_num_queries(3) as small:  # the change generation (read cache), count, page
            anon.get(URL)
        for _ in range(12):
            _listed(alice)
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert len(_codes(anon.get(URL))) == 15

    def test_authenticated_search_query_count(self, alice, alice_api, django_assert_max_num_queries):
        for _ in range(5):
            _listed(alice)
        # token lookup, the ranking (on PostgreSQL after reading the newest key: search_window), the page by
        # primary key
        with django_assert_max_num_queries(4 if connection.vendor == "postgresql" else 3):
            alice_api.get(URL, {"q": "数据"})


class TestBroadSearch:
    def test_a_term_matching_more_than_the_window_ranks_the_newest_matches_and_caps_the_count(
        self, alice, anon, monkeypatch
    ):
        from products import selectors

        monkeypatch.setattr(selectors, "RANK_WINDOW", 3)
        made = [_listed(alice, keywords=["充电桩"]).code for _ in range(6)]
        body = anon.get(URL, {"q": "充电桩"}).json()
        assert body["count"] == 3 and body["count_exact"] is False
        assert {p["code"] for p in body["results"]} == set(made[-3:])  # the three newest matches

    def test_a_selective_term_is_ranked_over_all_its_matches_with_an_exact_count(self, alice, anon):
        made = [_listed(alice, keywords=["集装箱"]).code for _ in range(3)]
        body = anon.get(URL, {"q": "集装箱"}).json()
        assert body["count"] == 3 and body["count_exact"] is True
        assert {p["code"] for p in body["results"]} == set(made)
        assert anon.get(URL).json()["count_exact"] is True

    def test_the_ranking_window_is_taken_after_the_other_filters(self, alice, anon, monkeypatch):
        from products import selectors

        monkeypatch.setattr(selectors, "RANK_WINDOW", 3)
        older = [_listed(alice, keywords=["充电桩"], industry="D").code for _ in range(3)]
        for _ in range(3):
            _listed(alice, keywords=["充电桩"], industry="L")
        body = anon.get(URL, {"q": "充电桩", "industry": "D"}).json()
        assert {p["code"] for p in body["results"]} == set(older) and body["count_exact"] is True


class TestRankedPages:
    """The API pages a search from the ranking computed once (products.selectors.SearchRanking)."""

    def test_pages_follow_the_ranking_without_gaps_or_repeats(self, alice, anon, catalogue):
        more = [_listed(alice, keywords=["充电桩"]).code for _ in range(3)]
        everything = _codes(anon.get(URL, {"q": "充电桩", "page_size": 100}))
        assert set(more) | {catalogue["charging_name"].code, catalogue["charging_summary"].code} == set(
            everything
        )
        paged = []
        for page in (1, 2, 3):
            body = anon.get(URL, {"q": "充电桩", "page_size": 2, "page": page}).json()
            assert body["count"] == 5
            paged += [p["code"] for p in body["results"]]
        assert paged == everything
        assert anon.get(URL, {"q": "充电桩", "page_size": 2, "page": 4}).status_code == 404

    def test_the_queryset_on_its_own_gives_the_ranked_rows(self, catalogue):
        from products.models import Product
        from products.selectors import product_search

        queryset, exhaustive = product_search(Product.objects.filter(status=ProductStatus.LISTED), q="充电桩")
        ranking = queryset.search_ranking
        assert exhaustive and ranking.exhaustive
        assert [(p.pk, pytest.approx(p.rank)) for p in queryset] == ranking.entries
        assert ranking.entries[0][0] == catalogue["charging_name"].pk
        assert ranking.entries[0][1] > ranking.entries[1][1] > 0

    def test_a_page_skips_a_match_that_left_the_listing_after_the_ranking(self, alice, catalogue):
        from products.models import Product
        from products.selectors import product_search

        queryset, _ = product_search(Product.objects.filter(status=ProductStatus.LISTED), q="充电桩")
        Product.objects.filter(pk=catalogue["charging_name"].pk).update(status=ProductStatus.SUSPENDED)
        page = queryset.search_ranking.page(0, 20)
        assert [p.pk for p in page] == [catalogue["charging_summary"].pk]
        assert page[0].rank > 0


def _arrive(codes: list[str], descriptor: dict) -> None:
    """Replicas of the given products, stored in this order (as a node applies what it pulls)."""
    from products.columns import descriptor_columns
    from products.models import Product

    for code in codes:
        Product.objects.create(
            code=code,
            exchange_id=code.split("-")[0],
            status=ProductStatus.LISTED,
            is_home=False,
            **descriptor_columns(descriptor),
        )


class TestEqualRanks:
    """Equal ranks are ordered by product code: every node orders a search alike, whatever order the products
    reached it in (its primary keys follow that order)."""

    # Code-point order: a locale's collation, ignoring hyphens, would put …-1234567-X before …-123456-M.
    CODES = ["BJIDX-2026-000007-2", "SHDEX-2026-123456-M", "SHDEX-2026-1234567-X", "SZDEX-2026-000001-A"]

    def test_equal_ranks_order_the_same_whatever_the_arrival_order(self, anon):
        from products.models import Product
        from products.selectors import product_search

        descriptor = random_descriptor(
            name="港口集装箱吞吐量月度统计", keywords=["集装箱"], summary="沿海港口逐月的集装箱吞吐量。"
        )
        api_orders, queryset_orders = [], []
        for arrival in (self.CODES, self.CODES[::-1], self.CODES[1::2] + self.CODES[::2]):
            Product.objects.all().delete()  # a node that received the same products in another order
            _arrive(arrival, descriptor)
            results = anon.get(URL, {"q": "集装箱"}).json()["results"]
            assert len({p["rank"] for p in results}) == 1, results  # the ranks do tie
            api_orders.append([p["code"] for p in results])
            queryset, _ = product_search(Product.objects.filter(status=ProductStatus.LISTED), q="集装箱")
            queryset_orders.append([p.code for p in queryset])
        assert api_orders == queryset_orders == [self.CODES] * 3

    def test_a_better_rank_still_comes_first(self, anon):
        tied = random_descriptor(name="集装箱月度统计", keywords=["集装箱"], summary="沿海港口。")
        better = random_descriptor(name="港口吞吐量", keywords=["港口"], summary="港口。")
        _arrive(self.CODES, tied)
        _arrive(["ZZDTC-2026-000001-Z"], better)  # its code sorts last, its rank first
        assert _codes(anon.get(URL, {"q": "港口"})) == ["ZZDTC-2026-000001-Z", *self.CODES]


class TestSqliteRankingWindow:
    """On SQLite the window is ranked by one full-text query: bm25 counts every match of every term (its IDF)
    once per query, so a query per row (a correlated subquery, or a lookup per primary key) costs the number
    of matches times the window: seconds for a broad term over 20,000 products (docs/performance.md)."""

    def test_the_full_text_index_is_scanned_not_searched_per_row(self, catalogue):
        from products.models import Product
        from products.search import FTS_TABLE
        from products.selectors import product_search

        if connection.vendor != "sqlite":
            pytest.skip("the FTS5 plan of the SQLite backend")
        statements = []

        def capture(execute, sql, params, many, context):
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            product_search(Product.objects.filter(status=ProductStatus.LISTED), q="充电桩")
        [(sql, params)] = statements  # the window, ranked, in one statement
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in cursor.fetchall()]
        full_text = [line for line in plan if FTS_TABLE in line]
        assert len(full_text) == 1, plan  # the matches, newest first, ranked as they pass the filters
        # FTS5's plan names its constraints after the index number: M is MATCH, = < > are rowid lookups.
        assert all(set(line.rsplit(":", 1)[1]) <= set("M0123456789") for line in full_text), plan
        assert not any("CORRELATED" in line for line in plan), plan
        assert not any("TEMP B-TREE" in line for line in plan), plan  # newest first without a sort
