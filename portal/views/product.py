"""A product's page: its descriptor laid out for people, the recognition matrix of the 24 exchanges, its
valid quality reports, the version history with a diff between two versions, and the actions a signed-in
person's role allows (their forms are the consoles')."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils import translation

from participants.permissions import is_home_operator
from portal.actors import actor, has_role
from portal.descriptor import descriptor_diff
from products.catalog import (
    product_for_page,
    product_profile,
    product_recognitions,
    version_descriptors,
    version_history,
)
from quality.selectors import reports_valid
from standards.members import members


def _matrix(product) -> list[dict]:
    found = product_recognitions(product)
    return [{"member": m, "recognition": found.get(m.code)} for m in members()]


def _sample_columns(descriptor: dict) -> list[str]:
    """The keys of the sample's records, in the order they first appear."""
    records = (descriptor.get("sample") or {}).get("records") or []
    columns: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            columns.update(dict.fromkeys(record))
    return list(columns)


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


def _diff(request, product, who, history) -> dict | None:
    """The two versions compared (?from=&to=, by default the last two) and their differences."""
    numbers = [v.version for v in history]
    if len(numbers) < 2:
        return None
    old, new = _number(request.GET.get("from")), _number(request.GET.get("to"))
    old = old if old in numbers else numbers[-2]
    new = new if new in numbers else numbers[-1]
    descriptors = version_descriptors(product=product, user=who, versions=[old, new])
    english = (translation.get_language() or "").startswith("en")
    changes = descriptor_diff(descriptors.get(old, {}), descriptors.get(new, {}), english=english)
    return {"old": old, "new": new, "numbers": numbers, "changes": changes}


def _actions(product, who) -> dict:
    # the operator console's own rule: this node's operators (and its admin); they review this exchange's
    # products and decide its recognition of the others'
    home = who is not None and is_home_operator(who)
    return {
        "order": has_role(who, "demander") and product.status == "listed",
        "respond": has_role(who, "data_merchant")
        and getattr(who, "participant_id", "") == product.provider_uscc
        and product.status == "listed",  # only a listed product matches demands
        "review": home and product.exchange_id == settings.NODE_CODE,
        "recognise": home and product.exchange_id != settings.NODE_CODE,
    }


def product_page(request, code: str):
    who = actor(request)
    product = product_for_page(code=code, user=who)
    if product is None:
        return render(request, "portal/not_found.html", {"code": code}, status=404)
    history = version_history(product=product, user=who)
    context = {
        "product": product,
        "d": product.descriptor,
        "sample_columns": _sample_columns(product.descriptor),
        "matrix": _matrix(product),
        "reports": reports_valid([product.code]).get(product.code, []),
        "profile": product_profile(product.code),
        "history": history,
        "diff": _diff(request, product, who, history),
        "actions": _actions(product, who),
    }
    return render(request, "portal/product.html", context)
