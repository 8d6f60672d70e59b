"""Reads of the demand board, shared by the API's views (GET /demands/) and the portal's public pages."""

from __future__ import annotations

from django.db.models import QuerySet

from demands.models import Demand, DemandStatus


def demands_listed(*, open_only: bool) -> QuerySet[Demand]:
    """The demands this node holds, newest first; only the open ones unless a status is asked for."""
    queryset = Demand.objects.order_by("-id")
    return queryset.filter(status=DemandStatus.OPEN) if open_only else queryset


def demand_get(gid: str) -> Demand | None:
    return Demand.objects.filter(gid=gid).first()
