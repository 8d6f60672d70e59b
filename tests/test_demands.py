"""Demands (一地提出，全国响应) at one node: posting and its rules, matching with explanations, notifications
exactly once, responses private to their audience, decisions, closing and expiry, webhooks, stats."""

import copy
import datetime
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from demands.matching import demand_match_and_notify, matches_for
from demands.models import Demand, Notification, WebhookDelivery, WebhookSubscription
from demands.notifications import deliveries_send
from demands.services import demands_expire
from federation.models import Entry, PrivateEntry
from products.models import ProductStatus, Recognition
from tests.factories import make_product, random_descriptor, register_provider

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
DEMAND = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
# The example's deadline is a fixed date; the tests post it with one that is always ahead.
DEMAND["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
RESPONSE = json.loads((ROOT / "docs/examples/demand-response.json").read_text("utf-8"))
PRODUCT = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
URL = "/api/v1/demands/"
DEMANDER = "91310115AY4CL12T2E"


def _login(username, password):
    client = APIClient()
    pair = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert pair.status_code == 200, pair.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    return client


def _errors(response):
    return {(e["field"], e["code"]) for e in response.json()["error"]["errors"]}


@pytest.fixture
def demander(db):
    register_provider(
        DEMANDER,
        "上海浦数智能科技有限公司",
        roles=("demander",),
        account={"username": "buyer", "password": "Qz8-buyer-harbor"},
    )
    return _login("buyer", "Qz8-buyer-harbor")


@pytest.fixture
def supplier(db, alice):
    """The example product's provider, a data merchant registered here, with the example product listed."""
    provider = PRODUCT["provider"]
    register_provider(
        provider["uscc"], provider["name"], account={"username": "seller", "password": "Qz8-seller-canyon"}
    )
    product = make_product(actor=alice, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)
    client = _login("seller", "Qz8-seller-canyon")
    client.product = product
    return client


@pytest.fixture
def posted(demander):
    response = demander.post(URL, DEMAND, format="json")
    assert response.status_code == 201, response.content
    return response.json()


class TestPosting:
    def test_a_verified_demander_posts_and_the_demand_is_published(self, posted):
        assert (
            posted["status"] == "open" and posted["origin"] == "SHDEX" and posted["demander_id"] == DEMANDER
        )
        entry = Entry.objects.get(record_type="demand", gid=posted["id"])
        payload = json.loads(entry.body)["payload"]
        assert payload["title"] == DEMAND["title"] and payload["budget"] == {
            "min": 50000,
            "max": 200000,
            "currency": "CNY",
        }

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"budget": {"min": 300000, "max": 200000}}, "budget.max", "order"),
            ({"deadline": "2020-01-01T00:00:00+08:00"}, "deadline", "past"),
            ({"product_forms": ["hologram"]}, "product_forms.0", "invalid_choice"),
            ({"title": "全国最好的充电桩数据采购"}, "title", "naming.forbidden_term"),
            ({"spatial_coverage": ["999999"]}, "spatial_coverage.0", "region.unknown"),
            ({"compliance_requirements": ["trust_me"]}, "compliance_requirements.0", "invalid_choice"),
            ({"reach": ["XXDEX"]}, "reach.0", "invalid_choice"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, demander, change, field, code):
        response = demander.post(URL, {**DEMAND, **change}, format="json")
        assert response.status_code == 400
        assert (field, code) in _errors(response)
        assert not Demand.objects.exists()

    def test_only_verified_demanders_post(self, alice_api, supplier, db):
        assert alice_api.post(URL, DEMAND, format="json").status_code == 403  # an operator is no participant
        response = supplier.post(URL, DEMAND, format="json")  # a data merchant without the demander role
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_required"
        assert APIClient().post(URL, DEMAND, format="json").status_code == 401

    def test_a_suspended_demander_is_refused(self, demander, alice_api):
        from participants.models import Participant

        Participant.objects.filter(participant_id=DEMANDER).update(status="suspended")
        assert demander.post(URL, DEMAND, format="json").status_code == 401

    def test_search_and_filters(self, posted, anon):
        assert [d["id"] for d in anon.get(URL, {"q": "充电桩"}).json()["results"]] == [posted["id"]]
        assert anon.get(URL, {"q": "旅游"}).json()["results"] == []
        assert anon.get(URL, {"form": "api", "industry": "D"}).json()["count"] == 1
        assert anon.get(URL, {"status": "closed"}).json()["count"] == 0


