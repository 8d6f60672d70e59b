"""Naming rule v1.1 for data products: [subject or region] + data content + form word.

A name is what a buyer sees first in 24 catalogues at once, so every node checks it the same way: it must
say what the data is, where it comes from and what kind of product it is, and it must not advertise itself
with the absolute terms the Advertising Law (《广告法》第九条) forbids. When a name breaks a rule,
`name_check` also offers a compliant name derived from it, so a merchant is told what to write rather than
only what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from core.exceptions import FieldError, ValidationFailed
from standards.naming_match import (  # name_normalize: the N7 form, imported from here by its callers
    code_points,
    forbidden_spans,
    forbidden_terms_used,
    is_allowed,
    is_cjk,
    name_normalize,
    unreadable_characters,
)
from standards.naming_terms import (
    EXEMPT_PHRASES,
    FORBIDDEN_TERMS,
    FORM_WORDS,
    MAX_LENGTH,
    MIN_LENGTH,
    NAMING_RULES,
    NAMING_RULES_VERSION,
)
from standards.regions import (
    NATIONWIDE,
    region_ancestors,
    region_contains,
    region_display_name,
    region_is_valid,
    region_match_prefix,
)
from standards.vocabularies import vocabulary_codes

_ANALYSIS_LIMIT = 200  # past this a name is only "too long": nothing else is worth computing on it

Severity = Literal["error", "warning"]

# Region short forms that are everyday words more often than places (白银 silver, 中山 Sun Yat-sen).
_AMBIGUOUS_SHORT_FORMS = frozenset({"白银", "中山"})
_QUALIFIER_RE = re.compile(r"(?:\s*[(（][^()（）]{1,12}[)）])+$")
_SPACES_RE = re.compile(r"\s+")
_CJK_GAP_RE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")
_CHINESE_NUMBERS = "二三四五六七八九十"


@dataclass(frozen=True)
class NamingViolation:
    rule: str
    code: str
    severity: Severity
    message: str
    message_en: str


@dataclass(frozen=True)
class NamingVerdict:
    compliant: bool
    violations: tuple[NamingViolation, ...]
    suggestion: str | None


_RULES_BY_CODE = {rule["code"]: rule for rule in NAMING_RULES}
_FORM_OF_WORD = sorted(
    ((word.casefold(), form) for form, words in FORM_WORDS.items() for word in words),
    key=lambda pair: len(pair[0]),
    reverse=True,
)


def naming_rules_as_json() -> dict:
    """The rules, form words and term lists, for the docs and `GET`/`POST` endpoints of the standards API."""
    return {
        "version": NAMING_RULES_VERSION,
        "rules": [dict(rule) for rule in NAMING_RULES],
        "form_words": {form: list(words) for form, words in FORM_WORDS.items()},
        "forbidden_terms": list(FORBIDDEN_TERMS),
        "exempt_phrases": list(EXEMPT_PHRASES),
    }


# --- analysis --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    prefix: str
    prefix_kind: Literal["provider", "region", ""]
    region_codes: tuple[str, ...]
    content: str
    form_word: str
    word_form: str | None  # the product form the ending word belongs to
    qualifier: str


def _split(text: str, provider_short_names: Sequence[str]) -> _Parts:
    """Cut a (NFKC-normalized, trimmed) name into prefix, content, form word and trailing qualifier."""
    qualifier_match = _QUALIFIER_RE.search(text)
    qualifier = qualifier_match.group() if qualifier_match and qualifier_match.start() > 0 else ""
    core = text[: len(text) - len(qualifier)].rstrip()
    prefix, kind, codes = "", "", ()
    for short_name in sorted(provider_short_names, key=len, reverse=True):
        if core.startswith(short_name):
            prefix, kind = short_name, "provider"
            break
    else:
        match = region_match_prefix(core)
        if match is not None and not (match.short_form and match.name in _AMBIGUOUS_SHORT_FORMS):
            prefix, kind, codes = match.name, "region", match.codes
    rest = core[len(prefix) :]
    folded = rest.casefold()
    form_word, word_form = "", None
    for word, form in _FORM_OF_WORD:
        if folded.endswith(word) and len(word) <= len(rest):
            form_word, word_form = rest[len(rest) - len(word) :], form
            break
    content = rest[: len(rest) - len(form_word)]
    return _Parts(prefix, kind, codes, content, form_word, word_form, qualifier)  # type: ignore[arg-type]


def _has_content(content: str) -> bool:
    cjk = sum(1 for char in content if is_cjk(char))
    other = sum(1 for char in content if char.isascii() and char.isalnum())
    return cjk >= 2 or other >= 4


def _region_fits(codes: Sequence[str], coverage: Sequence[str]) -> bool:
    """True if the named region overlaps the coverage; 全国 needs nationwide coverage.

    Overlap rather than containment, because 上海市徐汇区… names a district after its city: the registry
    has no county names, so a city prefix must be allowed for a district's data.
    """
    for code in codes:
        if code == NATIONWIDE:
            if NATIONWIDE in coverage:
                return True
            continue
        if any(region_contains(covered, code) or region_contains(code, covered) for covered in coverage):
            return True
    return False


def _violation(code: str, message: str, message_en: str) -> NamingViolation:
    rule = _RULES_BY_CODE[code]
    return NamingViolation(rule["rule"], code, rule["severity"], message, message_en)  # type: ignore[arg-type]


def _form_word_violation(parts: _Parts, product_form: str) -> NamingViolation | None:
    own = "、".join(FORM_WORDS[product_form])
    if parts.word_form == product_form:
        return None
    if parts.word_form is None:
        return _violation(
            "naming.form_word",
            f"名称须以形态词结尾（{product_form}：{own}）",
            f"the name must end with a form word of {product_form}: {', '.join(FORM_WORDS[product_form])}",
        )
    return _violation(
        "naming.form_word",
        f"名称以“{parts.form_word}”结尾，这是{parts.word_form}形态的形态词；{product_form}形态应以{own}结尾",
        f"the name ends with “{parts.form_word}”, a form word of {parts.word_form}, not of {product_form}",
    )


def _character_violations(name: str, stripped: str) -> list[NamingViolation]:
    """N2: characters a name may not have, and apart from them code points that are no character at all."""
    found, unreadable = [], unreadable_characters(stripped)
    bad = [char for char in dict.fromkeys(stripped) if not is_allowed(char) and char not in unreadable]
    if bad or stripped != name:
        shown = code_points(bad)
        found.append(
            _violation(
                "naming.characters",
                f"名称含有不允许的字符 {shown}" if bad else "名称首尾不得有空格",
                f"the name has characters it may not have: {shown}"
                if bad
                else "the name has surrounding spaces",
            )
        )
    if unreadable:
        shown = code_points(unreadable)
        found.append(
            _violation(
                "naming.characters",
                f"名称含有未分配、私用或代理码位 {shown}，它们不是可显示的字符",
                f"the name has unassigned, private-use or surrogate code points (no characters): {shown}",
            )
        )
    return found


def _violations(
    name: str,
    product_form: str,
    coverage: Sequence[str],
    provider_short_names: Sequence[str],
    taken_names: Collection[str],
) -> list[NamingViolation]:
    stripped = name.strip()
    found: list[NamingViolation] = []
    if not MIN_LENGTH <= len(stripped) <= MAX_LENGTH:
        found.append(
            _violation(
                "naming.length",
                f"名称长度为{len(stripped)}个字符，应为{MIN_LENGTH}至{MAX_LENGTH}个字符",
                f"the name has {len(stripped)} characters; it must have {MIN_LENGTH} to {MAX_LENGTH}",
            )
        )
    if len(stripped) > _ANALYSIS_LIMIT:
        return found
    found += _character_violations(name, stripped)
    for match in forbidden_terms_used(stripped):
        found.append(
            _violation(
                "naming.forbidden_term",
                f"名称含有《广告法》禁止的绝对化用语“{match.shown}”",
                f"the name uses “{match.shown_en}”, "
                "an absolute term forbidden by the Advertising Law (Art. 9)",
            )
        )
    text = unicodedata.normalize("NFKC", stripped)
    parts = _split(text, provider_short_names)
    form_problem = _form_word_violation(parts, product_form)
    if form_problem is not None:
        found.append(form_problem)
    if not _has_content(parts.content):
        found.append(
            _violation(
                "naming.content",
                "名称缺少数据内容：去除前缀和形态词后至少需要2个汉字或4个字母数字",
                "the name says nothing about the data: keep ≥2 CJK or ≥4 other characters",
            )
        )
    if not parts.prefix:
        found.append(
            _violation(
                "naming.subject",
                "名称宜以地域名称或提供方简称开头，如“上海市…”",
                "the name should start with a region or the provider's short name, e.g. 上海市…",
            )
        )
    elif parts.prefix_kind == "region" and coverage and not _region_fits(parts.region_codes, coverage):
        found.append(
            _violation(
                "naming.region_mismatch",
                f"名称以“{parts.prefix}”开头，但该地域与产品覆盖地域不符",
                f"the name starts with {parts.prefix}, which does not match the product's spatial coverage",
            )
        )
    if name_normalize(stripped) in taken_names:
        found.append(
            _violation(
                "naming.duplicate",
                "该提供方已有同名产品",
                "the provider already lists a product with this name",
            )
        )
    return found


# --- suggestion ------------------------------------------------------------------------------------------


def _region_prefix_for(coverage: Sequence[str]) -> str | None:
    """The name of the first covered region (or its city) that, put in front, reads back as fitting."""
    for covered in coverage:
        for code in region_ancestors(covered):  # a district has no name here: use its city's
            display = region_display_name(code)
            if display is None or (code == NATIONWIDE and covered != NATIONWIDE):
                continue
            match = region_match_prefix(display)
            if match is not None and match.name == display and _region_fits(match.codes, coverage):
                return display
    return None


def _default_form_word(content: str, product_form: str) -> tuple[str, str]:
    word = FORM_WORDS[product_form][0]
    if content.endswith("数据") and word.startswith("数据") and len(word) > 2:
        return content[:-2], word  # 企业信用数据 + 数据集 → 企业信用数据集
    return content, word


def _numbered(base: str, taken: Collection[str]) -> str | None:
    for index in range(2, 100):
        suffix = f"（{_CHINESE_NUMBERS[index - 2]}）" if index <= 10 else f"（{index}）"
        candidate = base + suffix
        if len(candidate) > MAX_LENGTH:
            return None
        if name_normalize(candidate) not in taken:
            return candidate
    return None


def _suggest(
    name: str, product_form: str, coverage: Sequence[str], short_names: Sequence[str], taken: Collection[str]
) -> str | None:
    text = unicodedata.normalize("NFKC", name.strip())[: _ANALYSIS_LIMIT * 2]
    for _ in range(5):  # removing one term can join two halves into another
        dropped = {index for start, end, _term in forbidden_spans(text) for index in range(start, end)}
        if not dropped:
            break
        text = "".join(char for index, char in enumerate(text) if index not in dropped)
    text = "".join(char if is_allowed(char) else " " for char in text)
    text = _CJK_GAP_RE.sub("", _SPACES_RE.sub(" ", text)).strip()
    parts = _split(text, short_names)
    prefix = parts.prefix
    if parts.prefix_kind == "region" and coverage and not _region_fits(parts.region_codes, coverage):
        prefix = ""
    if not prefix:
        prefix = _region_prefix_for(coverage) or ""
    content = parts.content.strip(" _-—·")
    form_word = parts.form_word if parts.word_form == product_form else ""
    if not form_word:
        content, form_word = _default_form_word(content, product_form)
    qualifier = parts.qualifier.strip()
    room = MAX_LENGTH - len(prefix) - len(form_word) - len(qualifier)
    if len(content) > room:
        qualifier, room = "", MAX_LENGTH - len(prefix) - len(form_word)
        content = content[: max(room, 0)].rstrip(" _-—·")
    candidate = prefix + content + form_word + qualifier
    if name_normalize(candidate) in taken:
        numbered = _numbered(prefix + content + form_word, taken)
        if numbered is None:
            return None
        candidate = numbered
    return candidate


# --- entry point -----------------------------------------------------------------------------------------


def _clean_strings(values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Collection):
        return ()
    return tuple(value.strip() for value in values if isinstance(value, str) and value.strip())


def name_check(
    name: object,
    *,
    product_form: str,
    spatial_coverage: Sequence[str] = (),
    provider_short_names: Sequence[str] = (),
    taken_names: Collection[str] = (),
    suggest: bool = True,
) -> NamingVerdict:
    """Check a product name against rules N1–N7; `taken_names` must already be `name_normalize`d.

    `suggest=False` skips computing a compliant suggestion (writers that only need the verdict).

    Raises ValidationFailed only for input that is not a name at all (a non-string, an unknown product form).
    """
    if not isinstance(product_form, str) or product_form not in vocabulary_codes("product_form"):
        allowed = ", ".join(sorted(vocabulary_codes("product_form")))
        raise ValidationFailed(
            [
                FieldError(
                    "product_form",
                    "invalid_choice",
                    f"产品形态必须是以下之一：{allowed}",
                    f"product_form must be one of: {allowed}",
                )
            ]
        )
    if not isinstance(name, str):
        raise ValidationFailed([FieldError("name", "type", "产品名称必须是字符串", "name must be a string")])
    coverage = tuple(code for code in _clean_strings(spatial_coverage) if region_is_valid(code))
    short_names = tuple(
        n
        for n in (unicodedata.normalize("NFKC", s) for s in _clean_strings(provider_short_names))
        if len(n) >= 2
    )
    taken = taken_names if isinstance(taken_names, Collection) and not isinstance(taken_names, str) else ()
    found = _violations(name, product_form, coverage, short_names, taken)
    suggestion = None
    if found and suggest:
        candidate = _suggest(name, product_form, coverage, short_names, taken)
        if candidate and candidate != name:
            retry = _violations(candidate, product_form, coverage, short_names, taken)
            if not any(v.severity == "error" for v in retry):
                suggestion = candidate
    return NamingVerdict(
        compliant=not any(v.severity == "error" for v in found),
        violations=tuple(found),
        suggestion=suggestion,
    )
