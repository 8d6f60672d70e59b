"""The API's JSON parser: DRF's, refusing as malformed what the decoder accepts but nothing downstream can
hold — a body nested too deeply to decode, and text with a NUL character or a lone UTF-16 surrogate escape
(`"\\ud800"`: core/text.py)."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

from core.text import storable, unstorable_path

BAD_TEXT_MESSAGE = "文本不能包含 NUL 字符或孤立的 UTF-16 代理项"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The decoder recurses per level: a body of ten thousand "[" would otherwise be a 500.
            raise ParseError("JSON parse error - nested too deeply") from None
        where = unstorable_path(data)
        if where is not None:
            field = storable(where) or "body"
            raise ValidationError({field: [ErrorDetail(BAD_TEXT_MESSAGE, code="invalid_character")]})
        return data
