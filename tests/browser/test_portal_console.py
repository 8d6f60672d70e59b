"""The merchant and demander consoles in a real browser: a merchant signs in, creates a draft, sees a naming
error beside the name as it types (the live check), fixes it, saves and submits; a demander posts a demand
and sees the listed product that matches it."""

import copy
import datetime

import pytest

from accounts.models import User
from products.models import Product, ProductStatus
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_product, register_provider

PASSWORD = "portal-Pa55word!"
DEMANDER = "91310115AY4CL12T2E"


@pytest.fixture
def fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str, participant_id: str) -> User:
    user = User.objects.create(username=username, role=User.Role.PARTICIPANT, participant_id=participant_id)
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(page, username: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{next_url}")


def test_a_merchant_creates_a_draft_fixes_a_naming_error_and_submits(page, transactional_db, fast, shot):
    _user("merchant-1", EXAMPLE_DESCRIPTOR["provider"]["uscc"])
    _sign_in(page, "merchant-1", "/console/products/new/")
    d = EXAMPLE_DESCRIPTOR
    page.get_by_label("产品简介").fill(d["summary"])
    page.get_by_label("产品形态").select_option("dataset")
    page.get_by_label("行业门类").select_option("D")
    page.get_by_label("关键词").fill("，".join(d["keywords"]))
    page.get_by_label("数据来源类型").select_option(d["data_source"]["type"])
    page.get_by_label("数据来源说明").fill(d["data_source"]["description"])
    page.get_by_label("空间范围").fill("310000")
    page.get_by_label("时间范围起").fill("2021-01-01")
    page.get_by_label("更新频率").select_option("daily")
    page.get_by_label("接口调用").check()
    page.get_by_label("计价方式").select_option("subscription")
    page.get_by_label("最低价格（元）").fill("20000")
    page.get_by_label("最高价格（元）").fill("180000")
    page.get_by_label("使用限制").fill(d["usage_restrictions"])
    page.get_by_label("产品名称").fill("最好的上海市充电桩运行数据集")  # a forbidden term
    errors = page.locator("#err-name li")
    errors.first.wait_for()  # the live check put the naming rule's message beside the name
    assert "最好" in errors.first.inner_text()
    shot(page, "console-draft-naming-error")
    page.get_by_label("产品名称").fill(d["name"])
    page.locator("#check-summary .badge.ok").wait_for()
    assert errors.count() == 0
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/console/products/SHDEX-*/")
    assert page.get_by_role("heading", level=1).inner_text() == d["name"]
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("待审核").wait_for()
    shot(page, "console-draft-submitted")
    assert Product.objects.get().status == ProductStatus.SUBMITTED


def test_a_demander_posts_a_demand_and_sees_the_match(page, transactional_db, fast, shot):
    operator = User.objects.create(username="alice", role=User.Role.OPERATOR, exchange_id="SHDEX")
    listed = make_product(
        actor=operator, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED
    )
    register_provider(DEMANDER, "上海浦数智能科技有限公司", roles=("demander",))
    _user("buyer-1", DEMANDER)
    _sign_in(page, "buyer-1", "/console/demands/new/")
    page.get_by_label("需求标题").fill("上海市新能源汽车充电桩运行数据采购")
    page.get_by_label("需求说明").fill(
        "为充电设施规划与电网负荷预测项目采购上海市公共充电桩的运行数据，需包含充电电量、充电时长与利用率，按日更新。"
    )
    page.get_by_label("行业门类").select_option("D")
    page.get_by_label("数据集").check()
    page.get_by_label("空间范围").fill("310000")
    page.get_by_label("预算下限（元）").fill("50000")
    page.get_by_label("预算上限（元）").fill("20000")  # below the lower bound
    page.locator("#err-budget_max li").first.wait_for()
    page.get_by_label("预算上限（元）").fill("200000")
    page.get_by_label("征集截止日期").fill((datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    page.locator("#check-summary .badge.ok").wait_for()
    page.get_by_role("button", name="发布需求").click()
    page.wait_for_url("**/console/demands/SHDEX-*/")
    matches = page.get_by_role("heading", name="匹配的产品").locator("xpath=..")
    assert listed.code in matches.inner_text()
    shot(page, "console-demand-matches")


def test_the_console_pages_fit_a_phone(phone, transactional_db, fast, shot):
    _user("merchant-1", EXAMPLE_DESCRIPTOR["provider"]["uscc"])
    make_product(descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR))
    page = phone.new_page()
    _sign_in(page, "merchant-1", "/console/products/")
    for url in ("/console/", "/console/products/", "/console/products/new/", "/console/demands/"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide at phone width"
    shot(page, "console-phone")
