"""How many deals this node holds (its own and those it is in the audience of; sealed stubs of others'
are not deals here), for people's overview pages (the portal's Home). The full figures: deals.stats."""

from deals.models import Deal


def deals_count() -> int:
    return Deal.objects.count()
