"""The quality assessment standard (standards/quality.py): every rule of a report, the grade scale, and the
glossary links of its vocabularies."""

import datetime as dt

import pytest

from core.exceptions import ValidationFailed
from standards import quality
from standards.terminology import glossary, term_for

DAY = dt.date(2026, 12, 1)


def report(**changes):
    data = {
        "dimensions": {
            code: {"score": 80, "method": "rule check on the sample", "evidence": "120 of 150 rows conform"}
            for code in quality.DIMENSION_CODES
        },
        "summary": "good overall",
        "reference": "ZJ-2026-0042",
        "assessed_at": DAY,
        "valid_until": DAY + dt.timedelta(days=365),
    }
    data.update(changes)
    return data


def fields(data):
    with pytest.raises(ValidationFailed) as caught:
        quality.report_clean(data)
    return {(e.field, e.code) for e in caught.value.errors}


def test_a_good_report_gets_the_mean_and_the_grade_it_derives():
    data = report()
    data["dimensions"]["accuracy"]["score"] = 95
    clean = quality.report_clean(data)
    # (5 * 80 + 95) / 6 = 82.5, rounded half up
    assert clean["overall_score"] == 83
    assert clean["grade"] == "B"
    assert clean["reference"] == "ZJ-2026-0042"
    assert list(clean["dimensions"]) == list(quality.DIMENSION_CODES)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (90, "A"), (89, "B"), (75, "B"), (74, "C"), (60, "C"), (59, "D"), (0, "D")],
)
def test_the_grade_scale_bounds(score, grade):
    assert quality.grade_for(score) == grade


def test_overall_score_rounds_half_up_on_integers():
    assert quality.overall_score([89, 90, 90, 90, 90, 90]) == 90  # 89.83
    assert quality.overall_score([89, 89, 89, 90, 90, 90]) == 90  # 89.5 -> 90
    assert quality.overall_score([89, 89, 89, 89, 90, 90]) == 89  # 89.33


def test_grades_at_least():
    assert quality.grades_at_least("A") == ("A",)
    assert quality.grades_at_least("C") == ("A", "B", "C")
    assert quality.grades_at_least("D") == quality.GRADE_CODES


@pytest.mark.parametrize("score", [-1, 101, 80.5, "80", True, None])
def test_a_score_out_of_range_or_not_whole_is_refused(score):
    data = report()
    data["dimensions"]["timeliness"]["score"] = score
    assert fields(data) == {("dimensions.timeliness.score", "range")}


def test_every_dimension_is_required_and_unknown_ones_refused():
    data = report()
    del data["dimensions"]["accessibility"]
    data["dimensions"]["beauty"] = {"score": 1, "method": "m", "evidence": "e"}
    assert fields(data) == {("dimensions.accessibility", "required"), ("dimensions.beauty", "unknown")}


def test_a_dimension_needs_method_and_evidence_and_no_other_key():
    data = report()
    data["dimensions"]["accuracy"]["method"] = "  "
    data["dimensions"]["accuracy"]["evidence"] = "x" * (quality.MAX_EVIDENCE + 1)
    data["dimensions"]["completeness"] = {"score": 80, "method": "m", "evidence": "e", "extra": 1}
    assert fields(data) == {
        ("dimensions.accuracy.method", "required"),
        ("dimensions.accuracy.evidence", "required"),
        ("dimensions.completeness", "type"),
    }


def test_dimensions_must_be_an_object():
    assert fields(report(dimensions=[1, 2])) == {("dimensions", "type")}


@pytest.mark.parametrize("reference", ["", "  ", " ZJ-1", "x" * 65, 42, None])
def test_the_reference_number_is_required_and_bounded(reference):
    assert fields(report(reference=reference)) == {("reference", "required")}


def test_the_summary_is_bounded():
    assert fields(report(summary="x" * (quality.MAX_SUMMARY + 1))) == {("summary", "type")}
    assert quality.report_clean(report(summary=""))["summary"] == ""


def test_validity_must_end_after_the_assessment_and_within_three_years():
    assert fields(report(valid_until=DAY)) == {("valid_until", "order")}
    assert fields(report(valid_until=DAY - dt.timedelta(days=1))) == {("valid_until", "order")}
    too_long = DAY + dt.timedelta(days=quality.MAX_VALIDITY_DAYS + 1)
    assert fields(report(valid_until=too_long)) == {("valid_until", "too_long")}
    longest = DAY + dt.timedelta(days=quality.MAX_VALIDITY_DAYS)
    assert quality.report_clean(report(valid_until=longest))["valid_until"] == longest


def test_dates_must_be_dates():
    assert fields(report(assessed_at="2026-12-01")) == {("assessed_at", "type")}


def test_a_declared_grade_must_be_the_derived_one():
    assert quality.report_clean(report(grade="B"))["grade"] == "B"
    assert fields(report(grade="A")) == {("grade", "scale")}


def test_errors_are_bilingual():
    with pytest.raises(ValidationFailed) as caught:
        quality.report_clean(report(reference=""))
    error = caught.value.errors[0]
    assert error.message and error.message_en and error.message != error.message_en


def test_every_dimension_and_grade_links_to_a_glossary_term():
    assert {code: term_for("quality_dimension", code) for code in quality.DIMENSION_CODES} == {
        code: code for code in quality.DIMENSION_CODES
    }
    assert {term_for("quality_grade", g) for g in quality.GRADE_CODES} == {"quality-grade"}
    assert glossary().version >= "1.2"  # the version that added these links


@pytest.mark.django_db
def test_the_standard_is_served_with_its_terms(client):
    data = client.get("/api/v1/standards/quality/").json()
    assert data["version"] == quality.VERSION
    assert [(d["code"], d["zh"], d["term"]) for d in data["dimensions"]][:2] == [
        ("normativity", "规范性", "normativity"),
        ("completeness", "完整性", "completeness"),
    ]
    assert [(g["grade"], g["min_score"], g["term"]) for g in data["grade_scale"]] == [
        ("A", 90, "quality-grade"),
        ("B", 75, "quality-grade"),
        ("C", 60, "quality-grade"),
        ("D", 0, "quality-grade"),
    ]
