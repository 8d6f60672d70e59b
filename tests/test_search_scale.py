"""Search at a million products (docs/performance.md, "A million products"): the region filter from the
product row's own codes, and the ranking window read from the newest primary keys first."""

import importlib
import itertools

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products import search, services
from products.models import Product, ProductRegion, ProductStatus
from products.search import search_window
from products.selectors import product_filter_region
from standards.regions import region_get
from standards.segmentation import segment_query
from tests.factories import make_product, random_descriptor

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def _covering(coverage: list[str], **overrides) -> dict:
    """A random descriptor covering `coverage`, its name without the region it began with (the naming rule
    refuses a name whose region the coverage does not name)."""
    d = random_descriptor(**overrides)
    name = d["name"].removeprefix(region_get(d["spatial_coverage"][0]).name_zh)
    return {**d, "name": name, "spatial_coverage": coverage}


def _listed(alice, coverage, **overrides) -> Product:
    return make_product(actor=alice, descriptor=_covering(coverage, **overrides), status=ProductStatus.LISTED)


def _region_rows(product) -> list[str]:
    return list(ProductRegion.objects.filter(product=product).order_by("id").values_list("code", flat=True))


class TestRegionCodes:
    def test_the_row_holds_the_coverage_codes_as_its_region_rows_do_after_create_and_update(self, alice):
        product = _listed(alice, ["440300", "310000", "440300"])
        product.refresh_from_db()
        assert product.region_codes == "440300 310000" == " ".join(_region_rows(product))
        changed = _covering(["110000"], provider=product.descriptor["provider"])
        services.product_update(actor=alice, product=product, descriptor=changed)
        product.refresh_from_db()
        assert product.region_codes == "110000" == " ".join(_region_rows(product))

    def test_the_region_filter_matches_the_region_its_province_and_nationwide(self, alice, anon):
        shenzhen = _listed(alice, ["440300"]).code
        guangdong = _listed(alice, ["440000"]).code
        nationwide = _listed(alice, ["100000"]).code
        _listed(alice, ["440100"])  # Guangzhou: not Shenzhen
        shanghai = _listed(alice, ["310000", "320500"]).code

        def codes(region):
            body = anon.get(URL, {"region": region, "page_size": 50}).json()
            return {p["code"] for p in body["results"]}

        assert codes("440300") == {shenzhen, guangdong, nationwide}
        assert codes("440000") == {guangdong, nationwide}
        assert codes("310000") == {shanghai, nationwide}
        assert codes("320500") == {shanghai, nationwide}
        assert codes("110000") == {nationwide}

    def test_the_filter_and_a_search_together_on_either_database(self, alice, anon):
        wanted = _listed(alice, ["310000"], keywords=["交通", "出行"]).code
        _listed(alice, ["440300"], keywords=["交通", "出行"])
        _listed(alice, ["310000"], keywords=["气象", "观测"])
        body = anon.get(URL, {"q": "交通", "region": "310000"}).json()
        assert [p["code"] for p in body["results"]] == [wanted] and body["count_exact"] is True

    def test_the_filter_is_the_same_rows_as_the_region_table_would_give(self, alice):
        for coverage in (["440300"], ["440000"], ["100000"], ["310000", "440100"], ["520100"]):
            _listed(alice, coverage)
        for code in ("440300", "440100", "310000", "520100", "110000"):
            by_row = set(product_filter_region(Product.objects.all(), code=code).values_list("pk", flat=True))
            province = code[:2] + "0000"
            by_table = set(
                ProductRegion.objects.filter(code__in={code, province, "100000"}).values_list(
                    "product", flat=True
                )
            )
            assert by_row == by_table, code

    def test_the_migration_fills_the_codes_of_products_held_before_it(self, alice):
        made = [_listed(alice, c) for c in (["440300"], ["310000", "110000"])]
        Product.objects.update(region_codes="")
        migration = importlib.import_module("products.migrations.0013_product_region_codes")
        migration.codes_fill(apps, None)
        assert {p.pk: p.region_codes for p in Product.objects.all()} == {
            made[0].pk: "440300",
            made[1].pk: "310000 110000",
        }

    @pytest.mark.skipif("connection.vendor != 'postgresql'")
    def test_on_postgresql_the_codes_have_a_gin_index_the_filter_can_use(self):
        with connection.cursor() as cur:
            cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'products_product_regions'")
            (definition,) = cur.fetchone()
        assert "gin" in definition and "string_to_array(region_codes" in definition
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            sql, params = product_filter_region(Product.objects.all(), code="310000").query.sql_with_params()
            cur.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert "products_product_regions" in plan


