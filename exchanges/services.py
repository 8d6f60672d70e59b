from exchanges.models import Exchange


def exchange_mark_node(*, exchange: Exchange, node_url: str) -> Exchange:
    """Record that `exchange` runs a node reachable at `node_url`."""
    if not exchange.runs_node or exchange.node_url != node_url:
        exchange.runs_node = True
        exchange.node_url = node_url
        exchange.save(update_fields=["runs_node", "node_url"])
    return exchange
