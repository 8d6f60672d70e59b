"""The merchant and demander consoles (docs/portal.md, "Consoles"): drafts created and edited with the API's
field errors beside each field and nothing typed lost, the live check, submitting and the review's comments;
a demand posted with the same errors, its matches and responses, a response accepted; notifications. Each
page with a bound on its queries."""

import copy
import datetime
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from deals.compliance import deal_compliance_run
from demands.matching import demand_match_and_notify
from demands.models import Demand, DemandResponse, Notification
from portal.views import console_descriptor
from products.models import Product, ProductStatus
from products.services import product_review
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_product, register_provider
from tests.portal_helpers import assert_portal_page, html, signed_in

ROOT = Path(__file__).resolve().parents[1]
DEMANDER = "91310115AY4CL12T2E"
POLICY = json.dumps(
    {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"]},
    }
)
BAD_NAME = "最好的上海市充电桩运行数据集"  # a forbidden term of the naming rule


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def merchant(db) -> Client:
    user = User.objects.create(
        username="merchant-1",
        role=User.Role.PARTICIPANT,
        participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"],
    )
    return signed_in(user)


@pytest.fixture
def demander(db) -> Client:
    register_provider(DEMANDER, "上海浦数智能科技有限公司", roles=("demander",))
    user = User.objects.create(username="buyer-1", role=User.Role.PARTICIPANT, participant_id=DEMANDER)
    return signed_in(user)


def draft_post(**changes) -> dict:
    """The example descriptor as the draft form posts it."""
    values = console_descriptor.values_from(copy.deepcopy(EXAMPLE_DESCRIPTOR))
    values.update(changes)
    return values


def field_messages(page: str, name: str) -> str:
    start = page.index(f'id="err-{name}"')
    return page[start : page.index("</ul>", start)]


def test_the_console_is_for_signed_in_participants(db, alice):
    assert Client().get("/console/").status_code == 302
    assert Client().get("/console/products/")["Location"] == "/login/?next=%2Fconsole%2Fproducts%2F"
    response = signed_in(alice).get("/console/")
    assert response.status_code == 403 and "市场主体" in html(response)


