"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015): one check for the product descriptor's
provider, participant registrations, evaluations, demands and responses, with one error mapping.

python-stdnum (`stdnum.cn.uscc`) does the check. It requires the first eight characters to be digits, but
GB 32100-2015 also assigns letters as registration authority codes (character 1): `A` (the Central Military
Commission's establishment office), `N` (agriculture: the `N1`/`N2`/`N3` codes of rural collective economic
organisations) and `Y` (other authorities). Those codes are checked here with the same alphabet and
python-stdnum's own check-character computation; every other code goes to `stdnum.cn.uscc.validate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from core.exceptions import FieldError, ValidationFailed
from standards.regions import region_is_valid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: digits and letters without I, O, S, V, Z
LETTER_AUTHORITIES = frozenset("ANY")
# Character 1 a digit or a letter authority, 2–8 digits (entity type and region), 9–18 from the alphabet.
PATTERN = "^[0-9ANY][0-9]{7}[0-9A-HJ-NPQRTUWXY]{10}$"


_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_INDEX = {char: i for i, char in enumerate(ALPHABET)}
_COMPACT = re.compile(PATTERN)


def uscc_is_valid(value: str) -> bool:
    """A fast "yes" for a code already compact and valid (the hot path: imports, feed pages); for anything
    else False, and `uscc_validate` says why. The same weights and alphabet as python-stdnum (tests prove the
    two agree)."""
    if not isinstance(value, str) or len(value) != 18 or not _COMPACT.match(value):
        return False
    total = sum(_INDEX[char] * weight for char, weight in zip(value, _WEIGHTS, strict=False))
    return value[17] == ALPHABET[(31 - total) % 31]


def uscc_compact(value: str) -> str:
    return stdnum_uscc.compact(value)


def uscc_validate(value: str) -> str:
    """The compacted code, or python-stdnum's InvalidLength / InvalidFormat / InvalidChecksum."""
    if uscc_is_valid(value):
        return value
    code = stdnum_uscc.compact(value)
    if len(code) != 18 or code[0] not in LETTER_AUTHORITIES:
        return stdnum_uscc.validate(code)
    if not code[1:8].isdigit() or not code[1:8].isascii() or any(c not in ALPHABET for c in code[8:]):
        raise stdnum_errors.InvalidFormat()
    if code[17] != stdnum_uscc.calc_check_digit(code):
        raise stdnum_errors.InvalidChecksum()
    return code


@dataclass(frozen=True)
class Uscc:
    code: str  # normalised: upper case, no spaces or dashes
    region: str  # the GB/T 2260 code of its characters 3–8


def _error(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def uscc_format_errors(value: str, field: str) -> tuple[str | None, list[FieldError]]:
    """The check-character rules alone (length, alphabet, check character): (the compact code, []) or
    (None, the broken rule). What the product descriptor checks of its provider's code."""
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
    """Check a USCC as an identity (a participant's id): the check-character rules, then structure: a
    registration authority code that is not 0 and a region part that is a GB/T 2260 code."""
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
