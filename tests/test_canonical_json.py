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
