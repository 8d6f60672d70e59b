"""The draft form of the merchant console: a descriptor's fields as form inputs and back, and the live check
(the descriptor standard, the naming rule and the compliance rules: the very checks of
POST /api/v1/standards/product-descriptor/validate/ and /standards/naming/check/)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.exceptions import FieldError, ValidationFailed
from products.checks import descriptor_accept, findings_as_json, taken_names
from standards.compliance import compliance_evaluate
from standards.descriptor_schema import DESCRIPTOR_VERSION
from standards.naming import name_check
from standards.vocabularies import VOCABULARIES

_SPLIT = re.compile(r"[,，、;；\s]+")
DEFAULT_COMPLIANCE = {
    "source_legality": {"status": "pending", "evidence_ref": None},
    "authorization": {"status": "pending", "evidence_ref": None},
    "personal_information": {"category": "none", "status": "not_applicable", "evidence_ref": None},
    "important_data": {"involved": False, "status": "not_applicable", "evidence_ref": None},
    "cross_border_transfer": {"involved": False, "status": "not_applicable", "evidence_ref": None},
    "security_assessment": {"status": "pending", "evidence_ref": None},
}


@dataclass(frozen=True)
class Input:
    name: str  # the form input's name
    path: tuple[str, ...]  # where it goes in the descriptor
    kind: str  # text, textarea, choice, multi, list, number, date, json
    label: Any
    vocabulary: str = ""
    help: Any = ""

    @property
    def field(self) -> str:
        """The API's error field of this input (`descriptor.pricing.min`)."""
        return "descriptor." + ".".join(self.path)


INPUTS = (
    Input("name", ("name",), "text", _("产品名称"), help=_("命名规则：[主体或地域]+[内容]+[产品形态词]")),
    Input("summary", ("summary",), "textarea", _("产品简介")),
    Input("product_form", ("product_form",), "choice", _("产品形态"), "product_form"),
    Input("industry", ("industry",), "choice", _("行业门类"), "industry"),
    Input("keywords", ("keywords",), "list", _("关键词"), help=_("用逗号或顿号分隔")),
    Input("data_source_type", ("data_source", "type"), "choice", _("数据来源类型"), "data_source_type"),
    Input("data_source_description", ("data_source", "description"), "textarea", _("数据来源说明")),
    Input(
        "spatial_coverage",
        ("spatial_coverage",),
        "list",
        _("空间范围"),
        help=_("GB/T 2260 行政区划代码，用逗号分隔"),
    ),
    Input("temporal_start", ("temporal_coverage", "start"), "date", _("时间范围起")),
    Input("temporal_end", ("temporal_coverage", "end"), "date", _("时间范围止")),
    Input("update_frequency", ("update_frequency",), "choice", _("更新频率"), "update_frequency"),
    Input("delivery_methods", ("delivery_methods",), "multi", _("交付方式"), "delivery_method"),
    Input("pricing_model", ("pricing", "model"), "choice", _("计价方式"), "pricing_model"),
    Input("pricing_min", ("pricing", "min"), "number", _("最低价格（元）")),
    Input("pricing_max", ("pricing", "max"), "number", _("最高价格（元）")),
    Input("usage_restrictions", ("usage_restrictions",), "textarea", _("使用限制")),
    Input(
        "compliance", ("compliance",), "json", _("合规声明（JSON）"), help=_("六项合规检查的状态与凭证编号")
    ),
)
NAMES = tuple(i.name for i in INPUTS)


def choices(vocabulary: str) -> list[dict]:
    return [{"code": t.code, "zh": t.zh, "en": t.en} for t in VOCABULARIES[vocabulary]]


