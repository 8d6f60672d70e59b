"""Which paths are the portal's pages and which are machine-facing (the API, the node-to-node protocol, the
catalogs for other software, metrics, the admin): the latter keep LANGUAGE_CODE and get no portal context."""

MACHINE_PREFIXES = ("/api/", "/federation/", "/dcat/", "/metrics", "/admin/", "/static/")


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES)
