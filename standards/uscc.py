"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015): one check for the product descriptor's
provider, participant registrations, evaluations, demands and responses, with one error mapping.

A code is 18 characters: 1 the registration authority (登记管理部门代码: `1`–`9`, `A`, `N`, `Y`), 2 the
entity category, 3–8 the GB/T 2260 region, 9–17 the organisation code (主体标识码) of GB 11714-1997 (8 body
characters and its own check character, a digit or `X`), 18 the GB 32100 check character (weighted sum modulo
31 over the 31-character alphabet that leaves out I, O, S, V and Z).

What python-stdnum 2.2 (`stdnum.cn.uscc`, pinned in pyproject.toml) does:

* `compact`: maps look-alike characters to ASCII (full-width digits such as `９`, the ideographic space, the
  full-width hyphen and other dashes), removes spaces and `-`, upper-cases and strips;
* `validate`: 18 characters (`InvalidLength`); characters 1–8 ASCII digits (`InvalidFormat`); characters 9–18
  from the alphabet (`InvalidFormat`); character 18 the GB 32100 check character (`InvalidChecksum`).

What it does not do, and this module adds:

* it refuses every code whose character 1 is a letter, but GB 32100-2015 assigns `A` (the Central Military
  Commission's establishment office), `N` (agriculture: `N1`/`N2`/`N3`, rural collective economic
  organisations) and `Y` (other authorities): such codes are checked here with the same alphabet and
  python-stdnum's own check-character computation (characters 2–8 still digits); any other letter is
  `InvalidFormat`;
* it never checks characters 9–17 as an organisation code: a code made up by computing only character 18
  over any 17 characters passes it, though GB 32100 makes characters 9–17 a GB 11714 code with its own check
  character (weights 3, 7, 9, 10, 5, 8, 4, 2 over the body, digits worth 0–9 and letters A–Z worth 10–35;
  check = 11 − (sum mod 11), 10 written `X`, 11 written `0`). That check runs after GB 32100's, so a mistyped
  character is reported as the wrong check character it most likely is, and a code whose character 18 is
  right but whose organisation code is not is `InvalidOrganisationCode` (`uscc.organisation_code`);
