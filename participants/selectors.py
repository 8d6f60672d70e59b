"""Reads of participants and evaluations: standing, winners among duplicate registrations, the trust view."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from participants.models import (
    Evaluation,
    EvaluationStatus,
    Participant,
    ParticipantRecognition,
    ParticipantStatus,
)


def winner_pick(registrations: list[Participant]) -> Participant | None:
    """The registration that stands for a participant id, the same at every node holding the same
    registrations: the earliest registered (by its home node's clock) that is not revoked, ties broken by
    the home exchange's code; if all are revoked, the earliest of them."""
    if not registrations:
        return None
    live = [r for r in registrations if r.status != ParticipantStatus.REVOKED] or registrations
    return min(live, key=lambda r: (r.registered_at, r.home_id))


def participant_get(participant_id: str, *, home: str | None = None) -> Participant | None:
    """The registration of `participant_id` at `home`, or the winning registration when no home is given."""
    rows = Participant.objects.select_related("home").filter(participant_id=participant_id)
    if home:
        return rows.filter(home_id=home).first()
    return winner_pick(list(rows))


def standing_for_token(*, participant_id: str, home: str) -> dict | None:
    """The standing a token's holder has here, or None if its registration is not in good standing: verified
    and not a duplicate (pending is enough at the home node, so a new participant completes its profile)."""
    row = (
        Participant.objects.filter(participant_id=participant_id, home_id=home, duplicate_of="")
        .values("status", "roles", "services", "legal_name")
        .first()
    )
    if row is None:
        return None
    if row["status"] == ParticipantStatus.VERIFIED or (
        row["status"] == ParticipantStatus.PENDING and home == settings.NODE_CODE
    ):
        return row
    return None


def provider_standing(participant_ids: set[str]) -> dict[str, str | None]:
    """For each id, None if it is a verified data merchant in good standing, else the rule it breaks."""
    found: dict[str, list[Participant]] = {}
    for row in Participant.objects.filter(participant_id__any=participant_ids).only(
        "participant_id", "home_id", "status", "roles", "registered_at", "duplicate_of"
    ):
        found.setdefault(row.participant_id, []).append(row)
    result: dict[str, str | None] = {}
    for pid in participant_ids:
        winner = winner_pick(found.get(pid, []))
        if winner is None:
            result[pid] = "provider.not_registered"
        elif winner.status != ParticipantStatus.VERIFIED:
            result[pid] = "provider.not_verified"
        elif not winner.has_role("data_merchant"):
            result[pid] = "provider.not_data_merchant"
        else:
            result[pid] = None
    return result


def evaluations_current(participant_id: str, *, today: date | None = None) -> QuerySet[Evaluation]:
    """Evaluations that count today: active (not revoked) and within their validity period."""
    today = today or timezone.localdate()
    return Evaluation.objects.filter(
        subject_id=participant_id,
        status=EvaluationStatus.ACTIVE,
        valid_until__gte=today,
        valid_from__lte=today,
    ).order_by("dimension", "-issued_at", "gid")


def trust_view(participant: Participant) -> dict:
    """What every node says about a participant: its standing, the evaluations that count, by dimension,
    and which exchanges recognise it."""
    by_dimension: dict[str, list[Evaluation]] = {}
    for evaluation in evaluations_current(participant.participant_id):
        by_dimension.setdefault(evaluation.dimension, []).append(evaluation)
    recognitions = list(
        ParticipantRecognition.objects.filter(participant_id=participant.participant_id).order_by(
            "exchange_id"
        )
    )
    return {
        "participant": participant,
        "evaluations": by_dimension,
        "recognised_by": [
            r.exchange_id for r in recognitions if r.status == ParticipantRecognition.Status.RECOGNISED
        ],
        "recognitions": recognitions,
    }


def participants_search(queryset: QuerySet[Participant], q: str) -> QuerySet[Participant]:
    """By legal name (substring) or by USCC (prefix, case-insensitive)."""
    q = q.strip()
    if not q:
        return queryset
    code = q.upper().replace(" ", "")
    if code.isascii() and code.isalnum():
        return queryset.filter(Q(participant_id__startswith=code) | Q(legal_name__icontains=q))
    return queryset.filter(legal_name__icontains=q)