def _put(target: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        node = target.get(key)
        if not isinstance(node, dict):
            node = target[key] = {}
        target = node
    target[path[-1]] = value


def _get(source: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(source, dict):
            return None
        source = source.get(key)
    return source


def _parse(item: Input, raw: Any) -> Any:
    if item.kind == "multi":
        return [v for v in raw if v]
    text = (raw or "").strip() if isinstance(raw, str) else raw
    if item.kind == "list":
        return [v for v in _SPLIT.split(text or "") if v]
    if item.kind == "number":
        try:
            number = float(text)
        except (TypeError, ValueError):
            return text or None  # the standard names the wrong type at this field
        return int(number) if number.is_integer() else number
    if item.kind == "date":
        return text or None
    if item.kind == "json":
        try:
            return json.loads(text or "null")
        except ValueError:
            return text
    return raw if isinstance(raw, str) else ""


def form_values(post) -> dict:
    """What the person typed, exactly (kept on every error): text per input, a list for checkboxes."""
    return {i.name: (post.getlist(i.name) if i.kind == "multi" else post.get(i.name, "")) for i in INPUTS}


def descriptor_from(values: dict, *, actor: Any, base: dict | None = None) -> dict:
    """The descriptor the form describes, on top of `base` (an edited draft keeps what the form lacks: its
    sample, data dictionary, classification); the provider is the signed-in merchant itself."""
    descriptor = json.loads(json.dumps(base)) if base else {"descriptor_version": DESCRIPTOR_VERSION}
    for item in INPUTS:
        _put(descriptor, item.path, _parse(item, values.get(item.name)))
    descriptor.setdefault("pricing", {})["currency"] = "CNY"
    descriptor["provider"] = {"name": actor.legal_name, "uscc": actor.participant_id}
    return descriptor


def values_from(descriptor: dict) -> dict:
    """A stored descriptor as the form's values."""
    values = {}
    for item in INPUTS:
        value = _get(descriptor, item.path)
        if item.kind == "list":
            value = "，".join(value or [])
        elif item.kind == "json":
            value = json.dumps(value, ensure_ascii=False, indent=2)
        elif item.kind == "multi":
            value = list(value or [])
        values[item.name] = "" if value is None else value
    return values


def blank_values() -> dict:
    values = {i.name: "" for i in INPUTS}
    values["delivery_methods"] = []
    values["compliance"] = json.dumps(DEFAULT_COMPLIANCE, ensure_ascii=False, indent=2)
    return values


def _naming(descriptor: dict, *, exclude_id: int | None) -> list[FieldError]:
    """The naming rule as POST /standards/naming/check/ applies it (also while the rest is still invalid)."""
    name, form, coverage = (
        descriptor.get("name"),
        descriptor.get("product_form"),
        descriptor.get("spatial_coverage"),
    )
    if (
        not isinstance(name, str)
        or not name.strip()
        or not isinstance(form, str)
        or not isinstance(coverage, list)
    ):
        return []
    taken = taken_names(
        exchange_id=settings.NODE_CODE, provider_uscc=descriptor["provider"]["uscc"], exclude_id=exclude_id
    )
    try:
        verdict = name_check(name, product_form=form, spatial_coverage=coverage, taken_names=taken)
    except (ValueError, KeyError, TypeError):
        return []
    return [
        FieldError("descriptor.name", v.code, v.message, v.message_en)
        for v in verdict.violations
        if v.severity == "error"
    ]


def descriptor_check(descriptor: dict, *, exclude_id: int | None = None) -> tuple[list[dict], list[dict]]:
    """The errors (the API's error items) and the compliance findings of a descriptor, stored nowhere."""
    try:
        accepted = descriptor_accept(descriptor, exchange_id=settings.NODE_CODE, exclude_id=exclude_id)
    except ValidationFailed as exc:
        errors = [e.as_dict() for e in exc.errors]
        if not any(e["field"] == "descriptor.name" for e in errors):
            errors += [e.as_dict() for e in _naming(descriptor, exclude_id=exclude_id)]
        return errors, []
    return [], findings_as_json(compliance_evaluate(accepted))


def unplaced(errors: list[dict]) -> list[dict]:
    """The errors that no input shows (the provider's, the descriptor's as a whole)."""
    fields = tuple(i.field for i in INPUTS)
    return [e for e in errors if not any(e["field"] == f or e["field"].startswith(f + ".") for f in fields)]
