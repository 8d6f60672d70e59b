"""GET /api/v1/stats/deals/: the deals this node holds, in figures (deals.stats). Readable by anyone, as
/stats/demands/ is: aggregates only, never a deal."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.deal_stats import DealStatsSerializer
from api.views.common import errors
from core.exceptions import FieldError, ValidationFailed
from deals.stats import deal_stats
from standards.members import member_codes


class DealStatsView(APIView):
    @extend_schema(
        summary="Deals in figures: by state, value, times to contract and acceptance, acceptance rate",
        tags=["deals"],
        parameters=[
            OpenApiParameter(
                "exchange",
                str,
                description="Only the deals whose product this exchange lists or whose buyer is registered "
                "there (a member's code); without it, every deal this node holds.",
            )
        ],
        responses={200: DealStatsSerializer, **errors(400)},
    )
    def get(self, request):
        exchange = request.query_params.get("exchange") or None
        if exchange is not None and exchange.upper() not in member_codes():
            raise ValidationFailed(
                [
                    FieldError(
                        "exchange",
                        "unknown_exchange",
                        "须为成员交易机构的代码",
                        "Must be the code of a member exchange",
                    )
                ]
            )
        stats = deal_stats(exchange=exchange.upper() if exchange else None)
        return Response(DealStatsSerializer(stats).data)
