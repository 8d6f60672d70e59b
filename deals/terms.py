"""An exchange's fee rates on deals (交易服务费率), set by its operators at its node and replicated to every
node as a public record (`exchange_terms`); an exchange without published terms charges the defaults of
settings (EXCHANGE_LISTING_FEE_BP, EXCHANGE_BUYER_FEE_BP)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from core.exceptions import FieldError, Forbidden, ValidationFailed
from deals.models import ExchangeTerms
from deals.replicas import TERMS
from participants.permissions import is_home_operator


def _rate(value: Any, field: str) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10000:
        return [FieldError(field, "range", "须为0–10000的基点", f"{field}: 0 to 10000 basis points")]
    return []


@transaction.atomic
def exchange_terms_set(*, actor: Any, code: str, listing_fee_bp: Any, buyer_fee_bp: Any) -> ExchangeTerms:
    """An operator of this node's exchange sets its rates, here (each exchange publishes only its own)."""
    if code != settings.NODE_CODE or not is_home_operator(actor):  # None: the node itself (a command)
        raise Forbidden(
            message="只有该交易所的运营人员可以在其节点设置费率",
            message_en="Only the exchange's operators set its terms, at its node",
            code="not_owner",
            extra={"node": code},
        )
    errors = _rate(listing_fee_bp, "listing_fee_bp") + _rate(buyer_fee_bp, "buyer_fee_bp")
    if errors:
        raise ValidationFailed(errors)
    terms = ExchangeTerms.objects.select_for_update().filter(exchange_code=code).first()
    if terms is None:
        terms = ExchangeTerms(exchange_code=code, version=0)
    terms.listing_fee_bp, terms.buyer_fee_bp = listing_fee_bp, buyer_fee_bp
    terms.version += 1
    terms.save()
    TERMS.publish([terms])
    return terms
