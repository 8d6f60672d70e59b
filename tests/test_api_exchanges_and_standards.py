import pytest

pytestmark = pytest.mark.django_db


class TestExchanges:
    def test_the_24_members_are_listed_in_initiative_order(self, anon):
        response = anon.get("/api/v1/exchanges/")
        assert response.status_code == 200
        rows = response.json()
        assert len(rows) == 24
        assert [r["code"] for r in rows[:3]] == ["BJIDX", "TJNBD", "SHDEX"]
        assert rows[-1]["name_zh"] == "贵阳大数据交易所"

    def test_one_exchange_by_code_case_insensitive(self, anon):
        body = anon.get("/api/v1/exchanges/gybdx/").json()
        assert body["name_en"] == "Guiyang Big Data Exchange" and body["province_code"] == "520000"
        assert set(body) >= {"runs_node", "node_url"}

    def test_unknown_exchange_is_404(self, anon):
        assert anon.get("/api/v1/exchanges/NOPE/").json()["error"]["code"] == "not_found"


class TestStandardsEndpoints:
    def test_descriptor_schema_is_served_and_matches_the_example(self, anon, example_descriptor):
        import jsonschema

        schema = anon.get("/api/v1/standards/product-descriptor/").json()
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(example_descriptor)

    def test_vocabularies_have_chinese_and_english_labels(self, anon):
        body = anon.get("/api/v1/standards/vocabularies/").json()
        text = str(body)
        for needle in ("dataset", "数据集", "农、林、牧、渔业", "realtime"):
            assert needle in text

    def test_naming_check_returns_each_broken_rule_and_a_compliant_suggestion(self, anon):
        response = anon.post(
            "/api/v1/standards/naming/check/",
            {"name": "全网最全企业信用报告", "product_form": "dataset", "spatial_coverage": ["310000"]},
            format="json",
        )
        assert response.status_code == 200, response.content
        verdict = response.json()
        assert verdict["compliant"] is False
        codes = {v["code"] for v in verdict["violations"]}
        assert {"naming.forbidden_term", "naming.form_word"} <= codes
        again = anon.post(
            "/api/v1/standards/naming/check/",
            {"name": verdict["suggestion"], "product_form": "dataset", "spatial_coverage": ["310000"]},
            format="json",
        ).json()
        assert again["compliant"] is True

    def test_naming_check_bad_input(self, anon):
        response = anon.post(
            "/api/v1/standards/naming/check/", {"name": "x", "product_form": "car"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0]["field"] == "product_form"

    def test_descriptor_validate_endpoint(self, anon, example_descriptor):
        ok = anon.post(
            "/api/v1/standards/product-descriptor/validate/",
            {"descriptor": example_descriptor},
            format="json",
        ).json()
        assert ok["valid"] and ok["listable"]
        example_descriptor["industry"] = "Z"
        bad = anon.post(
            "/api/v1/standards/product-descriptor/validate/",
            {"descriptor": example_descriptor},
            format="json",
        ).json()
        assert bad["valid"] is False and bad["errors"][0]["field"] == "descriptor.industry"

    def test_product_code_check(self, anon, alice):
        from tests.factories import make_product

        code = make_product(actor=alice).code
        ok = anon.post("/api/v1/standards/product-code/check/", {"code": code.lower()}, format="json").json()
        assert ok["valid"] and ok["code"] == code and ok["origin"] == "SHDEX"
        typo = code[:-3] + ("1" if code[-3] != "1" else "2") + code[-2:]
        bad = anon.post("/api/v1/standards/product-code/check/", {"code": typo}, format="json").json()
        assert bad["valid"] is False and bad["errors"][0]["field"] == "code"


class TestNode:
    def test_node_reports_identity_and_health(self, anon):
        body = anon.get("/api/v1/node/").json()
        assert body["code"] == "SHDEX" and body["database"] is True
        assert body["worker_alive"] is False  # no worker has beaten in this test database
        assert body["sync_worker_alive"] is False and body["sync_worker_heartbeat_at"] is None
