"""The merchant and demander consoles (docs/portal.md, "Consoles"): drafts created and edited with the API's
field errors beside each field and nothing typed lost, the live check, submitting and the review's comments;
a demand posted with the same errors, its matches and responses, a response accepted; every label in
English. Each page with a bound on its queries."""

import copy
import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from demands.models import Demand, DemandResponse
from products.models import Product, ProductStatus
from products.services import product_review
from tests import console_world
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.console_world import BAD_NAME, ROOT, demand_post, draft_post, field_messages
from tests.factories import make_product, register_provider
from tests.portal_helpers import assert_portal_page, html, signed_in

# The shared fixtures, found by pytest under these names.
_fast_hasher = console_world._fast_hasher
demander = console_world.demander
merchant = console_world.merchant


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
