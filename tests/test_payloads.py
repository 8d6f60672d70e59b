"""The payload field readers every record type's apply path shares (federation/payloads.py)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.exceptions import ValidationFailed
from federation.payloads import choice_field, date_field, reasons_field, text_field, time_field, time_text


def _refusal(fn, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        fn(*args, **kwargs)
    (error,) = caught.value.errors
    return error.field, error.code


def test_times_travel_in_utc_and_come_back_equal():
    local = datetime(2026, 11, 27, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    assert time_text(local) == "2026-11-27T12:00:00+00:00" and time_text(None) is None
    assert time_field({"at": time_text(local)}, "at") == local


@pytest.mark.parametrize(
    ("value", "required", "refused"),
    [
        (None, True, ("at", "type")),
        (12, False, ("at", "type")),
        ("x" * 41, False, ("at", "type")),
        ("27/11/2026", False, ("at", "format")),
        ("2026-11-27T12:00:00", False, ("at", "format")),  # no time zone
    ],
)
def test_bad_times_are_refused_naming_the_field(value, required, refused):
    assert _refusal(time_field, {"at": value}, "at", required=required) == refused


def test_a_missing_optional_time_is_none():
    assert time_field({"at": None}, "at") is None
    assert time_field({"at": "2026-01-01T00:00:00Z"}, "at", required=True) == datetime(2026, 1, 1, tzinfo=UTC)


def test_dates_texts_and_reasons():
    assert date_field({"d": "2026-02-28"}, "d") == date(2026, 2, 28)
    assert _refusal(date_field, {"d": "2026-02-30"}, "d") == ("d", "format")
    assert _refusal(date_field, {"d": 20260228}, "d") == ("d", "type")
    assert text_field({"t": "评价"}, "t", 10) == "评价"
    assert _refusal(text_field, {"t": "长" * 11}, "t", 10) == ("t", "type")
    assert _refusal(text_field, {"t": "  "}, "t", 10, required=True) == ("t", "type")
    assert reasons_field(["a"] * 20) == ["a"] * 20
    assert _refusal(reasons_field, ["a"] * 21) == ("reasons", "type")
    assert _refusal(reasons_field, ["a" * 501], "status_reasons") == ("status_reasons", "type")
    assert _refusal(reasons_field, "not a list") == ("reasons", "type")


def test_choices_are_strings_of_the_vocabulary():
    from products.models import RecognitionStatus

    assert choice_field({"s": "recognised"}, "s", RecognitionStatus) == "recognised"
    for bad in ("unknown", ["recognised"], {"a": 1}, None, 1):
        assert _refusal(choice_field, {"s": bad}, "s", RecognitionStatus) == ("s", "invalid_choice")


def test_choices_from_a_set_of_codes_and_the_exact_fields():
    from federation.payloads import fields_exact

    codes = frozenset({"quality", "security"})
    assert choice_field({"d": "quality"}, "d", codes) == "quality"
    assert _refusal(choice_field, {"d": ["quality"]}, "d", codes) == ("d", "invalid_choice")
    fields_exact({"a": 1, "b": 2}, frozenset({"a", "b"}), "a test payload")
    assert _refusal(fields_exact, {"a": 1}, frozenset({"a", "b"}), "a test payload") == ("", "fields")
