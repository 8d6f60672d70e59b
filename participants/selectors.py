"""Reads of participants and evaluations: standing, winners among duplicate registrations, the trust view."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from participants.models import (
    Evaluation,
    EvaluationStatus,
    Participant,
    ParticipantRecognition,
    ParticipantStatus,
)
from participants.verdicts import recognitions_of


def ranked_at(registration: Participant) -> datetime:
    """The registration time a registration is ranked by: its home's claim, but never more than
    PARTICIPANT_CLOCK_SKEW before this node first held it (a peer's claim is evidence, not truth)."""
    seen = registration.first_seen_at
    if seen is None:
        return registration.registered_at
    return max(registration.registered_at, seen - timedelta(seconds=settings.PARTICIPANT_CLOCK_SKEW))


def winner_pick(registrations: list[Participant]) -> Participant | None:
    """The registration the rule puts first for a participant id: among those not revoked, a verified one
    before any other (a pending registration never blocks a verified one), then the earliest ranked
    (`ranked_at`), ties broken by the home exchange's code; if all are revoked, the earliest of them. Which
    one stands also depends on what stood before (`participants.identity`)."""
    if not registrations:
        return None
    live = [r for r in registrations if r.status != ParticipantStatus.REVOKED] or registrations
    return min(live, key=lambda r: (r.status != ParticipantStatus.VERIFIED, ranked_at(r), r.home_id))


def standing_pick(registrations: list[Participant]) -> Participant | None:
    """The registration that stands here for a participant id, as this node last settled it."""
    for registration in registrations:
        if not registration.duplicate_of:
            return registration
    return winner_pick(registrations)


def participant_get(participant_id: str, *, home: str | None = None) -> Participant | None:
    """The registration of `participant_id` at `home`, or the one that stands when no home is given."""
    rows = Participant.objects.select_related("home").filter(participant_id=participant_id)
    if home:
        return rows.filter(home_id=home).first()
    return standing_pick(list(rows))


def registration_stands(*, participant_id: str, home: str) -> bool:
    """Whether the registration of `participant_id` at `home` is the one that stands here for the USCC."""
    return Participant.objects.filter(participant_id=participant_id, home_id=home, duplicate_of="").exists()


def session_current(claims) -> bool:
    """At the token's home node: its user is active and the token is of the user's current generation (a
    password change or the end of its sessions raises it). Other nodes cannot know: the token's lifetime
    bounds it there."""
    row = (
        User.objects.filter(
            username=claims.username, participant_id=claims.participant_id, role=User.Role.PARTICIPANT
        )
        .values_list("is_active", "token_generation")
        .first()
    )
    return row is not None and row[0] and row[1] == claims.generation


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
        "participant_id", "home_id", "status", "roles", "registered_at", "first_seen_at", "duplicate_of"
    ):
        found.setdefault(row.participant_id, []).append(row)
    result: dict[str, str | None] = {}
    for pid in participant_ids:
        winner = standing_pick(found.get(pid, []))
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
    and which exchanges recognise it: each exchange's record, else (an enabled peer's) the verdict computed
    here from the registration that stands (`participants.verdicts`)."""
    by_dimension: dict[str, list[Evaluation]] = {}
    for evaluation in evaluations_current(participant.participant_id):
        by_dimension.setdefault(evaluation.dimension, []).append(evaluation)
    standing = participant if not participant.duplicate_of else participant_get(participant.participant_id)
    recognitions = recognitions_of(participant.participant_id, standing=standing)
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