class TestWindowFromTheNewestKeys:
    """search_window reads the newest RECENT_KEYS primary keys first, the older rows only if those held too
    few matches (PostgreSQL; SQLite's FTS5 drives its own window): the same window either way."""

    @pytest.fixture
    def mixed(self, alice):
        made = []
        for i in range(10):
            keywords = ["充电桩", "能源"] if i % 3 != 1 else ["气象", "观测"]
            made.append(_listed(alice, ["310000"] if i % 2 else ["440300"], keywords=keywords))
        return made

    @pytest.mark.parametrize(
        ("q", "region"), [("充电桩", None), ("充电桩", "310000"), ("气象", None), ("台风", None)]
    )
    def test_every_split_gives_the_window_of_one_statement(self, mixed, monkeypatch, q, region):
        """Whatever the key ranges (newest keys, keys walked first, the walk's reach, the span read from the
        index, however wide): the same window."""
        base = Product.objects.filter(status=ProductStatus.LISTED)
        if region:
            base = product_filter_region(base, code=region)
        tokens = segment_query(q)
        monkeypatch.setattr(search, "RECENT_KEYS", 10**12)
        for size in (2, 4, 20):
            whole = search_window(base, tokens=tokens, size=size)
            splits = itertools.product(
                (1, 3, 5, 8), (0, 1, 2, 10**12), (0, 10**12), (0, 0.01, 1.5), (0.125, 10**12)
            )
            for recent, probe, reach, margin, wide in splits:
                monkeypatch.setattr(search, "RECENT_KEYS", recent)
                monkeypatch.setattr(search, "PROBE_KEYS", probe)
                monkeypatch.setattr(search, "WALK_KEYS", reach)
                monkeypatch.setattr(search, "SPAN_MARGIN", margin)
                monkeypatch.setattr(search, "SPAN_WIDE", wide)
                split = (recent, probe, reach, margin, wide, size)
                assert search_window(base, tokens=tokens, size=size) == whole, split
            monkeypatch.setattr(search, "RECENT_KEYS", 10**12)
        if q != "台风":
            assert whole and [pk for pk, _, _ in whole] == sorted((pk for pk, _, _ in whole), reverse=True)

    @pytest.mark.skipif("connection.vendor != 'postgresql'")
    def test_the_older_rows_are_read_only_when_the_newest_keys_held_too_few(
        self, mixed, monkeypatch, django_assert_num_queries
    ):
        base = Product.objects.filter(status=ProductStatus.LISTED)
        newest = max(p.pk for p in mixed)
        monkeypatch.setattr(search, "RECENT_KEYS", newest - mixed[3].pk)  # the six newest keys
        monkeypatch.setattr(search, "PROBE_KEYS", 0)  # no walk: one statement for the newest keys
        with django_assert_num_queries(2):  # the newest key, the window among the newest keys
            assert len(search_window(base, tokens=segment_query("充电桩"), size=3)) == 3
        with django_assert_num_queries(3):  # and the older rows
            assert len(search_window(base, tokens=segment_query("充电桩"), size=6)) == 6


