"""Counts of the demands held here, for people's overview pages (the portal's Home)."""

from demands.models import Demand, DemandStatus


def open_count() -> int:
    return Demand.objects.filter(status=DemandStatus.OPEN).count()
