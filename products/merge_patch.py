"""JSON Merge Patch (RFC 7396): how PATCH changes part of a descriptor."""

from copy import deepcopy
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Return `target` with `patch` applied; neither argument is modified.

    An object in the patch merges key by key, `null` removes a key, anything else replaces the value.
    """
    if not isinstance(patch, dict):
        return deepcopy(patch)
    result = deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
