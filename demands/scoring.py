"""How well a product fits a demand, as a score that explains itself. Text relevance (demands/relevance.py)
gates it: the score is the text relevance times the fit of the structured factors — industry, product form,
region, time coverage, update frequency, price within budget, recognition by the demand's exchange — which is
BASE_FIT plus their weighted sum (weights summing to 1 - BASE_FIT). A product that shares no meaningful word
with the demand scores 0 however well the rest fits; one that fits nothing else keeps half its text relevance.
Every factor is reported with its weight, score and reason. The demand's compliance requirements are a
filter, not a factor (`compliance_breaks`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from demands.models import Demand
from products.models import Product
from standards.regions import NATIONWIDE, region_contains
from standards.segmentation import match_terms

# "text" multiplies (its weight is 1); the others add to BASE_FIT.
WEIGHTS: dict[str, float] = {
    "text": 1.0,
    "industry": 0.075,
    "form": 0.1,
    "region": 0.1,
    "time": 0.05,
    "frequency": 0.05,
    "price": 0.075,
    "recognised": 0.05,
}
BASE_FIT = 0.5
MAX_TERMS = 24
FREQUENCY_ORDER = ("realtime", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly")


@dataclass
class Factor:
    name: str
    weight: float
    score: float
    reason: str


@dataclass
class Match:
    product: Product
    score: float
    factors: list[Factor] = field(default_factory=list)


def demand_terms(demand: Demand) -> tuple[list[str], int]:
    """(the demand's match terms, how many of them are the title's): the title's words first (they say what
    is wanted), then the description's, stop words left out, at most MAX_TERMS."""
    tokens = match_terms(demand.title, limit=MAX_TERMS)
    title = len(tokens)
    for token in match_terms(demand.description, limit=MAX_TERMS):
        if token not in tokens:
            tokens.append(token)
    return tokens[:MAX_TERMS], title


def demand_tokens(demand: Demand) -> list[str]:
    """The demand's match terms (`demand_terms`)."""
    return demand_terms(demand)[0]


def compliance_breaks(requirements: list[str], descriptor: dict) -> list[str]:
    """The demand's compliance requirements the product's checklist does not meet."""
    c = descriptor.get("compliance", {})
    pi = c.get("personal_information", {}).get("category")
    checks = {
        "no_personal_information": pi == "none",
        "personal_information_deidentified": pi in {"none", "deidentified"},
        "no_important_data": not c.get("important_data", {}).get("involved", False),
        "no_cross_border_transfer": not c.get("cross_border_transfer", {}).get("involved", False),
        "security_assessment_passed": c.get("security_assessment", {}).get("status") == "passed",
        "source_legality_passed": c.get("source_legality", {}).get("status") == "passed",
    }
    return [r for r in requirements if not checks.get(r, False)]


def _region(demand: Demand, coverage: list[str]) -> tuple[float, str]:
    if NATIONWIDE in coverage:
        return 1.0, "covers the whole country"
    for wanted in demand.spatial_coverage:
        for code in coverage:
            if wanted == NATIONWIDE or region_contains(wanted, code) or region_contains(code, wanted):
                return 1.0, f"covers {code} (wanted {wanted})"
    return 0.0, f"covers {', '.join(coverage[:3])}, not {', '.join(demand.spatial_coverage[:3])}"


def _time(demand: Demand, temporal: dict, today: dt.date | None = None) -> tuple[float, str]:
    if not demand.temporal_start and not demand.temporal_end:
        return 1.0, "no time coverage asked"
    today = today or timezone.localdate()
    try:
        p_start = dt.date.fromisoformat(temporal.get("start")) if temporal.get("start") else dt.date.min
        p_end = dt.date.fromisoformat(temporal.get("end")) if temporal.get("end") else today
    except (TypeError, ValueError):
        return 0.0, "product time coverage unreadable"
    d_start = demand.temporal_start or dt.date.min
    d_end = demand.temporal_end or today
    overlap = (min(p_end, d_end) - max(p_start, d_start)).days
    wanted = max((d_end - d_start).days, 1) if demand.temporal_start else max(overlap, 1)
    if overlap < 0:
        return 0.0, "no overlap with the time asked"
    return min(1.0, overlap / wanted), f"covers {min(1.0, overlap / wanted):.0%} of the time asked"


def _frequency(demand: Demand, frequency: str) -> tuple[float, str]:
    if not demand.update_frequency:
        return 1.0, "no update frequency asked"
    if frequency == demand.update_frequency:
        return 1.0, f"updated {frequency}"
    order = FREQUENCY_ORDER
    if (
        frequency in order
        and demand.update_frequency in order
        and order.index(frequency) < order.index(demand.update_frequency)
    ):
        return 1.0, f"updated {frequency}, more often than {demand.update_frequency}"
    return 0.0, f"updated {frequency}, asked {demand.update_frequency}"


def score(
    demand: Demand,
    product: Product,
    *,
    text: float,
    hits: list[str],
    terms: int,
    recognised: bool,
    descriptor: dict | None = None,
    today: dt.date | None = None,
) -> Match:
    """`text`: the product's text relevance (`demands.relevance.text_relevance`), `hits` the demand's terms it
    uses, of `terms`. `product`: a Product, or any object with its columns scoring reads (matches_for scores
    rows); `descriptor`: the parts of the product's descriptor scoring reads (spatial and temporal coverage),
    when the product was loaded without it."""
    d = product.descriptor if descriptor is None else descriptor
    factors = [
        Factor(
            "text",
            WEIGHTS["text"],
            round(text, 4),
            f"matches {len(hits)} of {terms} terms: {'、'.join(hits[:8])}",
        ),
    ]
    if not demand.industry:
        factors.append(Factor("industry", WEIGHTS["industry"], 1.0, "no industry asked"))
    else:
        same = product.industry == demand.industry
        factors.append(Factor("industry", WEIGHTS["industry"], float(same), f"industry {product.industry}"))
    in_forms = product.product_form in demand.product_forms
    factors.append(Factor("form", WEIGHTS["form"], float(in_forms), f"form {product.product_form}"))
    factors.append(Factor("region", WEIGHTS["region"], *_region(demand, d.get("spatial_coverage", []))))
    factors.append(Factor("time", WEIGHTS["time"], *_time(demand, d.get("temporal_coverage", {}), today)))
    factors.append(Factor("frequency", WEIGHTS["frequency"], *_frequency(demand, product.update_frequency)))
    fits = product.price_min <= demand.budget_max and product.price_max >= demand.budget_min
    factors.append(
        Factor(
            "price",
            WEIGHTS["price"],
            float(fits),
            f"price {product.price_min}–{product.price_max} CNY, "
            f"budget {demand.budget_min}–{demand.budget_max}",
        )
    )
    factors.append(
        Factor(
            "recognised",
            WEIGHTS["recognised"],
            float(recognised),
            f"{'recognised' if recognised else 'not recognised'} by {demand.origin}",
        )
    )
    fit = BASE_FIT + sum(f.weight * f.score for f in factors[1:])
    return Match(product=product, score=round(factors[0].score * fit, 4), factors=factors)
