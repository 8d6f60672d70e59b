from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from api.read_cache import PublicReadCache
from api.serializers.exchanges import ExchangeSerializer
from api.views.common import errors
from exchanges.selectors import exchange_list


@extend_schema_view(
    list=extend_schema(summary="The member exchanges of the initiative", tags=["exchanges"]),
    retrieve=extend_schema(
        summary="One member exchange", tags=["exchanges"], responses={200: ExchangeSerializer, **errors(404)}
    ),
)
class ExchangeViewSet(PublicReadCache, viewsets.ReadOnlyModelViewSet):
    serializer_class = ExchangeSerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2,8}"
    pagination_class = None

    def get_queryset(self):
        return exchange_list()

    def get_object(self):
        self.kwargs["code"] = self.kwargs["code"].upper()
        return super().get_object()
