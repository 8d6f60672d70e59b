"""Webhook deliveries as metrics, read from the database when `/metrics` is scraped (core/metrics.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from demands.models import WebhookDelivery

logger = logging.getLogger(__name__)
OPEN_STATES = (WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING, WebhookDelivery.State.FAILED)


class WebhookCollector:
    def collect(self) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "registry_webhook_deliveries",
            "Webhook deliveries not delivered, by state: pending (due or backing off), sending, failed "
            "(given up after 12 attempts or a URL no longer public).",
            labels=["state"],
        )
        retrying = GaugeMetricFamily(
            "registry_webhook_deliveries_retrying",
            "Pending webhook deliveries that have failed at least once.",
        )
        try:
            # Delivered rows are left out (`delivery_open`, a partial index, holds only the others).
            counts = dict(
                WebhookDelivery.objects.exclude(state=WebhookDelivery.State.DELIVERED)
                .values_list("state")
                .annotate(n=Count("id"))
                .values_list("state", "n")
                .order_by()
            )
            again = WebhookDelivery.objects.filter(
                state=WebhookDelivery.State.PENDING, attempts__gt=0
            ).count()
        except DatabaseError:
            logger.warning("metrics: the webhook deliveries could not be read", exc_info=True)
            return
        for state in OPEN_STATES:
            deliveries.add_metric([state.value], counts.get(state.value, 0))
        retrying.add_metric([], again)
        yield deliveries
        yield retrying
