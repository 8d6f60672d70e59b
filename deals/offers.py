"""What an offer or counter-offer may say, beyond the deal standard's shape (docs/deals.md, "Negotiation"):
nothing the product itself does not allow (its delivery methods, its own usage policy, its data level), and —
for the first offer of an order that took up a demand response — the terms of that response, which it
defaults to."""

from __future__ import annotations

from decimal import Decimal

from core.exceptions import FieldError, ValidationFailed
from deals.models import Deal
from products.models import Product
from standards.deal_compliance import offer_breaches
from standards.deal_flow import Derived
from standards.usage_policy import policy_within


def _first_offer_of_a_response(deal: Deal, derived: Derived, kind: str) -> dict | None:
    terms = deal.request.get("response_terms")
    return terms if kind == "offer" and derived.offer_version == 0 and terms else None


def offer_defaults(deal: Deal, derived: Derived, body: dict, kind: str) -> dict:
    """The first offer of an order that took up a demand response defaults to that response's price and
    delivery days and to the order's delivery method and usage policy; any other offer says everything."""
    terms = _first_offer_of_a_response(deal, derived, kind)
    if terms is None or not isinstance(body, dict):
        return body
    defaults = {
        "price": terms["price"],
        "delivery_days": terms["delivery_days"],
        "delivery_method": deal.request["delivery_method"],
        "usage_policy": deal.request["usage_policy"],
    }
    return {**defaults, **body}


def _response_errors(deal: Deal, clean: dict, terms: dict) -> list[FieldError]:
    """The first offer keeps the accepted response's promise: no dearer, no later, by the method ordered,
    and allowing the use the order asks for."""
    errors = []
    if Decimal(clean["price"]) > Decimal(terms["price"]):
        errors.append(
            FieldError(
                "price",
                "above_response_price",
                f"首次报价不得高于已接受的需求响应的报价（{terms['price']}）",
                f"The first offer may not exceed the accepted response's price ({terms['price']})",
            )
        )
    if clean["delivery_days"] > terms["delivery_days"]:
        errors.append(
            FieldError(
                "delivery_days",
                "later_than_response",
                f"交付期限不得长于已接受的需求响应（{terms['delivery_days']}天）",
                f"At most the accepted response's {terms['delivery_days']} days",
            )
        )
    if clean["delivery_method"] != deal.request["delivery_method"]:
        errors.append(
            FieldError(
                "delivery_method",
                "not_ordered",
                "须为订单申请的交付方式",
                "Must be the delivery method the order asks for",
            )
        )
    for field, code, zh, en in policy_within(deal.request["usage_policy"], clean["usage_policy"]):
        errors.append(
            FieldError(field, code, f"须允许订单申请的使用：{zh}", f"Must allow the order's use: {en}")
        )
    return errors


def offer_check(deal: Deal, derived: Derived, kind: str, clean: dict) -> None:
    """Refuse (400, each broken rule naming its field) an offer or counter granting what the product does
    not allow, or a first offer that breaks the accepted demand response's terms."""
    product = Product.objects.filter(code=deal.product_code).first()
    descriptor = product.descriptor if product is not None else {}
    errors = [FieldError(*breach) for breach in offer_breaches(clean, descriptor)]
    terms = _first_offer_of_a_response(deal, derived, kind)
    if terms is not None:
        errors += _response_errors(deal, clean, terms)
    if errors:
        raise ValidationFailed(errors)
