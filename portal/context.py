"""What every portal page's template knows: this node's exchange (from the standard's member list, no query)
and the signed-in person."""

from django.conf import settings

from portal.actors import actor
from portal.paths import is_machine_path
from standards.members import members


def node_member():
    return next((m for m in members() if m.code == settings.NODE_CODE), None)


def portal(request) -> dict:
    if is_machine_path(request.path):
        return {}
    return {"node": node_member(), "actor": actor(request)}
