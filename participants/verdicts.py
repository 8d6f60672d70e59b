"""Each exchange's recognition of a participant: the rule that decides it, which records the network needs
(participant recognition protocol 2, docs/federation.md "Recognitions at national size"), and how this node
reads them.

An exchange recognises a participant whose registration standing there is verified at its home exchange
(`recognition_decide`): a pure rule on a replicated registration, so every node computes any exchange's
verdict itself. A record is an exception — one the network needs — when it differs from that rule applied to
the registration it names (its `home`), or names a registration not held here: a rule that reads only
replicated data, so it gives the same set at every node. An origin's own automatic decision is never one (it
is the rule applied to the registration standing there)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.conf import settings

from federation.models import Peer
from participants.models import Participant, ParticipantRecognition, ParticipantStatus


def recognition_decide(winner: Participant) -> tuple[str, list[str]]:
    """An exchange recognises a participant whose winning registration is verified at its home exchange."""
    if winner.status == ParticipantStatus.VERIFIED:
        return ParticipantRecognition.Status.RECOGNISED, []
    return ParticipantRecognition.Status.NOT_RECOGNISED, [
        f"registration at {winner.home_id} is {winner.status}"
    ]


@dataclass(frozen=True)
class ParticipantVerdict:
    """An exchange's recognition of a participant computed here (no record held): the fields of a
    `ParticipantRecognition` the API and the portal read."""

    exchange_id: str
    status: str
    reasons: list[str]
    home: str
    version: int  # 0: computed here, not a record of the exchange
    updated_at: datetime  # when the registration it was computed from last changed here
    computed: bool = True


def verdict_computed(exchange: str, registration: Participant) -> ParticipantVerdict:
    """`exchange`'s recognition as this node computes it from the registration that stands here."""
    status, reasons = recognition_decide(registration)
    return ParticipantVerdict(
        exchange, str(status), reasons, registration.home_id, 0, registration.updated_at
    )


def recognition_is_exception(status: str, reasons: list[str], registration: Participant | None) -> bool:
    """Whether a recognition naming `registration` (None: not held here) is one the other nodes cannot
    compute: it differs from `recognition_decide` of that registration."""
    if registration is None:
        return True
    return (status, list(reasons)) != recognition_decide(registration)


def recognitions_exceptions(rows: Iterable[ParticipantRecognition]) -> Iterator[ParticipantRecognition]:
    """Those of `rows` that are exceptions (`recognition_is_exception`), reading the registrations they name
    in chunks."""
    rows = iter(rows)
    while chunk := list(islice(rows, 2000)):
        named = Participant.objects.filter(
            participant_id__any=sorted({r.participant_id for r in chunk}),
            home_id__in=sorted({r.home for r in chunk}),
        ).only("participant_id", "home_id", "status")
        held = {(p.participant_id, p.home_id): p for p in named}
        for r in chunk:
            if recognition_is_exception(r.status, r.reasons, held.get((r.participant_id, r.home))):
                yield r


def recognitions_of(
    participant_id: str, *, standing: Participant | None
) -> list[ParticipantRecognition | ParticipantVerdict]:
    """Every exchange's recognition of a participant as read here, by exchange code: this node's own row
    and every record held (an exception, or published under protocol 1); for each enabled peer without one,
    its verdict computed from the registration that stands here (`standing`; none: nothing computed)."""
    found: dict[str, ParticipantRecognition | ParticipantVerdict] = {
        r.exchange_id: r for r in ParticipantRecognition.objects.filter(participant_id=participant_id)
    }
    if standing is not None:
        peers = Peer.objects.filter(enabled=True).exclude(exchange_id=settings.NODE_CODE)
        for code in peers.values_list("exchange_id", flat=True):
            if code not in found:
                found[code] = verdict_computed(code, standing)
    return [found[code] for code in sorted(found)]
