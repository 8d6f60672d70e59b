"""The replicated record types of demands (federation.replica).

A demand reaches every node in its reach: the whole network (a public record), or the exchanges it names (a
record whose audience is the reach, its origin and the demander's home; a node outside it holds only the
sealed stub, never the demand). A response to a demand, and the demander's decision on it, are private to
the demand's origin, the demander's home, the response's origin and the responder's home.
"""

from __future__ import annotations

import re
from typing import Any

from core.exceptions import ValidationFailed
from demands.models import DecisionStatus, Demand, DemandResponse, DemandStatus, ResponseStatus
from federation import wire
from federation.payloads import payload_error, time_text
from federation.replica import ReplicaType, register
from standards.demand import demand_clean, demand_search_text, response_clean
from standards.uscc import uscc_errors

_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
_CODE = re.compile(r"[A-Z]{2,8}")


def _money(value) -> int | str:
    """Whole amounts as integers, others as exact decimal strings (no floats in signed JSON)."""
    return int(value) if value == value.to_integral_value() else str(value)


def _participant(payload: dict, name: str) -> str:
    _, errors = uscc_errors(payload[name], name)
    if errors:
        raise ValidationFailed(errors)
    return payload[name]


def _exchange_code(payload: dict, name: str, pattern: re.Pattern = _CODE) -> str:
    if not isinstance(payload[name], str) or not pattern.fullmatch(payload[name]):
        raise payload_error(name, "format", f"{name} must be an exchange code")
    return payload[name]


def _own_gid(payload: dict, gid: str, origin: str) -> None:
    if payload["id"] != gid or not _GID.fullmatch(gid) or not gid.startswith(origin + "-"):
        raise payload_error("id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid")


def _temporal(d) -> dict:
    return {
        "start": d.temporal_start.isoformat() if d.temporal_start else None,
        "end": d.temporal_end.isoformat() if d.temporal_end else None,
    }


def _budget(d) -> dict:
    return {"min": _money(d.budget_min), "max": _money(d.budget_max), "currency": "CNY"}


class DemandReplica(ReplicaType):
    name = "demand"
    what = "a demand payload"
    model = Demand
    key = "gid"
    fields = (
        wire.value("id", column="gid"),
        wire.value("demander", column="demander_id"),
        wire.value("demander_home"),
        wire.text("demander_name", 120),
        *(wire.value(name) for name in ("title", "description", "industry")),
        *(wire.listed(name) for name in ("product_forms", "spatial_coverage")),
        wire.value("temporal_coverage", column="", write=_temporal),
        wire.value("update_frequency"),
        wire.value("budget", column="", write=_budget),
        wire.value("deadline", write=lambda d: time_text(d.deadline)),
        *(wire.listed(name) for name in ("delivery_methods", "compliance_requirements", "reach")),
        wire.choice("status", DemandStatus),
        wire.text("status_reason", 500),
        wire.time("posted_at", required=True),
        wire.time("closed_at"),
    )
    derived_columns = ("search_text",)

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        _own_gid(payload, gid, origin)
        values["gid"] = gid
        values["demander_id"] = _participant(payload, "demander")
        values["demander_home"] = _exchange_code(payload, "demander_home", re.compile(r"[A-Z]{4,8}"))
        values.update(demand_clean(payload, now=None))  # the demand standard, as for one posted here

    def derive(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"search_text": demand_search_text(values["title"], values.get("description", ""))}

    def audience(self, record) -> tuple[str, ...]:
        """A demand with a chosen reach: its reach, its origin and the demander's home. Network-wide: ()."""
        if not record.reach:
            return ()
        return tuple(sorted({*record.reach, record.origin, record.demander_home}))


def _response_audience(record) -> tuple[str, ...]:
    return tuple(sorted({record.origin, record.demand_origin, record.demander_home, record.responder_home}))


class ResponseReplica(ReplicaType):
    """A supplier's response to a demand, owned by the node where the supplier made it."""

    name = "demand_response"
    what = "a response payload"
    model = DemandResponse
    key = "gid"
    private = True
    fields = (
        wire.value("id", column="gid"),
        wire.value("demand", column="demand_gid"),
        wire.value("demand_origin"),
        wire.value("demander", column="demander_id"),
        wire.value("demander_home"),
        wire.value("responder", column="responder_id"),
        wire.value("responder_home"),
        wire.text("responder_name", 120),
        wire.value("kind"),
        wire.listed("products"),
        wire.value("proposal"),
        wire.value("price", write=lambda r: _money(r.price)),
        wire.value("delivery_days"),
        wire.value("message"),
        wire.choice("status", ResponseStatus),
        wire.time("created_at", required=True),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        _own_gid(payload, gid, origin)
        if not isinstance(payload["demand"], str) or not _GID.fullmatch(payload["demand"]):
            raise payload_error("demand", "format", "demand must be a demand id")
        for name in ("demand_origin", "demander_home", "responder_home"):
            values[name] = _exchange_code(payload, name)
        if not payload["demand"].startswith(f"{payload['demand_origin']}-"):
            raise payload_error(
                "demand_origin", "mismatch", "demand_origin must be the origin of the demand id"
            )
        values.update(
            gid=gid,
            demand_gid=payload["demand"],
            demander_id=_participant(payload, "demander"),
            responder_id=_participant(payload, "responder"),
            **response_clean(payload),  # the response standard, as for one made here
        )

    def audience(self, record) -> tuple[str, ...]:
        return _response_audience(record)


class DecisionReplica(ReplicaType):
    """The demander's decision on a response, owned by the demand's origin node: a record of its own with
    the response's audience, written onto the response held here (it never creates one)."""

    name = "response_decision"
    what = "a decision payload"
    model = DemandResponse
    key = "gid"
    origin_field = None
    version_field = "decision_version"
    private = True
    creates = False
    fields = (
        wire.value("response", column="gid"),
        wire.value("demand", column="demand_gid"),
        wire.choice("decision", DecisionStatus),
        wire.text("reason", 500, column="decision_reason"),
        wire.time("decided_at"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["response"] != gid or not _GID.fullmatch(gid):
            raise payload_error("response", "format", "response must be the entry's gid")
        if not isinstance(payload["demand"], str) or not payload["demand"].startswith(origin + "-"):
            raise payload_error("demand", "origin", "only the demand's origin node decides on its responses")
        values.update(gid=gid, demand_gid=payload["demand"])

    def conflict(self, row, values: dict[str, Any], origin: str) -> ValidationFailed | None:
        if row.demand_gid != values["demand_gid"]:
            return payload_error("demand", "mismatch", "the decision names another demand")
        return None

    def audience(self, record) -> tuple[str, ...]:
        return _response_audience(record)


DEMAND = register(DemandReplica())
RESPONSE = register(ResponseReplica())
DECISION = register(DecisionReplica())
