"""The node-to-node HTTP surface under /federation/v1/. Every endpoint but `node/` needs a peer signature."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from api.serializers.base import StrictSerializer
from api.serializers.standard_versions import StandardsAnnouncementSerializer
from api.views.common import errors
from federation import keys
from federation.authentication import (
    OptionalPeerSignatureAuthentication,
    PeerNode,
    PeerSignatureAuthentication,
)
from federation.envelope import is_exchange_code
from federation.private import PRIVATE_BATCH_MAX, private_batch_for, private_for
from federation.private_push import PUSH_MAX, pushed_apply
from federation.protocols import protocols_agreed, protocols_announcement, protocols_parse
from federation.pull import wake_receive
from federation.selectors import digests, feed_page, origins_known, sync_status
from standards.versions import standards_announcement

TAG = ["federation"]
MAX_LIMIT = 1000


class PeerView(APIView):
    authentication_classes = [PeerSignatureAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []


class NodeIdentityView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="This node's identity and public key",
        tags=TAG,
        responses={
            200: inline_serializer(
                "NodeIdentity",
                {
                    "code": serializers.CharField(),
                    "base_url": serializers.URLField(),
                    "public_key": serializers.CharField(),
                    "standards": StandardsAnnouncementSerializer(),
                    "protocols": serializers.DictField(
                        child=serializers.IntegerField(),
                        help_text="Protocol versions this node speaks: {name: version}, e.g. recognition 2.",
                    ),
                },
            )
        },
    )
    def get(self, request):
        return Response(
            {
                "code": settings.NODE_CODE,
                "base_url": settings.NODE_PUBLIC_URL,
                "public_key": keys.public_key_b64(),
                "standards": standards_announcement(),
                "protocols": protocols_announcement(),
            }
        )


class FeedQuerySerializer(StrictSerializer):
    json_types = False  # the query string's text
    after = serializers.IntegerField(min_value=0, default=0)
    # Without `limit`, this node's own page size (what its pulls ask for).
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=lambda: settings.FEDERATION["PAGE_SIZE"]
    )


class FeedView(PeerView):
    @extend_schema(
        summary="The compacted, signed change log of one origin after a cursor",
        tags=TAG,
        parameters=[OpenApiParameter("after", int), OpenApiParameter("limit", int)],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 401, 404)},
    )
    def get(self, request, origin: str):
        query = FeedQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        origin = origin.upper()
        if not is_exchange_code(origin):
            raise NotFound
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        entries, head = feed_page(origin=origin, after=after, limit=limit)
        # Bodies are the origin's canonical JSON, exactly as signed: embed them without re-encoding.
        items = ",".join(f'{{"entry":{e.body},"signature":"{e.signature}"}}' for e in entries)
        next_cursor = entries[-1].seq if entries else after
        text = (
            f'{{"origin":"{origin}","after":{after},"next":{next_cursor},"head":{head},"entries":[{items}]}}'
        )
        return HttpResponse(text.encode("utf-8"), content_type="application/json")


class PrivateEntryView(PeerView):
    @extend_schema(
        summary="The full entry of a private record, for a node of its audience only (404 for any other)",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT, **errors(401, 404)},
    )
    def get(self, request, origin: str, record_type: str, gid: str):
        entry = private_for(peer=request.auth, origin=origin.upper(), record_type=record_type, gid=gid)
        if entry is None:
            raise NotFound
        text = f'{{"entry":{entry.body},"signature":"{entry.signature}"}}'
        return HttpResponse(text.encode("utf-8"), content_type="application/json")


class PrivateRecordSerializer(StrictSerializer):
    origin = serializers.RegexField(r"^[A-Z]{4,8}$")
    type = serializers.RegexField(r"^[a-z_]{1,32}$")
    gid = serializers.CharField(min_length=1, max_length=96)


class PrivateBatchSerializer(StrictSerializer):
    records = serializers.ListField(
        child=PrivateRecordSerializer(), min_length=1, max_length=PRIVATE_BATCH_MAX
    )


class PrivateBatchView(PeerView):
    @extend_schema(
        summary="The full entries of several private records in one answer, each for a node of its audience",
        description=(
            f"At most {PRIVATE_BATCH_MAX} records, each named by origin, type and gid. The answer "
            '`{"entries": [{"entry": {...}, "signature": "..."}]}` holds, in the order asked, the '
            "entries this node holds whose audience names the calling node; any other record is left out, "
            "as `GET private/{origin}/{type}/{gid}/` would answer it 404. Private fetch protocol 2."
        ),
        tags=TAG,
        request=PrivateBatchSerializer,
        responses={200: OpenApiTypes.OBJECT, **errors(400, 401)},
    )
    def post(self, request):
        data = PrivateBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = [(r["origin"], r["type"], r["gid"]) for r in data.validated_data["records"]]
        entries = private_batch_for(peer=request.auth, wanted=wanted)
        items = ",".join(f'{{"entry":{e.body},"signature":"{e.signature}"}}' for e in entries)
        return HttpResponse(f'{{"entries":[{items}]}}'.encode(), content_type="application/json")


class WakeSerializer(StrictSerializer):
    origin = serializers.RegexField(r"^[A-Z]{4,8}$")
    seq = serializers.IntegerField(min_value=1, max_value=2**62)
    private = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=PUSH_MAX,
        help_text="Private entries of the origin whose audience names this node, pushed along when this node "
        "announces `private_push`: each `{entry, signature, audience}`, the entry exactly as the origin "
        "signed it and the audience its sealed stub names. Applied once verified; what is not is fetched "
        "after the stub as before.",
    )


class WakeView(PeerView):
    @extend_schema(
        summary="A peer announces that an origin's log reached a sequence number",
        tags=TAG,
        request=WakeSerializer,
        responses={
            202: inline_serializer(
                "WakeAnswer",
                {
                    "scheduled": serializers.BooleanField(
                        help_text="Whether a pull of the origin was queued"
                    ),
                    "applied": serializers.IntegerField(
                        help_text="How many of the private entries pushed along were applied"
                    ),
                    "protocols": serializers.DictField(
                        child=serializers.IntegerField(),
                        help_text="Protocol versions this node speaks, as `node/` announces them: the waking "
                        "origin learns them with its first wake-up, not at its next anti-entropy round.",
                    ),
                },
            ),
            **errors(400, 401),
        },
    )
    def post(self, request):
        data = WakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wake = data.validated_data
        applied = pushed_apply(source=request.auth, items=wake.get("private", []))
        scheduled = wake_receive(source=request.auth, origin=wake["origin"], seq=wake["seq"])
        return Response(
            {"scheduled": scheduled, "applied": applied, "protocols": protocols_announcement()},
            status=status.HTTP_202_ACCEPTED,
        )


class DigestQuerySerializer(StrictSerializer):
    json_types = False  # the query string's text
    protocols = serializers.CharField(required=False, allow_blank=True, max_length=600)  # blank: refused

    def validate_protocols(self, value: str) -> dict[str, int]:
        try:
            return protocols_parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None


def _agreed(query: StrictSerializer) -> dict[str, int]:
    """The protocol versions the answer digests under: the lower of the requester's (`protocols`; none
    stated: an older node, version 1) and this node's (docs/federation.md, "Anti-entropy")."""
    return protocols_agreed(protocols_announcement(), query.validated_data.get("protocols", {}))


