"""The portal's frame in a real browser: it loads with no CSP violation, htmx runs, the language switch
changes every label, the skip link and the sign-in form work from the keyboard, and the page fits a phone."""

import pytest

from accounts.models import User
from tests.browser.pages import chinese_labels

PASSWORD = "portal-Pa55word!"


@pytest.fixture
def operator(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.create(username="carol", role=User.Role.OPERATOR, exchange_id="SHDEX")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_home_switches_to_english_and_back(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("navigation", name="主导航").get_by_role("link", name="产品目录").is_visible()
    assert page.evaluate("typeof window.htmx") == "object"  # the vendored script ran under the CSP
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "en"
    nav = page.get_by_role("navigation", name="Main navigation")
    for label in ("Catalog", "Demands", "Standards"):
        assert nav.get_by_role("link", name=label).is_visible()
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert chinese_labels(page) == []
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_the_skip_link_is_the_first_stop_of_the_keyboard(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_an_operator_signs_in_from_the_keyboard_and_a_wrong_password_says_so(page, operator, shot):
    page.goto("/login/")
    page.get_by_label("用户名").fill("carol")
    page.get_by_label("密码").fill("wrong")
    page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text().startswith("登录失败")
    assert page.get_by_label("用户名").input_value() == "carol"
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("button", name="退出").is_visible()
    shot(page, "home-signed-in")


def test_the_frame_fits_a_phone(phone, shot):
    page = phone.new_page()
    page.goto("/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at phone width"
    shot(page, "home-phone")
