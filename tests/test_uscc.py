"""The USCC per GB 32100-2015 and GB 11714-1997 together (standards/uscc.py): test vectors for each rule, the
letter registration authorities accepted and a wrong organisation code refused everywhere a USCC is read (the
descriptor's provider, a registration, every replicated record type), the JSON Schema's pattern in step.

The vectors were computed apart from standards/uscc.py (GB 11714: weights 3, 7, 9, 10, 5, 8, 4, 2, letters
A–Z worth 10–35, check 11 − (sum mod 11) with 10 → X and 11 → 0; GB 32100: python-stdnum's weights over its
31-character alphabet); two are real codes (python-stdnum's example and the docs' example provider).
"""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from core.exceptions import ValidationFailed
from standards.descriptor import descriptor_json_schema, descriptor_validate
from standards.uscc import (
    PATTERN,
    organisation_check_character,
    uscc_errors,
    uscc_format_errors,
    uscc_is_valid,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))

VALID = {
    "1": "12100000400000624D",  # institutional establishment (机构编制)
    "5": "51440300MJL000067X",  # civil affairs (民政): a social organisation
    "9": "91110000600037341L",  # market regulation (工商): python-stdnum's own example
    "9-docs": "91310000MA1FL8XK2Y",  # the docs' example provider
    "9-X": "91440300XHXL35LPXG",  # an organisation code whose check character is X
    "A": "A1110000MA01C3RW50",  # the Central Military Commission's establishment office
    "N": "N2520100MA6DX8KU4A",  # agriculture: a rural collective economic organisation
    "Y": "Y1310115MA1H0B9E6U",  # other authorities
}
# Character 18 right for the 17 before it, characters 9–17 not an organisation code: python-stdnum says valid.
BAD_ORGANISATION = {
    "9": "91110000600037342P",  # 60003734 has check character 1, not 2
    "A": "A1110000MA01C3RW0G",  # MA01C3RW has 5
    "letter": "91310000MA1FL8XKAP",  # a check character is a digit or X
}


@pytest.mark.parametrize("code", VALID.values(), ids=VALID.keys())
def test_valid_codes_of_every_kind_of_authority(code):
    assert uscc_is_valid(code)
    parsed, errors = uscc_errors(code)
    assert errors == [] and parsed.code == code and parsed.region == code[2:8]
    assert re.match(PATTERN, code)
    assert organisation_check_character(code[8:16]) == code[16]


@pytest.mark.parametrize(
    ("body", "check"),
    [("60003734", "1"), ("MA1FL8XK", "2"), ("40000062", "4"), ("XHXL35LP", "X"), ("8LN9ENAF", "0")],
)
def test_gb_11714_check_character(body, check):
    assert organisation_check_character(body) == check


@pytest.mark.parametrize("code", BAD_ORGANISATION.values(), ids=BAD_ORGANISATION.keys())
def test_a_wrong_organisation_code_is_its_own_error(code):
    assert stdnum_uscc.is_valid(code) or code[0] == "A"  # python-stdnum alone lets it through
    assert not uscc_is_valid(code)
    _, errors = uscc_errors(code)
    assert [(e.field, e.code) for e in errors] == [("uscc", "uscc.organisation_code")]
    assert "GB 11714" in errors[0].message_en and "组织机构代码" in errors[0].message


