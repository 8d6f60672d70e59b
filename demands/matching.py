"""Matching a demand against the listed products this node holds (nationwide: every exchange's listings
replicate here), with a score that explains itself.

Candidates come from Chinese full-text relevance (the demand's match terms — its words without stop words
and region names — against product name, keywords and summary, any term; on PostgreSQL the matches of its
selective terms only, ranked on all of them: see MATCH_BUDGET). Each candidate's text relevance
(demands/relevance.py: the IDF-weighted share of the demand's terms it uses) gates it: under MIN_TEXT it is
not a match. The score is the text relevance times the structured fit — industry, product form, region, time
coverage, update frequency, price within budget, recognition by the demand's exchange (demands/scoring.py).
The demand's compliance requirements are a filter, not a score: a product that breaks one is not a match.
Every factor is reported with its weight, score and reason.
"""

from __future__ import annotations

from collections import namedtuple

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from core.queue import enqueue_on_commit
from demands.models import Demand, DemandStatus, Notification
from demands.notifications import notify, responders_here
from demands.relevance import MIN_TEXT, demand_term_weights, lexeme_statistics, term_weights, text_relevance
from demands.scoring import Match, compliance_breaks, demand_terms, score
from participants.models import Participant
from products.models import Product, ProductStatus, RecognitionStatus
from products.search import search_any
from products.verdicts import recognised_by, verdicts_of

CANDIDATES = 300
# Candidates are the matches of the demand's selective words only (`selective_tokens`), ranked on all of
# its words. A word most products use ("数据", or "上海市" in a Shanghai catalogue) says little about which
# product fits but would make every product a candidate to rank: 100,000 ranked rows cost 200-300 ms
# (bench/demand_matching.py). How many products use a word comes from PostgreSQL's statistics of the search
# vector; words are taken, the title's first and rarer before commoner, while the products matching them
# stay within MATCH_BUDGET. When the others match fewer than CANDIDATES, a broad word is taken as well and
# only its newest RANK_WINDOW matches are ranked. Words within RARITY_TIE of each other count as equally rare.
MATCH_BUDGET = 8000
MATCH_SHARE = 0.1
RANK_WINDOW = 2000
RARITY_TIE = 1.25
NOTIFY_THRESHOLD = 0.5  # a provider is told about a demand its product matches at least this well
# The columns scoring and the API read, in the model's field order (`Model.from_db` takes them so); the
# descriptor itself stays in the database, its parts come along.
_MATCH_FIELDS = {
    "id",
    "code",
    "name",
    "exchange_id",
    "provider_uscc",
    "industry",
    "product_form",
    "update_frequency",
    "price_min",
    "price_max",
    "search_name",
    "search_keywords",
    "search_body",
}
_MATCH_COLUMNS = tuple(f.attname for f in Product._meta.concrete_fields if f.attname in _MATCH_FIELDS)
_Columns = namedtuple("_Columns", _MATCH_COLUMNS)
_DESCRIPTOR_PARTS = ("spatial_coverage", "temporal_coverage", "compliance")


def selective_tokens(tokens: list[str], *, first: int = 0) -> tuple[list[str], str | None]:
    """The tokens whose matches become candidates, and the broad one among them whose newest matches only are
    ranked (None: rank every match). Without statistics, or on a small table: every token.

    Order of preference: the first `first` tokens (the title's: they say what is wanted) before the others,
    rarer before commoner within each (of tokens about equally rare, within RARITY_TIE, the earlier first:
    a title names its subject first), and the tokens that alone match more than MATCH_BUDGET last of all.
    A token is taken while the estimated matches stay within MATCH_BUDGET; a broad one only when the others
    match fewer than CANDIDATES."""
    stats = lexeme_statistics()
    if stats is None or stats[2] <= MATCH_BUDGET:
        return tokens, None
    shares, other, rows = stats
    # On a smaller table a tenth of it: matching more makes PostgreSQL read the whole table instead.
    budget = min(MATCH_BUDGET, rows * MATCH_SHARE)
    matched = [shares.get(t, other) * rows for t in tokens]

    def by_rarity(positions: list[int]) -> list[int]:
        remaining, ordered = list(positions), []
        while remaining:
            rarest = min(matched[i] for i in remaining)
            ordered.append(next(i for i in remaining if matched[i] <= rarest * RARITY_TIE))
            remaining.remove(ordered[-1])
        return ordered

    fits = [i for i in range(len(tokens)) if matched[i] <= budget]
    order = (
        by_rarity([i for i in fits if i < first])
        + by_rarity([i for i in fits if i >= first])
        + sorted((i for i in range(len(tokens)) if matched[i] > budget), key=lambda i: matched[i])
    )
    chosen: list[int] = []
    expected = 0.0  # products matching the chosen tokens, at most
    listed = 0.0  # of which through words the statistics list (the estimate of any other word is a guess)
    for i in order:
        if listed >= CANDIDATES and expected + matched[i] > budget:
            continue
        chosen.append(i)
        expected += matched[i]
        listed += matched[i] if tokens[i] in shares else 0
    broad = tokens[chosen[-1]] if chosen and matched[chosen[-1]] > budget else None
    return [tokens[i] for i in chosen], broad


