"""Matching a demand against the listed products this node holds (nationwide: every exchange's listings
replicate here), with a score that explains itself.

Candidates come from Chinese full-text relevance (jieba tokens of the demand's title and description against
product name, keywords and summary, any token). Each candidate is then scored on structured fit: industry,
product form, region, time coverage, update frequency, price within budget, and recognition by the demand's
exchange. The demand's compliance requirements are a filter, not a score: a product that breaks one is not a
match. The score is the weighted sum, 0–1; every factor is reported with its weight, score and reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from demands.models import Demand, DemandStatus
from products.models import Product, ProductStatus, Recognition, RecognitionStatus
from products.search import search_any, segment_query
from products.standards.regions import NATIONWIDE, region_contains

WEIGHTS: dict[str, float] = {
    "text": 0.40,
    "industry": 0.10,
    "form": 0.10,
    "region": 0.10,
    "time": 0.05,
    "frequency": 0.05,
    "price": 0.10,
    "recognised": 0.10,
}
CANDIDATES = 300
NOTIFY_THRESHOLD = 0.5  # a provider is told about a demand its product matches at least this well
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


def demand_tokens(demand: Demand) -> list[str]:
    """The title's words first (they say what is wanted), then the description's."""
    tokens = segment_query(demand.title)
    for token in segment_query(demand.description):
        if token not in tokens:
            tokens.append(token)
    return tokens[:24]


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


def _time(demand: Demand, temporal: dict) -> tuple[float, str]:
    if not demand.temporal_start and not demand.temporal_end:
        return 1.0, "no time coverage asked"
    try:
        p_start = dt.date.fromisoformat(temporal.get("start")) if temporal.get("start") else dt.date.min
        p_end = dt.date.fromisoformat(temporal.get("end")) if temporal.get("end") else timezone.localdate()
    except (TypeError, ValueError):
        return 0.0, "product time coverage unreadable"
    d_start = demand.temporal_start or dt.date.min
    d_end = demand.temporal_end or timezone.localdate()
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


def score(demand: Demand, product: Product, *, text: float, tokens: list[str], recognised: bool) -> Match:
    d = product.descriptor
    words = set(f"{product.search_name} {product.search_keywords} {product.search_body}".split())
    hit = [t for t in tokens if t in words]
    factors = [
        Factor(
            "text",
            WEIGHTS["text"],
            round(text, 4),
            f"matches {len(hit)} of {len(tokens)} terms: {'、'.join(hit[:8])}",
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
    factors.append(Factor("time", WEIGHTS["time"], *_time(demand, d.get("temporal_coverage", {}))))
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
    total = sum(f.weight * f.score for f in factors)
    return Match(product=product, score=round(total, 4), factors=factors)


def matches_for(demand: Demand, *, limit: int = 20, providers: set[str] | None = None) -> list[Match]:
    """The best-fitting listed products for `demand`, best first (ties: newest product first)."""
    tokens = demand_tokens(demand)
    listed = Product.objects.filter(status=ProductStatus.LISTED)
    if providers is not None:
        listed = listed.filter(provider_uscc__in=providers)
    candidates = list(
        search_any(listed, tokens=tokens).select_related("exchange").order_by("-rank", "-id")[:CANDIDATES]
    )
    if not candidates:
        return []
    top = max(p.rank for p in candidates) or 1.0
    recognised = set(
        Recognition.objects.filter(
            exchange_id=demand.origin,
            status=RecognitionStatus.RECOGNISED,
            product_code__in=[p.code for p in candidates],
        ).values_list("product_code", flat=True)
    )
    results = []
    for product in candidates:
        if compliance_breaks(demand.compliance_requirements, product.descriptor):
            continue
        results.append(
            score(
                demand,
                product,
                text=max(product.rank, 0) / top,
                tokens=tokens,
                recognised=product.code in recognised,
            )
        )
    results.sort(key=lambda m: (-m.score, -m.product.pk))
    return results[:limit]


def demands_matched(demands: list[Demand]) -> None:
    """After a demand changed here (posted, replicated, closed): match it and notify, after commit, in a
    Celery task (matching must not hold up the transaction that applied a page)."""

    def later():
        from demands.tasks import demand_match

        for demand in demands:
            demand_match.delay(demand.gid)

    transaction.on_commit(later)


def demand_match_and_notify(gid: str) -> int:
    """Match one demand and notify the providers registered at this node whose products match it well,
    once per demand version. Returns the notifications created."""
    from demands.models import Notification
    from demands.notifications import notify
    from participants.models import Participant

    demand = Demand.objects.filter(gid=gid).first()
    if demand is None:
        return 0
    if demand.status != DemandStatus.OPEN:
        created = notify_closed(demand)
        Demand.objects.filter(pk=demand.pk, notified_version__lt=demand.version).update(
            notified_version=demand.version
        )
        return created
    home_providers = set(
        Participant.objects.filter(
            home_id=settings.NODE_CODE, duplicate_of="", status="verified"
        ).values_list("participant_id", flat=True)
    )
    matches = matches_for(demand, limit=CANDIDATES)
    if matches and demand.first_matched_at is None:
        Demand.objects.filter(pk=demand.pk, first_matched_at__isnull=True).update(
            first_matched_at=timezone.now()
        )
    by_provider: dict[str, list[Match]] = {}
    for m in matches:
        if m.score >= NOTIFY_THRESHOLD and m.product.provider_uscc in home_providers:
            by_provider.setdefault(m.product.provider_uscc, []).append(m)
    created = 0
    for provider, found in by_provider.items():
        if provider == demand.demander_id:
            continue
        payload = {
            "demand": demand.gid,
            "title": demand.title,
            "deadline": demand.deadline.isoformat(),
            "products": [
                {"code": m.product.code, "name": m.product.name, "score": m.score} for m in found[:10]
            ],
        }
        created += notify(
            participant_id=provider,
            kind=Notification.Kind.MATCH,
            demand=demand,
            payload=payload,
        )
    Demand.objects.filter(pk=demand.pk, notified_version__lt=demand.version).update(
        notified_version=demand.version
    )
    return created


def notify_closed(demand: Demand) -> int:
    """A demand that is no longer open: every responder registered here is told, once per version."""
    from demands.models import Notification
    from demands.notifications import notify, responders_here

    created = 0
    for participant_id in responders_here(demand):
        created += notify(
            participant_id=participant_id,
            kind=Notification.Kind.CLOSED,
            demand=demand,
            payload={
                "demand": demand.gid,
                "title": demand.title,
                "status": demand.status,
                "reason": demand.status_reason,
            },
        )
    return created


def opportunities_for(participant_id: str, *, limit: int = 50, window: int = 1000) -> list[dict]:
    """Open demands that the participant's listed products match, best first: the other way round of
    `matches_for`, for a provider. Text relevance here is the share of the demand's terms its product uses."""
    products = list(Product.objects.filter(status=ProductStatus.LISTED, provider_uscc=participant_id)[:200])
    if not products:
        return []
    now = timezone.now()
    demands = Demand.objects.filter(status=DemandStatus.OPEN, deadline__gt=now).exclude(
        demander_id=participant_id
    )
    recognised = {}
    results = []
    for demand in demands.order_by("-posted_at")[:window]:
        tokens = demand_tokens(demand)
        if not tokens:
            continue
        found = []
        for product in products:
            words = set(f"{product.search_name} {product.search_keywords} {product.search_body}".split())
            shared = sum(1 for t in tokens if t in words)
            if not shared or compliance_breaks(demand.compliance_requirements, product.descriptor):
                continue
            key = (demand.origin, product.code)
            if key not in recognised:
                recognised[key] = Recognition.objects.filter(
                    exchange_id=demand.origin, product_code=product.code, status=RecognitionStatus.RECOGNISED
                ).exists()
            found.append(
                score(demand, product, text=shared / len(tokens), tokens=tokens, recognised=recognised[key])
            )
        if found:
            found.sort(key=lambda m: -m.score)
            results.append({"demand": demand, "score": found[0].score, "products": found[:5]})
    results.sort(key=lambda r: (-r["score"], r["demand"].deadline))
    return results[:limit]
