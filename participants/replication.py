"""How participants, this node's recognitions of them, and evaluations replicate.

Payloads are explicit schemas. A registration's payload is its public profile only: contacts, phone, email
and documents (`ParticipantPrivate`) are never in it. Every payload from a peer is untrusted input and is
checked field by field before anything is written.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_insert, copy_update
from core.exceptions import ValidationFailed
from core.locks import keys_lock
from exchanges.models import Exchange
from federation import records
from federation.outbox import Change, publish
from federation.payloads import (
    choice_field,
    date_field,
    fields_exact,
    payload_error,
    reasons_field,
    text_field,
    time_field,
    time_text,
)
from participants.models import (
    Evaluation,
    EvaluationStatus,
    Participant,
    ParticipantRecognition,
    ParticipantStatus,
)
from participants.selectors import winner_pick
from standards import participant_vocabularies as vocab
from standards.participant import MAX_REASON, profile_errors
from standards.regions import region_is_valid
from standards.uscc import uscc_errors

PARTICIPANT = "participant"
PARTICIPANT_RECOGNITION = "participant_recognition"
EVALUATION = "evaluation"

PARTICIPANT_FIELDS = frozenset(
    {
        "id",
        "home",
        "legal_name",
        "entity_type",
        "region",
        "roles",
        "business_categories",
        "services",
        "description",
        "status",
        "status_reason",
        "registered_at",
        "verified_at",
    }
)
RECOGNITION_FIELDS = frozenset({"participant", "home", "exchange", "status", "reasons"})
EVALUATION_FIELDS = frozenset(
    {
        "id",
        "subject",
        "dimension",
        "score",
        "grade",
        "valid_from",
        "valid_until",
        "summary",
        "evidence_ref",
        "issuer_type",
        "issuer_id",
        "issuer_name",
        "status",
        "revoked_reason",
        "issued_at",
    }
)
_EVALUATION_GID = re.compile(r"[A-Z]{2,8}-[0-9a-f]{32}")
PROFILE_COLUMNS = ("legal_name", "entity_type", "roles", "business_categories", "services", "description")


# --- Participants -------------------------------------------------------------------------------------------
def participant_payload(p: Participant) -> dict:
    return {
        "id": p.participant_id,
        "home": p.home_id,
        "legal_name": p.legal_name,
        "entity_type": p.entity_type,
        "region": p.region,
        "roles": list(p.roles),
        "business_categories": list(p.business_categories),
        "services": list(p.services),
        "description": p.description,
        "status": p.status,
        "status_reason": p.status_reason,
        "registered_at": time_text(p.registered_at),
        "verified_at": time_text(p.verified_at),
    }


def participants_lock(participant_ids) -> None:
    """Serialise, until the transaction ends, the transactions that register, apply or change a registration
    of any of these companies (core/locks.py): the winner among registrations of one USCC and this node's
    recognition of it are decided by one transaction at a time."""
    keys_lock("participant", participant_ids)


def participants_publish(participants: list[Participant]) -> None:
    """Publish changes to registrations of this node, then settle duplicates and this node's recognitions of
    the participants concerned, all in the caller's transaction; this exchange's products of them follow
    once it commits."""
    changes = [Change(PARTICIPANT, p.participant_id, p.version, participant_payload(p)) for p in participants]
    pids = {p.participant_id for p in participants}
    participants_lock(pids)
    groups = registrations_read(pids)
    duplicates_resolve(pids, groups=groups)
    refreshed = recognitions_refresh(pids, publish_now=False, groups=groups)
    publish(changes + [recognition_change(r) for r in refreshed])
    _products_follow(pids)


def _check_participant(origin: str, gid: str, payload: dict) -> dict:
    fields_exact(payload, PARTICIPANT_FIELDS, "a participant payload")
    if payload["id"] != gid:
        raise payload_error("id", "mismatch", "id differs from the entry's gid")
    parsed, errors = uscc_errors(payload["id"], "id")
    if errors:
        raise ValidationFailed(errors)
    if parsed.code != payload["id"]:
        raise payload_error("id", "format", "id must be the normalised USCC")
    if payload["home"] != origin:
        raise payload_error("home", "origin", "a node only publishes registrations made at its own exchange")
    if payload["region"] != parsed.region or not region_is_valid(payload["region"]):
        raise payload_error("region", "mismatch", "region must be the USCC's region part")
    profile, errors = profile_errors(payload)
    if errors:
        raise ValidationFailed(errors)
    choice_field(payload, "status", ParticipantStatus)
    text_field(payload, "status_reason", MAX_REASON)
    profile["registered_at"] = time_field(payload, "registered_at", required=True)
    profile["verified_at"] = time_field(payload, "verified_at", required=False)
    profile["status"], profile["status_reason"], profile["region"] = (
        payload["status"],
        payload["status_reason"],
        payload["region"],
    )
    return profile


REPLICA_COLUMNS = (
    *PROFILE_COLUMNS,
    "region",
    "status",
    "status_reason",
    "registered_at",
    "verified_at",
    "version",
    "updated_at",
)


def participant_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    errors: dict[str, ValidationFailed] = {}
    valid = []
    for gid, version, payload in items:
        try:
            valid.append((gid, version, _check_participant(origin, gid, payload)))
        except ValidationFailed as exc:
            errors[gid] = exc
    participants_lock([v[0] for v in valid])
    existing = {
        p.participant_id: p
        for p in Participant.objects.filter(participant_id__any=[v[0] for v in valid], home_id=origin)
    }
    creates, updates = [], []
    now = timezone.now()
    for gid, version, profile in valid:
        row = existing.get(gid)
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        if row is None:
            row = Participant(participant_id=gid, home_id=origin, is_home=origin == settings.NODE_CODE)
            creates.append(row)
        else:
            updates.append(row)
        for column, value in profile.items():
            setattr(row, column, value)
        row.version, row.updated_at = version, now
    copy_insert(Participant, creates)
    copy_update(Participant, updates, REPLICA_COLUMNS)
    changed = {p.participant_id for p in creates + updates}
    if changed:
        groups = registrations_read(changed)  # one read of the page's registrations for both
        duplicates_resolve(changed, groups=groups)
        recognitions_refresh(changed, groups=groups)
        _products_follow(changed)
    return errors


def _products_follow(participant_ids: set[str]) -> None:
    """Once this change commits, this exchange's products of these providers follow their standing (the
    registration's home may be another exchange): a task, in its own transaction (products.services
    .products_follow_providers says why); the beat's sweep catches a task that was lost."""
    from products.tasks import follow_providers

    ids = sorted(participant_ids)
    transaction.on_commit(lambda: follow_providers.delay(ids))


