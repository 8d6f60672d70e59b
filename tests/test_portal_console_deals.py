"""The consoles' deals, responses and notifications (docs/portal.md, "Consoles"): an order, the offer and
agreement, delivery and acceptance from both consoles; a merchant's response to a demand; notifications
marked read, in the console and through the API's action (one service). Each page with a bound on its
queries."""

import copy
import json

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from deals.compliance import deal_compliance_run
from demands.matching import demand_match_and_notify
from demands.models import Demand, DemandResponse, Notification
from products.models import ProductStatus
from tests import console_world
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.console_world import POLICY, demand_post
from tests.factories import make_product, register_provider
from tests.portal_helpers import assert_portal_page, html, signed_in

# The shared fixtures, found by pytest under these names.
_fast_hasher = console_world._fast_hasher
demander = console_world.demander
merchant = console_world.merchant


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
