"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015): one check for the product descriptor's
provider and for participant registrations.

python-stdnum (`stdnum.cn.uscc`) does the check. It requires the first eight characters to be digits, but
GB 32100-2015 also assigns letters as registration authority codes (character 1): `A` (the Central Military
Commission's establishment office), `N` (agriculture: the `N1`/`N2`/`N3` codes of rural collective economic
organisations) and `Y` (other authorities). Those codes are checked here with the same alphabet and
python-stdnum's own check-character computation; every other code goes to `stdnum.cn.uscc.validate`.
"""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

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