class TestMatching:
    """Fixed Chinese demands and products: the obviously right product ranks above the obviously wrong."""

    CASES = [
        (
            "上海市充电桩运行数据采购",
            "需要上海市新能源汽车充电桩的充电电量与利用率数据，按日更新。",
            "D",
            "充电桩",
        ),
        ("港口集装箱吞吐量数据需求", "采购青岛港口集装箱吞吐量与航线物流数据，用于物流研究。", "G", "集装箱"),
        ("旅游景区客流数据采购", "需要景区旅游客流的实时数据，用于客流预警与旅游规划。", "R", "客流"),
    ]

    @pytest.fixture
    def catalogue(self, alice):
        made = {}
        for name, industry, keywords, region in [
            ("上海市新能源汽车充电桩运行数据集", "D", ["充电桩", "新能源汽车", "能源"], "310000"),
            ("青岛市港口集装箱吞吐量数据集", "G", ["港口", "集装箱", "物流"], "370200"),
            ("杭州市旅游客流数据集", "R", ["旅游", "客流", "景区"], "330100"),
            ("北京市房地产交易数据集", "K", ["房地产", "成交", "住房"], "110000"),
        ]:
            d = random_descriptor(
                name=name,
                industry=industry,
                keywords=keywords,
                spatial_coverage=[region],
                product_form="dataset",
                summary=f"{name}，{'、'.join(keywords)}相关数据，按日更新。",
            )
            made[keywords[0] if keywords[0] != "新能源汽车" else "充电桩"] = make_product(
                actor=alice, descriptor=d, status=ProductStatus.LISTED
            )
        return made

    @pytest.mark.parametrize("case", range(3))
    def test_the_right_product_ranks_first(self, demander, catalogue, case):
        title, description, industry, expected = self.CASES[case]
        body = {
            **DEMAND,
            "title": title,
            "description": description,
            "industry": industry,
            "spatial_coverage": ["100000"],
        }
        posted = demander.post(URL, body, format="json").json()
        matches = demander.get(f"{URL}{posted['id']}/matches/").json()["results"]
        assert matches, "no match at all"
        by_code = {m["product"]: m["score"] for m in matches}
        right = catalogue[{"充电桩": "充电桩", "集装箱": "港口", "客流": "旅游"}[expected]].code
        assert matches[0]["product"] == right, matches
        wrong = catalogue["房地产"].code
        assert by_code.get(wrong, 0) < by_code[right]

    def test_every_score_is_explained(self, supplier, posted, anon):
        match = anon.get(f"{URL}{posted['id']}/matches/").json()["results"][0]
        assert match["product"] == supplier.product.code
        names = [f["name"] for f in match["factors"]]
        assert names == ["text", "industry", "form", "region", "time", "frequency", "price", "recognised"]
        # Text relevance gates the score: it multiplies the other factors' fit (0.5 plus their weighted sum).
        text, *others = match["factors"]
        fit = 0.5 + sum(f["weight"] * f["score"] for f in others)
        assert abs(text["score"] * fit - match["score"]) < 1e-3
        assert "充电" in text["reason"] and "of" in text["reason"]

    def test_compliance_requirements_exclude_products_that_break_them(self, demander, alice):
        d = copy.deepcopy(PRODUCT)
        d["name"] = "上海市新能源汽车充电桩用户画像数据集"
        d["compliance"]["personal_information"] = {
            "category": "with_consent",
            "status": "passed",
            "evidence_ref": "C-1",
        }
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
        product = make_product(actor=alice, descriptor=d, status=ProductStatus.LISTED)
        posted = demander.post(URL, DEMAND, format="json").json()
        demand = Demand.objects.get(gid=posted["id"])
        assert product.code not in [m.product.code for m in matches_for(demand)]
        demand.compliance_requirements = []
        assert product.code in [m.product.code for m in matches_for(demand)]


