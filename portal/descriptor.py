"""A product descriptor for people: each field's name as the standard's schema titles it (both languages,
from standards.descriptor_schema), and a readable diff between two versions of a descriptor."""

from __future__ import annotations

from functools import cache
from typing import Any

from standards.descriptor_schema import schema

MISSING = object()


@cache
def _titles() -> dict[str, tuple[str, str]]:
    """{path with `*` for list items: (zh, en)} of every titled field of the schema."""
    found: dict[str, tuple[str, str]] = {}

    def walk(node: dict, path: str) -> None:
        title = node.get("title")
        if path and isinstance(title, str):
            zh, _, en = title.partition(" / ")
            found[path] = (zh, (en or zh)[:1].upper() + (en or zh)[1:])
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}.*")

    walk(schema(), "")
    return found


def field_title(path: str, *, english: bool) -> str:
    """The schema's titles along a descriptor path, joined: `compliance.authorization.status` reads as
    合规信息 › 授权 › 状态, `fields.2.name` as 数据字典 #3 › 字段名; a part the schema does not title (a
    sample record's own keys) stands as it is."""
    titles = _titles()
    parts = path.split(".")
    shown = []
    for index, part in enumerate(parts):
        if part.isdigit():
            shown[-1:] = [f"{shown[-1]} #{int(part) + 1}"] if shown else [f"#{int(part) + 1}"]
            continue
        key = ".".join("*" if p.isdigit() else p for p in parts[: index + 1])
        found = titles.get(key)
        shown.append((found[1] if english else found[0]) if found else part)
    return " › ".join(shown)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: value} of a descriptor: objects by key, lists of objects by index, other lists whole."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix: value}


def descriptor_diff(old: dict, new: dict, *, english: bool) -> list[dict]:
    """The fields that differ between two descriptors, in the newer one's order: path, title, kind (added,
    removed, changed), old and new values as text."""
    before, after = flatten(old or {}), flatten(new or {})
    paths = list(after) + [p for p in before if p not in after]
    changes = []
    for path in paths:
        a, b = before.get(path, MISSING), after.get(path, MISSING)
        if a == b:
            continue
        kind = "added" if a is MISSING else "removed" if b is MISSING else "changed"
        changes.append(
            {
                "path": path,
                "title": field_title(path, english=english),
                "kind": kind,
                "old": "" if a is MISSING else as_text(a),
                "new": "" if b is MISSING else as_text(b),
            }
        )
    return changes


def as_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "、".join(as_text(item) for item in value)
    return str(value)
