"""The replicated record types of participants (federation.replica): a registration's public profile, one
exchange's recognition of a participant, and an evaluation. A registration's payload never holds its contacts,
phone, email or documents (`ParticipantPrivate` is not read here)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.exceptions import ValidationFailed
from core.locks import keys_lock
from federation import wire
from federation.payloads import payload_error
from federation.protocols import protocol_compared
from federation.replica import ReplicaType, register
from participants.models import (
    Evaluation,
    EvaluationStatus,
    Participant,
    ParticipantRecognition,
    ParticipantStatus,
)
from participants.verdicts import recognitions_exceptions
from standards.evaluation import evaluation_clean
from standards.members import is_member
from standards.participant import MAX_REASON, profile_errors
from standards.uscc import uscc_errors

_EVALUATION_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")


def _uscc(payload: dict, name: str) -> str:
    parsed, errors = uscc_errors(payload[name], name)
    if errors:
        raise ValidationFailed(errors)
    return parsed.code


def participants_lock(participant_ids) -> None:
    """Serialise, until the transaction ends, the transactions that register, apply or change a registration
    of any of these companies (core/locks.py): the winner among registrations of one USCC and this node's
    recognition of it are decided by one transaction at a time."""
    keys_lock("participant", participant_ids)


class ParticipantReplica(ReplicaType):
    """One registration, owned by its home exchange's node."""

    name = "participant"
    what = "a participant payload"
    model = Participant
    key = "participant_id"
    origin_field = "home_id"
    scoped = True
    fields = (
        wire.value("id", column="participant_id"),
        wire.value("home", column="home_id"),
        wire.value("legal_name"),
        wire.value("entity_type"),
        wire.listed("roles"),
        wire.listed("business_categories"),
        wire.listed("services"),
        wire.value("description"),
        wire.value("region"),
        wire.choice("status", ParticipantStatus),
        wire.text("status_reason", MAX_REASON),
        wire.time("registered_at", required=True),
        wire.time("verified_at"),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["id"] != gid:
            raise payload_error("id", "mismatch", "id differs from the entry's gid")
        parsed, errors = uscc_errors(payload["id"], "id")
        if errors:
            raise ValidationFailed(errors)
        if parsed.code != payload["id"]:
            raise payload_error("id", "format", "id must be the normalised USCC")
        if payload["home"] != origin:
            raise payload_error(
                "home", "origin", "a node only publishes registrations made at its own exchange"
            )
        if payload["region"] != parsed.region:
            raise payload_error("region", "mismatch", "region must be the USCC's region part")
        profile, errors = profile_errors(payload)
        if errors:
            raise ValidationFailed(errors)
        values.update(participant_id=gid, home_id=origin, region=parsed.region, **profile)

    def on_create(self, origin: str) -> dict[str, Any]:
        # When this node first held it: what a claimed registration time is bounded by (selectors.ranked_at).
        return {"is_home": origin == settings.NODE_CODE, "first_seen_at": timezone.now()}

    def lock(self, keys: list[str]) -> None:
        participants_lock(keys)


class ParticipantRecognitionReplica(ReplicaType):
    """Whether one exchange recognises one participant: owned by the recognising exchange's node."""

    name = "participant_recognition"
    what = "a recognition payload"
    model = ParticipantRecognition
    key = "participant_id"
    origin_field = "exchange_id"
    scoped = True
    verbatim = True
    fields = (
        wire.value("participant", column="participant_id"),
        wire.value("home"),
        wire.value("exchange", column="exchange_id"),
        wire.choice("status", ParticipantRecognition.Status),
        wire.reasons("reasons"),
    )

    def gid(self, obj) -> str:
        return f"{obj.participant_id}@{obj.exchange_id}"

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["exchange"] != origin:
            raise payload_error("exchange", "origin", "a node only publishes its own exchange's recognitions")
        _uscc(payload, "participant")
        if gid != f"{payload['participant']}@{origin}":
            raise payload_error("participant", "mismatch", "gid must be <participant>@<exchange>")
        if not is_member(payload["home"]):
            raise payload_error("home", "unknown", "home must be a member exchange's code")
        values.update(
            participant_id=payload["participant"], home=payload["home"], exchange_id=payload["exchange"]
        )

    def publishable(self, obj) -> bool:
        """In the change log: the exceptions an origin on participant recognition protocol 2 publishes, and
        whatever it published before (participants.identity); every record held from a peer."""
        return obj.published

    def live_rows(self, origin: str):
        """What anti-entropy compares: the records in the origin's log; when the two nodes comparing agree on
        participant recognition protocol 2 (`protocol_compared`), only the exceptions among them
        (`participants.verdicts`, the same at every node), so an origin that published every record under
        protocol 1 and a peer that never received them compare equal."""
        rows = ParticipantRecognition.objects.filter(exchange_id=origin, published=True)
        rows = rows.iterator(chunk_size=5000)
        return recognitions_exceptions(rows) if protocol_compared("participant_recognition") >= 2 else rows


class EvaluationReplica(ReplicaType):
    """An evaluation (评估评价) of a participant, owned by the node where it was issued; never edited, only
    revoked there."""

    name = "evaluation"
    what = "an evaluation payload"
    model = Evaluation
    key = "gid"
    fields = (
        wire.value("id", column="gid"),
        wire.value("subject", column="subject_id"),
        wire.value("dimension"),
        wire.value("score"),
        wire.value("grade"),
        wire.date("valid_from"),
        wire.date("valid_until"),
        wire.value("summary"),
        wire.value("evidence_ref"),
        wire.choice("issuer_type", Evaluation.IssuerType),
        wire.value("issuer_id"),
        wire.text("issuer_name", 120, required=True),
        wire.choice("status", EvaluationStatus),
        wire.text("revoked_reason", MAX_REASON),
        wire.time("issued_at", required=True),
    )

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["id"] != gid or not _EVALUATION_GID.fullmatch(gid) or not gid.startswith(origin + "-"):
            raise payload_error(
                "id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid"
            )
        subject = _uscc(payload, "subject")
        rules = evaluation_clean(
            {k: payload[k] for k in ("dimension", "score", "summary", "evidence_ref")},
            valid_from=values["valid_from"],
            valid_until=values["valid_until"],
        )
        if payload["grade"] != rules["grade"]:
            raise payload_error("grade", "scale", "grade does not match the score on the grade scale")
        if payload["issuer_type"] == Evaluation.IssuerType.EXCHANGE:
            if payload["issuer_id"] != origin:
                raise payload_error("issuer_id", "origin", "an exchange issues evaluations at its own node")
        else:
            _uscc(payload, "issuer_id")
        values.update(gid=gid, subject_id=subject, issuer_id=payload["issuer_id"], **rules)


PARTICIPANT = register(ParticipantReplica())
PARTICIPANT_RECOGNITION = register(ParticipantRecognitionReplica())
EVALUATION = register(EvaluationReplica())
