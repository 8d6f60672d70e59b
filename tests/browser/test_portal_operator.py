"""The operator console in a real browser: an operator signs in, opens the review queue from the console and
approves a submitted product (the card swapped by htmx, no CSP violation); the federation health page draws
its chart from the vendored Chart.js; the console reads in English after the switch."""

import re

import pytest
from django.utils import timezone

from accounts.models import User
from federation.models import Peer, SyncState
from products.models import Product, ProductStatus
from tests.factories import make_product

PASSWORD = "portal-Pa55word!"


@pytest.fixture
def operator(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.create(username="olga", role=User.Role.OPERATOR, exchange_id="SHDEX")
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(page, path: str) -> None:
    page.goto(path)  # a visitor is sent to sign in, and back here after it
    page.get_by_label("用户名").fill("olga")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{path}")


def test_an_operator_signs_in_and_approves_a_submitted_product(page, operator, shot):
    product = make_product(status=ProductStatus.SUBMITTED)
    _sign_in(page, "/console/operator/")
    assert page.get_by_role("heading", level=1).inner_text() == "运营控制台"
    shot(page, "operator-console")
    page.get_by_role("navigation", name="运营控制台").get_by_role("link", name="产品审核").click()
    page.wait_for_url("**/console/operator/reviews/")
    card = page.locator(f"#review-{product.code}")
    assert product.name in card.inner_text()
    shot(page, "operator-reviews")
    card.get_by_label("审核意见（每行一条；驳回时必填）").fill("材料齐全")
    card.get_by_role("button", name="批准上架").click()
    page.locator(f"#review-{product.code} .decided").wait_for()  # the card swapped in place by htmx
    assert "已批准上架" in page.locator(f"#review-{product.code}").inner_text()
    assert page.url.endswith("/console/operator/reviews/")
    assert Product.objects.get(pk=product.pk).status == ProductStatus.LISTED


def test_a_rejection_without_comments_shows_the_apis_error_next_to_the_field(page, operator):
    product = make_product(status=ProductStatus.SUBMITTED)
    _sign_in(page, "/console/operator/reviews/")
    page.locator(f"#review-{product.code}").get_by_role("button", name="驳回").click()
    card = page.locator(f"#review-{product.code}")
    card.get_by_role("alert").wait_for()
    assert "驳回必须说明理由" in card.inner_text()
    assert card.get_by_label("审核意见（每行一条；驳回时必填）").get_attribute("aria-invalid") == "true"
    assert Product.objects.get(pk=product.pk).status == ProductStatus.SUBMITTED


def test_federation_health_draws_its_chart_and_the_console_reads_in_english(page, operator, shot):
    now = timezone.now()
    for code, failures in (("BJIDX", 0), ("GYBDX", 2)):
        Peer.objects.create(
            exchange_id=code,
            base_url=f"http://{code.lower()}",
            public_key="k" * 43 + "=",
            last_success_at=now,
            consecutive_failures=failures,
        )
    SyncState.objects.create(origin="BJIDX", cursor=40, head_seen=52, head_seen_at=now)
    _sign_in(page, "/console/operator/federation/")
    assert page.get_by_role("row", name=re.compile("BJIDX")).get_by_role("cell").nth(3).inner_text() == "12"
    page.wait_for_function("document.querySelector('canvas[data-chart]').dataset.drawn === '1'")
    shot(page, "operator-federation")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/console/operator/federation/")
    assert page.get_by_role("heading", level=1).inner_text() == "Federation health"
    nav = page.get_by_role("navigation", name="Operator console")
    for label in ("Product review", "Participant verification", "Recognition review", "Disputes"):
        assert nav.get_by_role("link", name=label).is_visible()
    body = page.locator("main").inner_text()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body), body
