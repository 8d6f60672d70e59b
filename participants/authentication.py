from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from participants.principal import ParticipantPrincipal
from participants.selectors import session_current, standing_for_token
from participants.tokens import TokenInvalid, access_token_verify, looks_like_access_token


class ParticipantTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <participant access token>`, issued by any node of the network.

    Other Bearer values are left to the next authentication class (operator API tokens)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer":
            return None
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not looks_like_access_token(raw):
            return None
        try:
            claims = access_token_verify(raw)
        except TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(
                f"令牌无效：{exc} / Invalid participant token: {exc}"
            ) from exc
        standing = standing_for_token(participant_id=claims.participant_id, home=claims.issuer)
        if standing is not None and claims.issuer == settings.NODE_CODE and not session_current(claims):
            raise exceptions.AuthenticationFailed(
                "令牌已失效（密码已更改、登录已结束或账户已关闭） / "
                "The token was revoked (password changed, sessions ended or account closed)"
            )
        if standing is None:
            raise exceptions.AuthenticationFailed(
                "该市场主体在本节点不可用（未知、未核验、已暂停、已撤销或重复登记） / "
                "The participant is not in good standing at this node "
                "(unknown here, not verified, suspended, revoked or a duplicate registration)"
            )
        return (
            ParticipantPrincipal(
                participant_id=claims.participant_id,
                home=claims.issuer,
                username=claims.username,
                roles=tuple(standing["roles"]),
                services=tuple(standing["services"]),
                legal_name=standing["legal_name"],
                status=standing["status"],
            ),
            claims,
        )

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ParticipantTokenScheme(OpenApiAuthenticationExtension):
    target_class = "participants.authentication.ParticipantTokenAuthentication"
    name = "participantToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT (EdDSA, signed by the participant's home node)",
            "description": "`POST /api/v1/auth/token/` at the home node returns one; every node accepts it.",
        }
