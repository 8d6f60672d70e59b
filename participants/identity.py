"""One company, one identity in the network (一地注册，全国互信): which registration stands for a USCC when
two exchanges registered it, and whether this node recognises the participant.

Every node ranks the registrations it holds of one USCC with the same rule (`selectors.winner_pick`: verified
first, then the earliest registration time) and marks the others duplicates of the one that stands (computed,
never replicated). A peer's claim is evidence, not truth: a claimed registration time counts at most
PARTICIPANT_CLOCK_SKEW before this node first saw it, a verified registration standing here is never displaced
by the rule alone, and only registrations of this node and of its peers count. What the rule should not decide
alone becomes a conflict for this node's operators (`participants.conflicts`). This node recognises a
participant whose standing registration is verified. All of it is settled again whenever a registration
changes here, at home or from a peer, in that change's transaction and under the USCC's lock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_insert, copy_update
from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from federation.models import Entry
from federation.protocols import protocol_everywhere
from federation.selectors import origins_known
from participants.conflicts import (
    Decision,
    Reason,
    conflict_record,
    conflicts_moot,
    is_live,
    preferred_homes,
)
from participants.models import Participant, ParticipantRecognition, ParticipantStatus, RegistrationConflict
from participants.permissions import is_home_operator
from participants.replicas import PARTICIPANT, PARTICIPANT_RECOGNITION, participants_lock
from participants.selectors import winner_pick
from participants.signals import registrations_changed
from participants.verdicts import recognition_decide, recognition_is_exception


def participants_publish(participants: list[Participant]) -> None:
    """Publish changes to registrations of this node, then settle their identity, in the caller's
    transaction."""
    participants_lock({p.participant_id for p in participants})
    PARTICIPANT.publish(participants)
    registrations_settle({p.participant_id for p in participants})


def registrations_settle(participant_ids: set[str]) -> None:
    """After registrations of these companies changed here: duplicates marked, this node's recognitions
    re-decided (and published where they changed and the network needs them), and the apps above told
    (products follow)."""
    if not participant_ids:
        return
    participants_lock(participant_ids)
    groups = registrations_read(participant_ids)  # one read of the registrations for both
    standing = duplicates_resolve(participant_ids, groups=groups)
    recognitions_refresh(participant_ids, standing=standing)
    registrations_changed.send(sender=Participant, participant_ids=set(participant_ids))


def registrations_read(participant_ids: set[str]) -> dict[str, list[Participant]]:
    """Every registration held of each id, with what the winner rule, the duplicate marks and the verdict
    read (not the profiles). Call under `participants_lock`."""
    groups: dict[str, list[Participant]] = {}
    for row in Participant.objects.filter(participant_id__any=participant_ids).only(
        "participant_id",
        "home_id",
        "status",
        "registered_at",
        "first_seen_at",
        "duplicate_of",
        "standing_since",
    ):
        groups.setdefault(row.participant_id, []).append(row)
    return groups


def duplicates_resolve(
    participant_ids: set[str], *, groups: dict[str, list[Participant]]
) -> dict[str, Participant]:
    """Settle which registration stands here for each id and mark every other one a duplicate of it.
    Returns {id: the registration that stands}."""
    trusted = {settings.NODE_CODE, *origins_known()}
    preferred = preferred_homes(groups)
    conflicts_moot(
        {
            pid: {r.home_id for r in rows if r.home_id in trusted and is_live(r)}
            for pid, rows in groups.items()
        }
    )
    now = timezone.now()
    changed, standing = [], {}
    for pid, rows in groups.items():
        winner = standing[pid] = _standing(rows, trusted=trusted, preferred=preferred.get(pid))
        for row in rows:
            wanted = ("", row.standing_since or now) if row.pk == winner.pk else (winner.home_id, None)
            if (row.duplicate_of, row.standing_since) != wanted:
                row.duplicate_of, row.standing_since = wanted
                changed.append(row)
    copy_update(Participant, changed, ["duplicate_of", "standing_since"])
    return standing


def _standing(rows: list[Participant], *, trusted: set[str], preferred: str | None) -> Participant:
    """Which of one USCC's registrations stands here (recording the conflicts the rule meets)."""
    counted = [r for r in rows if r.home_id in trusted] or rows
    live = [r for r in counted if is_live(r)]
    chosen = next((r for r in live if r.home_id == preferred), None)
    if chosen is not None:  # this node's operators decided
        return chosen
    candidate = winner_pick(counted)
    by_claim = min(live or counted, key=lambda r: (r.status != ParticipantStatus.VERIFIED, r.registered_at))
    if by_claim.pk != candidate.pk and by_claim.registered_at < candidate.registered_at:
        conflict_record(Reason.BACKDATED, standing=candidate, challenger=by_claim)
    stood = next((r for r in live if r.standing_since is not None), None)
    if stood is None or stood.pk == candidate.pk:
        return candidate
    if stood.status == ParticipantStatus.VERIFIED:  # never displaced by the rule alone
        conflict_record(Reason.VERIFIED_DISPLACEMENT, standing=stood, challenger=candidate)
        return stood
    if stood.home_id == settings.NODE_CODE:
        conflict_record(Reason.HOME_DISPLACED, standing=stood, challenger=candidate)
    return candidate


