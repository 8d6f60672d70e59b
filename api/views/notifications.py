"""A participant's notifications at its home node, and the webhooks they are delivered to."""

import secrets

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.demands import (
    DeliverySerializer,
    NotificationSerializer,
    WebhookCreatedSerializer,
    WebhookSerializer,
    WebhookWriteSerializer,
)
from api.views.common import errors
from api.views.demands import WRITE, _participant
from core.exceptions import FieldError, Forbidden, ValidationFailed
from demands.models import Notification, WebhookSubscription
from demands.notifications import UnsafeUrl, url_check
from demands.services import notification_read

TAG = ["demands"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Notifications of the participant registered at this node (its home)."""

    signed_in = True  # api/schema.py

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        participant = _participant(self.request)
        return Notification.objects.filter(participant_id=participant.participant_id).order_by("-id")

    @extend_schema(
        summary="The caller's notifications (at its home node)",
        tags=TAG,
        responses={200: NotificationSerializer, **errors(401, 403)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Mark a notification read",
        tags=TAG,
        request=None,
        responses={200: NotificationSerializer, **errors(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification = notification_read(actor=request.user, notification_id=notification.pk)
        return Response(NotificationSerializer(notification).data)


class WebhookViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Webhooks of the participant at its home node: every notification is POSTed, HMAC-signed."""

    signed_in = True  # api/schema.py

    serializer_class = WebhookSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        participant = _participant(self.request)
        return WebhookSubscription.objects.filter(participant_id=participant.participant_id).order_by("id")

    @extend_schema(
        summary="The caller's webhooks", tags=TAG, responses={200: WebhookSerializer, **errors(401, 403)}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe a URL (private and loopback addresses are refused unless an operator allows them)",
        tags=TAG,
        request=WebhookWriteSerializer,
        responses={201: WebhookCreatedSerializer, **WRITE},
    )
    def create(self, request):
        participant = _participant(request)
        if participant.home != settings.NODE_CODE:
            raise Forbidden(
                message=f"请在登记交易所 {participant.home} 的节点订阅",
                message_en=f"Subscribe at your home node ({participant.home}), where notifications are made",
                code="not_home",
            )
        serializer = WebhookWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        url = serializer.validated_data["url"]
        allow = url in settings.WEBHOOK_ALLOWED_PRIVATE_URLS
        try:
            url_check(url, allow_private=allow)
        except UnsafeUrl as exc:
            raise ValidationFailed(
                [FieldError("url", "unsafe_url", f"不允许的地址：{exc}", f"Refused: {exc}")]
            ) from None
        subscription = WebhookSubscription.objects.create(
            participant_id=participant.participant_id,
            url=url,
            secret=secrets.token_hex(32),
            allow_private_network=allow,
        )
        return Response(WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Unsubscribe", tags=TAG, responses={204: None, **errors(401, 403, 404)})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        summary="The delivery log of a webhook",
        tags=TAG,
        responses={200: DeliverySerializer(many=True), **errors(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        return Response(DeliverySerializer(subscription.deliveries.order_by("-id")[:100], many=True).data)
