"""The change log's canonical JSON must be exactly RFC 8785, whatever the fast path takes."""

import json
import random

import pytest
import rfc8785

from federation.envelope import canonical

CASES = [
    {"b": 1, "a": [1, 2, {"z": None, "y": True}], "中文": "数据集"},
    {"price": 1000.5, "min": 0, "max": 1.0, "tiny": 1e-7, "big": 1e21},
    {"esc": 'quote " back \\ nl \n tab \t ctl \u0001 \u001f', "line": "\u2028\u2029"},
    {"\U0001f600": 1, "\ue000": 2, "a": 3},  # astral-plane vs private-use key order differs by code unit
    {"nested": [[[]], {}, [{"k": [-0.0, 3.14159, -5]}]]},
    {"unicode": "𝄞 emoji 😀 and 汉字", "empty": ""},
]


@pytest.mark.parametrize("value", CASES)
def test_canonical_equals_rfc8785(value):
    assert canonical(value) == rfc8785.dumps(value).decode("utf-8")


def test_canonical_equals_rfc8785_on_random_documents():
    rng = random.Random(8785)
    alphabet = 'ab中文"\\\n\u0000é😀\ue000'

    def gen(depth=0):
        kind = rng.choice(["int", "str", "bool", "none", "float"] + (["list", "dict"] if depth < 4 else []))
        if kind == "int":
            return rng.randint(-(2**40), 2**40)
        if kind == "float":
            return rng.choice([0.5, 1.0, 2.5e-8, 123456.789, 1e22, -3.0])
        if kind == "str":
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "none":
            return None
        if kind == "list":
            return [gen(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))): gen(depth + 1)
            for _ in range(rng.randint(0, 4))
        }

    for _ in range(2000):
        value = {"payload": gen()}
        assert canonical(value) == rfc8785.dumps(value).decode("utf-8"), json.dumps(value)


def _json_dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def test_the_orjson_path_equals_rfc8785_and_json_dumps_without_floats():
    """Documents without floats take orjson: every control character, every BMP block (keys too, so the
    key order is checked), large integers, nesting. Entries signed before orjson was used must still
    verify, so the text must also equal the json.dumps path's."""
    rng = random.Random(2026)
    samples = [chr(c) for c in range(0x80)] + [chr(rng.randint(0x80, 0xFFFF)) for _ in range(400)]
    samples = [c for c in samples if not 0xD800 <= ord(c) <= 0xDFFF]

    def text(n):
        return "".join(rng.choice(samples) for _ in range(n))

    def gen(depth=0):
        kind = rng.choice(["int", "str", "bool", "none"] + (["list", "dict"] if depth < 4 else []))
        if kind == "int":
            return rng.choice([rng.randint(-(2**62), 2**62), rng.randint(-1000, 1000), 2**63 - 1])
        if kind == "str":
            return text(rng.randint(0, 12))
        if kind in ("bool", "none"):
            return rng.random() < 0.5 if kind == "bool" else None
        if kind == "list":
            return [gen(depth + 1) for _ in range(rng.randint(0, 4))]
        return {text(rng.randint(1, 4)): gen(depth + 1) for _ in range(rng.randint(0, 6))}

    for _ in range(3000):
        value = {"payload": gen(), "seq": rng.randint(1, 2**62)}
        expected = _json_dumps(value)
        assert canonical(value) == expected, expected
        if all(abs(n) < 2**53 for n in _ints(value)):  # the JCS library refuses larger integers
            assert expected == rfc8785.dumps(value).decode("utf-8")


def _ints(value):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _ints(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ints(v)


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**70, "neg": -(2**65)},  # beyond orjson's 64 bits
        {"lone": "\ud800 surrogate"},  # not encodable: the caller refuses it
    ],
)
def test_what_orjson_refuses_takes_json_dumps(value):
    assert canonical(value) == _json_dumps(value)