def recognitions_refresh(
    participant_ids: set[str], *, standing: dict[str, Participant]
) -> list[ParticipantRecognition]:
    """Re-decide this node's recognition of each participant from the registration that stands here; write
    those that changed, and publish those the network needs: every one until this node and all its peers
    announce participant recognition protocol 2, then only exceptions (`participants.verdicts`) and those
    published before (its peers must hold their latest)."""
    current = {
        r.participant_id: r
        for r in ParticipantRecognition.objects.select_for_update().filter(
            participant_id__any=participant_ids, exchange_id=settings.NODE_CODE
        )
    }
    exceptions_only = protocol_everywhere("participant_recognition", 2)
    creates, updates = [], []
    for pid, winner in standing.items():
        status, reasons = recognition_decide(winner)
        row = current.get(pid)
        if row is not None and (row.status, row.reasons, row.home) == (status, reasons, winner.home_id):
            continue
        if row is None:
            row = ParticipantRecognition(
                participant_id=pid, exchange_id=settings.NODE_CODE, version=0, published=False
            )
            creates.append(row)
        else:
            updates.append(row)
        row.status, row.reasons, row.home = status, reasons, winner.home_id
        row.version += 1
        row.updated_at = timezone.now()
        row.published = (
            row.published or not exceptions_only or recognition_is_exception(status, reasons, winner)
        )
    copy_insert(ParticipantRecognition, creates)
    copy_update(
        ParticipantRecognition, updates, ["status", "reasons", "home", "version", "updated_at", "published"]
    )
    written = creates + updates
    PARTICIPANT_RECOGNITION.publish(written)  # the published ones (publishable)
    return written


@transaction.atomic
def conflict_decide(*, actor, conflict_id: int, decision: str, note: str = "") -> RegistrationConflict:
    """An operator of this node decides which of two registrations stands here: `keep` the one that stood,
    or `replace` it with the challenger. The USCC is settled again at once."""
    if not is_home_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以处理登记冲突",
            message_en=f"Only operators of {settings.NODE_CODE} decide its registration conflicts",
            code="not_owner",
        )
    if decision not in (Decision.KEEP, Decision.REPLACE):
        raise ValidationFailed(
            [FieldError("decision", "invalid_choice", "须为 keep 或 replace", "decision is keep or replace")]
        )
    if not isinstance(note, str) or len(note) > 500:
        raise ValidationFailed([FieldError("note", "max_length", "最多500字", "At most 500 characters")])
    conflict = RegistrationConflict.objects.filter(pk=conflict_id).first()
    if conflict is None:
        raise NotFound(message="没有该登记冲突", message_en="No such registration conflict", code="not_found")
    participants_lock([conflict.participant_id])
    conflict = RegistrationConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.decision != Decision.OPEN:
        raise Conflict(
            message="该冲突已处理", message_en="This conflict was already settled", code="already_decided"
        )
    conflict.decision, conflict.note = decision, note
    conflict.decided_at, conflict.decided_by = timezone.now(), actor if getattr(actor, "pk", None) else None
    conflict.save()
    registrations_settle({conflict.participant_id})
    return conflict


def participants_publish_unlogged() -> int:
    """Publish this node's registrations that have no change-log entry yet (those the migration created
    for the providers of existing products). Returns how many were published."""
    logged = Entry.objects.filter(origin=settings.NODE_CODE, record_type=PARTICIPANT.name).values("gid")
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
