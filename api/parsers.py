"""The API's JSON parser: DRF's, refusing as malformed what the decoder accepts but nothing downstream can
hold — a body nested too deeply to decode, and text with a NUL character or a lone UTF-16 surrogate escape
(`"\\ud800"`: not Unicode, so it can be neither stored nor written back in a response)."""

from __future__ import annotations

import re

from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "文本不能包含 NUL 字符或孤立的 UTF-16 代理项"


def _bad_text_path(data, path: str = "") -> str | None:
    """The field path of the first string (value or key) in `data` that holds a NUL or a lone surrogate."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if _BAD_TEXT.search(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and _BAD_TEXT.search(key):
                    return where or "body"
                stack.append((item, child))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The decoder recurses per level: a body of ten thousand "[" would otherwise be a 500.
            raise ParseError("JSON parse error - nested too deeply") from None
        where = _bad_text_path(data)
        if where is not None:
            field = _BAD_TEXT.sub("\ufffd", where)
            raise ValidationError({field: [ErrorDetail(BAD_TEXT_MESSAGE, code="invalid_character")]})
        return data
