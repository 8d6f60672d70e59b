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


class _SampleFileParser(parsers.BaseParser):
    """A sample file sent as the raw body (POST /api/v1/products/{code}/sample/): its bytes, read up to one
    byte past the file limit so that the service can say it is too large; the middleware bounds the body."""

    file_format = ""
    limit = 5 * 1024 * 1024

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(self.limit + 1) if stream is not None else b""
        return {"format": self.file_format, "content": data}


class CSVParser(_SampleFileParser):
    media_type = "text/csv"
    file_format = "csv"


class JSONLinesParser(_SampleFileParser):
    media_type = "application/x-ndjson"
    file_format = "jsonl"
