"""Recognitions at national size, step 1 (docs/federation.md): the automatic verdict stored once per product,
and reads that assemble each exchange's verdict from its record if it has one, else from the verdict this
node computes under that exchange's published policy. With every record there (the old scheme), and with the
automatic records of other exchanges gone, the reads agree."""

from __future__ import annotations

import importlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.apps import apps

from federation.apply import apply_page
from federation.generation import generation_bump
from federation.models import Peer
from federation.peers import peer_add
from products.models import Product, Recognition
from products.verdicts import verdicts_of
from standards.recognition import recognition_evaluate
from tests.quality_world import peer_assessor, peer_payload
from tests.test_federation_apply import (  # noqa: F401
    ORIGIN,
    _public_b64,
    bjidx_key,
    code,
    home_recognition,
    item,
    product,
    samples,
)
from tests.test_standards_classification import IMPORTANT, classified

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"
COMPARED = ("exchange", "status", "reasons", "decided_by", "product_version", "policy_version")


class Network:
    """BJIDX lists products; BJIDX and GYBDX publish their recognitions of them as the old scheme did (every
    exchange's automatic verdict a record), through their signed feeds."""

    def __init__(self, bjidx_key):  # noqa: F811
        self.keys = {ORIGIN: bjidx_key, "GYBDX": Ed25519PrivateKey.generate()}
        peer_add(code="GYBDX", base_url="http://127.0.0.1:9", public_key=_public_b64(self.keys["GYBDX"]))
        self.seq = {ORIGIN: 0, "GYBDX": 0}

    def send(self, origin: str, record_type: str, gid: str, payload: dict, *, version: int = 1) -> int:
        self.seq[origin] += 1
        entry = item(
            self.keys[origin],
            seq=self.seq[origin],
            gid=gid,
            payload=payload,
            record_type=record_type,
            version=version,
            origin=origin,
        )
        return apply_page(origin=origin, items=[entry], source=origin, after=self.seq[origin] - 1)[0]

    def list(self, serial: int, descriptor: dict, *, recognitions: bool = True) -> str:
        assert self.send(ORIGIN, "product", code(serial), product(serial, descriptor)) == 1
        if recognitions:
            assert self.send(ORIGIN, "recognition", f"{code(serial)}@{ORIGIN}", home_recognition(serial)) == 1
            status, reasons = recognition_evaluate(descriptor)
            self.decide("GYBDX", serial, status, reasons, "auto")
        return code(serial)

    def decide(self, exchange: str, serial: int, status: str, reasons: list[str], by: str, version=1) -> None:
        payload = {
            "product": code(serial),
            "exchange": exchange,
            "status": status,
            "reasons": reasons,
            "product_version": 1,
            "decided_by": by,
            "policy": "1.0",
        }
        assert self.send(exchange, "recognition", f"{code(serial)}@{exchange}", payload, version=version) == 1


@pytest.fixture
def network(bjidx_key):  # noqa: F811
    return Network(bjidx_key)


def _by_verdict() -> dict[str, dict]:
    """One descriptor of each automatic verdict: core data is refused, important data waits for review."""
    found = {
        "recognised": next(d for d in samples(30, seed=5) if recognition_evaluate(d)[0] == "recognised"),
        "pending": classified("important", delivery=["sandbox", "api"], important_data=IMPORTANT),
        "refused": classified("core", important_data=IMPORTANT),
    }
    assert {status: recognition_evaluate(d)[0] for status, d in found.items()} == {s: s for s in found}
    return found


def _read(anon, codes: list[str]) -> tuple[dict, dict]:
    detail = {
        c: [tuple(r[k] for k in COMPARED) for r in anon.get(f"{URL}{c}/").json()["recognitions"]]
        for c in codes
    }
    recognised = {
        x: sorted(p["code"] for p in anon.get(URL, {"recognised_by": x, "page_size": 100}).json()["results"])
        for x in ("SHDEX", ORIGIN, "GYBDX")
    }
    return detail, recognised


class TestReadsAgreeWithTheOldRows:
    def test_without_the_other_exchanges_automatic_rows_every_read_is_the_same(self, anon, network):
        by_verdict = _by_verdict()
        codes = [network.list(n, d) for n, d in enumerate(by_verdict.values(), start=1)]
        # Every exchange's verdict is a record (the old scheme): nothing is computed.
        rows = anon.get(f"{URL}{codes[0]}/").json()["recognitions"]
        assert {r["exchange"] for r in rows} == {"SHDEX", ORIGIN, "GYBDX"} and not any(
            r["computed"] for r in rows
        )
        before = _read(anon, codes)
        assert before[1]["GYBDX"] == before[1]["SHDEX"] == [codes[0]]  # only the recognisable one
        assert before[1][ORIGIN] == sorted(codes)  # its own listings

        deleted, _ = Recognition.objects.exclude(exchange_id="SHDEX").delete()
        assert deleted == 6  # BJIDX's home records and GYBDX's automatic ones
        generation_bump()  # no page cached before the delete is served
        assert _read(anon, codes) == before
        rows = anon.get(f"{URL}{codes[1]}/").json()["recognitions"]
        computed = {r["exchange"]: (r["computed"], r["version"]) for r in rows}
        assert computed == {"SHDEX": (False, 1), ORIGIN: (True, 0), "GYBDX": (True, 0)}

    def test_the_portal_matrix_shows_the_computed_verdicts(self, anon, network):
        by_verdict = _by_verdict()
        refused = network.list(1, by_verdict["refused"], recognitions=False)
        page = anon.get(f"/catalog/{refused}/")
        assert page.status_code == 200
        matrix = page.content.decode().split('id="recognition"')[1].split("</section>")[0]
        assert matrix.count("不予互认") == 2  # this node's own record, and GYBDX's computed verdict
        assert matrix.count("已互认") == 1  # its home exchange
        reasons = recognition_evaluate(by_verdict["refused"])[1]
        assert reasons[0] in matrix