def participant_live(origin: str):
    for p in Participant.objects.filter(home_id=origin).iterator(chunk_size=2000):
        yield p.participant_id, p.version, participant_payload(p)


def registrations_read(participant_ids: set[str]) -> dict[str, list[Participant]]:
    """Every registration held of each id, with what the winner rule, the duplicate marks and the verdict
    read (not the profiles). Call under `participants_lock`."""
    groups: dict[str, list[Participant]] = {}
    for row in Participant.objects.filter(participant_id__any=participant_ids).only(
        "participant_id", "home_id", "status", "registered_at", "duplicate_of"
    ):
        groups.setdefault(row.participant_id, []).append(row)
    return groups


def duplicates_resolve(
    participant_ids: set[str], *, groups: dict[str, list[Participant]] | None = None
) -> None:
    """Mark, among the registrations of each id, every one but the winner as a duplicate of the winner.
    `groups`: `registrations_read(participant_ids)` already done under the lock."""
    participants_lock(participant_ids)
    if groups is None:
        groups = registrations_read(participant_ids)
    changed = []
    for rows in groups.values():
        winner = winner_pick(rows)
        for row in rows:
            wanted = "" if row.pk == winner.pk else winner.home_id
            if row.duplicate_of != wanted:
                row.duplicate_of = wanted
                changed.append(row)
    copy_update(Participant, changed, ["duplicate_of"])


# --- This node's recognition of participants ----------------------------------------------------------------
def recognition_payload(r: ParticipantRecognition) -> dict:
    return {
        "participant": r.participant_id,
        "home": r.home,
        "exchange": r.exchange_id,
        "status": r.status,
        "reasons": list(r.reasons),
    }


def recognition_change(r: ParticipantRecognition) -> Change:
    return Change(PARTICIPANT_RECOGNITION, r.gid, r.version, recognition_payload(r))


def recognition_decide(winner: Participant) -> tuple[str, list[str]]:
    """This node recognises a participant whose winning registration is verified at its home exchange."""
    if winner.status == ParticipantStatus.VERIFIED:
        return ParticipantRecognition.Status.RECOGNISED, []
    return ParticipantRecognition.Status.NOT_RECOGNISED, [
        f"registration at {winner.home_id} is {winner.status}"
    ]


