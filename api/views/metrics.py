"""`GET /metrics`: the node's Prometheus metrics (core/metrics.py), for the exchange's own monitoring.

A plain Django view (no DRF: no throttle, no schema): with `METRICS_TOKEN` set only `Authorization: Bearer
<METRICS_TOKEN>` reads it (401 otherwise); without one it is open in development and closed (403) in
production, so a node never shows its peers' health and queues to anyone who asks."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from api.errors import error_body
from core.metrics import NodeCollector, QueueCollector, exposition
from demands.metrics import WebhookCollector
from federation.metrics import FederationCollector

COLLECTORS = (NodeCollector(), QueueCollector(), FederationCollector(), WebhookCollector())


def _refusal(request) -> JsonResponse | None:
    token = settings.METRICS_TOKEN
    if not token:
        if not settings.PRODUCTION:
            return None
        return JsonResponse(
            error_body(
                403,
                code="metrics_closed",
                message="未设置 METRICS_TOKEN，生产环境不提供指标",
                message_en="Metrics are closed in production until METRICS_TOKEN is set",
            ),
            status=403,
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    response = JsonResponse(
        error_body(401, message="需要指标令牌", message_en="A metrics token is required (Bearer)"), status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
def metrics_view(request):
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(error_body(405), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    refused = _refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(exposition(COLLECTORS), content_type=CONTENT_TYPE_LATEST)
