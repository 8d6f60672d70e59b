"""A usage policy as readable text, in Chinese and in English, for the contract's readable rendering and for
people reading an offer: one line per field, codes replaced by their labels in vocabulary order, region codes
by their names."""

from __future__ import annotations

from standards.regions import region_get, region_province
from standards.usage_policy import policy_clean
from standards.usage_policy_terms import ACTION, PURPOSE, TERRITORY
from standards.vocabularies import Term

_LABELS = {t.code: t for t in (*ACTION, *PURPOSE, *TERRITORY)}
_ORDER = {t.code: i for terms in (ACTION, PURPOSE, TERRITORY) for i, t in enumerate(terms)}


def _label(code: str, language: str) -> str:
    term: Term | None = _LABELS.get(code)
    if term is not None:
        return term.zh if language == "zh" else term.en
    region = region_get(code)
    if region is None:  # a county-level code: no name in the table, its province's beside it
        province = region_province(code)
        return f"{code}（{province.name_zh}）" if province and language == "zh" else code
    return region.name_zh if language == "zh" or not region.name_en else region.name_en


def _join(codes: list[str], language: str, none: str) -> str:
    separator = "、" if language == "zh" else ", "
    ordered = sorted(codes, key=lambda code: (code not in _ORDER, _ORDER.get(code, 0), code))
    return separator.join(_label(code, language) for code in ordered) or none


def policy_text(policy: dict, *, language: str = "zh") -> list[str]:
    """The lines of a (valid) policy's readable text, `language` "zh" or "en". Raises ValidationFailed for an
    invalid policy, as policy_clean does."""
    p = policy_clean(policy)
    c = p["constraints"]
    if language == "zh":
        yes_no = {True: "是", False: "否"}
        lines = [
            f"使用策略（v{p['version']}）",
            f"允许的行为：{_join(p['permissions'], 'zh', '无')}",
            f"禁止的行为：{_join(p['prohibitions'], 'zh', '无')}",
            f"用途：{_join(c['purpose'], 'zh', '无')}",
            f"使用地域：{_join(c['territory'], 'zh', '无')}",
            f"使用期限：{c['duration_days']}天" if c["duration_days"] else "使用期限：不限",
            f"使用人数：最多{c['max_users']}人" if c["max_users"] else "使用人数：不限",
            f"到期删除：{yes_no[c['delete_at_end']]}",
            f"仅限去标识化使用：{yes_no[c['deidentified_only']]}",
        ]
        return lines + ([f"备注：{p['remarks']}"] if p["remarks"] else [])
    yes_no = {True: "yes", False: "no"}
    lines = [
        f"Usage policy (v{p['version']})",
        f"Permitted: {_join(p['permissions'], 'en', 'nothing')}",
        f"Prohibited: {_join(p['prohibitions'], 'en', 'nothing')}",
        f"Purposes: {_join(c['purpose'], 'en', 'none')}",
        f"Territory: {_join(c['territory'], 'en', 'none')}",
        f"Duration: {c['duration_days']} days" if c["duration_days"] else "Duration: unlimited",
        f"Users: at most {c['max_users']}" if c["max_users"] else "Users: unlimited",
        f"Delete at the end: {yes_no[c['delete_at_end']]}",
        f"De-identified use only: {yes_no[c['deidentified_only']]}",
    ]
    return lines + ([f"Remarks: {p['remarks']}"] if p["remarks"] else [])
