"""Products through the HTTP API: lifecycle, permissions per persona, versions, error shape."""

import pytest

from products.models import ProductStatus, ProductVersion
from tests.factories import make_foreign_product, make_product

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def _create(api, descriptor):
    return api.post(URL, {"descriptor": descriptor}, format="json")


def _act(api, code, action, body=None):
    return api.post(f"{URL}{code}/{action}/", body or {}, format="json")


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"] and error["message_en"]
    if field is not None:
        assert field in [e["field"] for e in error["errors"]], error["errors"]
    return error


class TestLifecycle:
    def test_operator_lists_a_product_from_draft_to_listed(self, alice_api, anon, example_descriptor):
        created = _create(alice_api, example_descriptor)
        assert created.status_code == 201, created.content
        body = created.json()
        code = body["code"]
        assert code.startswith("SHDEX-")
        assert body["status"] == "draft" and body["version"] == 1
        assert anon.get(f"{URL}{code}/").status_code == 404  # drafts are not public

        submitted = _act(alice_api, code, "submit").json()
        assert submitted["status"] == "submitted" and submitted["version"] == 2
        assert all(f["severity"] != "blocking" for f in submitted["findings"])

        listed = _act(alice_api, code, "review", {"decision": "approve"}).json()
        assert listed["status"] == "listed" and listed["version"] == 3 and listed["listed_at"]

        public = anon.get(f"{URL}{code}/")
        assert public.status_code == 200
        assert public.json()["descriptor"]["name"] == example_descriptor["name"]

    def test_reject_needs_reasons_and_rejected_product_can_be_fixed_and_resubmitted(self, alice, alice_api):
        product = make_product(actor=alice, status=ProductStatus.SUBMITTED)
        assert_error(
            _act(alice_api, product.code, "review", {"decision": "reject"}),
            400,
            "validation_error",
            "reasons",
        )
        rejected = _act(
            alice_api, product.code, "review", {"decision": "reject", "reasons": ["样例数据缺失"]}
        )
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["status_reasons"] == ["样例数据缺失"]
        patched = alice_api.patch(
            f"{URL}{product.code}/",
            {"descriptor": {"summary": "补充了样例数据说明后的摘要内容。"}},
            format="json",
        )
        assert patched.status_code == 200, patched.content
        assert _act(alice_api, product.code, "submit").json()["status"] == "submitted"

    def test_suspend_reinstate_and_delist(self, alice, alice_api, anon):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        assert_error(_act(alice_api, product.code, "suspend", {}), 400, "validation_error", "reasons")
        assert (
            _act(alice_api, product.code, "suspend", {"reasons": ["数据源核查"]}).json()["status"]
            == "suspended"
        )
        public = anon.get(f"{URL}{product.code}/").json()  # visible, as suspended, with the public reason
        assert public["status"] == "suspended" and public["status_reasons"] == ["数据源核查"]
        assert product.code not in [p["code"] for p in anon.get(URL).json()["results"]]
        assert _act(alice_api, product.code, "reinstate").json()["status"] == "listed"
        delisted = _act(alice_api, product.code, "delist", {"reasons": ["停止供应"]}).json()
        assert delisted["status"] == "delisted" and delisted["delisted_at"]
        assert anon.get(f"{URL}{product.code}/").json()["status"] == "delisted"  # stays visible as delisted
        assert [p["code"] for p in anon.get(URL, {"status": "delisted"}).json()["results"]] == [product.code]

    @pytest.mark.parametrize(
        ("status", "action", "body"),
        [
            (ProductStatus.DRAFT, "review", {"decision": "approve"}),
            (ProductStatus.DRAFT, "suspend", {"reasons": ["x"]}),
            (ProductStatus.LISTED, "submit", {}),
            (ProductStatus.LISTED, "reinstate", {}),
            (ProductStatus.DELISTED, "reinstate", {}),
            (ProductStatus.DELISTED, "delist", {"reasons": ["x"]}),
            (ProductStatus.REJECTED, "withdraw", {}),
        ],
    )
    def test_illegal_transitions_are_409(self, alice, alice_api, status, action, body):
        product = make_product(actor=alice, status=status)
        error = assert_error(_act(alice_api, product.code, action, body), 409, "invalid_transition")
        assert error["status"] == 409
        product.refresh_from_db()
        assert product.status == status  # nothing changed

    def test_delisted_product_cannot_be_edited(self, alice, alice_api):
        product = make_product(actor=alice, status=ProductStatus.DELISTED)
        response = alice_api.patch(
            f"{URL}{product.code}/", {"descriptor": {"summary": "新的摘要内容足够长了。"}}, format="json"
        )
        assert_error(response, 409, "invalid_transition")

    def test_blocking_compliance_finding_prevents_listing(self, alice, alice_api, example_descriptor):
        example_descriptor["compliance"]["important_data"] = {
            "involved": True,
            "status": "passed",
            "evidence_ref": "IMP-1",
        }
        example_descriptor["compliance"]["security_assessment"] = {"status": "pending", "evidence_ref": None}
        code = _create(alice_api, example_descriptor).json()["code"]
        submitted = _act(alice_api, code, "submit").json()
        assert any(f["severity"] == "blocking" for f in submitted["findings"])
        error = assert_error(
            _act(alice_api, code, "review", {"decision": "approve"}), 409, "compliance_blocking"
        )
        assert error["errors"]
        assert (
            _act(alice_api, code, "review", {"decision": "reject", "reasons": ["缺少安全评估"]}).status_code
            == 200
        )

    def test_editing_a_listed_product_raises_its_version_and_keeps_history(self, alice, alice_api, anon):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        before = product.version
        response = alice_api.patch(
            f"{URL}{product.code}/",
            {"descriptor": {"summary": "更新后的摘要：增加了二〇二五年的数据。"}, "expected_version": before},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["version"] == before + 1
        history = anon.get(f"{URL}{product.code}/versions/").json()["results"]
        assert [v["status"] for v in history] == ["listed", "listed"]  # drafts are hidden from the public
        own = alice_api.get(f"{URL}{product.code}/versions/").json()["results"]
        assert [v["change"] for v in own] == ["created", "submitted", "listed", "updated"]
        old = alice_api.get(f"{URL}{product.code}/versions/1/").json()
        assert old["descriptor"]["summary"] != response.json()["descriptor"]["summary"]

    def test_stale_expected_version_is_409(self, alice, alice_api):
        product = make_product(actor=alice)
        response = _act(alice_api, product.code, "submit", {"expected_version": product.version + 5})
        error = assert_error(response, 409, "version_mismatch")
        assert error["current_version"] == product.version

    def test_listed_product_edit_that_breaks_compliance_is_refused_and_nothing_changes(
        self, alice, alice_api
    ):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        patch = {"compliance": {"source_legality": {"status": "failed", "evidence_ref": "LEGAL-1"}}}
        response = alice_api.patch(f"{URL}{product.code}/", {"descriptor": patch}, format="json")
        assert_error(response, 400, "compliance_blocking")
        product.refresh_from_db()
        assert product.descriptor["compliance"]["source_legality"]["status"] == "passed"
        assert ProductVersion.objects.filter(product=product).count() == product.version


class TestPermissions:
    def test_anonymous_cannot_write(self, anon, example_descriptor):
        assert_error(_create(anon, example_descriptor), 401, "not_authenticated")

    def test_invalid_token_is_401(self, example_descriptor):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token dxr_forged")
        assert_error(client.get(URL), 401, "authentication_failed")

    def test_operator_of_another_exchange_cannot_create_here(self, bob_api, example_descriptor):
        assert_error(_create(bob_api, example_descriptor), 403, "not_owner")

    def test_operator_of_another_exchange_cannot_touch_this_exchanges_product(self, alice, bob_api):
        product = make_product(actor=alice, status=ProductStatus.LISTED)
        for action, body in [("suspend", {"reasons": ["x"]}), ("delist", {"reasons": ["x"]})]:
            assert_error(_act(bob_api, product.code, action, body), 403, "not_owner")
        assert_error(
            bob_api.patch(
                f"{URL}{product.code}/", {"descriptor": {"summary": "篡改的摘要内容。。。。"}}, format="json"
            ),
            403,
            "not_owner",
        )
        product.refresh_from_db()
        assert product.status == ProductStatus.LISTED and product.version == 3

    def test_drafts_of_another_exchange_are_invisible(self, alice, bob_api):
        product = make_product(actor=alice)
        assert_error(bob_api.get(f"{URL}{product.code}/"), 404, "not_found")
        assert product.code not in [p["code"] for p in bob_api.get(URL).json()["results"]]

    def test_nobody_here_changes_a_product_owned_by_another_node(self, root_api, bob_api):
        foreign = make_foreign_product(exchange_id="BJIDX")
        assert_error(_act(bob_api, foreign.code, "suspend", {"reasons": ["x"]}), 403, "not_owner")
        assert_error(_act(root_api, foreign.code, "suspend", {"reasons": ["x"]}), 403, "not_owner")

    def test_admin_sees_everything(self, alice, root_api):
        draft = make_product(actor=alice)
        assert root_api.get(f"{URL}{draft.code}/").status_code == 200


class TestBadInput:
    def test_unknown_top_level_field(self, alice_api, example_descriptor):
        response = alice_api.post(URL, {"descriptor": example_descriptor, "owner": "x"}, format="json")
        assert_error(response, 400, "validation_error", "owner")

    def test_unknown_descriptor_field_and_bad_vocabulary_are_both_named(self, alice_api, example_descriptor):
        example_descriptor["update_frequency"] = "sometimes"
        example_descriptor["provider"]["phone"] = "13800000000"
        error = assert_error(_create(alice_api, example_descriptor), 400, "validation_error")
        fields = {e["field"]: e["code"] for e in error["errors"]}
        assert fields["descriptor.update_frequency"] == "invalid_choice"
        assert fields["descriptor.provider.phone"] == "unknown_field"

    def test_wrong_types(self, alice_api, example_descriptor):
        example_descriptor["keywords"] = "数据"
        example_descriptor["pricing"]["min"] = "free"
        error = assert_error(_create(alice_api, example_descriptor), 400, "validation_error")
        assert {"descriptor.keywords", "descriptor.pricing.min"} <= {e["field"] for e in error["errors"]}

    def test_descriptor_not_an_object(self, alice_api):
        assert_error(_create(alice_api, ["a"]), 400, "validation_error", "descriptor")

    def test_bad_uscc_check_character(self, alice_api, example_descriptor):
        uscc = example_descriptor["provider"]["uscc"]
        example_descriptor["provider"]["uscc"] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
        error = assert_error(
            _create(alice_api, example_descriptor), 400, "validation_error", "descriptor.provider.uscc"
        )
        assert error["errors"][0]["code"] == "uscc.checksum"

    def test_name_breaking_the_naming_rule(self, alice_api, example_descriptor):
        example_descriptor["name"] = "上海市最全企业信用数据集"
        error = assert_error(
            _create(alice_api, example_descriptor), 400, "validation_error", "descriptor.name"
        )
        assert "naming.forbidden_term" in {e["code"] for e in error["errors"]}

    def test_duplicate_name_for_the_same_provider(self, alice, alice_api, example_descriptor):
        make_product(actor=alice, descriptor=dict(example_descriptor))
        error = assert_error(
            _create(alice_api, example_descriptor), 400, "validation_error", "descriptor.name"
        )
        assert error["errors"][0]["code"] == "naming.duplicate"

    def test_malformed_json(self, alice_api):
        response = alice_api.generic("POST", URL, '{"descriptor": {', content_type="application/json")
        assert_error(response, 400, "parse_error")

    def test_wrong_content_type(self, alice_api):
        response = alice_api.generic(
            "POST", URL, "descriptor=1", content_type="application/x-www-form-urlencoded"
        )
        assert_error(response, 415, "unsupported_media_type")

    def test_oversized_body_is_413(self, alice_api, example_descriptor, settings):
        example_descriptor["summary"] = "很长" * 200_000
        assert_error(_create(alice_api, example_descriptor), 413, "payload_too_large")

    def test_bad_filter_values(self, anon):
        error = assert_error(anon.get(URL, {"industry": "Z", "region": "999999"}), 400, "validation_error")
        assert {"industry", "region"} <= {e["field"] for e in error["errors"]}

    def test_unknown_product_code(self, anon):
        assert_error(anon.get(f"{URL}SHDEX-2026-999999-0/"), 404, "not_found")

    def test_unknown_route_uses_the_error_shape(self, anon):
        assert_error(anon.get("/api/v1/nothing-here/"), 404, "not_found")

    def test_failed_create_writes_nothing(self, alice_api, example_descriptor):
        from products.models import CodeCounter, Product

        example_descriptor["industry"] = "Z"
        assert _create(alice_api, example_descriptor).status_code == 400
        assert Product.objects.count() == 0 and ProductVersion.objects.count() == 0
        assert CodeCounter.objects.count() == 0
