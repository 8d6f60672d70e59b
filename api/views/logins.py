"""Logins of participant users at their home node: log in, refresh, change the password."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.participants import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    TokenPairSerializer,
)
from api.throttling import AnonReadThrottle, LoginThrottle, PasswordThrottle, WriteThrottle
from api.views.common import errors
from participants import logins

A_TAG = ["auth"]


class LoginView(APIView):
    authentication_classes: list = []
    throttle_classes = [AnonReadThrottle, WriteThrottle, LoginThrottle]

    @extend_schema(
        summary="Log in as a participant user at its home node: an access token every node accepts",
        tags=A_TAG,
        request=LoginSerializer,
        responses={200: TokenPairSerializer, **errors(400, 401, 429)},
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(logins.login(**serializer.validated_data))


class RefreshView(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Exchange a refresh token (home node, single use) for new tokens",
        tags=A_TAG,
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, **errors(400, 401, 429)},
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(logins.refresh(raw=serializer.validated_data["refresh"]))


class PasswordView(APIView):
    throttle_classes = [AnonReadThrottle, WriteThrottle, PasswordThrottle]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change a participant user's password at its home node (every session of the user ends)",
        description=(
            "With the user's participant token, at its home node. The user's refresh tokens are revoked and "
            "its earlier access tokens refused at the home node (at other nodes they expire within "
            "PARTICIPANT_ACCESS_TTL); new tokens are returned."
        ),
        tags=A_TAG,
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, **errors(400, 401, 429)},
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(logins.password_change(actor=request.user, **serializer.validated_data))
