"""Home: the network at a glance — the 24 member exchanges with each node's status as this node sees it
(reachable, last contact, replication lag), counts of what this node holds, the newest listings."""

from django.conf import settings
from django.shortcuts import render

from deals.counts import deals_count
from demands.figures import open_count
from exchanges.selectors import exchange_list
from federation.overview import peers_health
from participants.figures import verified_count
from portal.actors import actor
from products.catalog import listed_count, recent_listings


def _exchanges() -> list[dict]:
    health = peers_health()
    rows = []
    for exchange in exchange_list():
        peer = health.get(exchange.code)
        if exchange.code == settings.NODE_CODE:
            status = "self"
        elif peer is None:
            status = "node" if exchange.runs_node else "none"  # runs a node this one does not peer with
        else:
            status = "reachable" if peer.reachable else "unreachable" if peer.enabled else "disabled"
        rows.append({"exchange": exchange, "peer": peer, "status": status})
    return rows


def home(request):
    context = {
        "exchanges": _exchanges(),
        "counts": {
            "products": listed_count(),
            "participants": verified_count(),
            "demands": open_count(),
            "deals": deals_count(),
        },
        "recent": recent_listings(user=actor(request)),
    }
    return render(request, "portal/home.html", context)
