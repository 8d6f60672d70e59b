"""The machine profile of a product's sample between real nodes: SHDEX lists a 1.1 product with a data
dictionary and inline sample records, its exchange uploads a sample file, and BJIDX and GYBDX show the same
profile in the product's detail as SHDEX computed, each version of it (docs/standards/quality-profile.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.multinode.harness import wait_until

pytestmark = pytest.mark.multinode
DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
REPLICATION = 30  # seconds
CSV = (
    "pile_id,station,district,rated_kw,slot_start,energy_kwh,status,location\n"
    'SH-1,张江站,310115,120,2026-12-01T08:00:00+08:00,27.4,charging,"121.6,31.2"\n'
    "SH-2,张江站,310115,120,2026-12-01T08:15:00+08:00,,idle,\n"
    "SH-2,张江站,310115,120,2026-12-01T08:15:00+08:00,,idle,\n"
)


def _profile(node, code: str) -> dict | None:
    response = node.api("GET", f"/api/v1/products/{code}/", timeout=10)
    return response.json().get("profile") if response.status_code == 200 else None


def test_a_profile_computed_at_home_is_shown_alike_at_every_node(nodes):
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    descriptor = json.loads((DOCS / "product-descriptor-1.1.json").read_text("utf-8"))
    example = json.loads((DOCS / "product-descriptor.json").read_text("utf-8"))
    descriptor["provider"] = example["provider"]  # registered at the federation's first node
    descriptor["name"] = "上海市新能源汽车充电桩运行画像数据集"
    code = shdex.list_product(descriptor)["code"]
    home = _profile(shdex, code)
    assert (home["source"], home["rows"]) == ("inline", 3)
    for peer in (bjidx, gybdx):
        wait_until(lambda p=peer: _profile(p, code) == home, REPLICATION, message=f"{peer.code} profile")

    uploaded = shdex.api(
        "POST",
        f"/api/v1/products/{code}/sample/",
        token=shdex.token,
        data=CSV.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    profile = uploaded.json()["profile"]
    assert (profile["source"], profile["rows"], profile["duplicate_rows"]) == ("csv", 3, 1)
    for peer in (bjidx, gybdx):
        wait_until(lambda p=peer: _profile(p, code) == profile, REPLICATION, message=f"{peer.code} upload")
        sample = peer.api("GET", f"/api/v1/products/{code}/sample/", timeout=10).json()
        assert sample["sample_file"] is None and sample["profile"] == profile  # the file stays at home
        # a replica takes no upload: only the home node writes a product
        refused = peer.api(
            "POST",
            f"/api/v1/products/{code}/sample/",
            token=peer.token,
            data=CSV.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert refused.status_code == 403, refused.text
    # Anti-entropy compares the profiles too (their digest is listed once SHDEX has one): equal, row for row.
    for peer in (bjidx, gybdx):
        rows = [
            json.loads(line)
            for line in peer.manage("sync", "verify", timeout=120).splitlines()
            if line.startswith("{")
        ]
        assert {r["status"] for r in rows if r["origin"] == "SHDEX"} == {"equal"}, rows
