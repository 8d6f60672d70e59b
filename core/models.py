from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a Celery beat task through a worker: proves the node's background machinery is alive."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
