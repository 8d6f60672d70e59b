"""Global product code: format, parsing, and the check character catching every typo it promises to catch."""

from __future__ import annotations

import random
import string

import pytest

from core.exceptions import ValidationFailed
from standards.product_code import (
    ProductCode,
    product_code_build,
    product_code_is_valid,
    product_code_parse,
)

TYPED_ALPHABET = string.ascii_uppercase + string.digits + "-*"


def sample_codes(count: int = 300) -> list[str]:
    rng = random.Random(7064)
    codes = ["SHDEX-2026-000123-M", product_code_build(origin="GZDEX", year=2025, serial=1234567)]
    for _ in range(count):
        origin = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(4, 8)))
        serial = rng.choice([rng.randint(1, 999_999), rng.randint(1, 10**10)])
        codes.append(product_code_build(origin=origin, year=rng.randint(2000, 2999), serial=serial))
    return codes


def test_build_matches_the_documented_example():
    assert product_code_build(origin="SHDEX", year=2026, serial=123) == "SHDEX-2026-000123-M"


@pytest.mark.parametrize(
    ("origin", "year", "serial", "code"),
    [
        ("SHDEX", 2026, 123, "SHDEX-2026-000123-M"),
        ("BJDEX", 2024, 42, "BJDEX-2024-000042-J"),
        ("GZDEX", 2025, 1234567, "GZDEX-2025-1234567-O"),
    ],
)
def test_build_and_parse_round_trip(origin, year, serial, code):
    assert product_code_build(origin=origin, year=year, serial=serial) == code
    assert product_code_parse(code) == ProductCode(origin, year, serial)
    assert str(product_code_parse(code)) == code


def test_parse_accepts_lower_case_and_surrounding_spaces():
    assert product_code_parse("  shdex-2026-000123-m\n") == ProductCode("SHDEX", 2026, 123)


def test_serial_grows_beyond_six_digits():
    assert product_code_build(origin="SZDEX", year=2030, serial=999_999).split("-")[2] == "999999"
    assert product_code_build(origin="SZDEX", year=2030, serial=1_000_000).split("-")[2] == "1000000"


@pytest.mark.parametrize(
    ("origin", "year", "serial"),
    [("SH", 2026, 1), ("SHDEXABCD", 2026, 1), ("shdex", 2026, 1), ("SH1X", 2026, 1), ("SHDEX", 1999, 1),
     ("SHDEX", 3000, 1), ("SHDEX", 2026, 0), ("SHDEX", 2026, -5), ("SHDEX", 2026, 10**12), ("SHDEX", True, 1),
     ("SHDEX", 2026, True), ("SHDEX", "2026", 1)],
)  # fmt: skip
def test_build_refuses_impossible_parts(origin, year, serial):
    with pytest.raises(ValueError):
        product_code_build(origin=origin, year=year, serial=serial)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("SHDEX-2026-000123-A", "product_code.checksum"),
        ("SHDEX-2026-000132-M", "product_code.checksum"),
        ("SHDEX-2026-00123-M", "product_code.format"),  # serial shorter than 6 digits
        ("SHDEX-2026-0000123-M", "product_code.format"),  # a second spelling of serial 123
        ("SHDEX-2026-000000-0", "product_code.format"),
        ("SHDEX-1999-000123-M", "product_code.format"),
        ("SHD-2026-000123-M", "product_code.format"),
        ("SHDEX2026000123M", "product_code.format"),
        ("SHDEX-2026-000123-", "product_code.format"),
        ("SHDEX–2026–000123–M", "product_code.format"),
        ("", "product_code.format"),
        (None, "product_code.format"),
        (123, "product_code.format"),
        (["SHDEX-2026-000123-M"], "product_code.format"),
        ("S" * 10**6, "product_code.format"),
    ],
)
def test_parse_refuses_wrong_codes_with_a_reason(code, error):
    with pytest.raises(ValidationFailed) as caught:
        product_code_parse(code)
    assert [(e.field, e.code) for e in caught.value.errors] == [("", error)]
    assert not product_code_is_valid(code)


@pytest.mark.parametrize("code", sample_codes(50))
def test_sample_codes_are_valid(code):
    assert product_code_is_valid(code)
    assert product_code_is_valid(code.lower())


def test_every_single_character_substitution_is_detected():
    checked = 0
    for code in sample_codes():
        for position, original in enumerate(code):
            for replacement in TYPED_ALPHABET:
                if replacement == original:
                    continue
                typo = code[:position] + replacement + code[position + 1 :]
                assert not product_code_is_valid(typo), (code, typo)
                checked += 1
    assert checked > 100_000


def test_every_adjacent_transposition_is_detected():
    checked = 0
    for code in sample_codes():
        for position in range(len(code) - 1):
            first, second = code[position], code[position + 1]
            if first == second:
                continue
            swapped = code[:position] + second + first + code[position + 2 :]
            assert not product_code_is_valid(swapped), (code, swapped)
            checked += 1
    assert checked > 5_000


def test_codes_from_different_origins_never_collide():
    seen = set()
    for origin in ("SHDEX", "BJDEX", "GZDEX", "SZDEX", "ZJDEX"):
        for serial in range(1, 500):
            seen.add(product_code_build(origin=origin, year=2026, serial=serial))
    assert len(seen) == 5 * 499
