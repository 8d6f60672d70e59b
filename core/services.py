from django.utils import timezone

from core.models import WorkerHeartbeat


def heartbeat_record(*, name: str) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
    return beat
