"""The machine profile of a sample (standards/quality_profile.py): each indicator on fixed samples, with the
exact numbers docs/standards/quality-profile.md defines; and a peer's profile checked as untrusted input."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import pytest

from core.exceptions import ValidationFailed
from standards.quality_profile import profile_compute
from standards.quality_profile_check import profile_check

NOW = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)  # 12:00 China time
FIELDS = [
    {"name": "station", "label": "站点", "type": "string", "nullable": False},
    {"name": "kwh", "label": "电量", "type": "decimal", "unit": "kWh"},
    {"name": "meters", "label": "表数", "type": "integer"},
    {"name": "ok", "label": "正常", "type": "boolean"},
    {"name": "day", "label": "日期", "type": "date"},
    {"name": "read_at", "label": "读数时间", "type": "datetime"},
    {
        "name": "grade",
        "label": "等级",
        "type": "code",
        "code_list": {"codes": [{"code": "A", "label": "甲"}, {"code": "B", "label": "乙"}]},
    },
    {"name": "region", "label": "地区", "type": "code", "code_list": {"standard": "GB/T 2260"}},
    {"name": "location", "label": "位置", "type": "geo"},
]
RECORDS = [
    {
        "station": "S1",
        "kwh": 1.5,
        "meters": 3,
        "ok": True,
        "day": "2026-12-03",
        "read_at": "2026-12-04T08:00:00+08:00",
        "grade": "A",
        "region": "310000",
        "location": [121.47, 31.23],
    },
    {
        "station": "S2",
        "kwh": 2,
        "meters": "4",
        "ok": "yes",
        "day": "2026-02-30",
        "read_at": "2026-12-04 09:30",
        "grade": "C",
        "region": "",
        "location": {"type": "Point", "coordinates": [200, 10]},
    },
    {"station": "S3", "kwh": None, "meters": 5, "ok": False, "grade": "B", "location": "116.4, 39.9"},
    {"station": "S3", "kwh": None, "meters": 5, "ok": False, "grade": "B", "location": "116.4, 39.9"},
    {"station": "  ", "kwh": 1.5, "extra": 1, "more": None},
]


def _field(profile: dict, name: str) -> dict:
    return next(f for f in profile["fields"] if f["name"] == name)


def test_per_field_indicators_on_a_fixed_sample():
    profile = profile_compute(RECORDS, FIELDS, "daily", now=NOW)
    assert profile["rows"] == 5
    assert _field(profile, "station") == {
        "name": "station",
        "type": "string",
        "non_null": 4,  # "  " is null: blank text
        "non_null_ratio": 0.8,
        "conforming": 4,
        "conformance_ratio": 1.0,
        "distinct": 3,
        "distinct_ratio": 0.75,
    }
    kwh = _field(profile, "kwh")  # 1.5, 2, 1.5: the integer 2 is a decimal
    assert (kwh["non_null"], kwh["conforming"], kwh["distinct"]) == (3, 3, 2)
    assert (kwh["non_null_ratio"], kwh["conformance_ratio"], kwh["distinct_ratio"]) == (0.6, 1.0, 0.6667)
    meters = _field(profile, "meters")  # "4" is text, not a JSON integer
    assert (meters["non_null"], meters["conforming"], meters["conformance_ratio"]) == (4, 3, 0.75)
    assert meters["distinct"] == 3
    ok = _field(profile, "ok")
    assert (ok["non_null"], ok["conforming"], ok["distinct"]) == (4, 3, 3)
    day = _field(profile, "day")  # 2026-02-30 is no calendar date
    assert (day["non_null"], day["conforming"], day["conformance_ratio"]) == (2, 1, 0.5)
    read_at = _field(profile, "read_at")
    assert (read_at["conforming"], read_at["conformance_ratio"], read_at["non_null_ratio"]) == (2, 1.0, 0.4)
    grade = _field(profile, "grade")  # C is not in the inline list
    assert (grade["non_null"], grade["conforming"], grade["conformance_ratio"]) == (4, 3, 0.75)
    region = _field(profile, "region")  # a referenced list: any code text of 1-64 characters; "" is null
    assert (region["non_null"], region["conforming"]) == (1, 1)
    location = _field(profile, "location")  # longitude 200 is off the globe
    assert (location["non_null"], location["conforming"], location["distinct"]) == (4, 3, 3)


def test_overall_indicators_duplicates_and_undeclared_fields():
    profile = profile_compute(RECORDS, FIELDS, "daily", now=NOW)
    assert profile["duplicate_rows"] == 1
    assert profile["duplicate_row_rate"] == 0.2
    assert profile["undeclared_fields"] == ["extra"]  # "more" is null: nothing of it in the sample
    assert profile["undeclared_field_count"] == 1
    assert profile["computed"] is True
    assert profile["kind"] == "machine_profile"
    assert profile["standard"] == "quality-profile/1.0"
    assert profile["computed_at"] == "2026-12-05T04:00:00+00:00"
    assert profile["source"] == "inline"


def test_rows_equal_once_nulls_and_key_order_are_ignored_count_as_duplicates():
    records = [{"a": "1", "b": None}, {"a": "1"}, {"a": "1", "b": ""}]
    records += [{"b": "2", "a": "1"}, {"a": "1", "b": "2"}]
    profile = profile_compute(records, [{"name": "a", "label": "甲", "type": "string"}], None, now=NOW)
    assert (profile["duplicate_rows"], profile["duplicate_row_rate"]) == (3, 0.6)


def test_freshness_is_the_newest_date_or_datetime_against_the_declared_frequency():
    profile = profile_compute(RECORDS, FIELDS, "daily", now=NOW)
    # newest: read_at 2026-12-04 09:30 China time (no zone: China time) = 01:30 UTC, 1.10 days before NOW
    assert profile["freshness"] == {
        "update_frequency": "daily",
        "field": "read_at",
        "newest": "2026-12-04 09:30",
        "age_days": 1.1,
        "allowed_age_days": 2,
        "ratio": 0.55,
        "fresh": True,
    }
    stale = profile_compute(RECORDS, FIELDS, "hourly", now=NOW)["freshness"]
    assert (stale["allowed_age_days"], stale["ratio"], stale["fresh"]) == (1, 1.1, False)
    unjudged = profile_compute(RECORDS, FIELDS, "irregular", now=NOW)["freshness"]
    assert (unjudged["age_days"], unjudged["allowed_age_days"], unjudged["fresh"]) == (1.1, None, None)


def test_a_date_counts_from_midnight_china_time():
    fields = [{"name": "day", "label": "日", "type": "date"}]
    fresh = profile_compute([{"day": "2026-12-01"}], fields, "weekly", now=NOW)["freshness"]
    # 2026-12-01 00:00 +08:00 = 2026-11-30 16:00 UTC; NOW is 4 days 12 hours later
    assert (fresh["age_days"], fresh["allowed_age_days"]) == (4.5, 8)
    assert (fresh["ratio"], fresh["fresh"]) == (0.5625, True)


def test_no_date_means_no_freshness_and_an_empty_sample_no_ratios():
    fields = [{"name": "a", "label": "甲", "type": "string"}]
    profile = profile_compute([], fields, "daily", now=NOW)
    assert profile["rows"] == 0 and profile["duplicate_row_rate"] is None
    assert profile["fields"][0]["non_null_ratio"] is None
    assert profile["freshness"]["fresh"] is None and profile["freshness"]["newest"] is None


def test_csv_cells_are_read_as_their_declared_type():
    fields = [
        {"name": "n", "label": "数", "type": "integer"},
        {"name": "x", "label": "值", "type": "decimal"},
        {"name": "b", "label": "是否", "type": "boolean"},
        {"name": "p", "label": "点", "type": "geo"},
    ]
    records = [
        {"n": "12", "x": "1.5e3", "b": "TRUE", "p": "121.5,31.2"},
        {"n": "1.0", "x": "abc", "b": "yes", "p": "1,2,3"},
        {"n": "", "x": "-.5", "b": "false", "p": ""},
    ]
    profile = profile_compute(records, fields, None, now=NOW, source="csv")
    conforming = {f["name"]: (f["non_null"], f["conforming"]) for f in profile["fields"]}
    assert conforming == {"n": (2, 1), "x": (3, 2), "b": (3, 2), "p": (2, 1)}
    as_json = profile_compute(records, fields, None, now=NOW, source="jsonl")
    assert {f["name"]: f["conforming"] for f in as_json["fields"]} == {"n": 0, "x": 0, "b": 0, "p": 1}


def test_more_rows_than_the_limit_are_refused():
    with pytest.raises(ValueError, match="10000"):
        profile_compute([{}] * 10_001, [], None, now=NOW)


def _big_sample(rows: int) -> list[dict]:
    return [
        {
            "station": f"S{i % 997}",
            "kwh": i * 0.25,
            "meters": i % 50,
            "ok": i % 3 == 0,
            "day": f"2026-11-{1 + i % 28:02d}",
            "read_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00+08:00",
            "grade": "AB"[i % 2],
            "region": "310000",
            "location": [121 + (i % 100) / 100, 31.2],
        }
        for i in range(rows)
    ]


def test_profiling_ten_thousand_rows_takes_well_under_a_second():
    records = _big_sample(10_000)
    started = time.process_time()  # this process's CPU time: a busy shared machine does not inflate it
    profile = profile_compute(records, FIELDS, "daily", now=NOW)
    elapsed = time.process_time() - started
    assert profile["rows"] == 10_000 and _field(profile, "station")["distinct"] == 997
    assert elapsed < 1.0, f"{elapsed:.2f} s of CPU (bench/quality_profile.py measures about 0.15 s)"


# --- a peer's profile ---------------------------------------------------------------------------------------
def test_a_computed_profile_passes_the_check():
    profile = profile_compute(RECORDS, FIELDS, "daily", now=NOW)
    assert profile_check(copy.deepcopy(profile)) == profile


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (lambda p: p.update(computed=False), "kind", "invalid_choice"),
        (lambda p: p.update(standard="quality-profile/9.0"), "standard", "unknown_version"),
        (lambda p: p.update(extra=1), "", "fields"),
        (lambda p: p.update(rows=10_001), "rows", "range"),
        (lambda p: p.update(duplicate_rows=6), "duplicate_rows", "range"),
        (lambda p: p.update(duplicate_row_rate=0.5), "duplicate_row_rate", "mismatch"),
        (lambda p: p["fields"][0].update(non_null_ratio=0.9), "fields.0.non_null_ratio", "mismatch"),
        (lambda p: p["fields"][0].update(conforming=5), "fields.0.conforming", "range"),
        (lambda p: p["fields"][1].update(name="station"), "fields.1.name", "unique"),
        (lambda p: p["fields"][1].update(type="blob"), "fields.1.type", "invalid_choice"),
        (lambda p: p.update(fields=[p["fields"][0]] * 501), "fields", "max_items"),
        (lambda p: p.update(computed_at="yesterday"), "computed_at", "type"),
        (lambda p: p["freshness"].update(age_days=float("inf")), "freshness.age_days", "type"),
        (lambda p: p["freshness"].update(fresh="yes"), "freshness.fresh", "type"),
        (lambda p: p.update(undeclared_field_count=0), "undeclared_field_count", "mismatch"),
        (lambda p: p.update(source="ftp"), "source", "invalid_choice"),
        (lambda p: p.update(source=["csv"]), "source", "invalid_choice"),
        (lambda p: p["fields"][1].update(type=["date"]), "fields.1.type", "invalid_choice"),
        (
            lambda p: p["freshness"].update(update_frequency={}),
            "freshness.update_frequency",
            "invalid_choice",
        ),
    ],
)
def test_a_peer_profile_that_could_not_have_been_computed_is_refused(change, field, code):
    profile = profile_compute(RECORDS, FIELDS, "daily", now=NOW)
    change(profile)
    with pytest.raises(ValidationFailed) as refused:
        profile_check(profile)
    error = refused.value.errors[0]
    assert (error.field, error.code) == (field, code)


@pytest.mark.parametrize("junk", [None, [], "profile", 3, {"computed": True}])
def test_junk_is_refused_not_raised(junk):
    with pytest.raises(ValidationFailed):
        profile_check(junk)


def test_the_documented_example_is_the_profile_of_the_example_descriptors_sample():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs" / "examples"
    example = json.loads((docs / "product-profile.json").read_text("utf-8"))
    descriptor = json.loads((docs / "product-descriptor-1.1.json").read_text("utf-8"))
    at = dt.datetime.fromisoformat(example["profile"]["computed_at"])
    records = descriptor["sample"]["records"]
    assert profile_compute(records, descriptor["fields"], descriptor["update_frequency"], now=at) == (
        profile_check(example["profile"])
    )
