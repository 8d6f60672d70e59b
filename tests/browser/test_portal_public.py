"""The portal's public pages in a real browser: a visitor browses the demand board (typing a search and
picking a filter swap the results in place), opens a demand and its explained matches, follows the provider
to its trust page (the evaluation chart is drawn by the vendored Chart.js under the strict CSP), uses the
live naming check, and switches to English: every label of those pages changes."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.portal_public_world import PRODUCT, evaluate_provider, list_example_product, post_demand


@pytest.fixture
def world(transactional_db):
    operator = User.objects.create(username="alice", role=User.Role.OPERATOR, exchange_id="SHDEX")
    list_example_product(operator)
    evaluate_provider(operator)
    other = post_demand(
        title="北京市空气质量监测数据采购",
        description="为大气污染防治研究采购北京市各监测站点的空气质量小时数据，含PM2.5、PM10与臭氧浓度。",
        industry="N",
        spatial_coverage=["110000"],
    )
    return {"demand": post_demand(), "other": other}


def _labels_changed(page, chinese: list[str], english: list[str]) -> None:
    body = page.locator("main").inner_text()
    assert [label for label in chinese if label in body] == [], body
    assert [label for label in english if label not in body] == [], body


def test_a_visitor_browses_the_demand_board_and_opens_a_demand(page, world, shot):
    demand = world["demand"]
    page.goto("/demands/")
    cards = page.locator(".demand-list > li")
    assert cards.count() == 2
    shot(page, "demands-zh")
    page.get_by_label("搜索需求").press_sequentially("充电桩", delay=30)
    expect(cards).to_have_count(1)
    assert "q=" in page.url  # htmx pushed the search into the address: it can be bookmarked
    page.get_by_label("搜索需求").fill("")
    page.get_by_label("覆盖地区").select_option("110000")
    expect(cards.first).to_contain_text("北京")
    page.get_by_label("覆盖地区").select_option("310000")
    expect(cards.first).to_contain_text("充电桩")
    page.get_by_role("link", name=demand.title).click()
    page.wait_for_url(f"**/demands/{demand.gid}/")
    assert page.get_by_role("heading", level=1).inner_text() == demand.title
    match = page.locator(".match-list > li").first
    assert PRODUCT["name"] in match.inner_text() and "文本相关度" in match.inner_text()
    shot(page, "demand-zh")
    match.get_by_role("link", name=PRODUCT["provider"]["uscc"]).click()
    page.wait_for_selector("canvas[data-chart='evaluation-chart'][data-drawn='1']")
    assert "数据质量能力" in page.locator("main").inner_text()
    shot(page, "participant-zh")


def test_the_live_naming_check_and_english_labels(page, world, shot):
    page.goto("/standards/naming/")
    page.get_by_label("产品名称").fill("全网最全企业信用报告")
    page.get_by_label("产品形态").select_option("dataset")
    page.get_by_label("覆盖地区代码").fill("310000")
    page.get_by_role("button", name="检查").click()
    verdict = page.get_by_role("status")
    verdict.wait_for()
    assert "不符合命名规则" in verdict.inner_text() and "上海市企业信用数据集" in verdict.inner_text()
    assert page.url.endswith("/standards/naming/")  # htmx swapped the verdict in: the page stayed
    shot(page, "standards-naming-zh")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/standards/naming/")
    assert page.locator("html").get_attribute("lang") == "en"
    _labels_changed(
        page,
        ["产品命名规则", "检查我的产品名称", "产品名称", "产品形态", "覆盖地区代码", "规则", "禁用词"],
        ["Product naming rule", "Check my product name", "Product name", "Product form", "Forbidden terms"],
    )
    page.get_by_label("Product name").fill("上海市企业信用数据集")
    page.get_by_role("button", name="Check").click()
    page.get_by_role("status").wait_for()
    assert "Follows the naming rule" in page.get_by_role("status").inner_text()
    shot(page, "standards-naming-en")
    page.goto("/demands/")
    _labels_changed(
        page,
        ["需求大厅", "搜索需求", "行业", "产品形态", "覆盖地区", "发布交易所", "预算不低于", "筛选", "截止"],
        ["Demand board", "Search demands", "Status", "Industry", "Product form", "Region covered", "Filter"],
    )
    page.get_by_role("link", name=world["demand"].title).click()
    _labels_changed(
        page,
        ["返回需求大厅", "需求方", "匹配的产品", "文本相关度", "价格与预算", "得分", "数据不出境"],
        ["Back to the demand board", "Demander", "Matching products", "Text relevance", "Price and budget"],
    )
    shot(page, "demand-en")
    page.goto("/standards/glossary/?q=出境")
    _labels_changed(page, ["专业术语", "搜索术语", "出处"], ["Glossary", "Search the glossary", "Sources"])


def test_the_public_pages_fit_a_phone(phone, world):
    page = phone.new_page()
    provider = PRODUCT["provider"]["uscc"]
    urls = ("/demands/", f"/demands/{world['demand'].gid}/", f"/participants/{provider}/", "/standards/")
    for url in (*urls, "/standards/naming/", "/standards/glossary/"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide at phone width"