def _statements(base, q: str, size: int) -> list[str]:
    """The window's statements: "walk" (`ts_match_vq`, no index) or "index" (`@@`)."""
    with CaptureQueriesContext(connection) as queries:
        search_window(base, tokens=segment_query(q), size=size)
    issued = [query["sql"] for query in queries.captured_queries if "ts_rank" in query["sql"]]
    return ["walk" if "ts_match_vq" in sql else "index" for sql in issued]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
class TestWalkOfTheNewestKeys:
    """Within the newest keys the window walks the primary key while the matches are dense enough (issue 25:
    a 6 % term read about 16,000 rows walking, where a bitmap of its 62,000 index matches cost more), and
    reads the index's matches when the keys walked first say the rest is too far."""

    @pytest.fixture
    def base(self, alice, monkeypatch):
        made = []
        for i in range(10):
            keywords = ["充电桩", "能源"] if i % 3 != 1 else ["气象", "观测"]
            made.append(_listed(alice, ["310000"], keywords=keywords))
        newest = max(p.pk for p in made)
        monkeypatch.setattr(search, "RECENT_KEYS", newest - made[1].pk)  # the eight newest keys
        monkeypatch.setattr(search, "PROBE_KEYS", 2)  # 充电桩 in both, 气象 in neither
        return Product.objects.filter(status=ProductStatus.LISTED)

    def test_a_dense_term_is_walked_newest_first_and_never_asks_the_index(self, base, monkeypatch):
        assert _statements(base, "充电桩", 2) == ["walk"]  # the keys walked first held the window
        monkeypatch.setattr(search, "WALK_KEYS", 10)
        assert _statements(base, "充电桩", 4) == ["walk", "walk"]  # 2 more at 2 in 2 keys: within reach

    def test_beyond_the_walks_reach_the_index_is_read_over_the_keys_the_density_says(self, base, monkeypatch):
        monkeypatch.setattr(search, "WALK_KEYS", 1)  # 2 more at 2 in 2 keys need 2 keys: out of reach
        assert _statements(base, "充电桩", 4) == ["walk", "index"]  # 3 keys: 2 matches
        assert _statements(base, "充电桩", 6) == ["walk", "index"]  # 4 more need 4 keys, 6 read: 4 matches
        monkeypatch.setattr(search, "SPAN_MARGIN", 0.5)
        assert _statements(base, "充电桩", 6) == ["walk", "index", "index"]  # 2 keys held 1: the older keys

    def test_a_term_missing_from_the_keys_walked_first_is_read_from_the_index_in_one_statement(
        self, base, monkeypatch
    ):
        monkeypatch.setattr(search, "WALK_KEYS", 10**12)
        assert _statements(base, "气象", 2) == ["walk", "index"]
        assert _statements(base, "气象", 4) == ["walk", "index"]  # every key: only 3 match
        monkeypatch.setattr(search, "SPAN_MARGIN", 0)  # the rest of the newest keys, then the older ones
        assert _statements(base, "气象", 4) == ["walk", "index", "index"]

    def test_without_a_walk_the_newest_keys_come_from_the_index(self, base, monkeypatch):
        monkeypatch.setattr(search, "PROBE_KEYS", 0)
        assert _statements(base, "充电桩", 4) == ["index"]

    def test_the_walk_uses_the_primary_key_and_not_the_full_text_index(self, base, monkeypatch):
        with CaptureQueriesContext(connection) as queries:
            search_window(base, tokens=segment_query("充电桩"), size=2)
        (walk,) = [q["sql"] for q in queries.captured_queries if "ts_match_vq" in q["sql"]]
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + walk)
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert "products_product_search" not in plan and "Seq Scan" not in plan, plan

    def test_the_walk_leaves_the_bitmap_setting_as_it_found_it(self, base):
        def bitmaps():
            with connection.cursor() as cur:
                cur.execute("SHOW enable_bitmapscan")
                return cur.fetchone()[0]

        assert _statements(base, "充电桩", 2) == ["walk"] and bitmaps() == "on"
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_bitmapscan = off")
        assert _statements(base, "充电桩", 2) == ["walk"] and bitmaps() == "off"
