"""docker/grafana-dashboard.json: a dashboard Grafana imports (the shape of its dashboard model), whose every
query names only metrics this node exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from federation import keys
from federation.peers import peer_add

DASHBOARD = Path(__file__).resolve().parents[1] / "docker" / "grafana-dashboard.json"
PANEL_TYPES = {"row", "timeseries", "stat"}
# Grafana's own variables, and the dashboard's.
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text("utf-8"))


def _queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_dashboard_has_the_shape_grafana_imports():
    dashboard = _dashboard()
    for key, kind in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list)):
        assert isinstance(dashboard[key], kind), key
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        assert panel["type"] in PANEL_TYPES and panel["title"]
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) and grid[k] >= 0 for k in ("h", "w", "x", "y"))
        assert grid["w"] >= 1 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(grid["y"] + dy, grid["x"] + dx) for dy in range(grid["h"]) for dx in range(grid["w"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"] and target["expr"].strip()
    for expr in [*_queries(dashboard), variables["instance"]["definition"]]:
        assert _balanced(expr), expr
        used = set(re.findall(r"\$(\w+)", expr))
        assert used <= set(variables) | BUILTIN_VARIABLES, (expr, used)


def _balanced(expr: str) -> bool:
    text = re.sub(r'"[^"]*"', '""', expr)
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack


@pytest.mark.django_db
def test_every_metric_the_dashboard_names_is_exported(anon):
    peer_add(code="BJIDX", base_url="http://127.0.0.1:9", public_key=keys.public_key_b64())
    anon.get("/api/v1/exchanges/")
    exported: set[str] = set()
    for family in text_string_to_metric_families(Client().get("/metrics").content.decode()):
        exported.add(family.name)
        exported.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
        exported.update(sample.name for sample in family.samples)
    dashboard = _dashboard()
    named = set()
    for expr in [*_queries(dashboard), dashboard["templating"]["list"][1]["definition"]]:
        named.update(re.findall(r"\bregistry_[a-z0-9_]+", expr))
    assert named, "the dashboard names no metric"
    assert not named - exported, sorted(named - exported)
    # And the dashboard shows every family the node exports.
    families = {name for name in exported if name.startswith("registry_")}
    shown = {name for name in families if any(n == name or n.startswith(name + "_") for n in named)}
    base = {n for n in families if not n.endswith(("_total", "_bucket", "_sum", "_count"))}
    assert not base - shown, sorted(base - shown)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Prometheus) is not installed")
def test_every_query_is_promql_prometheus_accepts(tmp_path):
    """Each query as a recording rule, checked by Prometheus' own parser (Grafana's `$__rate_interval`
    replaced by a duration, `$instance` is inside a label matcher already)."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(_queries(_dashboard()))
    ]
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    command = [shutil.which("promtool"), "check", "rules", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr
