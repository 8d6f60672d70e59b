"""Each exchange's recognition (互认) of a product as this node reads it (docs/federation.md, "Recognitions
at national size"): the exchange's replicated record if it has one — an exception: an operator's decision, a
verdict that differs from the computed one, a home listing — else the verdict this node computed itself for
the product (`Product.verdict`: the automatic check of `standards.recognition`, stored once per product) under
that exchange's published policy, `pending` while the policy requires a valid quality report the product
lacks here.

The exchanges whose verdicts this node computes are its enabled peers; a peer announcing a version of the
check this node does not compute (`recognition` in its standards announcement) is not evaluated here and is
left out until this node is upgraded. This node's own exchange is always read from its rows (it writes its
own verdicts: its operators review them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from exchanges.models import Exchange
from federation.models import Peer
from products.models import Product, Recognition, RecognitionStatus
from products.replicas import PUBLISHED
from standards.recognition import RECOGNITION_CHECK_VERSION, RECOGNITION_CHECK_VERSIONS


class ExchangePolicy(NamedTuple):
    """What decides an exchange's computed verdict: the version of the check it applies and whether it holds a
    recognised product back until it has a valid quality report (with the reasons then shown)."""

    version: str
    quality_report_required: bool
    held_reasons: tuple[str, ...] = ()

    @property
    def evaluated(self) -> bool:
        return self.version in RECOGNITION_CHECK_VERSIONS


# Exchanges' policies that higher apps know (the quality app: "requires a valid quality report"): each returns
# {exchange code: the reasons a recognised product stays pending without a valid quality report here} for the
# exchanges whose published policy requires one. Products never import the apps that register them.
Requirement = Callable[[], dict[str, list[str]]]
_REQUIREMENTS: list[Requirement] = []


def recognition_requirement(requirement: Requirement) -> Requirement:
    """Decorator: computed verdicts also follow `requirement`."""
    if all(r.__qualname__ != requirement.__qualname__ for r in _REQUIREMENTS):
        _REQUIREMENTS.append(requirement)
    return requirement


def announced_check_version(announced: object) -> str:
    """The version of the automatic check a peer announced; a peer that announces none (older code, or no
    anti-entropy answer yet) applies 1.0, the only version there was before it was announced."""
    versions = announced.get("versions") if isinstance(announced, dict) else None
    version = versions.get("recognition") if isinstance(versions, dict) else None
    return version if isinstance(version, str) and len(version) <= 8 else RECOGNITION_CHECK_VERSION


def peer_policies() -> dict[str, ExchangePolicy]:
    """The exchanges whose automatic verdicts this node computes (its enabled peers), with their policies."""
    held: dict[str, list[str]] = {}
    for requirement in _REQUIREMENTS:
        for code, reasons in requirement().items():
            held.setdefault(code, []).extend(reasons)
    peers = Peer.objects.filter(enabled=True).exclude(exchange_id=settings.NODE_CODE)
    return {
        code: ExchangePolicy(announced_check_version(announced), code in held, tuple(held.get(code, ())))
        for code, announced in peers.values_list("exchange_id", "standards")
    }


@dataclass(frozen=True)
class Verdict:
    """One exchange's recognition of one product as read here (the API's `RecognitionSerializer` fields)."""

    exchange: str
    status: str
    reasons: list[str]
    decided_by: str
    product_version: int
    policy_version: str
    version: int  # the record's version; 0 when computed here (no record)
    updated_at: datetime
    computed: bool


def verdict_computed(product: Product, exchange: str, policy: ExchangePolicy) -> Verdict | None:
    """`exchange`'s verdict on `product` as this node computes it, or None: the product is not public, its
    verdict was not computed, or the exchange applies a check this node does not compute."""
    if product.status not in PUBLISHED or not policy.evaluated:
        return None
    if exchange == product.exchange_id:  # the home exchange listed it
        status, reasons, by = RecognitionStatus.RECOGNISED, [], Recognition.DecidedBy.HOME
    elif not product.verdict:
        return None
    else:
        status, reasons, by = product.verdict, list(product.verdict_reasons), Recognition.DecidedBy.AUTO
        if (
            status == RecognitionStatus.RECOGNISED
            and policy.quality_report_required
            and not product.quality_grade
        ):
            status, reasons = RecognitionStatus.PENDING, list(policy.held_reasons)
    return Verdict(
        exchange, str(status), reasons, str(by), product.version, policy.version, 0, product.updated_at, True
    )


_ROW_COLUMNS = (
    "product_code",
    "exchange_id",
    "status",
    "reasons",
    "decided_by",
    "product_version",
    "policy_version",
    "version",
    "updated_at",
)


def verdicts_of(
    products: Iterable[Product], *, policies: dict[str, ExchangePolicy] | None = None
) -> dict[str, dict[str, Verdict]]:
    """{product code: {exchange: verdict}}: each exchange's record, else its computed verdict."""
    products = list(products)
    policies = peer_policies() if policies is None else policies
    found: dict[str, dict[str, Verdict]] = {p.code: {} for p in products}
    rows = Recognition.objects.filter(product_code__any=list(found)).values_list(*_ROW_COLUMNS)
    for code, exchange, *rest in rows:
        found[code][exchange] = Verdict(exchange, *rest, computed=False)
    for product in products:
        held = found[product.code]
        for exchange, policy in policies.items():
            if exchange not in held:
                verdict = verdict_computed(product, exchange, policy)
                if verdict is not None:
                    held[exchange] = verdict
    return found


def verdicts_listed(product: Product) -> list[tuple[Verdict, str]]:
    """A product's verdicts with each exchange's Chinese name, in the initiative's order of the exchanges."""
    verdicts = verdicts_of([product])[product.code]
    names = dict(
        Exchange.objects.filter(code__in=list(verdicts)).order_by("order").values_list("code", "name_zh")
    )
    return [(verdicts[code], name) for code, name in names.items()]


def recognised_by(exchange_code: str, *, policies: dict[str, ExchangePolicy] | None = None) -> Q:
    """The products `exchange_code` recognises, as a condition on products: its record says recognised, or it
    has no record and its computed verdict is recognised (its home listings; others' products whose
    verdict is recognised, with a valid quality report here when its policy requires one)."""
    record = Recognition.objects.filter(product_code=OuterRef("code"), exchange_id=exchange_code)
    by_record = Q(Exists(record.filter(status=RecognitionStatus.RECOGNISED)))
    policy = (peer_policies() if policies is None else policies).get(exchange_code)
    if policy is None or not policy.evaluated:
        return by_record
    computed = Q(verdict=RecognitionStatus.RECOGNISED)
    if policy.quality_report_required:
        computed &= ~Q(quality_grade="")
    computed = Q(status__in=PUBLISHED) & (Q(exchange_id=exchange_code) | computed)
    return by_record | (~Q(Exists(record)) & computed)
