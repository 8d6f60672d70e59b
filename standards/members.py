"""The 24 member exchanges of the Data Exchange Mutual Recognition Initiative (数据交易机构互认互通倡议), as
the standard names them: order of signature, code, names and province (`data/exchanges.csv`, a copy of the
shared list). Exchange codes are part of the standard: they begin every product code and name every node."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "exchanges.csv"


@dataclass(frozen=True)
class Member:
    order: int
    code: str
    name_zh: str
    name_en: str
    province_code: str
    province_zh: str


@cache
def members() -> tuple[Member, ...]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return tuple(
            Member(
                order=int(row["order"]),
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                province_code=row["province_code"],
                province_zh=row["province_zh"],
            )
            for row in csv.DictReader(fh)
        )


@cache
def member_codes() -> frozenset[str]:
    return frozenset(m.code for m in members())


def is_member(code: object) -> bool:
    return isinstance(code, str) and code in member_codes()