def _by_pk(queryset: QuerySet, ids) -> QuerySet:
    """`queryset` restricted to these primary keys: one array parameter on PostgreSQL (an `IN` list of
    hundreds of parameters costs milliseconds to build and parse), `pk__in` elsewhere. Not a subquery: the
    full-text SQL names the table, so it cannot be nested inside a query of the same table."""
    ids = list(ids)
    if connection.vendor != "postgresql":
        return queryset.filter(pk__in=ids)
    table = queryset.model._meta.db_table
    # The table name is the model's own; the ids are one bound parameter.
    return queryset.filter(RawSQL(f"{table}.id = ANY(%s)", [ids], output_field=BooleanField()))  # noqa: S611


def matches_for(demand: Demand, *, limit: int = 20, providers: set[str] | None = None) -> list[Match]:
    """The best-fitting listed products for `demand`, best first (ties: newest product first).

    The products carry the columns scoring and the API read; other fields (the descriptor) load on access."""
    tokens, title = demand_terms(demand)
    if not tokens:
        return []  # nothing but stop words: nothing says which data is wanted
    listed = Product.objects.filter(status=ProductStatus.LISTED)
    if providers is not None:
        listed = listed.filter(provider_uscc__in=providers)
    chosen, broad = selective_tokens(tokens, first=title)
    if broad is None:
        pool = search_any(listed, tokens=tokens, match_tokens=chosen)
    else:
        # Every match of the selective tokens and the newest matches of the broad one.
        ids = set(search_any(listed, tokens=chosen[:-1]).values_list("pk", flat=True))
        ids.update(
            search_any(listed, tokens=[broad]).order_by("-id").values_list("pk", flat=True)[:RANK_WINDOW]
        )
        pool = search_any(_by_pk(listed, ids), tokens=tokens, known_to_match=True)
    # The CANDIDATES best are ranked on the search vector alone, and then only they are read, with the
    # descriptor's parts scoring needs (the descriptor is stored out of line, TOAST: reading its parts in the
    # ranking would fetch them for every match) and whether the demand's exchange recognises them.
    best = list(pool.order_by("-rank", "-id").values_list("pk", flat=True)[:CANDIDATES])
    rows = list(
        search_any(_by_pk(listed, best), tokens=tokens, known_to_match=True)
        .annotate(
            **{f"_{name}": KeyTransform(name, "descriptor") for name in _DESCRIPTOR_PARTS},
            _recognised=ExpressionWrapper(recognised_by(demand.origin), output_field=BooleanField()),
        )
        .order_by("-rank", "-id")
        .values_list(*_MATCH_COLUMNS, "rank", *(f"_{name}" for name in _DESCRIPTOR_PARTS), "_recognised")
    )
    if not rows:
        return []
    n = len(_MATCH_COLUMNS)
    weights = demand_term_weights(tokens, title=title)
    today = timezone.localdate()
    scored = []
    for row in rows:
        columns = _Columns._make(row[:n])
        text, hits = text_relevance(weights, columns)
        if text < MIN_TEXT:
            continue  # no meaningful word in common: not a match, whatever else fits
        descriptor = {
            name: v for name, v in zip(_DESCRIPTOR_PARTS, row[n + 1 : -1], strict=True) if v is not None
        }
        if compliance_breaks(demand.compliance_requirements, descriptor):
            continue
        # Scored from the row's columns; only the products returned become model instances (below).
        match = score(
            demand,
            columns,
            text=text,
            hits=hits,
            terms=len(tokens),
            recognised=row[-1],
            descriptor=descriptor,
            today=today,
        )
        scored.append((match, row))
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1][0]))
    results = []
    for match, row in scored[:limit]:
        match.product = Product.from_db(pool.db, _MATCH_COLUMNS, row[:n])
        match.product.rank = row[n]
        results.append(match)
    return results