class TestNotifications:
    def test_a_matching_provider_here_is_notified_once_per_version(self, supplier, posted):
        assert demand_match_and_notify(posted["id"]) == 1
        assert demand_match_and_notify(posted["id"]) == 0  # a task run twice notifies nobody twice
        listed = supplier.get("/api/v1/notifications/").json()["results"]
        assert [(n["kind"], n["demand_gid"], n["demand_version"]) for n in listed] == [
            ("match", posted["id"], 1)
        ]
        assert listed[0]["payload"]["products"][0]["code"] == supplier.product.code
        assert Demand.objects.get(gid=posted["id"]).first_matched_at is not None

    def test_a_matched_version_is_not_matched_again(self, supplier, posted, django_assert_max_num_queries):
        """A copy of the task (re-queued by the tick, or delivered twice) costs one query, not a match."""
        assert demand_match_and_notify(posted["id"]) == 1
        with django_assert_max_num_queries(1):
            assert demand_match_and_notify(posted["id"]) == 0

    def test_the_tick_requeues_only_demands_whose_task_was_lost(self, supplier, posted):
        from demands.services import UNMATCHED_AFTER, demands_unmatched

        assert demands_unmatched() == []  # just posted: its own task is on the queue
        Demand.objects.filter(gid=posted["id"]).update(
            updated_at=timezone.now() - UNMATCHED_AFTER - datetime.timedelta(seconds=1)
        )
        assert demands_unmatched() == [posted["id"]]  # still unmatched a minute later: queued again
        demand_match_and_notify(posted["id"])
        assert demands_unmatched() == []

    def test_closing_notifies_every_responder_once(self, supplier, demander, posted):
        assert supplier.post(f"{URL}{posted['id']}/responses/", RESPONSE, format="json").status_code == 201
        closed = demander.post(f"{URL}{posted['id']}/close/", {"reason": "已选定供应商"}, format="json")
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert demand_match_and_notify(posted["id"]) == 1
        assert demand_match_and_notify(posted["id"]) == 0
        kinds = [n["kind"] for n in supplier.get("/api/v1/notifications/").json()["results"]]
        assert "demand_closed" in kinds


