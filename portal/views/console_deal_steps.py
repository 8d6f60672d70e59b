"""The steps a party takes in a deal from the console: each kind's form values to the API's request body,
validated by the API's own serializer for that action (api/serializers/deals.py), then taken by
`deals.services.deal_step_take` as POST /api/v1/deals/{id}/<action>/ takes it."""

from __future__ import annotations

import json
from typing import Any

from api.serializers import deals as s

# kind -> (the API's serializer, the form inputs it reads)
STEPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "offer": (
        s.OfferSerializer,
        ("price", "delivery_method", "delivery_days", "acceptance_window_hours", "usage_policy", "message"),
    ),
    "counter": (
        s.OfferSerializer,
        ("price", "delivery_method", "delivery_days", "acceptance_window_hours", "usage_policy", "message"),
    ),
    "accept": (s.AcceptSerializer, ("offer_version",)),
    "cancel": (s.ReasonSerializer, ("reason",)),
    "delivery": (s.DeliverySerializer, ("method", "note", "details")),
    "receipt": (s.ReceiptSerializer, ("note", "files")),
    "acceptance": (s.AcceptanceSerializer, ("result", "reason")),
    # once settled, each party evaluates the other: taken by `deals.closing.deal_evaluate` (POST evaluations/)
    "evaluation": (s.DealEvaluationSerializer, ("dimension", "score", "summary")),
}
_INTEGERS = {"delivery_days", "acceptance_window_hours", "offer_version", "score"}
_JSON = {"usage_policy", "files", "details"}


def parse_value(name: str, raw: str) -> Any:
    """A posted input's value as the API's body carries it (integers, JSON blocks; the rest as typed)."""
    text = raw.strip()
    if name in _INTEGERS:
        return int(text) if text.isdigit() else (text or None)
    if name in _JSON:
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text  # the serializer or the standard names the field
    return raw


def step_body(kind: str, post) -> dict:
    """The API's body for a step of `kind` from the posted form: empty inputs left out (the API's defaults
    apply), a delivery's details (JSON: files, endpoint, …) merged into the body."""
    body: dict = {}
    for name in STEPS[kind][1]:
        if name not in post:
            continue
        value = parse_value(name, post[name])
        if value in (None, "") and name not in {"reason", "summary"}:
            continue
        if name == "details":
            if isinstance(value, dict):
                body.update(value)
            else:
                body["details"] = value  # refused by the serializer as an unknown field, named
            continue
        body[name] = value
    return body


def form_defaults(deal, derived) -> dict:
    """What the step forms start with: the current offer's (or the order's) terms."""
    offer = derived.offer or {}
    request = deal.request or {}
    policy = offer.get("usage_policy") or request.get("usage_policy") or {}
    method = offer.get("delivery_method") or request.get("delivery_method") or ""
    return {
        "price": offer.get("price", ""),
        "delivery_method": method,
        "delivery_days": offer.get("delivery_days", ""),
        "acceptance_window_hours": offer.get("acceptance_window_hours", 72),
        "usage_policy": json.dumps(policy, ensure_ascii=False, indent=2),
        "offer_version": derived.offer_version or "",
        "method": (derived.agreed_offer or {}).get("delivery_method", method),
        "details": "",
        "files": "",
        "message": "",
        "note": "",
        "reason": "",
        "result": "accepted",
        "dimension": "service",
        "score": "",
        "summary": "",
    }
