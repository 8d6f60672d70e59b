"""A visitor searches the catalog in Chinese (htmx updates the results as one types), opens a product and
reads its recognition matrix; switching to English changes every label of both pages (issue 21)."""

import copy
import datetime as dt
import re

import pytest
from django.utils import timezone

from federation.models import Peer, SyncState
from products.models import ProductStatus, Recognition
from tests.browser.pages import chinese_labels
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_product
from tests.portal_helpers import other_descriptor


@pytest.fixture
def catalog(transactional_db):
    descriptor = copy.deepcopy(EXAMPLE_DESCRIPTOR)
    product = make_product(descriptor=descriptor, status=ProductStatus.LISTED)
    for index in range(4):
        make_product(descriptor=other_descriptor(index), status=ProductStatus.LISTED)
    now = timezone.now()
    for code, failures in (("BJIDX", 0), ("GYBDX", 4)):
        Peer.objects.create(
            exchange_id=code,
            base_url=f"http://{code.lower()}.invalid",
            public_key="k" * 43 + "=",
            last_success_at=now - dt.timedelta(minutes=3),
            consecutive_failures=failures,
        )
    SyncState.objects.create(
        origin="BJIDX", cursor=40, head_seen=42, head_seen_at=now - dt.timedelta(seconds=5)
    )
    Recognition.objects.create(
        product_code=product.code,
        exchange_id="BJIDX",
        status="recognised",
        product_version=product.version,
        decided_by="auto",
    )
    Recognition.objects.create(
        product_code=product.code,
        exchange_id="GYBDX",
        status="refused",
        product_version=product.version,
        decided_by="operator",
        reasons=["缺少授权证明"],
    )
    return product


def test_a_visitor_searches_in_chinese_and_opens_a_product_with_its_recognition_matrix(page, catalog, shot):
    page.goto("/")
    grid = page.locator(".exchange-card")
    assert grid.filter(has_text="BJIDX").get_by_text("可达").is_visible()
    assert grid.filter(has_text="GYBDX").get_by_text("不可达").is_visible()
    shot(page, "home-zh")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="产品目录").click()
    page.wait_for_url("**/catalog/")
    assert page.get_by_role("heading", name=re.compile("共 5 个产品")).is_visible()
    box = page.get_by_label("搜索（名称、关键词、简介）")
    box.press_sequentially("充电桩", delay=40)  # typing: htmx asks after a pause, no submit needed
    page.get_by_role("heading", name="共 1 个产品").wait_for()
    assert "q=%E5%85%85%E7%94%B5%E6%A1%A9" in page.url  # the address follows the search
    shot(page, "catalog-zh")
    page.get_by_role("link", name=catalog.name).click()
    page.wait_for_url(f"**/catalog/{catalog.code}/")
    matrix = page.locator("table.matrix")
    assert matrix.locator("tbody tr").count() == 24
    assert (
        matrix.get_by_role("row", name=re.compile("北京国际大数据交易所")).get_by_text("已互认").is_visible()
    )
    refused = matrix.get_by_role("row", name=re.compile("贵阳大数据交易所"))
    assert refused.get_by_text("不予互认").is_visible() and refused.get_by_text("缺少授权证明").is_visible()
    shot(page, "product-zh")

    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"**/catalog/{catalog.code}/")
    assert page.get_by_role("heading", name="Recognition matrix").is_visible()
    assert matrix.get_by_role("row", name=re.compile("Beijing")).get_by_text("Recognised").is_visible()
    assert chinese_labels(page) == []
    shot(page, "product-en")
    page.get_by_role("link", name="Catalog").first.click()
    page.wait_for_url("**/catalog/")
    page.get_by_label("Search (name, keywords, summary)").fill("充电桩")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="1 product").wait_for()
    assert chinese_labels(page) == []
    shot(page, "catalog-en")


def test_facets_and_the_search_work_without_javascript(browser, live_server, catalog):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto("/catalog/")
    page.get_by_label("搜索（名称、关键词、简介）").fill("充电桩")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.get_by_role("heading", name="共 1 个产品").wait_for()
    assert "sort=" not in page.url or "sort=&" in page.url or page.url.endswith("sort=")  # the default order
    page.locator(".facets").get_by_role("link", name=re.compile("电力、热力")).click()
    assert "industry=D" in page.url and "q=" in page.url
    assert page.get_by_role("heading", name="共 1 个产品").is_visible()
    context.close()


def test_home_at_phone_width(phone, catalog, shot):
    page = phone.new_page()
    page.goto("/")
    assert page.locator(".exchange-card").count() == 24
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "home-phone")
    page.goto(f"/catalog/{catalog.code}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "product-phone")