def _checked(first17: str) -> str:
    """The 17 characters with their GB 32100 check character (python-stdnum's computation)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("91110000600037341M", "uscc.checksum"),  # a wrong GB 32100 check character
        ("A1110000MA01C3RW51", "uscc.checksum"),
        (
            "91110000600037351L",
            "uscc.checksum",
        ),  # a typo in the organisation code: character 18 says so first
        ("9111000O600037341L", "uscc.format"),  # letters where digits must be: characters 2–8
        ("NA520100MA6DX8KU4A", "uscc.format"),
        (_checked("B1110000MA01C3RW5"), "uscc.format"),  # B is no registration authority
        ("91110000600037I41L", "uscc.format"),  # I, O, S, V, Z are never used
        ("91110000600037341", "uscc.length"),
        ("91110000600037341LL", "uscc.length"),
    ],
)
def test_each_character_rule_refuses_with_its_code(value, rule):
    assert not uscc_is_valid(value)
    assert [e.code for e in uscc_format_errors(value, "uscc")[1]] == [rule]
    assert [e.code for e in uscc_errors(value)[1]] == [rule]


@pytest.mark.parametrize(
    ("value", "rule"),
    [(_checked("01110000600037341"), "uscc.authority"), (_checked("91990000600037341"), "uscc.region")],
)
def test_an_identity_also_needs_an_assigned_authority_and_a_known_region(value, rule):
    """The product descriptor checks the characters alone (its provider must be registered anyway)."""
    assert uscc_format_errors(value, "uscc") == (value, [])
    assert [e.code for e in uscc_errors(value)[1]] == [rule]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (" 91310000 ma1fl8xk2y ", "91310000MA1FL8XK2Y"),
        ("91310000-MA1FL8XK-2Y", "91310000MA1FL8XK2Y"),
        ("n2520100ma6dx8ku4a", "N2520100MA6DX8KU4A"),
        ("Y131 0115 MA1H 0B9E 6U", "Y1310115MA1H0B9E6U"),
        (
            "９１３１００００－MA1FL8XK2Y",
            "91310000MA1FL8XK2Y",
        ),  # full-width digits and hyphen (python-stdnum)
    ],
)
def test_lower_case_spaces_and_hyphens_are_compacted(value, code):
    assert uscc_format_errors(value, "uscc") == (code, [])
    assert uscc_errors(value)[0].code == code


def _candidate(rng: random.Random) -> str:
    """A code-shaped string: right or wrong characters anywhere, often right sums."""
    anything = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    head = rng.choice("0123456789ANYB") + "".join(rng.choice("0123456789" * 9 + "K") for _ in range(7))
    body = "".join(rng.choice(anything) for _ in range(8))
    check = rng.choice([organisation_check_character(body), "X", rng.choice(anything)])
    code = head + body + check
    if all(c in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in code):
        return code + stdnum_uscc.calc_check_digit(code)
    return code + rng.choice(anything)


def test_the_schema_pattern_is_the_checks_own_character_rule():
    """The descriptor's JSON Schema publishes PATTERN, the check's own fast path uses it: every valid code
    matches it, and a code it does not match is refused by the check."""
    provider = descriptor_json_schema()["properties"]["provider"]["properties"]
    assert provider["uscc"]["pattern"] == PATTERN
    rng = random.Random(11714)
    valid = 0
    for _ in range(30000):
        candidate = _candidate(rng)
        if uscc_format_errors(candidate, "uscc")[1] == []:
            valid += 1
            assert re.match(PATTERN, candidate), candidate
        if not re.match(PATTERN, candidate):
            assert uscc_format_errors(candidate, "uscc")[1], candidate
    assert valid > 1000


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_a_descriptor_names_a_letter_authority_provider(authority):
    code = {"A": VALID["A"], "N": VALID["N"], "Y": VALID["Y"]}[authority]
    data = copy.deepcopy(EXAMPLE)
    data["provider"]["uscc"] = code.lower()
    assert descriptor_validate(data)["provider"]["uscc"] == code


def test_a_descriptor_with_a_wrong_organisation_code_is_refused():
    data = copy.deepcopy(EXAMPLE)
    data["provider"]["uscc"] = BAD_ORGANISATION["9"]
    with pytest.raises(ValidationFailed) as refused:
        descriptor_validate(data)
    assert [(e.field, e.code) for e in refused.value.errors] == [("provider.uscc", "uscc.organisation_code")]


# --- every place a USCC is read -----------------------------------------------------------------------------
PARTICIPANT = json.loads((ROOT / "docs/examples/participant.json").read_text("utf-8"))


@pytest.mark.django_db
@pytest.mark.no_example_provider
@pytest.mark.parametrize("kind", ["1", "5", "A", "N", "Y"])
def test_a_registration_with_any_authority_is_accepted(alice_api, kind):
    code = VALID[kind]
    response = alice_api.post("/api/v1/participants/", {**PARTICIPANT, "uscc": code.lower()}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["id"] == code and response.json()["region"] == code[2:8]


@pytest.mark.django_db
@pytest.mark.no_example_provider
def test_a_registration_with_a_wrong_organisation_code_is_refused(alice_api):
    response = alice_api.post(
        "/api/v1/participants/", {**PARTICIPANT, "uscc": BAD_ORGANISATION["9"]}, format="json"
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["error"]["errors"]] == [
        ("uscc", "uscc.organisation_code")
    ]


def _swapped(entries: list[dict], codes: dict[str, str]) -> list[dict]:
    """The entries with each USCC replaced (payloads and gids alike)."""
    text = json.dumps(entries, ensure_ascii=False)
    for old, new in codes.items():
        text = text.replace(old, new)
    return json.loads(text)


def _with_authority(code: str, authority: str) -> str:
    return _checked(authority + code[1:17])


def _with_bad_organisation(code: str) -> str:
    wrong = "0" if code[16] != "0" else "1"
    return _checked(code[:16] + wrong)


@pytest.mark.django_db
def test_every_replicated_type_accepts_letter_authorities_and_refuses_a_wrong_organisation_code(settings):
    """Each record type's apply check (`prepare`, public and private types alike) on entries as an origin
    writes them, with every USCC in them (provider, participant, subject, demander, responder) swapped for a
    code of a letter authority, then for one whose organisation code is wrong."""
    from federation import replica
    from tests.test_federation_apply import DEMANDER, SELLER, _origin_entries

    entries = _origin_entries(settings)
    originals = [EXAMPLE["provider"]["uscc"], PARTICIPANT["uscc"], DEMANDER, SELLER]
    assert all(uscc_is_valid(code) for code in originals)
    types = {e["type"] for e in entries}
    assert {"product", "participant", "participant_recognition", "evaluation", "demand"} <= types
    assert {"demand_response", "response_decision"} <= types

    lettered = {code: _with_authority(code, "ANYA"[i]) for i, code in enumerate(originals)}
    for entry in _swapped(entries, lettered):
        replica.get(entry["type"]).prepare(entry["origin"], entry["gid"], entry["payload"])

    bad = {code: _with_bad_organisation(code) for code in originals}
    assert all(stdnum_uscc.is_valid(code) for code in bad.values())  # python-stdnum alone accepts them
    refused = set()
    for entry in _swapped(entries, bad):
        holds = any(code in json.dumps(entry) for code in bad.values())
        if not holds:
            replica.get(entry["type"]).prepare(entry["origin"], entry["gid"], entry["payload"])
            continue
        with pytest.raises(ValidationFailed) as caught:
            replica.get(entry["type"]).prepare(entry["origin"], entry["gid"], entry["payload"])
        assert "uscc.organisation_code" in {e.code for e in caught.value.errors}, entry
        refused.add(entry["type"])
    assert {"product", "participant", "participant_recognition", "evaluation", "demand"} <= refused
    assert {"demand_response"} <= refused


def test_every_uscc_written_in_the_docs_and_the_sample_data_is_valid():
    """The codes a reader copies (docs, examples, README, benchmarks, sample data, the tests' factories) pass
    the whole check; the tests' deliberately broken codes stay in the tests."""
    shaped = re.compile(r"(?<![0-9A-Za-z])[0-9A-Z][0-9]{7}[0-9A-Z]{10}(?![0-9A-Za-z])")
    # Every text a reader copies from docs/ (the screenshots there are pictures, not text).
    docs = [p for p in (ROOT / "docs").rglob("*.*") if p.suffix != ".png"]
    files = [ROOT / "README.md", ROOT / "tests/factories.py", *docs]
    files += [*(ROOT / "bench").rglob("*.py"), *(ROOT / "products").rglob("*.py")]
    found = {}
    for path in files:
        for code in shaped.findall(path.read_text("utf-8")):
            found.setdefault(code, path.relative_to(ROOT))
    assert "91310115AY4CL12T2E" in found and "91310000MA1FL8XK2Y" in found
    assert {code: where for code, where in found.items() if uscc_errors(code)[1]} == {}