class TestResponses:
    def test_a_response_is_private_to_its_audience(self, supplier, demander, posted, alice_api, bob_api, db):
        created = supplier.post(f"{URL}{posted['id']}/responses/", RESPONSE, format="json")
        assert created.status_code == 201, created.content
        rid = created.json()["id"]
        # The public log carries a sealed stub only; the full entry is kept aside.
        stub = Entry.objects.get(record_type="sealed", gid=f"demand_response:{rid}")
        assert json.loads(stub.body)["payload"] == {
            "type": "demand_response",
            "gid": rid,
            "audience": ["SHDEX"],
        }
        assert RESPONSE["message"] not in " ".join(Entry.objects.values_list("body", flat=True))
        assert PrivateEntry.objects.get(gid=rid).audience == ["SHDEX"]
        path = f"{URL}{posted['id']}/responses/{rid}/"
        assert demander.get(path).json()["message"] == RESPONSE["message"]
        assert supplier.get(path).status_code == 200 and alice_api.get(path).status_code == 200
        assert bob_api.get(path).status_code == 404  # an operator of another exchange
        other = register_provider(
            _uscc(7),
            "旁观者公司",
            roles=("data_merchant",),
            account={"username": "other", "password": "Qz8-other-meadow"},
        )
        assert other and _login("other", "Qz8-other-meadow").get(path).status_code == 404
        assert APIClient().get(path).status_code == 401
        assert [r["id"] for r in demander.get(f"{URL}{posted['id']}/responses/").json()["results"]] == [rid]
        assert bob_api.get(f"{URL}{posted['id']}/responses/").json()["results"] == []

    def test_decisions_and_their_rules(self, supplier, demander, posted):
        rid = supplier.post(f"{URL}{posted['id']}/responses/", RESPONSE, format="json").json()["id"]
        path = f"{URL}{posted['id']}/responses/{rid}/decision/"
        assert supplier.post(path, {"decision": "accepted"}, format="json").status_code == 403
        assert (
            demander.post(path, {"decision": "shortlisted"}, format="json").json()["decision"]
            == "shortlisted"
        )
        assert demander.post(path, {"decision": "accepted"}, format="json").json()["decision"] == "accepted"
        assert demander.post(path, {"decision": "declined"}, format="json").status_code == 409
        stub = Entry.objects.get(record_type="sealed", gid=f"response_decision:{rid}")
        assert stub.version == 2

    def test_offers_name_own_listed_products_and_closed_demands_take_none(
        self, supplier, demander, posted, alice
    ):
        offer = {"kind": "offer", "products": [supplier.product.code], "price": 100000, "delivery_days": 7}
        assert supplier.post(f"{URL}{posted['id']}/responses/", offer, format="json").status_code == 201
        someone_elses = make_product(
            actor=alice, descriptor=_registered_descriptor(), status=ProductStatus.LISTED
        )
        bad = {**offer, "products": [someone_elses.code, "SHDEX-2026-999999-X"]}
        response = supplier.post(f"{URL}{posted['id']}/responses/", bad, format="json")
        assert response.status_code == 400
        assert {("products.0", "not_provider"), ("products.1", "not_listed")} <= _errors(response)
        bad = {"kind": "offer", "products": [], "price": -1, "delivery_days": 0}
        assert {"products", "price", "delivery_days"} <= {
            f for f, _ in _errors(supplier.post(f"{URL}{posted['id']}/responses/", bad, format="json"))
        }
        demander.post(f"{URL}{posted['id']}/withdraw/", {}, format="json")
        late = supplier.post(f"{URL}{posted['id']}/responses/", offer, format="json")
        assert late.status_code == 409 and late.json()["error"]["code"] == "demand_not_open"

    def test_stats_measure_response_speed(self, supplier, posted, anon):
        demand_match_and_notify(posted["id"])
        supplier.post(f"{URL}{posted['id']}/responses/", RESPONSE, format="json")
        stats = anon.get("/api/v1/stats/demands/").json()
        row = next(r for r in stats["by_demand"] if r["demand"] == posted["id"])
        assert (
            row["responses"] == 1
            and row["time_to_first_response_s"] >= 0
            and row["time_to_first_match_s"] >= 0
        )
        assert stats["by_exchange"][0]["exchange"] == "SHDEX" and stats["by_exchange"][0]["answered"] == 1


def _uscc(seed):
    import random

    from products.sample_data import make_uscc

    return make_uscc(random.Random(seed), "310000")


def _registered_descriptor():
    d = random_descriptor()
    register_provider(d["provider"]["uscc"], d["provider"]["name"])
    return d


