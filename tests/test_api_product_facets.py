"""Facet counts on the product list (`?facets=`): counted over the same filtered set as the results."""

import pytest

from interop.ckan_actions import package_search
from products.facets import FACETS
from products.models import ProductStatus
from tests.factories import make_product, random_descriptor

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def _listed(alice, **overrides):
    return make_product(actor=alice, descriptor=random_descriptor(**overrides), status=ProductStatus.LISTED)


def _pricing(low, high):
    return {"model": "subscription", "currency": "CNY", "min": low, "max": high}


@pytest.fixture
def shelf(alice):
    """Five listed products whose facet values are chosen, and a draft that no anonymous count may see."""
    made = {
        "ev": _listed(
            alice,
            name="上海市新能源汽车充电桩运行数据集",
            industry="D",
            product_form="dataset",
            spatial_coverage=["310000"],
            delivery_methods=["api", "file"],
            pricing=_pricing(20000.0, 180000.0),
        ),
        "grid": _listed(
            alice,
            name="上海市电网负荷数据接口",
            industry="D",
            product_form="api",
            spatial_coverage=["310115", "320100"],
            delivery_methods=["api"],
            pricing=_pricing(500.0, 900.0),
        ),
        "credit": _listed(
            alice,
            name="全国企业信用评价数据接口",
            industry="L",
            product_form="api",
            spatial_coverage=["100000"],
            delivery_methods=["api", "sandbox"],
            pricing=_pricing(0.0, 0.0),
        ),
        "weather": _listed(
            alice,
            name="江苏省气象观测数据集",
            industry="M",
            product_form="dataset",
            spatial_coverage=["320000"],
            delivery_methods=["file"],
            pricing=_pricing(2000000.0, 3000000.0),
        ),
    }
    make_product(actor=alice, descriptor=random_descriptor(industry="T", delivery_methods=["offline"]))
    return made


def _facets(response):
    assert response.status_code == 200, response.content
    return {
        name: {v["value"]: v["count"] for v in values} for name, values in response.json()["facets"].items()
    }


def test_every_facet_counts_the_listed_products(anon, shelf):
    response = anon.get(URL, {"facets": ",".join(FACETS)})
    facets = _facets(response)
    assert set(facets) == set(FACETS)
    assert facets["industry"] == {"D": 2, "L": 1, "M": 1}  # the draft's T is not public
    assert facets["form"] == {"dataset": 2, "api": 2}
    assert facets["exchange"] == {"SHDEX": 4}
    # regions by province-level unit: a district counts for its municipality; 100000 is nationwide
    assert facets["region"] == {"310000": 2, "320000": 2, "100000": 1}
    assert facets["delivery_method"] == {"api": 3, "file": 2, "sandbox": 1}
    assert facets["price"] == {"free": 1, "lt_1k": 1, "10k_100k": 1, "ge_1m": 1}
    industry = response.json()["facets"]["industry"]
    assert industry[0] == {"value": "D", "label_zh": "电力、热力、燃气及水生产和供应业",
                           "label_en": "Production and supply of electricity, heat, gas and water",
                           "count": 2}  # fmt: skip
    assert [v["value"] for v in industry] == ["D", "L", "M"]  # most frequent first, then by value
    assert response.json()["facets"]["exchange"][0]["label_zh"] == "上海数据交易所"


def test_facets_count_the_filtered_set_not_the_page(anon, shelf):
    response = anon.get(URL, {"industry": "D", "page_size": 1, "facets": "form,delivery_method"})
    assert response.json()["count"] == 2 and len(response.json()["results"]) == 1
    assert _facets(response) == {"form": {"dataset": 1, "api": 1}, "delivery_method": {"api": 2, "file": 1}}


def test_facets_of_a_search_count_its_matches(anon, shelf):
    facets = _facets(anon.get(URL, {"q": "数据接口", "facets": "industry,price"}))
    assert facets == {"industry": {"D": 1, "L": 1}, "price": {"lt_1k": 1, "free": 1}}
    assert _facets(anon.get(URL, {"q": "不存在的词语", "facets": "industry"})) == {"industry": {}}


def test_the_facet_filters_select_what_their_counts_count(anon, shelf):
    def codes(**params):
        return {p["code"] for p in anon.get(URL, params).json()["results"]}

    assert codes(delivery_method="sandbox") == {shelf["credit"].code}
    assert codes(delivery_method="file") == {shelf["ev"].code, shelf["weather"].code}
    assert codes(price="ge_1m") == {shelf["weather"].code}
    assert codes(price="free") == {shelf["credit"].code}
    assert codes(price="lt_1k", delivery_method="api") == {shelf["grid"].code}


def test_no_facets_unless_asked(anon, shelf):
    assert "facets" not in anon.get(URL).json()


@pytest.mark.parametrize("asked", ["colour", "industry,colour", "INDUSTRY", "", "industry,", " industry"])
def test_an_unknown_facet_is_refused_naming_the_field(anon, shelf, asked):
    response = anon.get(URL, {"facets": asked})
    assert response.status_code == 400, response.content
    [error] = response.json()["error"]["errors"]
    assert error["field"] == "facets" and error["code"] == "invalid_choice"
    assert "industry" in error["message_en"]


def test_an_unknown_facet_filter_value_is_refused(anon, shelf):
    response = anon.get(URL, {"price": "cheap"})
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["field"] == "price"


def test_facet_query_count_does_not_grow_with_rows(alice, anon, shelf, django_assert_max_num_queries):
    names = ",".join(FACETS)
    with django_assert_max_num_queries(2 + len(FACETS) + 1) as few:  # the page, the count, one per facet,
        anon.get(URL, {"facets": names})  # the exchanges' names
    for _ in range(6):
        _listed(alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        anon.get(URL, {"facets": names})


def test_every_facet_counts_under_every_filter(anon, shelf):
    """Raw conditions (the delivery-method filter, a search) stay valid inside each facet's statement."""
    facets = _facets(
        anon.get(
            URL, {"delivery_method": "api", "price": "lt_1k", "q": "数据接口", "facets": ",".join(FACETS)}
        )
    )
    assert facets["region"] == {"310000": 1, "320000": 1}
    assert facets["delivery_method"] == {"api": 1}
    assert facets["industry"] == {"D": 1}
    empty = anon.get(URL, {"status": "delisted", "delivery_method": "api", "facets": ",".join(FACETS)})
    assert _facets(empty) == {name: {} for name in FACETS}


def test_package_search_reads_a_page_in_a_fixed_number_of_queries(
    alice, shelf, django_assert_max_num_queries
):
    params = {"rows": 50, "facet.field": '["organization", "industry", "region"]'}
    with django_assert_max_num_queries(6) as few:  # count, page, row facets, region, the exchanges' names
        assert package_search(params)["count"] == 4
    for _ in range(5):
        _listed(alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(package_search(params)["results"]) == 9


def test_the_quality_grade_facet_counts_the_best_valid_grade(anon, shelf):
    from products.models import Product  # lazy: only this test writes the column directly

    Product.objects.filter(pk=shelf["ev"].pk).update(quality_grade="A")
    Product.objects.filter(pk=shelf["grid"].pk).update(quality_grade="C")
    response = anon.get(URL, {"facets": "quality_grade"})
    assert _facets(response) == {"quality_grade": {"A": 1, "C": 1}}  # products without a report: no value
    labels = {v["value"]: v["label_en"] for v in response.json()["facets"]["quality_grade"]}
    assert labels == {"A": "A Excellent", "C": "C Adequate"}
