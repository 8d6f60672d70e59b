"""Registration conflicts (participants.models.RegistrationConflict): what this node records when the rule
alone should not decide which registration of a USCC stands here, and the operators' decisions on them."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from participants.models import Participant, ParticipantStatus, RegistrationConflict

Reason = RegistrationConflict.Reason
Decision = RegistrationConflict.Decision


def conflict_record(reason: str, *, standing: Participant, challenger: Participant) -> None:
    """Record a conflict unless the same one is open already (one open conflict per pair and reason)."""
    RegistrationConflict.objects.get_or_create(
        participant_id=standing.participant_id,
        standing_home=standing.home_id,
        challenger_home=challenger.home_id,
        reason=reason,
        decision=Decision.OPEN,
        defaults={
            "standing_registered_at": standing.registered_at,
            "challenger_registered_at": challenger.registered_at,
            "challenger_first_seen_at": challenger.first_seen_at,
        },
    )


def conflicts_moot(live_homes: dict[str, set[str]]) -> None:
    """Open conflicts of these USCCs one of whose registrations no longer counts here (revoked at its home, or
    its node removed from the peers) are moot. `live_homes`: {USCC: the homes of its live registrations}."""
    stale = [
        pk
        for pk, pid, standing, challenger in RegistrationConflict.objects.filter(
            participant_id__any=list(live_homes), decision=Decision.OPEN
        ).values_list("pk", "participant_id", "standing_home", "challenger_home")
        if not {standing, challenger} <= live_homes[pid]
    ]
    if stale:
        RegistrationConflict.objects.filter(pk__in=stale).update(
            decision=Decision.MOOT, decided_at=timezone.now()
        )


def preferred_homes(participant_ids: Iterable[str]) -> dict[str, str]:
    """{USCC: the home exchange whose registration this node's operators decided stands}, by the latest
    decision on each."""
    found: dict[str, str] = {}
    decided = (
        RegistrationConflict.objects.filter(
            participant_id__any=list(participant_ids), decision__in=[Decision.KEEP, Decision.REPLACE]
        )
        .order_by("decided_at", "id")
        .values_list("participant_id", "decision", "standing_home", "challenger_home")
    )
    for pid, decision, standing, challenger in decided:
        found[pid] = standing if decision == Decision.KEEP else challenger
    return found


def conflicts_visible(*, open_only: bool = False) -> QuerySet[RegistrationConflict]:
    rows = RegistrationConflict.objects.all()
    return rows.filter(decision=Decision.OPEN) if open_only else rows


def conflicts_open_count() -> int:
    return RegistrationConflict.objects.filter(decision=Decision.OPEN).count()


def is_live(row: Participant) -> bool:
    return row.status != ParticipantStatus.REVOKED


def home_here(row: Participant) -> bool:
    return row.home_id == settings.NODE_CODE
