"""The labelled relevance set of demand matching (tests/data/relevance/): its catalogue and demands built as
records that meet the standards, and the figures matching is judged by — nDCG@10 and notifications of
irrelevant products."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from demands.models import Demand
from exchanges.models import Exchange
from products.columns import descriptor_columns
from products.models import Product, ProductStatus, Recognition, RecognitionStatus
from products.sample_data import descriptor as sample_descriptor
from products.sample_data import make_uscc
from standards.demand import demand_clean, demand_search_text
from standards.descriptor import descriptor_validate
from standards.naming import name_check

DATA = Path(__file__).resolve().parent / "data" / "relevance"
ORIGIN = "SHDEX"
K = 10


@dataclass(frozen=True)
class Labelled:
    key: str
    fields: dict
    grades: dict[str, int]  # product key -> 1 or 2; every other product is 0


def _lines(name: str) -> list[list[str]]:
    text = (DATA / name).read_text("utf-8")
    return [line.split("|") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def catalogue_descriptors() -> dict[str, dict]:
    """Each product's descriptor: the line's content over a generated valid descriptor (provider, dates,
    price, compliance), the same for every run."""
    rng = random.Random(20261205)
    made = {}
    for key, industry, form, coverage, name, keywords, summary in _lines("products.txt"):
        regions = coverage.split(",")
        d = sample_descriptor(rng)
        d.update(
            name=name,
            summary=summary,
            keywords=keywords.split("、"),
            industry=industry,
            product_form=form,
            spatial_coverage=regions,
        )
        d["provider"]["uscc"] = make_uscc(rng, "310000")
        d["data_source"]["description"] = f"{name}的数据来源于合法采集、公开数据整理与合作方授权。"
        made[key] = d
    return made


def labelled_demands() -> list[Labelled]:
    now = timezone.now()
    found = []
    for key, industry, forms, coverage, title, description, grades in _lines("demands.txt"):
        data = {
            "title": title,
            "description": description,
            "industry": "" if industry == "-" else industry,
            "product_forms": forms.split(","),
            "spatial_coverage": coverage.split(","),
            "temporal_coverage": {"start": None, "end": None},
            "update_frequency": "",
            "budget": {"min": 0, "max": 500000, "currency": "CNY"},
            "deadline": (now + dt.timedelta(days=30)).isoformat(),
            "delivery_methods": [],
            "compliance_requirements": [],
            "reach": [],
        }
        graded = {p: int(g) for p, g in (pair.split(":") for pair in grades.split())}
        found.append(Labelled(key, data, graded))
    return found


def build() -> tuple[dict[str, Product], list[tuple[Labelled, Demand]]]:
    """Lists the catalogue at this node (every descriptor and name checked against the standard first) and
    stores the demands as posted at SHDEX. Every other product is recognised by SHDEX."""
    products = {}
    exchange = Exchange.objects.get(code=ORIGIN)
    for serial, (key, d) in enumerate(catalogue_descriptors().items(), start=1):
        clean = descriptor_validate(d)
        verdict = name_check(
            clean["name"], product_form=clean["product_form"], spatial_coverage=clean["spatial_coverage"]
        )
        assert verdict.compliant, (key, verdict.violations)
        products[key] = Product.objects.create(
            code=f"{ORIGIN}-2026-{serial:06d}-R",
            exchange=exchange,
            status=ProductStatus.LISTED,
            is_home=True,
            **descriptor_columns(clean),
        )
        if serial % 2:
            Recognition.objects.create(
                product_code=products[key].code,
                exchange=exchange,
                status=RecognitionStatus.RECOGNISED,
                product_version=1,
                decided_by=Recognition.DecidedBy.AUTO,
            )
    demands = []
    now = timezone.now()
    for i, labelled in enumerate(labelled_demands()):
        unknown = set(labelled.grades) - set(products)
        assert not unknown, (labelled.key, unknown)
        clean = demand_clean(labelled.fields, now=now)
        demand = Demand.objects.create(
            gid=f"{ORIGIN}-{i:032x}",
            origin=ORIGIN,
            version=1,
            demander_id=make_uscc(random.Random(i), "310000"),
            demander_home=ORIGIN,
            demander_name="需求方数据科技有限公司",
            posted_at=now,
            search_text=demand_search_text(clean["title"], clean["description"]),
            **clean,
        )
        demands.append((labelled, demand))
    return products, demands


def dcg(grades: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:K]))


def ndcg(ranked: list[str], grades: dict[str, int]) -> float:
    """nDCG@10 of a ranking of product keys against the demand's grades (gain 2^grade - 1)."""
    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(key, 0) for key in ranked]) / ideal if ideal else 1.0
