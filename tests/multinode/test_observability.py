"""Observability between real nodes: two nodes (gunicorn with two worker processes, Celery worker, beat) in
JSON log mode.

* `/metrics` adds up the requests of both gunicorn worker processes, and shows the pull a listing caused;
* the request id a client sent with the approval of a listing at SHDEX is in SHDEX's log lines for that
  request and for the wake-up task it queued, in BJIDX's lines for the wake-up it received and for the pull
  that wake-up caused, and in SHDEX's line for the feed request that pull made;
* every line the web servers and workers log is a JSON object.
"""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.multinode.harness import Federation, HarnessError, Node, wait_until

pytestmark = pytest.mark.multinode

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/examples/product-descriptor.json").read_text()
)


class TwoWebWorkers(Node):
    web_workers = 2


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    # Polls only at start: the pull that brings the listing to BJIDX is the one its wake-up queued.
    federation = Federation(
        ("SHDEX", "BJIDX"),
        tmp_path_factory.mktemp("observe"),
        extra_env={"LOG_FORMAT": "json", "FEDERATION_POLL_INTERVAL": "3600"},
    )
    federation.node_class = TwoWebWorkers
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


def scrape(node: Node) -> dict[tuple[str, tuple], float]:
    response = node.api("GET", "/metrics", timeout=20)
    assert response.status_code == 200, response.text[:500]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def json_lines(node: Node, name: str) -> list[dict]:
    """The lines of a process's log; any line but the harness's own markers and Celery's start-up banner must
    be a JSON object."""
    lines = []
    for line in (node.log_dir / f"{name}.log").read_text("utf-8", "replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
        elif name == "web":
            assert not line.strip() or line.startswith("===== start"), f"{node.code} {name}: {line!r}"
    return lines


def test_metrics_add_up_every_gunicorn_worker(pair):
    shdex = pair["SHDEX"]
    count = ("registry_http_request_duration_seconds_count",)
    labels = (("method", "GET"), ("status", "200"), ("view", "api:exchange-list"))
    before = scrape(shdex).get((*count, labels), 0)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: shdex.api("GET", "/api/v1/exchanges/").status_code, range(60)))
    assert statuses == [200] * 60
    assert scrape(shdex)[(*count, labels)] - before == 60
    # Both worker processes answered some of them, each counting in a file of its own.
    files = sorted(p.name for p in (shdex.data_dir / "metrics").glob("histogram_*.db"))
    assert len(files) == 2, files


def test_a_request_id_follows_a_listing_across_the_nodes(pair):
    shdex, bjidx = pair["SHDEX"], pair["BJIDX"]
    shdex.wait_participant(EXAMPLE["provider"]["uscc"])
    created = shdex.api("POST", "/api/v1/products/", token=shdex.token, json={"descriptor": EXAMPLE})
    assert created.status_code == 201, created.text[:500]
    code = created.json()["code"]
    assert shdex.api("POST", f"/api/v1/products/{code}/submit/", token=shdex.token).status_code == 200
    request_id = uuid.uuid4().hex
    approved = shdex.api(
        "POST",
        f"/api/v1/products/{code}/review/",
        token=shdex.token,
        json={"decision": "approve"},
        headers={"X-Request-ID": request_id},
    )
    assert approved.status_code == 200 and approved.headers["X-Request-ID"] == request_id

    def replicated():
        return bjidx.api("GET", f"/api/v1/products/{code}/", timeout=10).status_code == 200

    wait_until(replicated, 60, message=f"{code} at BJIDX")

    def lines_with_the_id() -> dict[str, list[dict]]:
        found = {
            f"{node.code} {name}": [
                line for line in json_lines(node, name) if line["request_id"] == request_id
            ]
            for node in (shdex, bjidx)
            for name in ("web", "worker")
        }
        wanted = {
            "SHDEX web": lambda x: x.get("view") == "api:product-review" and x["status"] == 200,
            "SHDEX worker": lambda x: "federation.tasks.wake_peers" in x["message"],
            "BJIDX web": lambda x: x.get("view") == "federation:wake" and x["status"] == 202,
            # The listing (and SHDEX's recognition of it while SHDEX does not know that BJIDX speaks
            # recognition protocol 2; since it learns that from its first wake-up, usually not).
            "BJIDX worker": lambda x: re.match(r"pulled [12] entries of SHDEX from SHDEX ", x["message"]),
        }
        missing = [where for where, seen in wanted.items() if not any(seen(x) for x in found[where])]
        if missing:
            raise HarnessError(f"not yet in {missing}")
        return found

    found = wait_until(lines_with_the_id, 30, message="the request id in every node's logs")
    # The pull at BJIDX asked SHDEX for its feed under the same id, and its task's lines carry it.
    assert any(x.get("view") == "federation:feed" for x in found["SHDEX web"]), found["SHDEX web"]
    assert any("federation.tasks.pull_origin" in x["message"] for x in found["BJIDX worker"])
    for line in (line for lines in found.values() for line in lines):
        assert line["node"] in {"SHDEX", "BJIDX"} and line["time"] and line["level"]

    # And the metrics of BJIDX saw that pull.
    samples = scrape(bjidx)
    assert samples[("registry_federation_pulls_total", (("origin", "SHDEX"), ("outcome", "ok")))] >= 1
    assert samples[("registry_federation_pulled_entries_total", (("origin", "SHDEX"),))] >= 1
    assert samples[("registry_federation_lag_entries", (("origin", "SHDEX"),))] == 0
    assert samples[("registry_broker_up", ())] == 1
    assert ("registry_celery_queue_length", (("queue", "sync"),)) in samples
