"""The naming rule's variant-character table (naming rule v1.1, read by `standards.naming_match`):
characters a reader takes for another, mapped to the one the forbidden terms and exempt phrases use.

A forbidden term written with other characters is the same boast to a buyer: 國家級 (traditional),
惟一 and 苐一 (variant forms), 冣全 (an old form of 最), 第壹 (a capital numeral). The table gives,
for **every character of every forbidden term** (`naming_terms.FORBIDDEN_TERMS`), its traditional
and common variant forms; and for every character of the exempt phrases (`EXEMPT_PHRASES`) its
traditional forms, so that an exempt phrase in traditional characters (國家級自然保護區, 第一產業)
stays exempt.

Where the forms come from:

* Traditional forms: OpenCC's character tables, STCharacters.txt (simplified to traditional) and
  TSCharacters.txt (traditional to simplified), every form listed for a character; with the
  Japanese forms its JPVariants.txt gives for those (発 髪 対 権 絶 産 検 済 経 恵), the same
  characters to a Chinese reader.
* Variant forms (异体字) in use, added by hand: 冣 㝡 (最), 苐 (第), 惟 (唯: 惟一 is a common
  spelling of 唯一), 彊 (强), 髙 (高), 丗 卋 (世), 囯 圀 (国), 毬 (球), 冝 (宜), 乆 (久).
* Capital numerals (大写数字), read as the numeral they stand for: 壹 弌 壱 (一), 贰 貳 弍 (二),
  佰 (百).
* Look-alikes nobody tells apart in a name: 笫 (drawn as 第); Cyrillic о р т and Greek ο ρ τ ν
  (drawn as the Latin letters of NO.1 and TOP1; a name is case-folded before the table is read).
  Characters drawn like 一 (— ― ─ ━ ー ㄧ ㇐) are not here: they are separators too, and the
  reading lets them stand for 一 or for nothing (`naming_match`).

These characters of the terms have no traditional or variant form in common use, and no entry:
佳 好 新 全 大 低 先 便 威 精 界 宇 宙 尖 品 首 能 分 之 王 牌 袖 史 前 例 古 人 永. Full-width and
compatibility forms (ＮＯ, ⼀, ㈠, the CJK compatibility ideographs) need none: NFKC maps them
before the table is read. `tests/test_naming_variants.py` checks that every form listed here,
in any term or exempt phrase, reads as the term or phrase.

The table changes only what a name is compared as, never what is stored or shown.
"""

from __future__ import annotations

# The form the terms are written with → the forms read as it.
_FORMS: dict[str, str] = {
    # characters of the forbidden terms
    "最": "冣㝡",
    "第": "苐笫",
    "一": "壹弌壱",
    "二": "贰貳弍",
    "百": "佰",
    "唯": "惟",
    "优": "優",
    "强": "強彊",
    "高": "髙",
    "准": "準",
    "进": "進",
    "权": "權権",
    "独": "獨",
    "无": "無",
    "国": "國囯圀",
    "家": "傢",
    "级": "級",
    "世": "丗卋",
    "球": "毬",
    "宜": "冝",
    "久": "乆",
    "顶": "頂",
    "极": "極",
    "致": "緻",
    "个": "個箇",
    "发": "發髮発髪",
    "选": "選",
    "绝": "絕絶",
    "对": "對対",
    "万": "萬",
    "网": "網",
    "领": "領",
    "敌": "敵",
    # characters of the exempt phrases only
    "资": "資",
    "产": "產産",
    "业": "業",
    "标": "標",
    "识": "識",
    "湿": "濕溼",
    "农": "農",
    "护": "護",
    "区": "區",
    "经": "經経",
    "济": "濟済",
    "术": "術朮",
    "开": "開",
    "质": "質",
    "遗": "遺",
    "检": "檢検",
    "惠": "恵",
    # letters of NO.1 and TOP1 drawn alike in other scripts (after case folding)
    "n": "ν",
    "o": "оο",
    "p": "рρ",
    "t": "тτ",
}

VARIANTS: dict[str, str] = {variant: char for char, forms in _FORMS.items() for variant in forms}
