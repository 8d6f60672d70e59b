"""Each peer's health at a glance, for people's overview pages (the portal's Home): reachable or not, when
this node last heard from it, how far behind its log this node is. Two queries; the operators' detailed view
is selectors.sync_status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from federation.models import Peer, SyncState
from federation.selectors import origin_lag


@dataclass(frozen=True)
class PeerHealth:
    code: str
    enabled: bool
    reachable: bool  # enabled, heard from at least once, and its last contact did not fail
    last_contact: datetime | None
    lag_entries: int
    lag_seconds: float


def peers_health() -> dict[str, PeerHealth]:
    now = timezone.now()
    states = {s.origin: s for s in SyncState.objects.all()}
    found = {}
    for peer in Peer.objects.only(
        "exchange_id", "enabled", "consecutive_failures", "last_success_at"
    ).order_by("exchange_id"):
        state = states.get(peer.exchange_id)
        lag, seconds = origin_lag(state, now) if state is not None else (0, 0.0)
        found[peer.exchange_id] = PeerHealth(
            code=peer.exchange_id,
            enabled=peer.enabled,
            reachable=peer.enabled and peer.last_success_at is not None and peer.consecutive_failures == 0,
            last_contact=peer.last_success_at,
            lag_entries=lag,
            lag_seconds=seconds,
        )
    return found
