"""The glossary (专业术语): the rules its file must meet, every vocabulary code linked to a term, search, and
the generated document agreeing with the data."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
import rfc8785

from standards import deal_disputes, deal_flow
from standards.terminology import (
    DATA_PATH,
    GlossaryError,
    glossary,
    glossary_load,
    glossary_parse,
    linked_vocabularies,
    term_for,
    term_get,
)
from standards.terminology_doc import DOC_PATH, terminology_markdown
from standards.terminology_search import terms_search

ROOT = Path(__file__).resolve().parents[1]
VOCABULARIES = {"colour": frozenset({"red", "blue"}), "region": frozenset({"110000", "310000"})}


def _minimal() -> dict:
    """A valid small glossary over VOCABULARIES: two coded terms, one for a whole vocabulary."""
    source = {"id": "dsl", "kind": "law", "zh": "《数据安全法》", "en": "Data Security Law"}
    source |= {"issuer_zh": "全国人大常委会", "issuer_en": "NPC Standing Committee", "year": 2021}

    def term(tid, zh, en, **extra):
        row = {
            "id": tid,
            "zh": zh,
            "en": en,
            "definition": {"zh": f"{zh}的定义。", "en": f"Definition of {en}."},
        }
        row["sources"] = [{"source": "dsl"}]
        return row | extra

    return {
        "version": "1.0",
        "sources": [source],
        "terms": [
            term("red-colour", "红色", "red", codes={"colour": ["red"]}, related=["blue-colour"]),
            term("blue-colour", "蓝色", "blue", codes={"colour": ["blue"]}),
            term("region-code", "行政区划代码", "region code", vocabularies=["region"]),
        ],
    }


def _problems(data) -> list[str]:
    with pytest.raises(GlossaryError) as caught:
        glossary_parse(data, vocabularies=VOCABULARIES)
    return caught.value.problems


class TestLoadingRules:
    def test_a_valid_file_loads_with_its_version_and_canonical_hash(self):
        data = _minimal()
        loaded = glossary_parse(data, vocabularies=VOCABULARIES)
        assert loaded.version == "1.0"
        assert [t.id for t in loaded.terms] == ["red-colour", "blue-colour", "region-code"]
        assert loaded.sha256 == hashlib.sha256(rfc8785.dumps(data)).hexdigest()
        reordered = json.loads(json.dumps(data, sort_keys=True))  # same content, keys in another order
        assert glossary_parse(reordered, vocabularies=VOCABULARIES).sha256 == loaded.sha256
        data["terms"][0]["definition"]["en"] += " More."
        assert glossary_parse(data, vocabularies=VOCABULARIES).sha256 != loaded.sha256

    def test_duplicate_id_refused(self):
        data = _minimal()
        data["terms"][1]["id"] = "red-colour"
        assert "term 'red-colour': duplicate id 'red-colour' (also 'red-colour')" in _problems(data)

    def test_duplicate_chinese_or_english_name_refused(self):
        data = _minimal()
        data["terms"][1]["zh"] = "红色"
        data["terms"][2]["en"] = "RED"
        problems = _problems(data)
        assert any("duplicate zh '红色'" in p for p in problems)
        assert any("duplicate en 'RED'" in p for p in problems)

    @pytest.mark.parametrize("path", [("zh",), ("en",), ("definition", "zh"), ("definition", "en")])
    def test_missing_language_refused(self, path):
        data = _minimal()
        holder = data["terms"][0]
        for key in path[:-1]:
            holder = holder[key]
        del holder[path[-1]]
        where = "terms[0]" + "".join(f".{k}" for k in path[:-1])
        assert f"{where}: missing '{path[-1]}'" in _problems(data)

    def test_blank_definition_refused(self):
        data = _minimal()
        data["terms"][0]["definition"]["en"] = "  "
        assert _problems(data) == ["terms[0].definition.en: must be non-empty text of at most 2000"]

    def test_unknown_related_term_refused(self):
        data = _minimal()
        data["terms"][0]["related"] = ["green-colour"]
        assert _problems(data) == ["term 'red-colour': unknown related term 'green-colour'"]

    def test_a_term_related_to_itself_refused(self):
        data = _minimal()
        data["terms"][0]["related"] = ["red-colour"]
        assert _problems(data) == ["term 'red-colour': related to itself"]

    def test_unknown_source_and_term_without_source_refused(self):
        data = _minimal()
        data["terms"][0]["sources"] = [{"source": "made-up-law"}]
        data["terms"][1]["sources"] = []
        assert _problems(data) == [
            "terms[0].sources[0].source: unknown source 'made-up-law'",
            "terms[1].sources: cite at least one source",
        ]

    def test_unknown_field_and_bad_id_refused(self):
        data = _minimal()
        data["terms"][0]["definiton"] = {}
        data["terms"][1]["id"] = "Blue Colour"
        assert _problems(data) == [
            "terms[0]: unknown field 'definiton'",
            "terms[1].id: must be a lowercase slug",
        ]

    def test_a_code_without_a_term_refused(self):
        data = _minimal()
        del data["terms"][1]["codes"]
        assert _problems(data) == ["colour.blue: no term explains this code"]

    def test_a_code_linked_twice_or_unknown_refused(self):
        data = _minimal()
        data["terms"][1]["codes"] = {"colour": ["blue", "red", "green"], "size": ["xl"]}
        assert _problems(data) == [
            "term 'blue-colour': colour.red already linked to 'red-colour'",
            "term 'blue-colour': colour.green is not a vocabulary code",
            "term 'blue-colour': size.xl is not a vocabulary code",
        ]

    def test_unknown_vocabulary_or_one_linked_both_whole_and_by_code_refused(self):
        data = _minimal()
        data["terms"][2]["vocabularies"] = ["region", "planet"]
        data["terms"][0]["codes"]["region"] = ["110000"]
        assert _problems(data) == [
            "term 'region-code': unknown vocabulary 'planet'",
            "region.110000: linked to 'red-colour' and, as a whole, to 'region-code'",
        ]

    def test_file_that_is_not_json_is_an_error(self, tmp_path):
        bad = tmp_path / "terms.json"
        bad.write_text("{not json", "utf-8")
        with pytest.raises(GlossaryError, match="cannot be read as JSON"):
            glossary_load(bad, vocabularies=VOCABULARIES)

    def test_a_bad_file_stops_the_start(self, tmp_path, monkeypatch):
        """The API app reads the glossary when Django starts: a broken file is an error there, not at the
        first request."""
        from django.apps import apps

        import standards.terminology as terminology

        data = json.loads(DATA_PATH.read_text("utf-8"))
        data["terms"][0]["related"].append("no-such-term")
        bad = tmp_path / "terms.json"
        bad.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        monkeypatch.setattr(terminology, "DATA_PATH", bad)
        terminology.glossary.cache_clear()
        try:
            with pytest.raises(GlossaryError, match="unknown related term 'no-such-term'"):
                apps.get_app_config("api").ready()
        finally:
            terminology.glossary.cache_clear()

    def test_the_committed_file_is_valid(self):
        loaded = glossary_load(DATA_PATH)
        assert loaded.version and len(loaded.terms) >= 100


class TestVocabularyLinks:
    def test_every_code_of_every_vocabulary_links_to_a_term(self):
        vocabularies = linked_vocabularies()
        assert {
            "product_form",
            "delivery_method",
            "update_frequency",
            "role",
            "service",
            "compliance_item",
        } <= set(vocabularies)
        assert {
            "evaluation_dimension",
            "grade",
            "demand_compliance_requirement",
            "region",
            "industry",
        } <= set(vocabularies)
        assert {
            "deal_state",
            "usage_policy_action",
            "usage_policy_purpose",
            "dispute_category",
            "dispute_state",
            "dispute_outcome",
            "dispute_action",
            "dispute_role",
        } <= set(vocabularies)
        assert vocabularies["deal_state"] == frozenset(deal_flow.STATES)
        assert vocabularies["dispute_action"] == frozenset(t.code for t in deal_disputes.ACTION)
        assert vocabularies["dispute_role"] == frozenset(t.code for t in deal_disputes.ROLE)
        assert vocabularies["dispute_state"] == frozenset(t.code for t in deal_disputes.STATE)
        for name, codes in vocabularies.items():
            for code in codes:
                term_id = term_for(name, code)
                assert term_id is not None and term_get(term_id) is not None, (name, code)

    def test_a_new_code_without_a_term_fails_the_load(self):
        vocabularies = dict(linked_vocabularies())
        vocabularies["delivery_method"] = vocabularies["delivery_method"] | {"pigeon"}
        data = json.loads(DATA_PATH.read_text("utf-8"))
        with pytest.raises(GlossaryError) as caught:
            glossary_parse(data, vocabularies=vocabularies)
        assert caught.value.problems == ["delivery_method.pigeon: no term explains this code"]

    def test_links_name_the_right_terms(self):
        assert term_for("compliance_item", "cross_border_transfer") == "cross-border-data-transfer"
        assert (
            term_for("demand_compliance_requirement", "no_cross_border_transfer")
            == "cross-border-data-transfer"
        )
        assert term_for("role", "data_merchant") == "data-merchant"
        assert term_for("service", "quality_assessment") == "quality-assessment"
        assert term_for("product_form", "api") == "data-api"
        assert term_for("delivery_method", "api") == "api-delivery"
        assert term_for("region", "310000") == "administrative-division-code"
        assert term_for("grade", "AAA") == "evaluation-grade"
        assert term_for("deal_state", "agreed") == "deal-agreed"
        assert term_for("deal_state", "accepted") == "deal-accepted"
        assert term_for("dispute_state", "accepted") == "dispute-accepted"
        assert term_for("usage_policy_action", "train_model") == "model-training-use"
        assert term_for("usage_policy_purpose", "model_training") == "model-training-purpose"
        assert term_for("dispute_category", "usage_violation") == "usage-violation"
        assert term_for("dispute_outcome", "partial_refund") == "partial-refund"
        assert term_for("escalation_venue", "court") == "litigation"
        assert term_for("dispute_action", "resolve") == "dispute-resolution"
        assert term_for("dispute_role", "co_coordinator") == "co-coordinating-exchange"
        assert term_for("usage_policy_territory", "CN-mainland") == "territory-mainland"
        assert term_for("usage_policy_territory", "cross_border") == "cross-border-data-transfer"

    def test_each_new_vocabulary_code_has_a_term_of_its_own(self):
        # One term per code for the deal, usage policy and dispute vocabularies: no two codes share a term.
        names = ("deal_state", "usage_policy_action", "usage_policy_purpose")
        names += ("dispute_category", "dispute_state", "dispute_outcome", "dispute_action", "dispute_role")
        vocabularies = linked_vocabularies()
        linked = [term_for(name, code) for name in names for code in vocabularies[name]]
        assert len(linked) == len(set(linked)) == sum(len(vocabularies[name]) for name in names)

    def test_a_code_outside_the_vocabulary_has_no_term(self):
        assert term_for("product_form", "car") is None
        assert term_for("region", "999999") is None
        with pytest.raises(KeyError):
            term_for("no_such_vocabulary", "x")

    @pytest.mark.parametrize(
        "term_id",
        [
            "data-product",
            "data-merchant",
            "data-resource",
            "usable-not-visible",
            "cross-border-data-transfer",
            "important-data",
            "quality-assessment",
            "delivery",
            "dispute-coordination",
        ],
    )
    def test_the_terms_the_issue_names_are_defined(self, term_id):
        term = term_get(term_id)
        assert term is not None and term.definition_zh and term.definition_en and term.citations

    def test_term_get_unknown_or_malformed_id(self):
        assert term_get("no-such-term") is None
        assert term_get("../etc") is None
        assert term_get("Data-Merchant") is None


def _ids(q: str) -> list[str]:
    return [term.id for term in terms_search(q=q)]


class TestSearch:
    def test_chinese_word_inside_a_term_finds_it_first(self):
        assert _ids("出境")[0] == "cross-border-data-transfer"

    def test_exact_term_comes_first(self):
        assert _ids("数据产品")[0] == "data-product"
        assert _ids("数商")[0] == "data-merchant"
        assert _ids("质量评估")[0] == "quality-assessment"
        assert _ids("交付")[0] == "delivery"

    def test_exact_term_before_terms_containing_it(self):
        found = _ids("重要数据")
        assert found[0] == "important-data"
        assert "core-data" in found  # its definition names important data

    def test_alias_counts_as_the_term(self):
        assert _ids("数据商")[0] == "data-merchant"
        assert _ids("USCC")[0] == "uscc"

    def test_english_words_any_case_and_plural(self):
        assert _ids("Data Merchant")[0] == "data-merchant"
        assert _ids("transfers")[0] == "cross-border-data-transfer"
        assert _ids("sandbox")[0] == "sandbox-delivery"

    def test_every_word_must_match_when_some_term_holds_them_all(self):
        found = _ids("数据出境")
        assert found[0] == "cross-border-data-transfer"
        assert "data" not in found  # 数据 alone is not enough when a term holds both words

    def test_nothing_to_search(self):
        assert _ids("   ") == []
        assert _ids("zzzqqq") == []

    def test_long_query_is_cut_not_refused(self):
        assert _ids("出境" * 200)[0] == "cross-border-data-transfer"


class TestDocument:
    def test_committed_document_is_generated_from_the_data(self):
        committed = (ROOT / DOC_PATH).read_text("utf-8")
        assert committed == terminology_markdown(glossary()), "run .venv/bin/python scripts/terms_doc.py"

    def test_document_lists_every_term_and_the_hash(self):
        text = terminology_markdown(glossary())
        for term in glossary().terms:
            assert f'<a id="{term.id}"></a>' in text and term.definition_en in text
        assert glossary().sha256 in text

    def test_script_writes_the_document_and_its_check_fails_on_a_stale_one(
        self, tmp_path, monkeypatch, capsys
    ):
        spec = importlib.util.spec_from_file_location("terms_doc", ROOT / "scripts" / "terms_doc.py")
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        monkeypatch.setattr(script, "ROOT", tmp_path)
        (tmp_path / DOC_PATH).parent.mkdir(parents=True)
        assert script.main(["--check"]) == 1  # no document yet
        assert script.main([]) == 0
        assert (tmp_path / DOC_PATH).read_text("utf-8") == terminology_markdown(glossary())
        assert script.main(["--check"]) == 0
        (tmp_path / DOC_PATH).write_text(terminology_markdown(glossary()) + "Edited by hand.\n", "utf-8")
        assert script.main(["--check"]) == 1
        assert "out of date" in capsys.readouterr().err
