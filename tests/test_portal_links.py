"""Every internal link and form target of the portal's main pages goes somewhere (issue 21, docs/portal.md):
for each kind of person — a visitor, a data merchant, a demander, an exchange operator — the pages are
rendered over a small world (a listed product and its matching demand, an unrelated demand, a submitted
product, another exchange's product pending recognition, an evaluation, a deal), every `href`, `action`,
`hx-get` and `hx-post` is collected, each must resolve to a view, and a GET of each link (`href`, `hx-get`)
must answer below 400, or for a visitor a redirect to sign in; never a 403, 404, 405 or 500. The product
page's actions are then followed to check that each lands where its job is done."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from accounts.models import User
from demands.models import Demand
from products.models import ProductStatus
from products.recognition import recognitions_set
from tests import console_world, portal_public_world
from tests.console_world import POLICY
from tests.factories import make_foreign_product, make_product, register_provider
from tests.portal_helpers import html, other_descriptor, signed_in

pytestmark = pytest.mark.django_db
_fast_hasher = console_world._fast_hasher  # the shared fixture, found by pytest under this name

LINK = re.compile(r'\s(href|action|hx-get|hx-post)="([^"]*)"')
LOGIN_PATHS = ("/login/", "/admin/login/")
UNRELATED = "三甲医院门诊就诊人次月度统计数据"


def _links(page_url: str, page: str) -> set[tuple[str, str]]:
    """(attribute, absolute path with query) of every internal target on the page."""
    found = set()
    for attribute, raw in LINK.findall(page):
        value = html_lib.unescape(raw).strip()
        if not value or value.startswith(("#", "mailto:", "javascript:")):
            continue
        target = urljoin(page_url, value)
        parts = urlsplit(target)
        if parts.netloc and parts.netloc != "testserver":
            continue  # another host (the portal links none: assert_portal_page)
        if parts.path.startswith("/static/"):
            continue  # WhiteNoise's, not a view
        found.add((attribute, parts.path + (f"?{parts.query}" if parts.query else "")))
    return found


def _check(client: Client, pages: list[str], *, visitor: bool = False) -> int:
    """Render `pages`, collect their targets, resolve each, GET each link. Returns how many were checked."""
    targets: dict[tuple[str, str], str] = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        for target in _links(url, html(response)):
            targets.setdefault(target, url)
    broken = []
    for (attribute, target), source in sorted(targets.items()):
        path = urlsplit(target).path
        try:
            resolve(path)
        except Resolver404:
            broken.append((source, attribute, target, "no view"))
            continue
        if attribute in {"action", "hx-post"}:
            continue  # a form's target: resolving is the check (a GET of a POST-only view is no test)
        response = client.get(target)
        if response.status_code < 300:
            continue
        if response.status_code < 400:
            location = urlsplit(response["Location"]).path
            if not visitor or location in LOGIN_PATHS or response.status_code != 302:
                continue
            if not location.startswith(LOGIN_PATHS):
                broken.append((source, attribute, target, f"302 to {location}"))
            continue
        broken.append((source, attribute, target, response.status_code))
    assert not broken, "\n".join(f"{s}: {a}={t} → {why}" for s, a, t, why in broken)
    return len(targets)


@pytest.fixture
def world(alice):
    """The example product listed at SHDEX (its provider is the merchant), the example demand it matches
    and an unrelated one, a submitted product, BJIDX's product pending SHDEX's recognition, an evaluation of
    the provider, and a deal of the demander for the listed product."""
    listed = portal_public_world.list_example_product(alice)
    matched = portal_public_world.post_demand()
    unrelated = portal_public_world.post_demand(
        title=UNRELATED + "采购",
        description="采购" + UNRELATED + "，用于医疗资源配置研究，按医院与科室汇总。",
        keywords=["医院", "门诊"],
    )
    submitted = make_product(actor=alice, descriptor=other_descriptor(1), status=ProductStatus.SUBMITTED)
    foreign = make_foreign_product()
    register_provider(foreign.provider_uscc, foreign.provider_name)  # its registration replicated too
    recognitions_set([(foreign, "pending", ["标准版本待确认"], "auto")])
    portal_public_world.evaluate_provider(alice)
    return {
        "listed": listed,
        "matched": matched,
        "unrelated": unrelated,
        "submitted": submitted,
        "foreign": foreign,
    }


@pytest.fixture
def merchant(world) -> Client:
    user = User.objects.create(
        username="merchant-1", role=User.Role.PARTICIPANT, participant_id=portal_public_world.PROVIDER
    )
    return signed_in(user)


@pytest.fixture
def demander(world) -> Client:
    portal_public_world.demander()  # registered (again: idempotent)
    user = User.objects.create(
        username="buyer-1", role=User.Role.PARTICIPANT, participant_id=portal_public_world.DEMANDER
    )
    return signed_in(user)


@pytest.fixture
def deal_url(world, demander) -> str:
    response = demander.post(
        f"/console/order/{world['listed'].code}/",
        {"request.purpose": "充电设施规划研究", "delivery_method": "file", "usage_policy": POLICY},
    )
    assert response.status_code == 302, html(response)
    return response["Location"]


def _public_pages(world) -> list[str]:
    return [
        "/",
        "/catalog/",
        "/catalog/?q=充电桩",
        f"/catalog/{world['listed'].code}/",
        "/demands/",
        f"/demands/{world['matched'].gid}/",
        f"/participants/{portal_public_world.PROVIDER}/",
        "/standards/",
        "/standards/naming/",
        "/standards/compliance/",
        "/standards/vocabularies/",
        "/standards/glossary/",
        "/login/",
    ]


def test_a_visitors_links_all_go_somewhere(world):
    assert _check(Client(), _public_pages(world), visitor=True) > 30


def test_a_merchants_links_all_go_somewhere(world, merchant, deal_url):
    pages = [
        *_public_pages(world),
        "/console/",
        "/console/products/",
        "/console/products/new/",
        f"/console/products/{world['listed'].code}/",
        "/console/demands/",
        f"/console/demands/{world['matched'].gid}/respond/",
        "/console/deals/",
        deal_url,
        "/console/notifications/",
    ]
    assert _check(merchant, pages) > 30


def test_a_demanders_links_all_go_somewhere(world, demander, deal_url):
    pages = [
        *_public_pages(world),
        "/console/",
        "/console/demands/",
        "/console/demands/new/",
        f"/console/demands/{world['matched'].gid}/",
        "/console/deals/",
        deal_url,
        f"/console/order/{world['listed'].code}/",
        "/console/notifications/",
    ]
    assert _check(demander, pages) > 30


def test_an_operators_links_all_go_somewhere(world, alice):
    pages = [
        *_public_pages(world),
        f"/catalog/{world['submitted'].code}/",
        f"/catalog/{world['foreign'].code}/",
        "/console/operator/",
        "/console/operator/reviews/",
        "/console/operator/participants/",
        "/console/operator/recognitions/",
        "/console/operator/quarantine/",
        "/console/operator/federation/",
        "/console/operator/disputes/",
    ]
    assert _check(signed_in(alice), pages) > 30


def _action(page: str, label: str) -> str:
    """The href of the product page's action button labelled `label`."""
    actions = page[
        page.index('id="actions-heading"') : page.index("</section>", page.index('id="actions-heading"'))
    ]
    found = re.search(r'<a class="button[^"]*" href="([^"]*)">' + re.escape(label) + "</a>", actions)
    assert found, (label, actions)
    return html_lib.unescape(found.group(1))