PROTOCOLS = OpenApiParameter(
    "protocols",
    str,
    description=(
        "The requester's protocol versions, `name:version` comma-separated (e.g. `recognition:2`). The "
        "answer digests under the lower of its and this node's version of each and names them in `agreed`; "
        "without it, under version 1."
    ),
)


class DigestView(PeerView):
    @extend_schema(
        summary="Anti-entropy digests of one origin's records held here",
        tags=TAG,
        parameters=[PROTOCOLS],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 401)},
    )
    def get(self, request, origin: str):
        origin = origin.upper()
        if not is_exchange_code(origin):
            raise NotFound
        query = DigestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agreed = _agreed(query)
        return Response(
            {"origin": origin, "digests": digests(origin=origin, agreed=agreed), "agreed": agreed}
        )


class DigestsQuerySerializer(DigestQuerySerializer):
    origins = serializers.RegexField(
        r"^[A-Za-z]{4,8}(,[A-Za-z]{4,8}){0,63}$",
        required=False,
        error_messages={"invalid": "a comma-separated list of at most 64 exchange codes"},
    )


class DigestsView(PeerView):
    @extend_schema(
        summary="Anti-entropy digests of several origins' records held here, in one answer",
        operation_id="federation_v1_digests_list_origins",
        description=(
            "`origins` (comma-separated exchange codes) chooses the origins; without it, every origin this "
            "node follows and its own. One request per peer and anti-entropy round instead of one per origin."
        ),
        tags=TAG,
        parameters=[OpenApiParameter("origins", str), PROTOCOLS],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 401)},
    )
    def get(self, request):
        query = DigestsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if "origins" in query.validated_data:
            wanted = {code.upper() for code in query.validated_data["origins"].split(",")}
        else:
            wanted = {*origins_known(), settings.NODE_CODE}
        agreed = _agreed(query)
        return Response(
            {
                "digests": {origin: digests(origin=origin, agreed=agreed) for origin in sorted(wanted)},
                "agreed": agreed,
                "standards": standards_announcement(),
                "protocols": protocols_announcement(),
            }
        )


class NodeOperatorOrPeer(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, PeerNode):
            return True
        if not (user and user.is_authenticated):
            return False
        return user.is_superuser or user.role == "admin" or user.exchange_id == settings.NODE_CODE


class StatusView(APIView):
    """Sync status: readable by this node's operators and admins (token), and by peers (signed)."""

    authentication_classes = [OptionalPeerSignatureAuthentication, ApiTokenAuthentication]
    permission_classes = [NodeOperatorOrPeer]

    @extend_schema(
        summary="Replication status per peer and per origin",
        tags=TAG,
        responses={200: OpenApiTypes.OBJECT, **errors(401, 403)},
    )
    def get(self, request):
        return Response(sync_status())