def recognitions_refresh(
    participant_ids: set[str],
    *,
    publish_now: bool = True,
    groups: dict[str, list[Participant]] | None = None,
) -> list[ParticipantRecognition]:
    """Re-decide this node's recognition of each participant; write and publish those that changed.
    `groups`: `registrations_read(participant_ids)` already done under the lock (its duplicate marks may
    have been rewritten since: the verdict does not read them)."""
    participants_lock(participant_ids)
    if groups is None:
        # Not the profiles: a third of a catch-up's time once went to reading whole registrations back here.
        groups = registrations_read(participant_ids)
    current = {
        r.participant_id: r
        for r in ParticipantRecognition.objects.select_for_update().filter(
            participant_id__any=participant_ids, exchange_id=settings.NODE_CODE
        )
    }
    creates, updates = [], []
    for pid, rows in groups.items():
        winner = winner_pick(rows)
        status, reasons = recognition_decide(winner)
        row = current.get(pid)
        if row is not None and (row.status, row.reasons, row.home) == (status, reasons, winner.home_id):
            continue
        if row is None:
            row = ParticipantRecognition(participant_id=pid, exchange_id=settings.NODE_CODE, version=0)
            creates.append(row)
        else:
            updates.append(row)
        row.status, row.reasons, row.home = status, reasons, winner.home_id
        row.version += 1
        row.updated_at = timezone.now()
    copy_insert(ParticipantRecognition, creates)
    copy_update(ParticipantRecognition, updates, ["status", "reasons", "home", "version", "updated_at"])
    written = creates + updates
    if publish_now and written:
        publish([recognition_change(r) for r in written])
    return written


def _check_recognition(origin: str, gid: str, payload: dict, members: set[str]) -> dict:
    fields_exact(payload, RECOGNITION_FIELDS, "a recognition payload")
    if payload["exchange"] != origin:
        raise payload_error("exchange", "origin", "a node only publishes its own exchange's recognitions")
    _, errors = uscc_errors(payload["participant"], "participant")
    if errors:
        raise ValidationFailed(errors)
    if gid != f"{payload['participant']}@{origin}":
        raise payload_error("participant", "mismatch", "gid must be <participant>@<exchange>")
    if not isinstance(payload["home"], str) or payload["home"] not in members:
        raise payload_error("home", "unknown", "home must be a member exchange's code")
    choice_field(payload, "status", ParticipantRecognition.Status)
    reasons_field(payload["reasons"])
    return payload


def recognition_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    errors: dict[str, ValidationFailed] = {}
    members = set(Exchange.objects.values_list("code", flat=True))
    valid = []
    for gid, version, payload in items:
        try:
            valid.append((version, _check_recognition(origin, gid, payload, members)))
        except ValidationFailed as exc:
            errors[gid] = exc
    existing = {
        r.participant_id: r
        for r in ParticipantRecognition.objects.filter(
            participant_id__any=[p["participant"] for _, p in valid], exchange_id=origin
        )
    }
    creates, updates = [], []
    now = timezone.now()
    for version, payload in valid:
        row = existing.get(payload["participant"])
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        if row is None:
            row = ParticipantRecognition(participant_id=payload["participant"], exchange_id=origin)
            creates.append(row)
        else:
            updates.append(row)
        row.home, row.status, row.reasons, row.version = (
            payload["home"],
            payload["status"],
            payload["reasons"],
            version,
        )
        row.updated_at = now
    copy_insert(ParticipantRecognition, creates)
    copy_update(ParticipantRecognition, updates, ["home", "status", "reasons", "version", "updated_at"])
    return errors


def recognition_live(origin: str):
    for r in ParticipantRecognition.objects.filter(exchange_id=origin).iterator(chunk_size=5000):
        yield r.gid, r.version, recognition_payload(r)


# --- Evaluations --------------------------------------------------------------------------------------------
def evaluation_payload(e: Evaluation) -> dict:
    return {
        "id": e.gid,
        "subject": e.subject_id,
        "dimension": e.dimension,
        "score": e.score,
        "grade": e.grade,
        "valid_from": e.valid_from.isoformat(),
        "valid_until": e.valid_until.isoformat(),
        "summary": e.summary,
        "evidence_ref": e.evidence_ref,
        "issuer_type": e.issuer_type,
        "issuer_id": e.issuer_id,
        "issuer_name": e.issuer_name,
        "status": e.status,
        "revoked_reason": e.revoked_reason,
        "issued_at": time_text(e.issued_at),
    }


def evaluation_change(e: Evaluation) -> Change:
    return Change(EVALUATION, e.gid, e.version, evaluation_payload(e))


