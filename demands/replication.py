"""How demands replicate: their public payload (an explicit schema) and how a payload from a peer is checked
and applied. A demand reaches every node in its reach: the whole network (a public record), or the exchanges
it names (a private record whose audience is the reach, the origin and the demander's home: a node outside
it holds only the sealed stub of federation.private, never the demand)."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone

from core.exceptions import ValidationFailed
from demands.models import Demand, DemandStatus
from federation import records
from federation.outbox import Change
from federation.payloads import choice_field, fields_exact, payload_error, text_field, time_field, time_text
from standards.demand import demand_clean
from standards.segmentation import segment_for_index
from standards.uscc import uscc_errors

DEMAND = "demand"
DEMAND_FIELDS = frozenset(
    {
        "id",
        "demander",
        "demander_home",
        "demander_name",
        "title",
        "description",
        "industry",
        "product_forms",
        "spatial_coverage",
        "temporal_coverage",
        "update_frequency",
        "budget",
        "deadline",
        "delivery_methods",
        "compliance_requirements",
        "reach",
        "status",
        "status_reason",
        "posted_at",
        "closed_at",
    }
)
_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")


def _money(value) -> int | str:
    """Whole amounts as integers, others as exact decimal strings (no floats in signed JSON)."""
    return int(value) if value == value.to_integral_value() else str(value)


def demand_payload(d: Demand) -> dict:
    return {
        "id": d.gid,
        "demander": d.demander_id,
        "demander_home": d.demander_home,
        "demander_name": d.demander_name,
        "title": d.title,
        "description": d.description,
        "industry": d.industry,
        "product_forms": list(d.product_forms),
        "spatial_coverage": list(d.spatial_coverage),
        "temporal_coverage": {
            "start": d.temporal_start.isoformat() if d.temporal_start else None,
            "end": d.temporal_end.isoformat() if d.temporal_end else None,
        },
        "update_frequency": d.update_frequency,
        "budget": {"min": _money(d.budget_min), "max": _money(d.budget_max), "currency": "CNY"},
        "deadline": time_text(d.deadline),
        "delivery_methods": list(d.delivery_methods),
        "compliance_requirements": list(d.compliance_requirements),
        "reach": list(d.reach),
        "status": d.status,
        "status_reason": d.status_reason,
        "posted_at": time_text(d.posted_at),
        "closed_at": time_text(d.closed_at),
    }


def demand_audience(d: Demand) -> tuple[str, ...]:
    """A demand with a chosen reach is a private record: only the nodes of its reach (and its own and the
    demander's home) hold it; the others see its sealed stub. A network-wide demand is public."""
    if not d.reach:
        return ()
    return tuple(sorted({*d.reach, d.origin, d.demander_home}))


def demand_change(d: Demand) -> Change:
    return Change(DEMAND, d.gid, d.version, demand_payload(d), audience=demand_audience(d))


def in_reach(reach: list[str], *, origin: str, demander_home: str, node: str) -> bool:
    return not reach or node in reach or node in {origin, demander_home}


def _check(origin: str, gid: str, payload: dict) -> dict:
    fields_exact(payload, DEMAND_FIELDS, "a demand payload")
    if payload["id"] != gid or not _GID.fullmatch(gid) or not gid.startswith(origin + "-"):
        raise payload_error("id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid")
    _, errors = uscc_errors(payload["demander"], "demander")
    if errors:
        raise ValidationFailed(errors)
    for name, limit in (("demander_name", 120), ("status_reason", 500)):
        text_field(payload, name, limit)
    if not isinstance(payload["demander_home"], str) or not re.fullmatch(
        r"[A-Z]{4,8}", payload["demander_home"]
    ):
        raise payload_error("demander_home", "format", "demander_home must be an exchange code")
    choice_field(payload, "status", DemandStatus)
    clean = demand_clean(payload, now=None)
    clean.update(
        demander_id=payload["demander"],
        demander_home=payload["demander_home"],
        demander_name=payload["demander_name"],
        status=payload["status"],
        status_reason=payload["status_reason"],
        posted_at=time_field(payload, "posted_at", required=True),
        closed_at=time_field(payload, "closed_at", required=False),
    )
    return clean


def search_text(clean: dict) -> str:
    return segment_for_index(f"{clean['title']} {clean.get('description', '')}")


def demand_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    from demands.matching import demands_matched

    errors: dict[str, ValidationFailed] = {}
    valid = []
    for gid, version, payload in items:
        try:
            valid.append((gid, version, _check(origin, gid, payload)))
        except ValidationFailed as exc:
            errors[gid] = exc
    existing = {d.gid: d for d in Demand.objects.filter(gid__any=[v[0] for v in valid])}
    changed = []
    now = timezone.now()
    for gid, version, clean in valid:
        row = existing.get(gid)
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        if not in_reach(
            clean["reach"], origin=origin, demander_home=clean["demander_home"], node=settings.NODE_CODE
        ):
            if row is not None:
                row.delete()  # the reach no longer includes this node
            continue
        if row is None:
            row = Demand(gid=gid, origin=origin)
        for column, value in clean.items():
            setattr(row, column, value)
        row.version, row.search_text, row.updated_at = version, search_text(clean), now
        row.save()
        changed.append(row)
    if changed:
        demands_matched(changed)
    return errors


def demand_live(origin: str):
    """Network-wide demands only: a demand with a chosen reach is a private record (its sealed stub is in
    the digests instead)."""
    for d in Demand.objects.filter(origin=origin).iterator(chunk_size=2000):
        if not d.reach:
            yield d.gid, d.version, demand_payload(d)


records.register(records.RecordType(DEMAND, demand_apply_batch, demand_live))


# --- Responses and decisions (private: only the nodes of their audience hold them) --------------------------
RESPONSE = "demand_response"
DECISION = "response_decision"
RESPONSE_FIELDS = frozenset(
    {
        "id",
        "demand",
        "demand_origin",
        "demander",
        "demander_home",
        "responder",
        "responder_home",
        "responder_name",
        "kind",
        "products",
        "proposal",
        "price",
        "delivery_days",
        "message",
        "status",
        "created_at",
    }
)
DECISION_FIELDS = frozenset({"response", "demand", "decision", "reason", "decided_at"})


def _check_response(origin: str, gid: str, payload: dict) -> dict:
    from decimal import Decimal, InvalidOperation

    from demands.models import DemandResponse, ResponseStatus

    fields_exact(payload, RESPONSE_FIELDS, "a response payload")
    if payload["id"] != gid or not _GID.fullmatch(gid) or not gid.startswith(origin + "-"):
        raise payload_error("id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid")
    if not isinstance(payload["demand"], str) or not _GID.fullmatch(payload["demand"]):
        raise payload_error("demand", "format", "demand must be a demand id")
    if not payload["demand"].startswith(f"{payload['demand_origin']}-"):
        raise payload_error("demand_origin", "mismatch", "demand_origin must be the origin of the demand id")
    for name in ("demander", "responder"):
        _, errors = uscc_errors(payload[name], name)
        if errors:
            raise ValidationFailed(errors)
    for name in ("demand_origin", "demander_home", "responder_home"):
        if not isinstance(payload[name], str) or not re.fullmatch(r"[A-Z]{2,8}", payload[name]):
            raise payload_error(name, "format", f"{name} must be an exchange code")
    choice_field(payload, "kind", DemandResponse.Kind)
    choice_field(payload, "status", ResponseStatus)
    products = payload["products"]
    if (
        not isinstance(products, list)
        or len(products) > 20
        or not all(isinstance(c, str) and len(c) <= 40 for c in products)
    ):
        raise payload_error("products", "type", "products must be at most 20 product codes")
    for name, limit in (("responder_name", 120), ("proposal", 4000), ("message", 2000)):
        text_field(payload, name, limit)
    try:
        price = Decimal(str(payload["price"]))
        if isinstance(payload["price"], (bool, float)) or not price.is_finite() or price < 0 or price > 10**9:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise payload_error("price", "range", "price must be 0 to 1e9") from None
    days = payload["delivery_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise payload_error("delivery_days", "range", "delivery_days must be 1 to 3650")
    created_at = time_field(payload, "created_at", required=True)
    return {
        "demand_gid": payload["demand"],
        "demand_origin": payload["demand_origin"],
        "demander_id": payload["demander"],
        "demander_home": payload["demander_home"],
        "responder_id": payload["responder"],
        "responder_home": payload["responder_home"],
        "responder_name": payload["responder_name"],
        "kind": payload["kind"],
        "products": products,
        "proposal": payload["proposal"],
        "price": price,
        "delivery_days": days,
        "message": payload["message"],
        "status": payload["status"],
        "created_at": created_at,
    }


def response_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    from demands.models import DemandResponse
    from demands.services import response_arrived

    errors: dict[str, ValidationFailed] = {}
    for gid, version, payload in items:
        try:
            fields = _check_response(origin, gid, payload)
        except ValidationFailed as exc:
            errors[gid] = exc
            continue
        row = DemandResponse.objects.filter(gid=gid).first()
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        new = row is None
        if new:
            row = DemandResponse(gid=gid, origin=origin)
        for column, value in fields.items():
            setattr(row, column, value)
        row.version = version
        row.save()
        if new:
            response_arrived(row)
    return errors


def _check_decision(origin: str, gid: str, payload: dict) -> dict:
    from demands.models import DecisionStatus

    fields_exact(payload, DECISION_FIELDS, "a decision payload")
    if payload["response"] != gid or not _GID.fullmatch(gid):
        raise payload_error("response", "format", "response must be the entry's gid")
    if not isinstance(payload["demand"], str) or not payload["demand"].startswith(origin + "-"):
        raise payload_error("demand", "origin", "only the demand's origin node decides on its responses")
    choice_field(payload, "decision", DecisionStatus)
    text_field(payload, "reason", 500)
    return {
        "decision": payload["decision"],
        "decision_reason": payload["reason"],
        "decided_at": time_field(payload, "decided_at", required=False),
        "demand": payload["demand"],
    }


def decision_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    """Decisions arrive for responses this node holds (both are fetched by the same audience; a decision
    that arrives first waits: its fetch is retried until the response is here)."""
    from demands.models import DemandResponse

    errors: dict[str, ValidationFailed] = {}
    for gid, version, payload in items:
        try:
            fields = _check_decision(origin, gid, payload)
        except ValidationFailed as exc:
            errors[gid] = exc
            continue
        row = DemandResponse.objects.filter(gid=gid).first()
        if row is None:
            errors[gid] = payload_error("response", "unknown", "the response is not here yet")
            continue
        if row.demand_gid != fields.pop("demand"):
            errors[gid] = payload_error("demand", "mismatch", "the decision names another demand")
            continue
        if row.decision_version > version or (row.decision_version == version and not repair):
            continue
        for column, value in fields.items():
            setattr(row, column, value)
        row.decision_version = version
        row.save()
    return errors


def _no_live(origin: str):
    return iter(())


records.register(records.RecordType(RESPONSE, response_apply_batch, _no_live, private=True))
records.register(records.RecordType(DECISION, decision_apply_batch, _no_live, private=True))