class TestExceptionsAndPolicies:
    def test_an_exception_record_wins_over_the_computed_verdict(self, anon, network):
        listed = network.list(1, _by_verdict()["recognised"], recognitions=False)
        assert listed in _read(anon, [listed])[1]["GYBDX"]
        network.decide("GYBDX", 1, "refused", ["缺少数据来源证明"], "operator")
        rows = {r["exchange"]: r for r in anon.get(f"{URL}{listed}/").json()["recognitions"]}
        assert (rows["GYBDX"]["status"], rows["GYBDX"]["decided_by"], rows["GYBDX"]["computed"]) == (
            "refused",
            "operator",
            False,
        )
        assert listed not in _read(anon, [listed])[1]["GYBDX"]

    def test_a_peers_policy_requiring_a_report_holds_its_computed_verdict_pending(self, anon, network):
        listed = network.list(1, _by_verdict()["recognised"], recognitions=False)
        policy = {"exchange": "GYBDX", "quality_report_required": True}
        assert network.send("GYBDX", "recognition_policy", "GYBDX", policy) == 1
        rows = {r["exchange"]: r for r in anon.get(f"{URL}{listed}/").json()["recognitions"]}
        assert rows["GYBDX"]["status"] == "pending" and rows["GYBDX"]["reasons"][0].startswith(
            "quality_report"
        )
        assert rows["SHDEX"]["status"] == "recognised"  # this node's own policy requires none
        assert listed not in _read(anon, [listed])[1]["GYBDX"]
        gid, payload = peer_payload(ORIGIN, listed, peer_assessor(ORIGIN))
        assert network.send(ORIGIN, "quality_report", gid, payload) == 1
        rows = {r["exchange"]: r for r in anon.get(f"{URL}{listed}/").json()["recognitions"]}
        assert (rows["GYBDX"]["status"], rows["GYBDX"]["reasons"]) == ("recognised", [])
        assert listed in _read(anon, [listed])[1]["GYBDX"]

    def test_a_check_version_this_node_does_not_compute_is_not_evaluated(self, anon, network):
        listed = network.list(1, _by_verdict()["recognised"], recognitions=False)
        Peer.objects.filter(exchange_id="GYBDX").update(
            standards={"versions": {"recognition": "2.0"}, "sha256": "0" * 64}
        )
        rows = anon.get(f"{URL}{listed}/").json()["recognitions"]
        assert [r["exchange"] for r in rows] == [ORIGIN, "SHDEX"]  # the initiative's order
        assert _read(anon, [listed])[1]["GYBDX"] == []
        # A record of that exchange is still shown: only the computed verdict is not evaluated.
        network.decide("GYBDX", 1, "recognised", [], "operator")
        assert _read(anon, [listed])[1]["GYBDX"] == [listed]

    def test_a_disabled_peer_and_a_member_without_a_node_have_no_computed_verdict(self, anon, network):
        listed = network.list(1, _by_verdict()["recognised"], recognitions=False)
        Peer.objects.filter(exchange_id="GYBDX").update(enabled=False)
        product_row = Product.objects.get(code=listed)
        assert set(verdicts_of([product_row])[listed]) == {"SHDEX", ORIGIN}
        assert anon.get(URL, {"recognised_by": "GZDEX"}).json()["results"] == []


class TestStoredVerdict:
    def test_the_verdict_is_stored_once_per_product_on_apply_and_by_the_migration(self, network):
        descriptor = _by_verdict()["pending"]
        listed = network.list(1, descriptor, recognitions=False)
        row = Product.objects.get(code=listed)
        assert (row.verdict, row.verdict_reasons) == tuple(recognition_evaluate(descriptor))
        Product.objects.filter(code=listed).update(verdict="", verdict_reasons=[])
        migration = importlib.import_module("products.migrations.0015_product_verdict")
        migration.verdicts_fill(apps, None)
        row.refresh_from_db()
        assert (row.verdict, row.verdict_reasons) == tuple(recognition_evaluate(descriptor))

    def test_a_home_listing_stores_its_verdict_too(self, alice):
        from products.models import ProductStatus
        from tests.factories import make_product

        made = make_product(actor=alice, status=ProductStatus.LISTED)
        made.refresh_from_db()
        assert (made.verdict, made.verdict_reasons) == tuple(recognition_evaluate(made.descriptor))