def test_console_home(merchant, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = merchant.get("/console/")
    page = assert_portal_page(response)
    assert "我的产品" in page and "未读通知：0 条" in page


class TestDrafts:
    def test_a_merchant_creates_a_draft_and_sees_it_listed(self, merchant, django_assert_max_num_queries):
        page = assert_portal_page(merchant.get("/console/products/new/"))
        assert 'name="name"' in page and 'hx-post="/console/products/check/"' in page
        assert "&quot;pending&quot;" in page  # the compliance declarations start from a template
        response = merchant.post("/console/products/new/", draft_post())
        assert response.status_code == 302, html(response)
        product = Product.objects.get()
        assert product.status == ProductStatus.DRAFT and product.name == EXAMPLE_DESCRIPTOR["name"]
        assert product.descriptor["provider"]["uscc"] == EXAMPLE_DESCRIPTOR["provider"]["uscc"]
        assert response["Location"] == f"/console/products/{product.code}/"
        for i in range(3):
            make_product(
                descriptor={
                    **copy.deepcopy(EXAMPLE_DESCRIPTOR),
                    "name": f"上海市充电桩运行数据集（第{'二三四'[i]}版）",
                }
            )
        with django_assert_max_num_queries(10):
            listing = merchant.get("/console/products/")
        page = assert_portal_page(listing)
        assert page.count("/console/products/SHDEX-") == 4 and "草稿" in page

    def test_a_naming_error_is_shown_at_the_name_and_nothing_typed_is_lost(self, merchant):
        response = merchant.post("/console/products/new/", draft_post(name=BAD_NAME, pricing_min="12.5"))
        assert response.status_code == 400
        page = assert_portal_page(response)
        assert "不得使用" in field_messages(page, "name") or "禁" in field_messages(page, "name")
        assert f'value="{BAD_NAME}"' in page and 'value="12.5"' in page
        assert EXAMPLE_DESCRIPTOR["summary"] in page
        assert not Product.objects.exists()

    def test_errors_in_english_are_the_apis_english_messages(self, merchant):
        merchant.cookies["django_language"] = "en"
        response = merchant.post("/console/products/new/", draft_post(pricing_max="ten"))
        assert response.status_code == 400
        api = APIClient().post(
            "/api/v1/standards/product-descriptor/validate/",
            {
                "descriptor": {
                    **EXAMPLE_DESCRIPTOR,
                    "pricing": {**EXAMPLE_DESCRIPTOR["pricing"], "max": "ten"},
                }
            },
            format="json",
        )
        expected = [e["message_en"] for e in api.json()["errors"] if e["field"] == "descriptor.pricing.max"]
        assert expected and expected[0] in field_messages(html(response), "pricing_max")

    def test_the_live_check_swaps_each_fields_errors_in(self, merchant, django_assert_max_num_queries):
        with django_assert_max_num_queries(8):
            response = merchant.post("/console/products/check/", draft_post(name=BAD_NAME))
        assert response.status_code == 200
        page = html(response)
        assert 'id="err-name" hx-swap-oob="true"' in page and 'id="err-summary" hx-swap-oob="true"' in page
        api = APIClient().post(
            "/api/v1/standards/naming/check/",
            {"name": BAD_NAME, "product_form": "dataset", "spatial_coverage": ["310000"]},
            format="json",
        )
        errors = [v["message"] for v in api.json()["violations"] if v["severity"] == "error"]
        assert errors and all(m in field_messages(page, "name") for m in errors)
        ok = html(merchant.post("/console/products/check/", draft_post()))
        assert "符合描述标准与命名规则" in ok and "<li>" not in field_messages(ok, "name")

    def test_the_naming_rule_is_checked_while_the_rest_is_still_incomplete(self, merchant):
        page = html(merchant.post("/console/products/check/", draft_post(name=BAD_NAME, summary="")))
        assert "<li>" in field_messages(page, "name") and "<li>" in field_messages(page, "summary")

    def test_edit_submit_and_the_reviews_comments(self, merchant, alice, django_assert_max_num_queries):
        product = make_product(descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR))
        url = f"/console/products/{product.code}/"
        with django_assert_max_num_queries(10):
            page = assert_portal_page(merchant.get(url))
        assert EXAMPLE_DESCRIPTOR["summary"] in page and "提交审核" in page
        changed = merchant.post(url, draft_post(summary=EXAMPLE_DESCRIPTOR["summary"] + "另含节假日标记。"))
        assert changed.status_code == 302
        product.refresh_from_db()
        assert product.version == 2 and product.descriptor["summary"].endswith("节假日标记。")
        assert product.descriptor["sample"] == EXAMPLE_DESCRIPTOR["sample"]  # what the form lacks is kept
        stale = merchant.post(url, {**draft_post(), "expected_version": "1"})
        assert stale.status_code == 409 and "版本" in html(stale)
        assert merchant.post(url + "submit/", {"expected_version": "2"}).status_code == 302
        product.refresh_from_db()
        assert product.status == ProductStatus.SUBMITTED
        product_review(
            actor=alice, product=product, decision="reject", reasons=["样例数据不足以说明字段含义"]
        )
        page = html(merchant.get(url))
        assert "审核意见" in page and "样例数据不足以说明字段含义" in page

    def test_another_merchants_product_is_not_found(self, merchant, db):
        register_provider("91110000R8A676TY72", "别家数据有限公司")
        other = make_product(
            descriptor={
                **copy.deepcopy(EXAMPLE_DESCRIPTOR),
                "provider": {"name": "别家数据有限公司", "uscc": "91110000R8A676TY72"},
            }
        )
        assert merchant.get(f"/console/products/{other.code}/").status_code == 404
        assert merchant.post(f"/console/products/{other.code}/submit/").status_code == 404


