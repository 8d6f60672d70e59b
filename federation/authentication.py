from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from federation.selectors import peer_public_key
from federation.signatures import SignatureRejected, verify_request


class PeerNode:
    """The authenticated caller of a federation endpoint: another exchange's node."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    pk = None

    def __init__(self, code: str):
        self.code = code

    def __str__(self) -> str:
        return f"node {self.code}"


def target_uri(request) -> str:
    """The URI the signature must cover: the request-target as the peer sent it. Django decodes the path
    (`%2C` → `,`) and `build_absolute_uri` quotes it again its own way, which need not give back what was
    signed; gunicorn passes the raw request-target on (`RAW_URI`), and that is used where it is there."""
    raw = request.META.get("RAW_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return f"{request.scheme}://{request.get_host()}{raw}"
    return request.build_absolute_uri()


class PeerSignatureAuthentication(authentication.BaseAuthentication):
    """RFC 9421 signature of a known, enabled peer; anything else is 401."""

    def authenticate(self, request):
        django_request = request._request
        if "Signature" not in django_request.headers:
            raise exceptions.NotAuthenticated("需要节点签名 / A node signature is required")
        try:
            code = verify_request(
                django_request.method,
                target_uri(django_request),
                dict(django_request.headers),
                django_request.body,
                peer_public_key,
            )
        except SignatureRejected as exc:
            raise exceptions.AuthenticationFailed(f"节点签名无效 / Node signature refused: {exc}") from exc
        return PeerNode(code), code

    def authenticate_header(self, request):
        return 'Signature realm="federation"'


class OptionalPeerSignatureAuthentication(PeerSignatureAuthentication):
    """Peer signature if the request carries one; otherwise let the next authenticator try."""

    def authenticate(self, request):
        if "Signature" not in request._request.headers:
            return None
        return super().authenticate(request)


class PeerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "federation.authentication.PeerSignatureAuthentication"
    name = "nodeSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Signature",
            "description": "RFC 9421 HTTP Message Signature by a peer node's key (see docs/federation.md).",
        }


class OptionalPeerSignatureScheme(PeerSignatureScheme):
    target_class = "federation.authentication.OptionalPeerSignatureAuthentication"
    name = "nodeSignatureOptional"
