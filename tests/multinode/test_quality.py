"""Quality reports between real nodes (gunicorn + Celery worker + beat each) on loopback: an assessor
registered at BJIDX issues a report about a product listed at SHDEX; GYBDX, whose recognition policy requires
a valid report, recognises the product only once the report has arrived, and holds its recognition again
when the report is withdrawn."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from products.sample_data import descriptor as sample_descriptor
from products.sample_data import make_uscc
from products.verdict import recognition_evaluate
from tests.multinode.harness import Node, wait_until

pytestmark = pytest.mark.multinode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
PARTICIPANT = json.loads((DOCS / "participant.json").read_text("utf-8"))
REPORT = json.loads((DOCS / "quality-report.json").read_text("utf-8"))
REPLICATION = 30  # seconds allowed for a change to reach every node (it takes about one)
ACCOUNT = {"username": "bj-quality-lab", "password": "Lantern-9Quill-Harbor"}


def _recognisable(seed: int) -> dict:
    rng = random.Random(seed)
    return next(
        d for d in (sample_descriptor(rng) for _ in range(50)) if recognition_evaluate(d)[0] == "recognised"
    )


def _register_assessor(node: Node, uscc: str) -> None:
    body = {k: v for k, v in PARTICIPANT.items() if k not in ("contacts", "documents", "phone", "email")}
    body.update(
        uscc=uscc,
        legal_name="北京数质评估有限公司",
        roles=["service_provider"],
        business_categories=[],
        services=["quality_assessment"],
        account=ACCOUNT,
    )
    created = node.api("POST", "/api/v1/participants/", token=node.token, json=body)
    assert created.status_code == 201, created.text
    verified = node.api(
        "POST", f"/api/v1/participants/{uscc}/verification/", token=node.token, json={"status": "verified"}
    )
    assert verified.status_code == 200, verified.text


def _gybdx_recognition(gybdx: Node, code: str) -> dict | None:
    response = gybdx.api("GET", f"/api/v1/products/{code}/", timeout=10)
    if response.status_code != 200:
        return None
    return next((r for r in response.json()["recognitions"] if r["exchange"] == "GYBDX"), None)


def test_gybdx_recognises_a_shdex_product_only_with_a_bjidx_assessors_valid_report(nodes):
    shdex, bjidx, gybdx = nodes["SHDEX"], nodes["BJIDX"], nodes["GYBDX"]
    policy = gybdx.api(
        "PUT",
        "/api/v1/exchanges/GYBDX/recognition-policy/",
        token=gybdx.token,
        json={"quality_report_required": True},
    )
    assert policy.status_code == 200, policy.text
    wait_until(
        lambda: shdex.api("GET", "/api/v1/exchanges/GYBDX/recognition-policy/").json()[
            "quality_report_required"
        ],
        REPLICATION,
        message="GYBDX's policy at SHDEX",
    )

    descriptor = _recognisable(2026)
    shdex.register_providers([(descriptor["provider"]["uscc"], descriptor["provider"]["name"])])
    code = shdex.list_product(descriptor)["code"]
    held = wait_until(
        lambda: (r := _gybdx_recognition(gybdx, code)) and r, REPLICATION, message="GYBDX's recognition"
    )
    assert held["status"] == "pending" and held["reasons"][0].startswith("quality_report:"), held

    assessor = make_uscc(random.Random(4242), "110000")
    _register_assessor(bjidx, assessor)
    wait_until(
        lambda: bjidx.api("GET", f"/api/v1/products/{code}/", timeout=10).status_code == 200,
        REPLICATION,
        message="the product at BJIDX",
    )
    login = bjidx.api("POST", "/api/v1/auth/token/", json=ACCOUNT)
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access']}"}
    today = dt.date.today()
    body = {
        **REPORT,
        "assessed_at": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=365)).isoformat(),
    }
    body.pop("product_version")

    # A report is issued at the assessor's home: SHDEX refuses it, BJIDX accepts it. SHDEX accepts the
    # assessor's login once its registration at BJIDX has arrived there (401 until then).
    def refused_at_shdex():
        r = shdex.api("POST", f"/api/v1/products/{code}/quality-reports/", json=body, headers=bearer)
        return [r] if r.status_code != 401 else None  # a list: a 4xx Response is falsy

    [away] = wait_until(refused_at_shdex, REPLICATION, message="the assessor's registration at SHDEX")
    assert away.status_code == 403 and away.json()["error"]["code"] == "not_home", away.text
    issued = bjidx.api("POST", f"/api/v1/products/{code}/quality-reports/", json=body, headers=bearer)
    assert issued.status_code == 201, issued.text
    report = issued.json()
    assert report["origin"] == "BJIDX" and report["grade"] == "B"

    recognised = wait_until(
        lambda: (r := _gybdx_recognition(gybdx, code)) and r["status"] == "recognised" and r,
        REPLICATION,
        message="GYBDX recognising the product once the report arrived",
    )
    assert recognised["reasons"] == [] and recognised["decided_by"] == "auto"
    wait_until(
        lambda: shdex.api("GET", f"/api/v1/products/{code}/").json()["quality_grade"] == "B",
        REPLICATION,
        message="the grade at SHDEX",
    )
    graded = shdex.api("GET", "/api/v1/products/", params={"quality_grade": "B", "assessed": "true"}).json()
    assert code in {p["code"] for p in graded["results"]}

    withdrawn = bjidx.api(
        "POST",
        f"/api/v1/quality-reports/{report['id']}/withdraw/",
        json={"reason": "样本有误"},
        headers=bearer,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    held = wait_until(
        lambda: (r := _gybdx_recognition(gybdx, code)) and r["status"] == "pending" and r,
        REPLICATION,
        message="GYBDX holding its recognition again after the withdrawal",
    )
    assert held["reasons"][0].startswith("quality_report:")
    state = gybdx.api("GET", f"/api/v1/quality-reports/{report['id']}/").json()["state"]
    assert state == "withdrawn"
