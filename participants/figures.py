"""Counts of the registrations held here, for people's overview pages (the portal's Home)."""

from participants.models import Participant, ParticipantStatus


def verified_count() -> int:
    """Registrations held here that are verified (at their home exchange or replicated from it)."""
    return Participant.objects.filter(status=ParticipantStatus.VERIFIED).count()
