"""The operator console (docs/portal.md, "Operator console"): only an operator of this node's exchange (or its
admin) gets in, a visitor is sent to sign in, a participant user or another exchange's operator is refused
403; the review queue shows the submitted products with their compliance findings and approves or rejects
through the API's service (the API's errors on a refused form, what was typed kept); the verification
queue, the recognition review, the quarantine (release, retry) and the federation's health, each page in a
bounded number of queries."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from federation.models import Peer, QuarantinedEntry, SyncState
from participants.models import Participant
from products.models import ProductStatus, Recognition
from products.recognition import recognitions_set
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import make_foreign_product, make_product, register_provider
from tests.portal_helpers import assert_portal_page, html, signed_in

pytestmark = pytest.mark.django_db

PAGES = (
    "/console/operator/",
    "/console/operator/reviews/",
    "/console/operator/participants/",
    "/console/operator/recognitions/",
    "/console/operator/quarantine/",
    "/console/operator/federation/",
    "/console/operator/disputes/",
)


@pytest.fixture
def carol(db) -> User:
    return User.objects.create(username="carol", role=User.Role.OPERATOR, exchange_id="SHDEX")


@pytest.fixture
def console(carol) -> Client:
    return signed_in(carol)


@pytest.fixture
def merchant(db) -> Client:
    user = User.objects.create(
        username="merchant-1",
        role=User.Role.PARTICIPANT,
        participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"],
    )
    return signed_in(user)


def _submitted(n: int = 1) -> list:
    return [make_product(status=ProductStatus.SUBMITTED) for _ in range(n)]


class TestWhoGetsIn:
    @pytest.mark.parametrize("path", PAGES)
    def test_a_visitor_is_sent_to_sign_in(self, path):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"

    @pytest.mark.parametrize("path", PAGES)
    def test_a_participant_user_is_refused(self, merchant, path):
        response = merchant.get(path)
        assert response.status_code == 403
        assert "运营控制台只对 SHDEX 的交易所运营人员开放" in assert_portal_page(response)

    def test_the_header_takes_an_operator_to_the_operator_console(self, console, merchant):
        assert 'href="/console/operator/" aria-current="page"' in html(console.get("/console/operator/"))
        assert 'href="/console/operator/"' not in html(merchant.get("/"))

    def test_an_operator_of_another_exchange_is_refused(self, bob):
        assert signed_in(bob).get("/console/operator/").status_code == 403

    def test_a_participant_cannot_approve_or_release_by_posting(self, merchant):
        (product,) = _submitted()
        row = QuarantinedEntry.objects.create(origin="BJIDX", seq=1, source="BJIDX", reason="x", digest="d1")
        assert (
            merchant.post(f"/console/operator/reviews/{product.code}/", {"decision": "approve"}).status_code
            == 403
        )
        assert merchant.post("/console/operator/quarantine/actions/", {"ids": [row.id]}).status_code == 403
        product.refresh_from_db()
        assert (
            product.status == ProductStatus.SUBMITTED and QuarantinedEntry.objects.filter(id=row.id).exists()
        )

    def test_a_visitor_posting_is_sent_to_sign_in_and_nothing_changes(self):
        (product,) = _submitted()
        response = Client().post(f"/console/operator/reviews/{product.code}/", {"decision": "approve"})
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        product.refresh_from_db()
        assert product.status == ProductStatus.SUBMITTED

    def test_the_console_shows_each_queue_size(self, console, django_assert_max_num_queries):
        _submitted(2)
        register_provider("91310000AY4CL12T2H", "待核验数据有限公司", status="pending")
        with django_assert_max_num_queries(12):
            response = console.get("/console/operator/")
        page = assert_portal_page(response)
        assert re.search(r'stat-value">2</span>待审核产品', page)
        assert re.search(r'stat-value">1</span>待核验主体', page)


class TestReviewQueue:
    def test_submitted_products_with_their_findings_in_a_bounded_number_of_queries(
        self, console, django_assert_max_num_queries
    ):
        products = _submitted(5)
        products[0].findings = [
            {
                "rule": "C9",
                "severity": "warning",
                "field": "descriptor.summary",
                "message": "摘要过短",
                "message_en": "Short",
            }
        ]
        products[0].save(update_fields=["findings"])
        make_product()  # a draft is not in the queue
        with django_assert_max_num_queries(10):
            response = console.get("/console/operator/reviews/")
        page = assert_portal_page(response)
        assert all(p.code in page for p in products)
        assert "摘要过短" in page and "C9" in page
        assert "待审核产品：5" in page

    def test_approve_lists_the_product(self, console):
        (product,) = _submitted()
        response = console.post(
            f"/console/operator/reviews/{product.code}/", {"decision": "approve", "reasons": ""}
        )
        assert response.status_code == 302 and response["Location"] == "/console/operator/reviews/"
        product.refresh_from_db()
        assert product.status == ProductStatus.LISTED
        assert f"{product.code}：已批准上架" in html(console.get("/console/operator/reviews/"))

    def test_approve_with_htmx_answers_the_card(self, console):
        (product,) = _submitted()
        response = console.post(
            f"/console/operator/reviews/{product.code}/", {"decision": "approve"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert (
            f'id="review-{product.code}"' in response.content.decode()
            and "已批准上架" in response.content.decode()
        )

    def test_reject_without_comments_is_the_apis_400_and_nothing_changes(self, console):
        (product,) = _submitted()
        response = console.post(
            f"/console/operator/reviews/{product.code}/", {"decision": "reject", "reasons": " \n"}
        )
        assert response.status_code == 400
        page = assert_portal_page(response)
        assert "驳回必须说明理由" in page and 'aria-invalid="true"' in page
        product.refresh_from_db()
        assert product.status == ProductStatus.SUBMITTED

    def test_reject_with_comments_records_them_one_per_line(self, console):
        (product,) = _submitted()
        response = console.post(
            f"/console/operator/reviews/{product.code}/",
            {"decision": "reject", "reasons": "资料不全\n\n样例缺失"},
        )
        assert response.status_code == 302
        product.refresh_from_db()
        assert product.status == ProductStatus.REJECTED and product.status_reasons == ["资料不全", "样例缺失"]

    def test_an_unknown_decision_is_refused_naming_the_field_in_english(self, console):
        (product,) = _submitted()
        console.cookies["django_language"] = "en"
        response = console.post(f"/console/operator/reviews/{product.code}/", {"decision": "maybe"})
        assert response.status_code == 400
        page = html(response)
        assert (
            "<code>decision</code> Not a valid choice." in page
            and "The request breaks one or more rules" in page
        )

    def test_a_product_not_in_the_queue_is_404(self, console):
        listed = make_product(status=ProductStatus.LISTED)
        assert (
            console.post(f"/console/operator/reviews/{listed.code}/", {"decision": "approve"}).status_code
            == 404
        )


class TestVerificationQueue:
    USCC = "91310000AY4CL12T2H"

    def test_pending_registrations_and_verify(self, console, django_assert_max_num_queries):
        register_provider(self.USCC, "待核验数据有限公司", status="pending")
        with django_assert_max_num_queries(10):
            page = assert_portal_page(console.get("/console/operator/participants/"))
        assert "待核验数据有限公司" in page and "待核验主体：1" in page
        response = console.post(f"/console/operator/participants/{self.USCC}/", {"status": "verified"})
        assert response.status_code == 302
        assert Participant.objects.get(participant_id=self.USCC).status == "verified"

    def test_revoking_needs_a_reason_the_services_message_shown(self, console):
        register_provider(self.USCC, "待核验数据有限公司", status="pending")
        response = console.post(
            f"/console/operator/participants/{self.USCC}/",
            {"status": "revoked", "reason": ""},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 400
        assert "暂停或撤销须说明理由" in response.content.decode()
        assert Participant.objects.get(participant_id=self.USCC).status == "pending"


class TestRecognitionReview:
    def test_pending_and_refused_recognitions_of_peers_products_and_decide(
        self, console, django_assert_max_num_queries
    ):
        pending, refused, recognised = (make_foreign_product() for _ in range(3))
        recognitions_set(
            [
                (pending, "pending", ["标准版本待确认"], "auto"),
                (refused, "refused", ["数据级别不符"], "operator"),
                (recognised, "recognised", [], "auto"),
            ]
        )
        with django_assert_max_num_queries(10):
            page = assert_portal_page(console.get("/console/operator/recognitions/"))
        assert pending.code in page and refused.code in page and recognised.code not in page
        assert "数据级别不符" in page
        only = html(console.get("/console/operator/recognitions/?status=refused"))
        assert refused.code in only and pending.code not in only
        response = console.post(f"/console/operator/recognitions/{pending.code}/", {"status": "recognised"})
        assert response.status_code == 302
        assert Recognition.objects.get(product_code=pending.code, exchange_id="SHDEX").status == "recognised"

    def test_refusing_needs_reasons(self, console):
        product = make_foreign_product()
        recognitions_set([(product, "pending", [], "auto")])
        response = console.post(
            f"/console/operator/recognitions/{product.code}/", {"status": "refused"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 400 and "不予互认必须说明理由" in response.content.decode()
        assert Recognition.objects.get(product_code=product.code, exchange_id="SHDEX").status == "pending"


class TestQuarantine:
    def _rows(self):
        return [
            QuarantinedEntry.objects.create(
                origin="BJIDX",
                seq=i,
                source="BJIDX",
                record_type="product",
                reason=f"invalid payload {i}",
                digest=f"d{i}",
            )
            for i in range(3)
        ]

    def test_rows_with_their_reasons_and_release(self, console, django_assert_max_num_queries):
        rows = self._rows()
        with django_assert_max_num_queries(10):
            page = assert_portal_page(console.get("/console/operator/quarantine/"))
        assert all(f"invalid payload {i}" in page for i in range(3))
        response = console.post(
            "/console/operator/quarantine/actions/", {"action": "release", "ids": [rows[0].id, rows[1].id]}
        )
        assert response.status_code == 302
        assert list(QuarantinedEntry.objects.values_list("id", flat=True)) == [rows[2].id]

    def test_releasing_nothing_says_so(self, console):
        self._rows()
        response = console.post("/console/operator/quarantine/actions/", {"action": "release"})
        assert response.status_code == 400 and "请选择 1 至 100 个条目" in html(response)
        assert QuarantinedEntry.objects.count() == 3

    def test_retry_runs_the_unknown_standards_retry(self, console):
        response = console.post("/console/operator/quarantine/actions/", {"action": "retry"}, follow=True)
        assert "已重试：0 条重新应用" in html(response)


class TestFederationHealth:
    def test_per_peer_last_contact_and_lag_with_a_chart(self, console, django_assert_max_num_queries):
        now = timezone.now()
        Peer.objects.create(
            exchange_id="BJIDX", base_url="http://bjidx", public_key="k" * 43 + "=", last_success_at=now
        )
        Peer.objects.create(
            exchange_id="GYBDX",
            base_url="http://gybdx",
            public_key="k" * 43 + "=",
            consecutive_failures=3,
            last_error="refused",
        )
        SyncState.objects.create(origin="BJIDX", cursor=10, head_seen=25, head_seen_at=now)
        with django_assert_max_num_queries(12):
            response = console.get("/console/operator/federation/")
        page = assert_portal_page(response)
        assert 'data-chart="lag-chart"' in page and "chart-4.6.2.umd.min.js" in page
        config = json.loads(
            re.search(r'<script id="lag-chart" type="application/json">(.*?)</script>', page, re.S)[1]
        )
        assert config["data"]["labels"] == ["BJIDX", "GYBDX"]
        assert config["data"]["datasets"][0]["data"] == [15, 0]
        assert "联系失败" in page and "refused" in page


def test_the_quarantine_services_refuse_anyone_but_this_nodes_operators(bob, root):
    from core.exceptions import Forbidden
    from federation.quarantine_review import quarantine_release, quarantine_retry
    from participants.principal import ParticipantPrincipal

    row = QuarantinedEntry.objects.create(origin="BJIDX", seq=1, source="BJIDX", reason="x", digest="d1")
    participant = ParticipantPrincipal(
        participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"],
        home="SHDEX",
        username="merchant-1",
        roles=("data_merchant",),
        services=(),
        legal_name="x",
        status="verified",
    )
    for who in (None, bob, participant):
        with pytest.raises(Forbidden):
            quarantine_release(actor=who, ids=[row.id])
        with pytest.raises(Forbidden):
            quarantine_retry(actor=who)
    assert quarantine_release(actor=root, ids=[row.id]) == 1  # the node's admin may


def test_the_nodes_admin_gets_in(root):
    assert signed_in(root).get("/console/operator/").status_code == 200
