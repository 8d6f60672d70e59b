"""Evaluations after a deal settles, from the console (docs/portal.md, "Consoles"): each party evaluates the
other on the deal's page through the API's service (`deals.closing.deal_evaluate`, as POST
/api/v1/deals/{id}/evaluations/); the API's field errors shown beside the inputs with what was typed kept;
once each, and the deal closes when both have."""

import copy
import json

import pytest

from deals.compliance import deal_compliance_run
from participants.models import Evaluation
from products.models import ProductStatus
from tests import console_world
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.console_world import DEMANDER, POLICY
from tests.factories import make_product
from tests.portal_helpers import assert_portal_page, html

# The shared fixtures, found by pytest under these names.
_fast_hasher = console_world._fast_hasher
demander = console_world.demander
merchant = console_world.merchant
PROVIDER = EXAMPLE_DESCRIPTOR["provider"]["uscc"]
OFFER = {
    "price": "20000.00",
    "delivery_method": "file",
    "delivery_days": "10",
    "acceptance_window_hours": "72",
    "usage_policy": POLICY,
}
FILES = [{"name": "charging-2026-11.csv", "size": 1048576, "sha256": "3" * 64}]


def _post(client, url: str, data: dict) -> None:
    response = client.post(url, data)
    assert response.status_code == 302, html(response)


@pytest.fixture
def accepted(alice, demander, merchant) -> str:
    """A deal ordered, agreed, cleared, delivered and accepted through the consoles: its page's URL."""
    listed = make_product(
        actor=alice, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status=ProductStatus.LISTED
    )
    order = {"request.purpose": "充电设施规划研究", "delivery_method": "file", "usage_policy": POLICY}
    response = demander.post(f"/console/order/{listed.code}/", order)
    assert response.status_code == 302, html(response)
    url = response["Location"]
    _post(merchant, url + "steps/offer/", OFFER)
    _post(demander, url + "steps/accept/", {"offer_version": "1"})
    _post(merchant, url + "steps/accept/", {"offer_version": "1"})
    assert deal_compliance_run(url.rstrip("/").rsplit("/", 1)[1])
    _post(merchant, url + "steps/delivery/", {"method": "file", "details": json.dumps({"files": FILES})})
    _post(demander, url + "steps/acceptance/", {"result": "accepted", "reason": ""})
    return url


def test_each_party_evaluates_the_other_once_the_deal_settles(
    accepted, demander, merchant, alice_api, django_assert_max_num_queries
):
    evaluation = {"dimension": "service", "score": "88", "summary": "交付及时，数据质量良好"}
    assert "评价对方" not in html(demander.get(accepted))  # accepted, not settled yet: no form
    early = demander.post(accepted + "steps/evaluation/", evaluation)
    assert early.status_code == 409  # the service's refusal: not in this state
    gid = accepted.rstrip("/").rsplit("/", 1)[1]
    assert alice_api.post(f"/api/v1/deals/{gid}/settlement/").status_code == 201  # the coordinator
    with django_assert_max_num_queries(12):
        page = assert_portal_page(demander.get(accepted))
    assert "评价对方" in page and 'name="score"' in page and "服务能力" in page
    assert demander.post(accepted + "steps/evaluation/", evaluation).status_code == 302
    given = Evaluation.objects.get(subject_id=PROVIDER)
    assert (given.issuer_id, given.evidence_ref, given.score, given.dimension) == (
        DEMANDER,
        f"deal:{gid}",
        88,
        "service",
    )
    assert "评价对方" not in html(demander.get(accepted))  # once
    assert demander.post(accepted + "steps/evaluation/", evaluation).status_code == 409
    _post(merchant, accepted + "steps/evaluation/", {**evaluation, "dimension": "credit", "score": "90"})
    assert Evaluation.objects.get(subject_id=DEMANDER).issuer_id == PROVIDER
    assert "closed" in html(merchant.get(accepted))


def test_a_refused_evaluation_names_the_field_and_keeps_what_was_typed(accepted, demander, alice_api):
    gid = accepted.rstrip("/").rsplit("/", 1)[1]
    assert alice_api.post(f"/api/v1/deals/{gid}/settlement/").status_code == 201
    typed = "数据字段与说明不一致"
    out_of_range = demander.post(
        accepted + "steps/evaluation/", {"dimension": "service", "score": "120", "summary": typed}
    )
    assert out_of_range.status_code == 400
    page = assert_portal_page(out_of_range)
    errors = page[page.index('id="id_evaluation_score_errors"') :][:300]
    assert "分数须为0–100的整数" in errors and typed in page and 'value="120"' in page
    unknown = demander.post(
        accepted + "steps/evaluation/", {"dimension": "beauty", "score": "70", "summary": typed}
    )
    assert unknown.status_code == 400 and 'id="id_evaluation_dimension_errors"' in html(unknown)
    empty = demander.post(
        accepted + "steps/evaluation/", {"dimension": "service", "score": "70", "summary": ""}
    )
    assert empty.status_code == 400 and 'id="id_evaluation_summary_errors"' in html(empty)
    assert not Evaluation.objects.filter(evidence_ref=f"deal:{gid}").exists()
