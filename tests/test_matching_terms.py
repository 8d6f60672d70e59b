"""What makes a product relevant to a demand: stop words and region names are not match terms, rare words
weigh more than common ones (IDF over the node's catalogue), and a product that shares no meaningful word with
a demand is not a match and its provider is never notified, however well the rest of it fits."""

import datetime as dt

import pytest
from django.utils import timezone

from demands import relevance
from demands.matching import demand_match_and_notify, matches_for
from demands.models import Demand, Notification
from demands.relevance import demand_term_weights, document_frequencies
from demands.scoring import demand_terms
from products.models import ProductStatus
from standards.demand import demand_clean, demand_search_text
from standards.segmentation import match_terms, segment_query
from tests.factories import make_product, random_descriptor

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]


def _demand(title, description, *, region="440000", forms=("dataset",)):
    now = timezone.now()
    data = {
        "title": title,
        "description": description,
        "product_forms": list(forms),
        "spatial_coverage": [region],
        "budget": {"min": 0, "max": 1000000},
        "deadline": (now + dt.timedelta(days=30)).isoformat(),
    }
    clean = demand_clean(data, now=now)
    return Demand.objects.create(
        gid=f"SHDEX-{Demand.objects.count():032x}",
        origin="SHDEX",
        demander_id="91310115AY4CL12T2E",
        demander_home="SHDEX",
        demander_name="上海浦数智能科技有限公司",
        posted_at=now,
        search_text=demand_search_text(clean["title"], clean["description"]),
        **clean,
    )


def _listed(alice, name, keywords, summary, *, region="440000", form="dataset", industry="M"):
    descriptor = random_descriptor(
        name=name,
        keywords=keywords,
        summary=summary,
        spatial_coverage=[region],
        product_form=form,
        industry=industry,
    )
    descriptor["pricing"].update(min=0, max=1000)
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


def test_function_words_generic_words_and_places_are_not_match_terms():
    terms = match_terms("华南地区逐小时降水数据采购，用于农业保险定价，需要广东省的数据服务", limit=24)
    assert "降水" in terms and "保险" in terms
    for word in ("逐", "用于", "数据", "采购", "需要", "数据服务", "广东省"):
        assert word not in terms
    assert match_terms("上海市数据服务采购", limit=24) == []  # nothing says which data
    # Search keeps the words a user typed (only the commonest function words go).
    assert segment_query("上海市数据服务") == ["上海市", "数据服务"]


def test_a_word_few_products_use_weighs_more_than_one_most_use(alice):
    for i, city in enumerate(["广州市", "深圳市", "珠海市"]):
        _listed(alice, f"{city}气象站观测数据集", ["气象", "观测"], f"{city}气象站观测记录第{i}批。")
    _listed(alice, "广东省逐小时降水观测数据集", ["气象", "降水"], "广东省自动气象站逐小时降水量。")
    products, used_by = document_frequencies(["气象", "降水", "海啸"])
    assert products == 4 and used_by == {"气象": 4, "降水": 1, "海啸": 0}
    demand = _demand("降水与气象观测数据", "需要降水和气象观测数据。")
    tokens, title = demand_terms(demand)
    weights = demand_term_weights(tokens, title=title)
    assert weights["降水"] > weights["气象"] > 0
    # The one product using the rare word ranks first.
    assert matches_for(demand)[0].product.name == "广东省逐小时降水观测数据集"


def test_a_product_sharing_no_meaningful_word_is_neither_matched_nor_notified(alice):
    """The issue's case: a hospital-beds dataset of the same region, form, price and industry-free demand was
    notified of a precipitation-data demand through 数据 and its structure alone."""
    beds = _listed(
        alice,
        "广东省医院床位资源数据集",
        ["医院", "床位", "医疗资源"],
        "广东省各级医院开放床位数与病床使用率，逐月更新，可用于医疗资源规划。",
        industry="Q",
    )
    rain = _listed(
        alice,
        "广东省逐小时降水观测数据集",
        ["降水", "降雨量", "气象观测"],
        "广东省自动气象站逐小时降水量观测记录，可用于暴雨预警。",
    )
    demand = _demand("广东省逐小时降水数据采购", "采购广东省自动气象站逐小时降水量观测数据，用于暴雨预警。")
    matched = {m.product.code: m for m in matches_for(demand)}
    assert beds.code not in matched
    assert matched[rain.code].score >= 0.5
    assert demand_match_and_notify(demand.gid) == 1
    told = Notification.objects.get()
    assert told.participant_id == rain.provider_uscc
    assert [p["code"] for p in told.payload["products"]] == [rain.code]


def test_a_large_catalogue_keeps_its_document_frequencies_for_a_while(alice, monkeypatch):
    """Counting a common word's products costs milliseconds on a large catalogue, where one product more
    changes nothing: the counts are kept for DF_TTL seconds, and only words not yet counted are counted."""
    monkeypatch.setattr(relevance, "LARGE_CATALOGUE", 1)
    monkeypatch.setattr(relevance, "_frequencies", {})
    for city in ("广州市", "深圳市"):
        _listed(alice, f"{city}气象站观测数据集", ["气象", "观测"], f"{city}气象站观测记录。")
    assert document_frequencies(["气象"]) == (2, {"气象": 2})
    _listed(alice, "珠海市气象与降水观测数据集", ["气象", "降水"], "珠海市气象站降水观测。")
    assert document_frequencies(["气象", "降水"]) == (2, {"气象": 2, "降水": 1})  # 气象 as counted before
    monkeypatch.setattr(relevance, "DF_TTL", 0.0)
    assert document_frequencies(["气象"]) == (3, {"气象": 3})