class TestLifecycle:
    def test_expiry_at_the_deadline_is_a_new_version(self, posted):
        Demand.objects.filter(gid=posted["id"]).update(
            deadline=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert demands_expire() == 1
        demand = Demand.objects.get(gid=posted["id"])
        assert demand.status == "expired" and demand.version == 2
        assert (
            json.loads(Entry.objects.get(record_type="demand", gid=posted["id"]).body)["payload"]["status"]
            == "expired"
        )

    def test_only_the_demander_withdraws_and_only_once(self, posted, supplier, demander):
        assert supplier.post(f"{URL}{posted['id']}/withdraw/", {}, format="json").status_code == 403
        assert demander.post(f"{URL}{posted['id']}/withdraw/", {}, format="json").status_code == 200
        assert demander.post(f"{URL}{posted['id']}/close/", {}, format="json").status_code == 409


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


class TestWebhooks:
    @pytest.fixture
    def hook(self, settings):
        server = HTTPServer(("127.0.0.1", 0), _Hook)
        _Hook.received, _Hook.status = [], 200
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/hook"
        settings.WEBHOOK_ALLOWED_PRIVATE_URLS = frozenset({url})
        yield url
        server.shutdown()

    def test_loopback_and_private_urls_are_refused_unless_allowed(self, supplier):
        for url in ("http://127.0.0.1:9/x", "http://10.0.0.8/x", "http://localhost/x", "ftp://example.com/x"):
            response = supplier.post("/api/v1/webhooks/", {"url": url}, format="json")
            assert response.status_code == 400, url
        assert ("url", "unsafe_url") in _errors(
            supplier.post("/api/v1/webhooks/", {"url": "http://[::1]/x"}, format="json")
        )

    def test_delivery_is_signed_retried_and_logged(self, supplier, posted, hook):
        created = supplier.post("/api/v1/webhooks/", {"url": hook}, format="json").json()
        _Hook.status = 503
        demand_match_and_notify(posted["id"])
        assert deliveries_send() == 0
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_status == 503
        assert delivery.next_attempt_at > timezone.now()
        _Hook.status = 200
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        assert deliveries_send() == 1
        headers, body = _Hook.received[-1]
        expected = hmac.new(
            created["secret"].encode(), headers["X-Registry-Timestamp"].encode() + b"." + body, hashlib.sha256
        )
        assert headers["X-Registry-Signature"] == "sha256=" + expected.hexdigest()
        assert json.loads(body)["kind"] == "match" and json.loads(body)["demand"] == posted["id"]
        log = supplier.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()
        assert log[0]["state"] == "delivered" and log[0]["attempts"] == 2
        assert deliveries_send() == 0  # delivered once
        assert Notification.objects.count() == 1 and len(_Hook.received) == 2


def test_opportunities_show_a_provider_the_demands_its_products_match(supplier, posted, demander):
    rows = supplier.get("/api/v1/opportunities/").json()
    assert [r["demand"]["id"] for r in rows] == [posted["id"]]
    assert rows[0]["products"][0]["product"] == supplier.product.code
    assert demander.get("/api/v1/opportunities/").json() == []
    # The demand's exchange (SHDEX, the product's home) recognises the product; once it no longer does,
    # the factor says so.
    factor = {f["name"]: f for f in rows[0]["products"][0]["factors"]}["recognised"]
    assert factor["score"] == 1.0
    Recognition.objects.filter(product_code=supplier.product.code, exchange_id="SHDEX").update(
        status="refused"
    )
    rows = supplier.get("/api/v1/opportunities/").json()
    factor = {f["name"]: f for f in rows[0]["products"][0]["factors"]}["recognised"]
    assert factor["score"] == 0.0 and factor["reason"] == "not recognised by SHDEX"


def test_a_demand_with_a_chosen_reach_is_a_private_record(demander):
    posted = demander.post(URL, {**DEMAND, "reach": ["BJIDX"]}, format="json").json()
    assert not Entry.objects.filter(record_type="demand", gid=posted["id"]).exists()
    stub = Entry.objects.get(record_type="sealed", gid=f"demand:{posted['id']}")
    assert json.loads(stub.body)["payload"]["audience"] == ["BJIDX", "SHDEX"]
    assert DEMAND["description"] not in stub.body
    assert PrivateEntry.objects.get(gid=posted["id"]).audience == ["BJIDX", "SHDEX"]


def test_full_width_forbidden_terms_are_caught_in_titles(demander):
    response = demander.post(URL, {**DEMAND, "title": "充电桩数据采购ＮＯ．１"}, format="json")
    assert ("title", "naming.forbidden_term") in _errors(response)


def test_a_response_that_arrives_after_the_closing_still_notifies_its_responder(supplier, demander, posted):
    from demands.models import DemandResponse
    from demands.responses import response_arrived

    demander.post(f"{URL}{posted['id']}/close/", {}, format="json")
    demand = Demand.objects.get(gid=posted["id"])
    late = DemandResponse.objects.create(
        gid="BJIDX-" + "a" * 32, origin="BJIDX", demand_gid=demand.gid, demand_origin="SHDEX",
        demander_id=DEMANDER, demander_home="SHDEX", responder_id=PRODUCT["provider"]["uscc"],
        responder_home="SHDEX", responder_name="x", kind="proposal", proposal="一个迟到的定制方案内容。",
        price=1, delivery_days=1, created_at=timezone.now(),
    )  # fmt: skip
    response_arrived(late)
    kinds = {(n.participant_id, n.kind) for n in Notification.objects.all()}
    assert (PRODUCT["provider"]["uscc"], "demand_closed") in kinds and (DEMANDER, "response") in kinds


class TestWebhookAddressPinning:
    """A delivery connects to the address `url_check` vetted, not to a second DNS answer (DNS rebinding)."""

    @pytest.fixture
    def loopback(self):
        server = HTTPServer(("127.0.0.1", 0), _Hook)
        _Hook.received, _Hook.status = [], 200
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server.server_port
        server.shutdown()

    def test_the_request_goes_to_the_vetted_address_with_the_url_host(self, loopback, monkeypatch):
        from demands import notifications

        real = socket.getaddrinfo

        def resolver(host, port, *args, **kwargs):  # what a second lookup would answer: nowhere useful
            if host != "hooks.example.cn":
                return real(host, port, *args, **kwargs)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        response = notifications._post(
            f"http://hooks.example.cn:{loopback}/hook?x=1", "127.0.0.1", data=b"{}", timeout=5
        )
        assert response.status_code == 200
        headers, body = _Hook.received[-1]
        assert headers["Host"] == f"hooks.example.cn:{loopback}" and body == b"{}"

    def test_a_host_that_rebinds_to_loopback_after_the_check_is_not_reached(
        self, supplier, posted, loopback, monkeypatch
    ):
        from demands import notifications

        answers = iter(["1.1.1.1"] + ["127.0.0.1"] * 10)

        real = socket.getaddrinfo

        def rebinding(host, port, *args, **kwargs):
            if host != "rebind.example.cn":
                return real(host, port, *args, **kwargs)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

        url = f"http://rebind.example.cn:{loopback}/hook"
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        monkeypatch.setattr(notifications, "TIMEOUT", 0.5)
        provider = PRODUCT["provider"]["uscc"]
        WebhookSubscription.objects.create(participant_id=provider, url=url, secret="s" * 32)
        demand_match_and_notify(posted["id"])
        assert deliveries_send() == 0  # 1.1.1.1 is out of reach from here: a transient failure, retried
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == "pending" and delivery.attempts == 1
        assert _Hook.received == []  # the loopback listener never saw it

    def test_https_to_a_vetted_address_checks_the_certificate_for_the_url_host(self, tmp_path):
        import datetime as dt
        import ssl

        import requests
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        from demands.notifications import _PinnedTls

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.cn")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.cn")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server = HTTPServer(("127.0.0.1", 0), _Hook)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        _Hook.received, _Hook.status = [], 200
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            target = f"https://127.0.0.1:{server.server_port}/hook"
            pinned = requests.Session()
            pinned.mount(f"https://127.0.0.1:{server.server_port}", _PinnedTls("hooks.example.cn"))
            assert pinned.post(target, data=b"{}", verify=str(cert_file), timeout=5).status_code == 200
            # The same address without the pin: the certificate does not name 127.0.0.1.
            with pytest.raises(requests.exceptions.SSLError):
                requests.post(target, data=b"{}", verify=str(cert_file), timeout=5)
            wrong = requests.Session()
            wrong.mount(f"https://127.0.0.1:{server.server_port}", _PinnedTls("other.example.cn"))
            with pytest.raises(requests.exceptions.SSLError):
                wrong.post(target, data=b"{}", verify=str(cert_file), timeout=5)
        finally:
            server.shutdown()


