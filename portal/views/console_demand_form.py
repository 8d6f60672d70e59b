"""The demander's demand form: inputs to the API's demand body and back, and the live check (the demand
standard's rules, `standards.demand.demand_clean`, which POST /api/v1/demands/ applies)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.serializers.demands import DemandWriteSerializer
from core.exceptions import ValidationFailed
from portal.forms import validate
from standards.demand import demand_clean
from standards.vocabularies import VOCABULARIES

_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class Input:
    name: str
    field: str  # the API's error field
    kind: str
    label: Any
    vocabulary: str = ""
    help: Any = ""


INPUTS = (
    Input("title", "title", "text", _("需求标题")),
    Input("description", "description", "textarea", _("需求说明")),
    Input("industry", "industry", "choice", _("行业门类"), "industry"),
    Input("product_forms", "product_forms", "multi", _("需要的产品形态"), "product_form"),
    Input(
        "spatial_coverage",
        "spatial_coverage",
        "list",
        _("空间范围"),
        help=_("GB/T 2260 行政区划代码，用逗号分隔"),
    ),
    Input("update_frequency", "update_frequency", "choice", _("更新频率"), "update_frequency"),
    Input("budget_min", "budget.min", "number", _("预算下限（元）")),
    Input("budget_max", "budget.max", "number", _("预算上限（元）")),
    Input("deadline", "deadline", "date", _("征集截止日期")),
    Input("delivery_methods", "delivery_methods", "multi", _("交付方式"), "delivery_method"),
)


def choices(vocabulary: str) -> list[dict]:
    return [{"code": t.code, "zh": t.zh, "en": t.en} for t in VOCABULARIES[vocabulary]]


def form_values(post) -> dict:
    return {i.name: (post.getlist(i.name) if i.kind == "multi" else post.get(i.name, "")) for i in INPUTS}


def blank_values() -> dict:
    return {i.name: ([] if i.kind == "multi" else "") for i in INPUTS}


def _number(raw: str) -> Any:
    text = (raw or "").strip()
    try:
        number = float(text)
    except ValueError:
        return text or None  # the rule names the wrong value at its field
    return int(number) if number.is_integer() else number


def body_from(values: dict) -> dict:
    """The API's request body for these values (POST /api/v1/demands/)."""
    body: dict = {
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "product_forms": [v for v in values.get("product_forms", []) if v],
        "spatial_coverage": [v for v in _SPLIT.split(values.get("spatial_coverage", "").strip()) if v],
        "budget": {
            "min": _number(values.get("budget_min", "")),
            "max": _number(values.get("budget_max", "")),
        },
        "deadline": f"{d}T23:59:59+08:00" if (d := values.get("deadline", "").strip()) else "",
        "delivery_methods": [v for v in values.get("delivery_methods", []) if v],
    }
    for name in ("industry", "update_frequency"):
        if values.get(name):
            body[name] = values[name]
    return body


def demand_check(body: dict) -> list[dict]:
    """The errors (the API's items) a demand with this body would get: the serializer's, and the rules' on the
    fields the serializer let through (so a budget's order shows while the deadline is still empty)."""
    _, errors = validate(DemandWriteSerializer, body)
    items = list(errors.errors)
    typed = {e["field"].split(".")[0] for e in items}
    try:
        demand_clean(body, now=timezone.now())
    except ValidationFailed as exc:
        items += [e.as_dict() for e in exc.errors if e.field.split(".")[0] not in typed]
    return items
