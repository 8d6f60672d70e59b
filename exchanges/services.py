from django.conf import settings

from exchanges.models import Exchange
from federation.generation import generation_bump


def exchange_mark_node(*, exchange: Exchange, node_url: str) -> Exchange:
    """Record that `exchange` runs a node reachable at `node_url`."""
    if not exchange.runs_node or exchange.node_url != node_url:
        exchange.runs_node = True
        exchange.node_url = node_url
        exchange.save(update_fields=["runs_node", "node_url"])
        generation_bump()  # the directory readers see changed (api/read_cache.py)
    return exchange


def exchange_node_set(*, code: str, node_url: str) -> None:
    """Record where `code`'s node runs (`node_url` empty: it runs none known to this node)."""
    if Exchange.objects.filter(pk=code).update(runs_node=bool(node_url), node_url=node_url):
        generation_bump()  # the directory readers see changed (api/read_cache.py)


def this_exchange_runs_node() -> None:
    exchange_node_set(code=settings.NODE_CODE, node_url=settings.NODE_PUBLIC_URL)