# Addresses a webhook must never reach that Python's `is_global` (3.11) lets through, one per form: an IPv6
# address embedding a non-public IPv4 address, a local-use NAT64 address, multicast. Teredo is refused by
# `is_global` already (2001::/23 is not global); it is here so that stays true whatever classifies it.
SMUGGLED = {
    "ipv4_mapped": "::ffff:100.100.100.200",  # shared address space 100.64/10, where clouds put metadata
    "ipv4_mapped_multicast": "::ffff:224.0.0.251",
    "ipv4_compatible": "::127.0.0.1",
    "nat64": "64:ff9b::127.0.0.1",
    "nat64_private": "64:ff9b::10.0.0.8",
    "nat64_local_use": "64:ff9b:1::a00:8",  # RFC 8215: never global, whatever it embeds
    "6to4": "2002:a00:8::1",  # 10.0.0.8
    "6to4_loopback": "2002:7f00:1::1",
    "teredo": "2001:0:4136:e378:8000:63bf:f5ff:fff7",  # client 10.0.0.8 (obfuscated), server 65.54.227.120
    "multicast_ipv4": "224.0.0.251",
    "multicast_ipv6": "ff0e::1",
}


def _resolving_to(monkeypatch, address: str, host: str = "hooks.example.cn") -> None:
    real = socket.getaddrinfo

    def resolver(name, port, *args, **kwargs):
        if name != host:
            return real(name, port, *args, **kwargs)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port) + ((0, 0) if ":" in address else ()))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)


