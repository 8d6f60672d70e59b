"""Which recognitions the network needs (recognition protocol 2, docs/federation.md "Recognitions at national
size"): the exceptions — what a node cannot compute from the product and the shared standard. The rule is the
same at every node (it reads only the product's stored verdict and exchange), so an origin that publishes only
exceptions and a node that holds what it published before agree on which records count."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from products.models import Product, Recognition, RecognitionStatus


def computed_verdicts(codes: list[str]) -> dict[str, tuple[str, list[str], str]]:
    """{code: (the automatic verdict's status, its reasons, the product's exchange)} of these products."""
    rows = Product.objects.filter(code__any=codes).values_list(
        "code", "verdict", "verdict_reasons", "exchange_id"
    )
    return {code: (verdict, reasons, exchange) for code, verdict, reasons, exchange in rows}


def recognition_is_exception(
    exchange: str, status: str, reasons: list[str], decided_by: str, computed: tuple | None
) -> bool:
    """Whether `exchange`'s verdict is one the other nodes cannot compute (recognition protocol 2): an
    operator's decision, or one that differs from the automatic check (held by that exchange's own
    conditions), or one on a product not held here. Home listings are implicit: every node reads the
    product's exchange. `computed`: (its verdict, its reasons, its exchange), from `computed_verdicts`."""
    if decided_by == Recognition.DecidedBy.OPERATOR or computed is None:
        return True
    verdict, verdict_reasons, home = computed
    if decided_by == Recognition.DecidedBy.HOME:
        return home != exchange or status != RecognitionStatus.RECOGNISED
    return (status, list(reasons)) != (verdict, list(verdict_reasons))


def recognitions_exceptions(rows: Iterable[Recognition]) -> Iterator[Recognition]:
    """Those of `rows` that are exceptions (`recognition_is_exception`), reading their products in chunks."""
    rows = iter(rows)
    while chunk := list(islice(rows, 2000)):
        computed = computed_verdicts(sorted({r.product_code for r in chunk}))
        for r in chunk:
            if recognition_is_exception(
                r.exchange_id, r.status, r.reasons, r.decided_by, computed.get(r.product_code)
            ):
                yield r