def demand_post(**changes) -> dict:
    demand = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
    values = {
        "title": demand["title"],
        "description": demand["description"],
        "industry": "D",
        "product_forms": ["dataset", "api"],
        "spatial_coverage": "310000",
        "update_frequency": "daily",
        "budget_min": "50000",
        "budget_max": "200000",
        "deadline": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
        "delivery_methods": ["api", "file"],
    }
    values.update(changes)
    return values


class TestDemands:
    def test_a_demander_posts_a_demand_and_sees_its_match(
        self, demander, alice, django_assert_max_num_queries
    ):
        listed = make_product(
            actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED
        )
        for i in range(4):  # more matches: the page's queries stay the same
            descriptor = {
                **copy.deepcopy(EXAMPLE_DESCRIPTOR),
                "name": f"上海市充电桩运行数据集（第{'二三四五'[i]}版）",
            }
            make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        assert_portal_page(demander.get("/console/demands/new/"))
        response = demander.post("/console/demands/new/", demand_post())
        assert response.status_code == 302, html(response)
        demand = Demand.objects.get()
        assert response["Location"] == f"/console/demands/{demand.gid}/"
        with django_assert_max_num_queries(14):
            page = assert_portal_page(demander.get(response["Location"]))
        assert listed.code in page and listed.name in page and demand.title in page

    def test_bad_input_keeps_every_value_and_names_the_field(self, demander):
        response = demander.post(
            "/console/demands/new/", demand_post(budget_min="300000", title="全国最好的充电桩数据采购")
        )
        assert response.status_code == 400
        page = assert_portal_page(response)
        assert "<li>" in field_messages(page, "budget_max") and "<li>" in field_messages(page, "title")
        assert 'value="300000"' in page and "全国最好的充电桩数据采购" in page
        assert not Demand.objects.exists()

    def test_the_live_check(self, demander):
        page = html(demander.post("/console/demands/check/", demand_post(deadline="2001-01-01")))
        assert 'id="err-deadline" hx-swap-oob="true"' in page and "<li>" in field_messages(page, "deadline")
        assert "符合需求标准" in html(demander.post("/console/demands/check/", demand_post()))

    def test_a_merchant_is_refused_posting_with_the_apis_message(self, merchant):
        response = merchant.post("/console/demands/new/", demand_post())
        assert response.status_code == 403 and not Demand.objects.exists()

    def test_the_demander_accepts_a_response(self, demander, merchant, alice):
        demander.post("/console/demands/new/", demand_post())
        demand = Demand.objects.get()
        seller = User.objects.get(username="merchant-1")
        seller.set_password("Qz8-seller-canyon")
        seller.save()  # a changed password ends its portal session: sign in again
        merchant = signed_in(seller)
        api = APIClient()
        token = api.post(
            "/api/v1/auth/token/", {"username": "merchant-1", "password": "Qz8-seller-canyon"}, format="json"
        ).json()["access"]
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        body = json.loads((ROOT / "docs/examples/demand-response.json").read_text("utf-8"))
        created = api.post(f"/api/v1/demands/{demand.gid}/responses/", body, format="json")
        assert created.status_code == 201, created.content
        rid = created.json()["id"]
        page = html(demander.get(f"/console/demands/{demand.gid}/"))
        assert "接受" in page and body["message"] in page
        url = f"/console/demands/{demand.gid}/responses/{rid}/decision/"
        assert demander.post(url, {"decision": "maybe"}).status_code == 400
        assert demander.post(url, {"decision": "accepted"}).status_code == 302
        assert DemandResponse.objects.get(gid=rid).decision == "accepted"
        again = demander.post(url, {"decision": "declined"})
        assert again.status_code == 409
        mine = html(merchant.get("/console/demands/"))
        assert demand.gid in mine and "已接受" in mine
        assert merchant.get(f"/console/demands/{demand.gid}/").status_code == 404  # not its demand


