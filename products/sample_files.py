"""A sample file as a provider uploads it (CSV or JSON lines): read into records, within bounds, every fault a
400 naming the rule (docs/api.md, *Product sample and machine profile*). Pure: bytes in, records out."""

from __future__ import annotations

import csv
import io
import json

from core.exceptions import FieldError, ValidationFailed
from core.text import UNSTORABLE, unstorable_path
from standards.quality_profile import MAX_ROWS

MAX_BYTES = 5 * 1024 * 1024
MAX_COLUMNS = 500  # the data dictionary's limit
MAX_DEPTH = 5  # of a JSON line's values, as for inline sample records
FORMATS = ("csv", "jsonl")


def _refused(code: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError("file", code, zh, en)], message=zh, message_en=en)


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _refused(
            "too_large", f"样例文件超过 {MAX_BYTES} 字节", f"The sample file exceeds {MAX_BYTES} bytes"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refused(
            "encoding",
            f"样例文件不是 UTF-8 编码（第 {exc.start} 字节）",
            f"The sample file is not UTF-8 (byte {exc.start})",
        ) from None
    if UNSTORABLE.search(text):
        raise _refused("encoding", "样例文件含有 NUL 字符", "The sample file holds a NUL character")
    if not text.strip():
        raise _refused("empty", "样例文件为空", "The sample file is empty")
    return text


def _too_many_rows() -> ValidationFailed:
    return _refused(
        "too_large", f"样例文件超过 {MAX_ROWS} 行", f"The sample file has more than {MAX_ROWS} rows"
    )


def _format(zh: str, en: str) -> ValidationFailed:
    return _refused("format", f"样例文件格式错误：{zh}", f"The sample file is malformed: {en}")


def _csv_records(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        names = [name.strip() for name in header]
        if not names or any(not name for name in names):
            raise _format("表头有空列名", "the header has an empty column name")
        if len(names) > MAX_COLUMNS:
            raise _format(f"超过 {MAX_COLUMNS} 列", f"more than {MAX_COLUMNS} columns")
        if len(set(names)) != len(names):
            raise _format("表头列名重复", "the header repeats a column name")
        records = []
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(names):
                line = reader.line_num
                raise _format(
                    f"第 {line} 行有 {len(row)} 列，表头有 {len(names)} 列", f"line {line}: {len(row)} cells"
                )
            if len(records) == MAX_ROWS:
                raise _too_many_rows()
            records.append(dict(zip(names, row, strict=True)))
    except csv.Error as exc:
        raise _format(f"第 {reader.line_num} 行：{exc}", f"line {reader.line_num}: {exc}") from None
    return records


def _depth(value: object, level: int = 0) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _jsonl_line(line: str, number: int) -> dict:
    try:
        record = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise _format(f"第 {number} 行不是 JSON", f"line {number} is not JSON") from None
    if not isinstance(record, dict):
        raise _format(f"第 {number} 行不是 JSON 对象", f"line {number} is not a JSON object")
    # the depth is at most the number of brackets opened; an escape is the only way to a NUL or a surrogate
    deep = line.count("{") + line.count("[") > MAX_DEPTH and _depth(record) > MAX_DEPTH
    if len(record) > MAX_COLUMNS or deep:
        raise _format(f"第 {number} 行字段过多或嵌套过深", f"line {number}: too many fields or too deep")
    if "\\u" in line and unstorable_path(record) is not None:
        raise _refused("encoding", f"第 {number} 行含有无法存储的字符", f"line {number}: unstorable text")
    return record


def _jsonl_records(text: str) -> list[dict]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(records) == MAX_ROWS:
            raise _too_many_rows()
        records.append(_jsonl_line(line, number))
    return records


def sample_file_read(data: bytes, file_format: str) -> list[dict]:
    """The records of a sample file: a CSV with a header row (cells are text), or JSON lines (one object a
    line). UTF-8 (a byte order mark is allowed), at most MAX_BYTES and MAX_ROWS rows, at least one row."""
    if file_format not in FORMATS:
        raise ValidationFailed(
            [FieldError("format", "invalid_choice", "格式应为 csv 或 jsonl", "format must be csv or jsonl")]
        )
    text = _text(data)
    records = _csv_records(text) if file_format == "csv" else _jsonl_records(text)
    if not records:
        raise _refused("empty", "样例文件没有数据行", "The sample file has no data rows")
    return records
