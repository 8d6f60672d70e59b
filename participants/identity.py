"""One company, one identity in the network (一地注册，全国互信): which registration stands for a USCC when
two exchanges registered it, and whether this node recognises the participant.

Every node ranks the registrations it holds of one USCC with the same rule (`selectors.winner_pick`) and marks
the others duplicates of the winner (computed, never replicated); this node recognises a participant whose
winning registration is verified. Both are settled again whenever a registration changes here, at home or
from a peer, in that change's transaction and under the USCC's lock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.bulk import copy_insert, copy_update
from federation.models import Entry
from participants.models import Participant, ParticipantRecognition, ParticipantStatus
from participants.replicas import PARTICIPANT, PARTICIPANT_RECOGNITION, participants_lock
from participants.selectors import winner_pick
from participants.signals import registrations_changed


def participants_publish(participants: list[Participant]) -> None:
    """Publish changes to registrations of this node, then settle their identity, in the caller's
    transaction."""
    participants_lock({p.participant_id for p in participants})
    PARTICIPANT.publish(participants)
    registrations_settle({p.participant_id for p in participants})


def registrations_settle(participant_ids: set[str]) -> None:
    """After registrations of these companies changed here: duplicates marked, this node's recognitions
    re-decided (and published where they changed), and the apps above told (products follow)."""
    if not participant_ids:
        return
    participants_lock(participant_ids)
    groups = registrations_read(participant_ids)  # one read of the registrations for both
    duplicates_resolve(participant_ids, groups=groups)
    recognitions_refresh(participant_ids, groups=groups)
    registrations_changed.send(sender=Participant, participant_ids=set(participant_ids))


def registrations_read(participant_ids: set[str]) -> dict[str, list[Participant]]:
    """Every registration held of each id, with what the winner rule, the duplicate marks and the verdict
    read (not the profiles). Call under `participants_lock`."""
    groups: dict[str, list[Participant]] = {}
    for row in Participant.objects.filter(participant_id__any=participant_ids).only(
        "participant_id", "home_id", "status", "registered_at", "duplicate_of"
    ):
        groups.setdefault(row.participant_id, []).append(row)
    return groups


def duplicates_resolve(participant_ids: set[str], *, groups: dict[str, list[Participant]]) -> None:
    """Mark, among the registrations of each id, every one but the winner as a duplicate of the winner."""
    changed = []
    for rows in groups.values():
        winner = winner_pick(rows)
        for row in rows:
            wanted = "" if row.pk == winner.pk else winner.home_id
            if row.duplicate_of != wanted:
                row.duplicate_of = wanted
                changed.append(row)
    copy_update(Participant, changed, ["duplicate_of"])


def recognition_decide(winner: Participant) -> tuple[str, list[str]]:
    """This node recognises a participant whose winning registration is verified at its home exchange."""
    if winner.status == ParticipantStatus.VERIFIED:
        return ParticipantRecognition.Status.RECOGNISED, []
    return ParticipantRecognition.Status.NOT_RECOGNISED, [
        f"registration at {winner.home_id} is {winner.status}"
    ]


def recognitions_refresh(
    participant_ids: set[str], *, groups: dict[str, list[Participant]]
) -> list[ParticipantRecognition]:
    """Re-decide this node's recognition of each participant; write and publish those that changed. The
    verdict does not read the duplicate marks, which may have been rewritten since `groups` was read."""
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
    PARTICIPANT_RECOGNITION.publish(written)
    return written


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
