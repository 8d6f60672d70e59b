"""The federation's metrics, read from the database when `/metrics` is scraped (core/metrics.py): the same
rows `sync status` reports, so every web process and every scrape agrees with it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

from federation.models import (
    OriginCounter,
    Peer,
    PrivateFetch,
    QuarantinedEntry,
    QuarantineOverflow,
    SyncState,
    Wakeup,
)
from federation.selectors import origin_lag

logger = logging.getLogger(__name__)
PREFIX = "registry_federation_"


def _gauge(name: str, text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, text, labels=labels)


class FederationCollector:
    def collect(self) -> Iterator[Metric]:
        try:
            families = [*self._origins(), *self._peers(), *self._quarantine(), self._fetches(), self._own()]
        except DatabaseError:
            logger.warning("metrics: the federation's tables could not be read", exc_info=True)
            return
        yield from families

    @staticmethod
    def _origins() -> list[Metric]:
        now = timezone.now()
        lag_entries = _gauge(
            "lag_entries", "Entries an origin announced that are not applied here.", ["origin"]
        )
        lag_seconds = _gauge(
            "lag_seconds", "Seconds since an origin announced its unapplied head (0 without lag).", ["origin"]
        )
        last = _gauge(
            "last_pull_success_timestamp_seconds", "When a pull of the origin last succeeded.", ["origin"]
        )
        failing = _gauge(
            "pull_consecutive_failures", "Failed pulls of the origin since its last success.", ["origin"]
        )
        pulls = CounterMetricFamily(
            PREFIX + "pulls",
            "Pulls of an origin that ended, by outcome (ok: a source answered).",
            labels=["origin", "outcome"],
        )
        entries = CounterMetricFamily(
            PREFIX + "pulled_entries", "Entries applied by pulls of the origin.", labels=["origin"]
        )
        seconds = SummaryMetricFamily(
            PREFIX + "pull_duration_seconds",
            "How long pulls of the origin took (every source tried).",
            labels=["origin"],
        )
        for state in SyncState.objects.exclude(origin=settings.NODE_CODE).order_by("origin"):
            origin = [state.origin]
            lag, age = origin_lag(state, now)
            lag_entries.add_metric(origin, lag)
            lag_seconds.add_metric(origin, age)
            if state.last_success_at is not None:
                last.add_metric(origin, state.last_success_at.timestamp())
            failing.add_metric(origin, state.attempts)
            pulls.add_metric([state.origin, "ok"], state.pulls_ok)
            pulls.add_metric([state.origin, "failed"], state.pulls_failed)
            entries.add_metric(origin, state.pulled_entries)
            seconds.add_metric(origin, state.pulls_ok + state.pulls_failed, state.pull_seconds)
        return [lag_entries, lag_seconds, last, failing, pulls, entries, seconds]

    @staticmethod
    def _peers() -> list[Metric]:
        enabled = _gauge("peer_enabled", "1 for an enabled peer, 0 for a disabled one.", ["peer"])
        failures = _gauge(
            "peer_consecutive_failures",
            "Transient failures talking to the peer since its last success.",
            ["peer"],
        )
        wakeups = _gauge("wakeups_pending", "Wake-ups waiting to be sent to the peer.", ["peer"])
        peers = Peer.objects.annotate(
            pending=Count("wakeups", filter=Q(wakeups__state=Wakeup.State.PENDING))
        ).order_by("exchange_id")
        for peer in peers:
            code = [peer.exchange_id]
            enabled.add_metric(code, 1.0 if peer.enabled else 0.0)
            failures.add_metric(code, peer.consecutive_failures)
            wakeups.add_metric(code, peer.pending)
        return [enabled, failures, wakeups]

    @staticmethod
    def _quarantine() -> list[Metric]:
        held = _gauge(
            "quarantined_entries",
            "Quarantine rows (cases of refused entries) held, by origin and the peer that sent them.",
            ["origin", "source"],
        )
        rows = QuarantinedEntry.objects.values_list("origin", "source").annotate(n=Count("id")).order_by()
        for origin, source, n in rows:
            held.add_metric([origin, source], n)
        overflow = _gauge(
            "quarantine_overflow_entries",
            "Refused entries from the peer beyond its quarantine bounds (not kept in full).",
            ["source"],
        )
        for source, n in QuarantineOverflow.objects.values_list("source", "entries"):
            overflow.add_metric([source], n)
        return [held, overflow]

    @staticmethod
    def _fetches() -> Metric:
        pending = _gauge(
            "private_fetches_pending",
            "Private records this node is owed and has not fetched yet.",
            ["origin"],
        )
        waiting = (
            PrivateFetch.objects.exclude(state=PrivateFetch.State.DONE)
            .values_list("origin")
            .annotate(n=Count("id"))
            .order_by()
        )
        for origin, n in waiting:
            pending.add_metric([origin], n)
        return pending

    @staticmethod
    def _own() -> Metric:
        seq = (
            OriginCounter.objects.filter(origin=settings.NODE_CODE).values_list("last_seq", flat=True).first()
        )
        return GaugeMetricFamily(PREFIX + "own_seq", "This node's last sequence number.", value=seq or 0)