class TestWebhookAddressForms:
    """Finding 8: only global unicast addresses, including those an IPv6 address embeds."""

    @pytest.mark.parametrize("form", sorted(SMUGGLED))
    def test_a_host_resolving_to_it_is_refused(self, supplier, monkeypatch, form):
        from demands.notifications import UnsafeUrl, url_check

        _resolving_to(monkeypatch, SMUGGLED[form])
        with pytest.raises(UnsafeUrl) as refused:
            url_check("https://hooks.example.cn/x", allow_private=False)
        assert refused.value.permanent
        response = supplier.post("/api/v1/webhooks/", {"url": "https://hooks.example.cn/x"}, format="json")
        assert response.status_code == 400 and ("url", "unsafe_url") in _errors(response)
        assert not WebhookSubscription.objects.exists()

    @pytest.mark.parametrize("form", sorted(SMUGGLED))
    def test_the_literal_address_is_refused(self, supplier, form):
        address = SMUGGLED[form]
        url = f"http://[{address}]:8080/x" if ":" in address else f"http://{address}:8080/x"
        response = supplier.post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 400 and ("url", "unsafe_url") in _errors(response)

    @pytest.mark.parametrize(
        ("address", "vetted"),
        [
            ("1.1.1.1", "1.1.1.1"),
            ("2400:3200::1", "2400:3200::1"),
            ("::ffff:8.8.8.8", "8.8.8.8"),  # connected to over IPv4
            ("64:ff9b::8.8.8.8", "64:ff9b::808:808"),  # an IPv6-only network's way to a public IPv4 host
        ],
    )
    def test_global_unicast_addresses_pass(self, monkeypatch, address, vetted):
        from demands.notifications import url_check

        _resolving_to(monkeypatch, address)
        assert url_check("https://hooks.example.cn/x", allow_private=False) == vetted

    def test_a_delivery_to_a_host_now_resolving_to_one_fails_for_good_unsent(
        self, supplier, posted, monkeypatch
    ):
        from demands import notifications

        sent = []
        monkeypatch.setattr(notifications, "_post", lambda *args, **kwargs: sent.append(args))
        _resolving_to(monkeypatch, SMUGGLED["nat64"])
        url, provider = "https://hooks.example.cn/x", PRODUCT["provider"]["uscc"]
        WebhookSubscription.objects.create(participant_id=provider, url=url, secret="s")
        demand_match_and_notify(posted["id"])
        assert deliveries_send() == 0
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == "failed" and delivery.attempts == 1 and "127.0.0.1" in delivery.last_error
        assert sent == []
