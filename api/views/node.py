from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.standard_versions import StandardsAnnouncementSerializer
from core.selectors import database_ok, heartbeat_last
from participants.conflicts import conflicts_open_count
from standards.descriptor import DESCRIPTOR_VERSION
from standards.versions import standards_announcement

WORKER_STALE_AFTER = timedelta(seconds=60)


class NodeView(APIView):
    """Who this node is and whether its database and Celery workers are alive (for load balancers too): the
    worker of the default queue and the one of the `sync` queue (pulls from peers)."""

    throttle_classes = []

    @extend_schema(
        summary="This node: identity and health",
        tags=["node"],
        responses={
            200: inline_serializer(
                "Node",
                {
                    "code": serializers.CharField(),
                    "public_url": serializers.URLField(),
                    "descriptor_version": serializers.CharField(),
                    "standards": StandardsAnnouncementSerializer(
                        help_text="The version of every standard this node applies and one combined hash "
                        "(GET /standards/): nodes announcing the same hash enforce the same rules."
                    ),
                    "database": serializers.BooleanField(),
                    "worker_heartbeat_at": serializers.DateTimeField(allow_null=True),
                    "worker_alive": serializers.BooleanField(),
                    "sync_worker_heartbeat_at": serializers.DateTimeField(allow_null=True),
                    "sync_worker_alive": serializers.BooleanField(),
                    "registration_conflicts_open": serializers.IntegerField(
                        help_text="Registration conflicts waiting for this exchange's operators "
                        "(GET /participants/conflicts/?open=true)."
                    ),
                },
            )
        },
    )
    def get(self, request):
        beat = heartbeat_last()
        sync = heartbeat_last(name="sync")
        now = timezone.now()
        db = database_ok()
        return Response(
            {
                "code": settings.NODE_CODE,
                "public_url": settings.NODE_PUBLIC_URL,
                "descriptor_version": DESCRIPTOR_VERSION,
                "standards": standards_announcement(),
                "database": db,
                "worker_heartbeat_at": beat,
                "worker_alive": bool(beat and now - beat < WORKER_STALE_AFTER),
                "sync_worker_heartbeat_at": sync,
                "sync_worker_alive": bool(sync and now - sync < WORKER_STALE_AFTER),
                "registration_conflicts_open": conflicts_open_count() if db else 0,
            },
            status=200 if db else 503,
        )
