"""GB/T 2260 administrative divisions used for spatial coverage and for the region prefix of product names.

The table (`data/regions.csv`) holds province-level and prefecture-level units only: that is the finest grain
the standard names, and the grain at which codes are stable enough to be checked by every node alike. County
level codes change every year, so they are accepted by shape when their prefecture is known (see
`region_is_valid`) but carry no name. `100000` 全国 stands for nationwide coverage; it is not a GB/T 2260
code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

NATIONWIDE = "100000"

RegionLevel = Literal["nationwide", "province", "prefecture"]

_DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.csv"
_CODE_RE = re.compile(r"[0-9]{6}")
# Prefecture rows that are groupings rather than places: they have no name to put in front of a product name.
_UNNAMED_PREFECTURES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")
_PREFECTURE_SUFFIXES = ("自治州", "地区", "盟", "市")
# The 56 ethnic groups, longest first, to shorten 黔西南布依族苗族自治州 to 黔西南.
_ETHNIC_GROUPS = tuple(
    sorted(
        (
            "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
            "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
            "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌",
            "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
            "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
# A short form followed by one of these is the start of a county-level name (朝阳区 is not 朝阳市).
_COUNTY_LEVEL_MARKERS = frozenset("区县旗镇乡")


@dataclass(frozen=True)
class Region:
    code: str
    name_zh: str
    level: RegionLevel
    parent: str | None
    name_en: str = ""


@dataclass(frozen=True)
class RegionMatch:
    """A region name found at the start of a text, with every code it may stand for (吉林 → 省 and 市)."""

    name: str
    codes: tuple[str, ...]
    short_form: bool


@cache
def _table() -> dict[str, Region]:
    regions = {NATIONWIDE: Region(NATIONWIDE, "全国", "nationwide", None, "Nationwide")}
    with _DATA_FILE.open(encoding="utf-8", newline="") as f:
        lines = (line for line in f if not line.startswith("#"))
        for row in csv.DictReader(lines):
            regions[row["code"]] = Region(
                code=row["code"],
                name_zh=row["name_zh"],
                level=row["level"],  # type: ignore[arg-type]
                parent=row["parent"] or None,
                name_en=row["name_en"],
            )
    return regions


def regions_all() -> tuple[Region, ...]:
    """Every named region, nationwide first, then in code order."""
    return tuple(_table().values())


def region_get(code: object) -> Region | None:
    """The named region for a code; None for county-level codes (valid or not) and for anything else."""
    if not isinstance(code, str):
        return None
    return _table().get(code)


def _county_prefecture(code: str) -> str | None:
    """The prefecture of a county-level code whose prefecture is known, else None."""
    if code[4:] == "00":
        return None
    prefecture = code[:4] + "00"
    region = _table().get(prefecture)
    return prefecture if region is not None and region.level == "prefecture" else None


def region_is_valid(code: object) -> bool:
    """True for 100000, a known province or prefecture, or a county-level code under a known prefecture.

    County codes are checked by shape and prefecture only, because the county list changes every year and the
    registry must not refuse a product for a district created after the table was taken.
    """
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        return False
    return code in _table() or _county_prefecture(code) is not None


def _parent(code: str) -> str | None:
    region = _table().get(code)
    if region is not None:
        return region.parent if region.level != "province" else NATIONWIDE
    return _county_prefecture(code)


def region_ancestors(code: str) -> tuple[str, ...]:
    """The code itself and every unit containing it, up to 100000; empty for an invalid code."""
    if not region_is_valid(code):
        return ()
    chain = [code]
    while (parent := _parent(chain[-1])) is not None:
        chain.append(parent)
    return tuple(chain)


def region_contains(outer: str, inner: str) -> bool:
    """True if `inner` lies within `outer` (a region contains itself)."""
    return outer in region_ancestors(inner)


def region_province(code: object) -> Region | None:
    """The province-level unit a code belongs to; None for 100000 and for invalid codes."""
    if not isinstance(code, str) or not region_is_valid(code) or code == NATIONWIDE:
        return None
    return _table().get(code[:2] + "0000")


def region_display_name(code: str) -> str | None:
    """The name to put in front of a product name for this code, or None when it has none of its own."""
    region = _table().get(code)
    if region is None:
        return None
    if region.name_zh == "市辖区":
        return _table()[region.parent].name_zh if region.parent else None
    if region.name_zh in _UNNAMED_PREFECTURES:
        return None
    return region.name_zh


def _short_form(region: Region) -> str | None:
    name = region.name_zh
    suffixes = _PROVINCE_SUFFIXES if region.level == "province" else _PREFECTURE_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        return None
    if region.name_zh.endswith("自治州"):
        stripped = True
        while stripped:
            stripped = False
            for group in _ETHNIC_GROUPS:
                for tail in (group + "族", group):
                    if name.endswith(tail) and len(name) > len(tail):
                        name = name[: -len(tail)]
                        stripped = True
                        break
                if stripped:
                    break
    return name if len(name) >= 2 and name != region.name_zh else None


@cache
def _name_index() -> dict[str, tuple[tuple[str, ...], bool]]:
    """name → (codes, is_short_form). Full names win over short forms when both spell the same text."""
    full: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for region in _table().values():
        display = region_display_name(region.code)
        if display is None:
            continue
        full.setdefault(display, []).append(region.code)
        if region.level != "nationwide" and display == region.name_zh:
            abbreviation = _short_form(region)
            if abbreviation:
                short.setdefault(abbreviation, []).append(region.code)
    index = {name: (tuple(codes), True) for name, codes in short.items()}
    index.update({name: (tuple(codes), False) for name, codes in full.items()})
    return index


@cache
def region_names_for_prefix() -> tuple[str, ...]:
    """Every name a product name may start with (上海市, 上海, 杭州市, 杭州, 全国 …), longest first."""
    return tuple(sorted(_name_index(), key=lambda name: (-len(name), name)))


def region_match_prefix(text: str) -> RegionMatch | None:
    """The longest region name `text` starts with, or None.

    A short form directly followed by 区/县/旗/镇/乡 is not taken: 朝阳区 names a district, not 朝阳市.
    """
    index = _name_index()
    for length in range(min(len(text), _max_name_length()), 1, -1):
        candidate = text[:length]
        entry = index.get(candidate)
        if entry is None:
            continue
        codes, is_short = entry
        if is_short and text[length : length + 1] in _COUNTY_LEVEL_MARKERS:
            continue
        return RegionMatch(name=candidate, codes=codes, short_form=is_short)
    return None


@cache
def _max_name_length() -> int:
    return max(len(name) for name in _name_index())