def test_respond_lists_the_open_demands_the_product_matches(world, merchant, django_assert_max_num_queries):
    page = html(merchant.get(f"/catalog/{world['listed'].code}/"))
    with django_assert_max_num_queries(8):
        board = html(merchant.get(_action(page, "以此产品响应需求")))
    assert world["matched"].title in board and UNRELATED not in board
    assert "匹配得分" in board and world["listed"].code in board
    everything = html(merchant.get("/demands/"))
    assert world["matched"].title in everything and UNRELATED in everything  # the board without the filter
    bad = merchant.get("/demands/", {"product": "SHDEX-2026-999999-X"})
    assert bad.status_code == 400 and "product" in html(bad)


def test_the_operators_actions_lead_to_the_review_and_the_recognition(world, alice):
    operator = signed_in(alice)
    submitted, foreign = world["submitted"], world["foreign"]
    review = html(operator.get(_action(html(operator.get(f"/catalog/{submitted.code}/")), "审核此产品")))
    assert f'action="/console/operator/reviews/{submitted.code}/"' in review
    assert world["listed"].code not in review  # the queue narrowed to the product
    listed_page = html(operator.get(f"/catalog/{world['listed'].code}/"))
    assert "本所产品，当前状态：已上架" in listed_page and "审核此产品" not in listed_page
    recognise = operator.get(_action(html(operator.get(f"/catalog/{foreign.code}/")), "复核互认"))
    assert recognise.status_code == 200
    assert f'action="/console/operator/recognitions/{foreign.code}/"' in html(recognise)
    refused = operator.get("/console/operator/recognitions/", {"product": world["listed"].code})
    assert refused.status_code == 400 and "product" in html(refused)
    assert Demand.objects.count() == 2