def test_notifications(merchant, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        page = assert_portal_page(merchant.get("/console/notifications/"))
    assert "没有通知" in page


class TestDeals:
    @pytest.fixture
    def listed(self, alice):
        return make_product(
            actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED
        )

    def _order(self, demander, listed) -> str:
        url = f"/console/order/{listed.code}/"
        assert_portal_page(demander.get(url))
        response = demander.post(
            url, {"request.purpose": "充电设施规划研究", "delivery_method": "file", "usage_policy": POLICY}
        )
        assert response.status_code == 302, html(response)
        return response["Location"]

    def test_an_order_refused_keeps_what_was_typed_and_names_the_field(self, demander, listed):
        url = f"/console/order/{listed.code}/"
        response = demander.post(
            url, {"request.purpose": "充电设施规划研究", "delivery_method": "sandbox", "usage_policy": POLICY}
        )
        assert response.status_code == 400
        page = assert_portal_page(response)
        assert "该产品不提供此交付方式" in page and "充电设施规划研究" in page
        broken = demander.post(
            url, {"request.purpose": "研究", "delivery_method": "file", "usage_policy": "{"}
        )
        assert broken.status_code == 400 and "{" in html(broken)
        assert demander.get("/console/order/NOPE-2026-000001-X/").status_code == 404

    def test_order_offer_and_agreement_from_both_consoles(
        self, demander, merchant, listed, django_assert_max_num_queries
    ):
        deal_url = self._order(demander, listed)
        with django_assert_max_num_queries(12):
            page = assert_portal_page(merchant.get(deal_url))
        assert "发出报价" in page and listed.name in page
        bad = merchant.post(
            deal_url + "steps/offer/", {"price": "", "delivery_days": "10", "acceptance_window_hours": "x"}
        )
        assert bad.status_code == 400 and 'id="id_offer_acceptance_window_hours_errors"' in html(bad)
        offer = {
            "price": "20000.00",
            "delivery_method": "file",
            "delivery_days": "10",
            "acceptance_window_hours": "72",
            "usage_policy": json.dumps(
                {
                    "permissions": ["use", "analyse"],
                    "constraints": {"purpose": ["research"], "territory": ["CN-mainland"]},
                }
            ),
        }
        assert merchant.post(deal_url + "steps/offer/", offer).status_code == 302, html(
            merchant.post(deal_url + "steps/offer/", offer)
        )
        page = html(demander.get(deal_url))
        assert "接受报价" in page and "20000.00" in page
        assert demander.post(deal_url + "steps/accept/", {"offer_version": "1"}).status_code == 302
        assert merchant.post(deal_url + "steps/accept/", {"offer_version": "1"}).status_code == 302
        page = html(merchant.get(deal_url))
        assert "agreed" in page and page.count('class="badge">accept</span>') == 2
        refused = demander.post(deal_url + "steps/delivery/", {"method": "file"})
        assert refused.status_code == 403  # the provider delivers, not the buyer: the service says so
        assert deal_compliance_run(deal_url.rstrip("/").rsplit("/", 1)[1])  # the coordinator's check: cleared
        assert "记录交付" in html(merchant.get(deal_url))
        bad = merchant.post(
            deal_url + "steps/delivery/", {"method": "file", "details": '{"files": [{"name": "a.csv"}]}'}
        )
        assert bad.status_code == 400 and "a.csv" in html(bad)  # what was typed is kept
        files = [{"name": "charging-2026-11.csv", "size": 1048576, "sha256": "3" * 64}]
        delivered = merchant.post(
            deal_url + "steps/delivery/", {"method": "file", "details": json.dumps({"files": files})}
        )
        assert delivered.status_code == 302, html(delivered)
        assert (
            demander.post(deal_url + "steps/acceptance/", {"result": "rejected", "reason": ""}).status_code
            == 400
        )
        assert (
            demander.post(deal_url + "steps/acceptance/", {"result": "accepted", "reason": ""}).status_code
            == 302
        )
        assert "accepted" in html(demander.get(deal_url))
        with django_assert_max_num_queries(8):
            listing = assert_portal_page(demander.get("/console/deals/"))
        assert deal_url in listing and listed.name in listing

    def test_a_deal_of_others_is_not_found(self, demander, listed, db):
        deal_url = self._order(demander, listed)
        register_provider("91110000R8A676TY72", "别家数据有限公司", roles=("demander",))
        other = signed_in(
            User.objects.create(
                username="other", role=User.Role.PARTICIPANT, participant_id="91110000R8A676TY72"
            )
        )
        assert other.get(deal_url).status_code == 404
        assert other.post(deal_url + "steps/cancel/", {"reason": "不要了"}).status_code == 404


def _chinese(text: str) -> set[str]:
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff"}


@pytest.mark.parametrize(
    "url", ["/console/", "/console/products/new/", "/console/demands/", "/console/deals/"]
)
def test_every_console_label_is_english_in_english(merchant, url, django_assert_max_num_queries):
    merchant.cookies["django_language"] = "en"
    with django_assert_max_num_queries(10):
        page = html(merchant.get(url))
    main = page[page.index("<main") : page.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)
    text = text.replace(EXAMPLE_DESCRIPTOR["provider"]["name"], "")  # the participant's own name is data
    assert _chinese(text) == set(), text


def test_a_demander_without_the_merchant_role_is_refused_a_draft_with_the_apis_message(demander):
    response = demander.post("/console/products/new/", draft_post())
    assert response.status_code == 403 and not Product.objects.exists()
    assert 'role="alert"' in html(response)


def test_a_notification_is_marked_read(merchant, demander, alice):
    make_product(actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED)
    demander.post("/console/demands/new/", demand_post())  # matches the merchant's listed product
    assert demand_match_and_notify(Demand.objects.get().gid) == 1  # the task queued after the commit
    note = Notification.objects.get(participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"])
    page = html(merchant.get("/console/notifications/"))
    assert (
        note.demand_gid in page and "标为已读" in page and "未读通知：1 条" in html(merchant.get("/console/"))
    )
    assert demander.post(f"/console/notifications/{note.pk}/read/").status_code == 404  # not its own
    assert merchant.post(f"/console/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None and "标为已读" not in html(merchant.get("/console/notifications/"))


def test_the_apis_read_action_marks_the_callers_notification_only(merchant, demander, alice):
    make_product(actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED)
    demander.post("/console/demands/new/", demand_post())
    assert demand_match_and_notify(Demand.objects.get().gid) == 1
    note = Notification.objects.get()
    seller = User.objects.get(username="merchant-1")
    seller.set_password("Qz8-seller-canyon")
    seller.save()
    api = APIClient()
    pair = api.post(
        "/api/v1/auth/token/", {"username": "merchant-1", "password": "Qz8-seller-canyon"}, format="json"
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    assert api.post("/api/v1/notifications/999999/read/").status_code == 404
    response = api.post(f"/api/v1/notifications/{note.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    first = response.json()["read_at"]
    assert api.post(f"/api/v1/notifications/{note.pk}/read/").json()["read_at"] == first  # once


def test_a_merchant_responds_to_a_demand_from_the_console(
    merchant, demander, alice, django_assert_max_num_queries
):
    listed = make_product(
        actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED
    )
    demander.post("/console/demands/new/", demand_post())
    demand = Demand.objects.get()
    url = f"/console/demands/{demand.gid}/respond/"
    with django_assert_max_num_queries(10):
        page = assert_portal_page(merchant.get(url))
    assert listed.code in page and demand.title in page
    bad = merchant.post(url, {"kind": "offer", "price": "-5", "delivery_days": "30", "message": "可先看样例"})
    assert bad.status_code == 400
    page = assert_portal_page(bad)
    assert 'id="id_price_errors"' in page and "<li>" in page[page.index('id="id_price_errors"') :][:300]
    assert 'value="可先看样例"' in page
    offer = {
        "kind": "offer",
        "products": [listed.code],
        "price": "150000",
        "delivery_days": "30",
        "message": "",
    }
    assert merchant.post(url, offer).status_code == 302
    response = DemandResponse.objects.get()
    assert response.products == [listed.code] and response.kind == "offer"
    assert demander.post(url, offer).status_code == 403  # a demander without the merchant role: the service's
    assert "150000" in html(demander.get(f"/console/demands/{demand.gid}/"))
