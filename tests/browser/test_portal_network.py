"""The portal across three real nodes (issue 21, "Tested in a real browser"): SHDEX, BJIDX and GYBDX run as
real processes (tests/multinode/harness.py: gunicorn, Celery worker and beat each, peered with each other). A
verified data merchant registered at SHDEX drafts and submits a product through the API, SHDEX's operator
approves it; then, in Chromium, a visitor at BJIDX's portal searches for it in Chinese, opens its page and
reads the recognition matrix as replicated to BJIDX (the three exchanges' decisions, the 21 other members
undecided), sees the three nodes' status on BJIDX's home page, and switches to English."""

from __future__ import annotations

import copy
import json
import random
import re

import pytest

from products.sample_data import make_uscc
from tests.browser.conftest import DESKTOP, Watched
from tests.browser.pages import chinese_labels
from tests.multinode.harness import ROOT, Federation, Node, wait_until

pytestmark = pytest.mark.multinode

CODES = ("SHDEX", "BJIDX", "GYBDX")
REPLICATION = 30  # seconds allowed for a change to reach every node (it takes about one)
DESCRIPTOR = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
MERCHANT = "上海充电设施数据服务有限公司"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    federation = Federation(CODES, tmp_path_factory.mktemp("portalnet"))
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


def _merchant_lists_a_product(shdex: Node) -> str:
    """A data merchant registered (verified) at SHDEX with a login drafts and submits the example product
    with its own token; SHDEX's operator approves it. Returns the product's code."""
    uscc = make_uscc(random.Random(2121), "310000")
    account = {"username": "portal-merchant", "password": "Qz8-violet-lantern-harbor"}
    shdex.register_via_api(uscc=uscc, legal_name=MERCHANT, roles=["data_merchant"], account=account)
    login = shdex.api("POST", "/api/v1/auth/token/", json=account)
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access']}"}
    descriptor = copy.deepcopy(DESCRIPTOR)
    descriptor["provider"] = {"name": MERCHANT, "uscc": uscc}
    draft = shdex.api("POST", "/api/v1/products/", json={"descriptor": descriptor}, headers=bearer)
    assert draft.status_code == 201, draft.text
    code = draft.json()["code"]
    assert draft.json()["status"] == "draft"
    submitted = shdex.api("POST", f"/api/v1/products/{code}/submit/", headers=bearer)
    assert submitted.status_code == 200, submitted.text
    approved = shdex.api(
        "POST", f"/api/v1/products/{code}/review/", token=shdex.token, json={"decision": "approve"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "listed"
    return code


def _recognitions_at(node: Node, code: str) -> dict[str, str]:
    response = node.api("GET", f"/api/v1/products/{code}/", timeout=10)
    if response.status_code != 200:
        return {}
    return {r["exchange"]: r["status"] for r in response.json()["recognitions"]}


@pytest.fixture(scope="module")
def listed(network) -> str:
    shdex, bjidx = network["SHDEX"], network["BJIDX"]
    code = _merchant_lists_a_product(shdex)
    # BJIDX holds the listing and the three exchanges' decisions (GYBDX's comes from GYBDX's own log).
    wait_until(
        lambda: set(_recognitions_at(bjidx, code)) == set(CODES),
        REPLICATION,
        message="BJIDX to hold the three exchanges' recognitions",
    )
    return code


@pytest.fixture
def bjidx_visitor(browser, network, request):
    """A Chinese-speaking visitor's browser on BJIDX's portal; the nodes' logs are printed if the test fails
    (the call's report is logged before this teardown runs)."""
    failed_before = request.session.testsfailed
    watched = Watched(browser, network["BJIDX"].url, locale="zh-CN", viewport=DESKTOP)
    yield watched
    watched.context.close()
    if request.session.testsfailed > failed_before:
        print(f"\n===== logs of the nodes after {request.node.name} =====\n{network.logs_tail(60)}")
    assert watched.errors == [], watched.errors


def test_a_visitor_at_bjidx_finds_shdex_s_product_and_its_recognition_across_the_network(
    network, listed, bjidx_visitor, shot
):
    page = bjidx_visitor.new_page()
    page.goto("/catalog/")
    box = page.get_by_label("搜索（名称、关键词、简介）")
    box.press_sequentially("充电桩", delay=40)  # htmx asks BJIDX after a pause
    page.get_by_role("heading", name="共 1 个产品").wait_for()
    shot(page, "network-catalog-zh")
    page.get_by_role("link", name=DESCRIPTOR["name"]).click()
    page.wait_for_url(f"**/catalog/{listed}/")
    assert MERCHANT in page.locator("main").inner_text()

    matrix = page.locator("table.matrix")
    assert matrix.locator("tbody tr").count() == 24
    rows = {
        "上海数据交易所": "所属交易所上架",
        "北京国际大数据交易所": "按共同标准自动核验",
        "贵阳大数据交易所": "按共同标准自动核验",
    }
    for name, decided_by in rows.items():
        row = matrix.get_by_role("row", name=re.compile(name))
        assert row.get_by_text("已互认").is_visible(), name
        assert row.get_by_text(decided_by).is_visible(), name
    assert matrix.get_by_text("尚无结论").count() == 21
    shot(page, "network-product-zh", at="#recognition")

    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"**/catalog/{listed}/")
    assert page.get_by_role("heading", name="Recognition matrix").is_visible()
    shanghai = matrix.get_by_role("row", name=re.compile("Shanghai Data Exchange"))
    assert shanghai.get_by_text("Recognised").is_visible()
    assert shanghai.get_by_text("Listed by its home exchange").is_visible()
    assert matrix.get_by_text("No decision yet").count() == 21
    assert chinese_labels(page) == []
    shot(page, "network-product-en", at="#recognition")


def test_bjidx_s_home_page_shows_the_three_nodes_status(network, listed, bjidx_visitor, shot):
    page = bjidx_visitor.new_page()

    def both_peers_reachable() -> bool:
        page.goto("/")
        return page.locator(".badge", has_text=re.compile("^可达$")).count() == 2

    # The peers' status is what BJIDX learnt from pulling them: wait until it has heard from both.
    wait_until(both_peers_reachable, REPLICATION, message="BJIDX's home page to show both peers reachable")
    cards = page.locator(".exchange-card")
    assert cards.count() == 24
    assert cards.filter(has_text="BJIDX").get_by_text("本节点").is_visible()
    for code in ("SHDEX", "GYBDX"):
        card = cards.filter(has_text=code)
        assert card.get_by_text("可达", exact=True).is_visible(), code
        assert card.get_by_text("最近联系").is_visible(), code
    assert cards.get_by_text("尚未运行节点").count() == 21
    assert page.locator(".stat", has_text="上架产品").locator(".stat-value").inner_text() == "1"
    assert page.get_by_role("link", name=DESCRIPTOR["name"]).is_visible()  # among the newest listings
    shot(page, "network-home-zh")

    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="The 24 member exchanges").wait_for()
    assert cards.filter(has_text="BJIDX").get_by_text("This node").is_visible()
    for code in ("SHDEX", "GYBDX"):
        assert cards.filter(has_text=code).get_by_text("Reachable", exact=True).is_visible(), code
    assert chinese_labels(page) == []
    shot(page, "network-home-en")
