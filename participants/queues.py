"""The operators' verification queue (the operator console, docs/portal.md): registrations at this node's
exchange pending verification. The decision goes through `services.participant_set_status`, as the API's
`POST /participants/{id}/verification/` does."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from participants.models import Participant, ParticipantStatus


def registrations_pending() -> QuerySet[Participant]:
    """Registrations at this node's exchange waiting for verification, the oldest first."""
    return Participant.objects.filter(home_id=settings.NODE_CODE, status=ParticipantStatus.PENDING).order_by(
        "id"
    )