def _check_evaluation(origin: str, gid: str, payload: dict) -> dict:
    fields_exact(payload, EVALUATION_FIELDS, "an evaluation payload")
    if payload["id"] != gid or not _EVALUATION_GID.fullmatch(gid) or not gid.startswith(origin + "-"):
        raise payload_error("id", "format", "id must be <origin>-<32 hex digits> and match the entry's gid")
    _, errors = uscc_errors(payload["subject"], "subject")
    if errors:
        raise ValidationFailed(errors)
    choice_field(payload, "dimension", vocab.codes(vocab.DIMENSION))
    score = payload["score"]
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise payload_error("score", "range", "score must be a whole number from 0 to 100")
    if payload["grade"] != vocab.grade_for(score):
        raise payload_error("grade", "scale", "grade does not match the score on the grade scale")
    valid_from, valid_until = date_field(payload, "valid_from"), date_field(payload, "valid_until")
    if valid_from > valid_until:
        raise payload_error("valid_until", "order", "valid_until is before valid_from")
    if payload["issuer_type"] == Evaluation.IssuerType.EXCHANGE:
        if payload["issuer_id"] != origin:
            raise payload_error("issuer_id", "origin", "an exchange issues evaluations at its own node")
    elif payload["issuer_type"] == Evaluation.IssuerType.PARTICIPANT:
        _, errors = uscc_errors(payload["issuer_id"], "issuer_id")
        if errors:
            raise ValidationFailed(errors)
    else:
        raise payload_error("issuer_type", "invalid_choice", "issuer_type must be exchange or participant")
    choice_field(payload, "status", EvaluationStatus)
    return {
        "subject_id": payload["subject"],
        "dimension": payload["dimension"],
        "score": score,
        "grade": payload["grade"],
        "valid_from": valid_from,
        "valid_until": valid_until,
        "summary": text_field(payload, "summary", 2000, required=True),
        "evidence_ref": text_field(payload, "evidence_ref", 200),
        "issuer_type": payload["issuer_type"],
        "issuer_id": payload["issuer_id"],
        "issuer_name": text_field(payload, "issuer_name", 120, required=True),
        "status": payload["status"],
        "revoked_reason": text_field(payload, "revoked_reason", MAX_REASON),
        "issued_at": time_field(payload, "issued_at", required=True),
    }


EVALUATION_COLUMNS = (
    "subject_id",
    "dimension",
    "score",
    "grade",
    "valid_from",
    "valid_until",
    "summary",
    "evidence_ref",
    "issuer_type",
    "issuer_id",
    "issuer_name",
    "status",
    "revoked_reason",
    "issued_at",
    "version",
    "updated_at",
)


def evaluation_apply_batch(origin: str, items: list[tuple[str, int, dict]], *, repair: bool = False) -> dict:
    errors: dict[str, ValidationFailed] = {}
    valid = []
    for gid, version, payload in items:
        try:
            valid.append((gid, version, _check_evaluation(origin, gid, payload)))
        except ValidationFailed as exc:
            errors[gid] = exc
    existing = {e.gid: e for e in Evaluation.objects.filter(gid__any=[v[0] for v in valid])}
    creates, updates = [], []
    now = timezone.now()
    for gid, version, fields in valid:
        row = existing.get(gid)
        if row is not None and (row.version > version or (row.version == version and not repair)):
            continue
        if row is None:
            row = Evaluation(gid=gid, origin=origin)
            creates.append(row)
        else:
            updates.append(row)
        for column, value in fields.items():
            setattr(row, column, value)
        row.version, row.updated_at = version, now
    copy_insert(Evaluation, creates)
    copy_update(Evaluation, updates, EVALUATION_COLUMNS)
    return errors


def evaluation_live(origin: str):
    for e in Evaluation.objects.filter(origin=origin).iterator(chunk_size=5000):
        yield e.gid, e.version, evaluation_payload(e)


records.register(records.RecordType(PARTICIPANT, participant_apply_batch, participant_live))
records.register(records.RecordType(PARTICIPANT_RECOGNITION, recognition_apply_batch, recognition_live))
records.register(records.RecordType(EVALUATION, evaluation_apply_batch, evaluation_live))


def participants_publish_unlogged() -> int:
    """Publish this node's registrations that have no change-log entry yet (those the migration created
    for the providers of existing products). Returns how many were published."""
    from django.db import transaction

    from federation.models import Entry

    logged = Entry.objects.filter(origin=settings.NODE_CODE, record_type=PARTICIPANT).values("gid")
    count = 0
    while True:
        with transaction.atomic():
            batch = list(
                Participant.objects.filter(home_id=settings.NODE_CODE)
                .exclude(participant_id__in=logged)
                .order_by("pk")[:500]
            )
            if not batch:
                return count
            participants_publish(batch)
            count += len(batch)