def demands_matched(gids: list[str]) -> None:
    """After demands changed here (posted, replicated, closed): match each and notify, after commit, in a
    Celery task (matching must not hold up the transaction that applied a page)."""
    for gid in gids:
        enqueue_on_commit("demands.tasks.demand_match", gid)


def matches_to_notify(demand: Demand, *, matches: list[Match] | None = None) -> list[Match]:
    """The matches whose providers are told about `demand` (wherever they are registered), best first:
    those scoring at least NOTIFY_THRESHOLD. `matches`: `matches_for(demand, limit=CANDIDATES)` if given."""
    matches = matches_for(demand, limit=CANDIDATES) if matches is None else matches
    return [m for m in matches if m.score >= NOTIFY_THRESHOLD]


def demand_match_and_notify(gid: str) -> int:
    """Match one demand and notify the providers registered at this node whose products match it well,
    once per demand version. Returns the notifications created."""
    demand = Demand.objects.filter(gid=gid).first()
    if demand is None or demand.notified_version >= demand.version:
        return 0  # gone, or this version was matched already (a re-queued or duplicate task): nothing to do
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
    for m in matches_to_notify(demand, matches=matches):
        if m.product.provider_uscc in home_providers:
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
    `matches_for`, for a provider. Text relevance here weighs every term alike (no IDF: a window of demands
    would need the document frequencies of all their words)."""
    products = list(Product.objects.filter(status=ProductStatus.LISTED, provider_uscc=participant_id)[:200])
    return _opportunities(products, participant_id, demands=None, limit=limit, window=window)


def opportunities_for_product(
    product: Product, *, demands: QuerySet[Demand] | None = None, limit: int = 50, window: int = 1000
) -> list[dict]:
    """Open demands (of `demands`, if given: a filtered board) that one listed product matches, best first:
    its provider's opportunities narrowed to this product (the portal's demand board with `?product=`)."""
    if product.status != ProductStatus.LISTED:
        return []
    return _opportunities([product], product.provider_uscc, demands=demands, limit=limit, window=window)


def _opportunities(
    products: list[Product], participant_id: str, *, demands, limit: int, window: int
) -> list[dict]:
    if not products:
        return []
    now = timezone.now()
    demands = (Demand.objects.all() if demands is None else demands).filter(
        status=DemandStatus.OPEN, deadline__gt=now
    )
    demands = demands.exclude(demander_id=participant_id)
    # Read once: which exchanges recognise which of these products, and each product's words.
    recognised = {
        (exchange, code)
        for code, verdicts in verdicts_of(products).items()
        for exchange, verdict in verdicts.items()
        if verdict.status == RecognitionStatus.RECOGNISED
    }
    results = []
    for demand in demands.order_by("-posted_at")[:window]:
        tokens, title = demand_terms(demand)
        if not tokens:
            continue
        weights = term_weights(tokens, title=title)
        found = []
        for product in products:
            text, hits = text_relevance(weights, product)
            if text < MIN_TEXT or compliance_breaks(demand.compliance_requirements, product.descriptor):
                continue
            found.append(
                score(
                    demand,
                    product,
                    text=text,
                    hits=hits,
                    terms=len(tokens),
                    recognised=(demand.origin, product.code) in recognised,
                )
            )
        if found:
            found.sort(key=lambda m: -m.score)
            results.append({"demand": demand, "score": found[0].score, "products": found[:5]})
    results.sort(key=lambda r: (-r["score"], r["demand"].deadline))
    return results[:limit]
