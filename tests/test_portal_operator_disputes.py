# ruff: noqa: F811 - the deal and dispute fixtures of tests/test_deals.py and test_deal_disputes.py are imported
"""The operator console's disputes (docs/portal.md, "Operator console"): the coordinating exchange's operator
sees the dispute in its queue, opens it, accepts it and resolves it with an outcome through the API's
service; a malformed outcome is the API's 400 with the fields named and what was typed kept; a participant
or another exchange's operator does not get in."""

import pytest

from deals.models import Dispute
from tests.portal_helpers import assert_portal_page, html, signed_in
from tests.test_deal_disputes import filed  # noqa: F401 - fixture
from tests.test_deals import agreed, buyer, ordered, provider  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]


def _url(filed, action=None):
    url = f"/console/operator/disputes/{filed['deal']}/{filed['id']}/"
    return url + f"{action}/" if action else url


def test_the_queue_and_a_dispute_page_with_its_actions(alice, filed, django_assert_max_num_queries):
    console = signed_in(alice)
    with django_assert_max_num_queries(10):
        page = assert_portal_page(console.get("/console/operator/disputes/"))
    assert _url(filed) in page and "已提起" in page
    assert filed["id"] not in html(console.get("/console/operator/disputes/?state=resolved"))
    with django_assert_max_num_queries(25):
        page = assert_portal_page(console.get(_url(filed)))
    assert "受理" in page and _url(filed, "accept") in page
    assert _url(filed, "resolve") not in page  # not before it is accepted


def test_accept_then_resolve_with_a_partial_refund(alice, filed):
    console = signed_in(alice)
    response = console.post(_url(filed, "accept"), {"reason": "材料齐全，予以受理"})
    assert response.status_code == 302 and response["Location"] == _url(filed)
    assert Dispute.objects.get(gid=filed["id"]).state == "accepted"
    page = html(console.get(_url(filed)))
    assert "已记录：受理" in page and _url(filed, "resolve") in page
    response = console.post(
        _url(filed, "resolve"),
        {"kind": "partial_refund", "refund_amount": "5000.00", "summary": "部分数据缺失，退款"},
    )
    assert response.status_code == 302, html(response)
    dispute = Dispute.objects.get(gid=filed["id"])
    assert dispute.state == "resolved" and str(dispute.refund_amount) == "5000.00"


def test_a_resolution_without_its_summary_is_the_apis_400_and_keeps_what_was_typed(alice, filed):
    console = signed_in(alice)
    console.post(_url(filed, "accept"), {"reason": "受理"})
    response = console.post(_url(filed, "resolve"), {"kind": "partial_refund", "refund_amount": "123.45"})
    assert response.status_code == 400
    page = assert_portal_page(response)
    assert "<code>outcome.summary</code>" in page and 'value="123.45"' in page
    assert Dispute.objects.get(gid=filed["id"]).state == "accepted"


def test_a_party_or_another_exchanges_operator_does_not_get_in(bob, filed):
    assert signed_in(bob).get(_url(filed)).status_code == 403
    assert signed_in(bob).post(_url(filed, "accept"), {"reason": "x"}).status_code == 403
    assert Dispute.objects.get(gid=filed["id"]).state == "filed"