* it accepts registration authority `0` (unassigned) and any region: `uscc_errors` (a participant's identity)
  refuses those; the product descriptor checks only the characters (`uscc_format_errors`), its provider being
  a registered participant in any case.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from core.exceptions import FieldError, ValidationFailed
from standards.regions import region_is_valid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: digits and letters without I, O, S, V, Z
LETTER_AUTHORITIES = frozenset("ANY")
# Character 1 a digit or a letter authority, 2–8 digits (entity type and region), 9–16 from the alphabet (the
# organisation code's body), 17 a digit or X (its GB 11714 check character), 18 from the alphabet.
PATTERN = "^[0-9ANY][0-9]{7}[0-9A-HJ-NPQRTUWXY]{8}[0-9X][0-9A-HJ-NPQRTUWXY]$"


_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_INDEX = {char: i for i, char in enumerate(ALPHABET)}
_COMPACT = re.compile(PATTERN)
# GB 11714-1997: a body character's value (digits 0–9, letters A–Z 10–35) and the weights of the 8 positions.
_ORG_VALUE = {char: i for i, char in enumerate(string.digits + string.ascii_uppercase)}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHECK = "0123456789X0"  # 11 − (sum mod 11), from 1 to 11: 10 is X, 11 is 0


class InvalidOrganisationCode(stdnum_errors.ValidationError):
    """Characters 9–17 are not a GB 11714 organisation code (its check character is wrong)."""

    message = "The organisation code's check character is wrong (GB 11714)."


def organisation_check_character(body: str) -> str:
    """The GB 11714-1997 check character of an organisation code's 8 body characters (digits, A–Z)."""
    total = sum(_ORG_VALUE[char] * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    return _ORG_CHECK[11 - total % 11]


def _organisation_code_is_valid(code: str) -> bool:
    """Characters 9–17 of a USCC whose characters are already checked: body 9–16, check character 17."""
    return code[16] == organisation_check_character(code[8:16])


def uscc_is_valid(value: str) -> bool:
    """A fast "yes" for a code already compact and valid (the hot path: imports, feed pages); for anything
    else False, and `uscc_validate` says why. The same weights and alphabet as python-stdnum (tests prove the
    two agree), then the organisation code's check."""
    if not isinstance(value, str) or len(value) != 18 or not _COMPACT.match(value):
        return False
    total = sum(_INDEX[char] * weight for char, weight in zip(value, _WEIGHTS, strict=False))
    return value[17] == ALPHABET[(31 - total) % 31] and _organisation_code_is_valid(value)


def uscc_compact(value: str) -> str:
    return stdnum_uscc.compact(value)


def uscc_validate(value: str) -> str:
    """The compacted code, or python-stdnum's InvalidLength / InvalidFormat / InvalidChecksum, or
    InvalidOrganisationCode, in that order."""
    if uscc_is_valid(value):
        return value
    code = stdnum_uscc.compact(value)
    if len(code) != 18 or code[0] not in LETTER_AUTHORITIES:
        code = stdnum_uscc.validate(code)
    elif not code[1:8].isdigit() or not code[1:8].isascii() or any(c not in ALPHABET for c in code[8:]):
        raise stdnum_errors.InvalidFormat()
    elif code[17] != stdnum_uscc.calc_check_digit(code):
        raise stdnum_errors.InvalidChecksum()
    if not _organisation_code_is_valid(code):
        raise InvalidOrganisationCode()
    return code


@dataclass(frozen=True)
class Uscc:
    code: str  # normalised: upper case, no spaces or dashes
    region: str  # the GB/T 2260 code of its characters 3–8


def _error(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def uscc_format_errors(value: str, field: str) -> tuple[str | None, list[FieldError]]:
    """The character rules alone (length, alphabet, GB 32100 check character, GB 11714 organisation code):
    (the compact code, []) or (None, the first broken rule). What the product descriptor checks of its
    provider's code."""
    if uscc_is_valid(value):
        return value, []
    try:
        return uscc_validate(value), []
    except stdnum_errors.InvalidLength:
        return None, [
            _error(field, "uscc.length", "统一社会信用代码应为18位", "The USCC must have 18 characters")
        ]
    except stdnum_errors.InvalidChecksum:
        return None, [
            _error(field, "uscc.checksum", "统一社会信用代码校验位错误", "The USCC check character is wrong")
        ]
    except InvalidOrganisationCode:
        return None, [
            _error(
                field,
                "uscc.organisation_code",
                "统一社会信用代码第9–17位的组织机构代码校验码错误（GB 11714）",
                "The organisation code in the USCC (characters 9–17) has a wrong check character (GB 11714)",
            )
        ]
    except stdnum_errors.ValidationError:
        return None, [
            _error(
                field,
                "uscc.format",
                "统一社会信用代码含有不允许的字符（首位为数字或A、N、Y，2–8位为数字，其余不含I、O、Z、S、V）",
                "The USCC has characters it may not have (digit or A/N/Y, 7 digits, then no I, O, Z, S, V)",
            )
        ]


def uscc_errors(value: object, field: str = "uscc") -> tuple[Uscc | None, list[FieldError]]:
    """Check a USCC as an identity (a participant's id): the character rules (`uscc_format_errors`), then
    structure: a registration authority code that is not 0 and a region part that is a GB/T 2260 code."""
    if not isinstance(value, str):
        return None, [_error(field, "type", "必须是字符串", "Must be a string")]
    code, errors = uscc_format_errors(value, field)
    if errors:
        return None, errors
    if code[0] == "0":
        return None, [
            _error(
                field,
                "uscc.authority",
                "登记管理部门代码无效",
                "The registration authority code 0 is not assigned",
            )
        ]
    region = code[2:8]
    if not region_is_valid(region):
        return None, [
            _error(
                field,
                "uscc.region",
                f"统一社会信用代码中的行政区划码 {region} 不是有效的 GB/T 2260 代码",
                f"The region part {region} of the USCC is not a GB/T 2260 code",
            )
        ]
    return Uscc(code=code, region=region), []


def uscc_parse(value: object, field: str = "uscc") -> Uscc:
    """The checked USCC, or ValidationFailed naming `field` and the rule."""
    parsed, errors = uscc_errors(value, field)
    if errors:
        raise ValidationFailed(errors)
    return parsed
