from django.conf import settings
from django.db.models import QuerySet

from exchanges.models import Exchange


def exchange_list() -> QuerySet[Exchange]:
    return Exchange.objects.all()


def exchange_get(*, code: str) -> Exchange | None:
    return Exchange.objects.filter(code=code.upper()).first()


def node_exchange() -> Exchange:
    """The exchange this node belongs to (NODE_CODE)."""
    return Exchange.objects.get(code=settings.NODE_CODE)
