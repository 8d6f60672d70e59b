"""Text no database column can hold: a NUL character (PostgreSQL refuses it in text and jsonb; SQLite takes
it, so nodes on the two would disagree) and a lone UTF-16 surrogate (not Unicode: it cannot even be encoded).
Refused where input enters — the API's JSON parser, a peer's entry, an import line — and replaced where text
from outside is only recorded (a quarantine row, an error message)."""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with every NUL and lone surrogate replaced by U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


def unstorable_path(data: Any) -> str | None:
    """The dotted field path (`descriptor.keywords.1`; "" for the root) of the first string, value or key,
    in JSON-like `data` that holds a NUL or a lone surrogate; None when there is none."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and UNSTORABLE.search(key):
                    return where
                stack.append((item, f"{where}.{key}" if where else str(key)))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(value))
    return None
