"""The node's Celery application: workers move work inside one node (never across nodes' databases)."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// is the embedded default broker; its messages are written atomically (core/broker.py).
TRANSPORT_ALIASES["filesystem"] = "core.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
