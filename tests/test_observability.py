"""Operators' view of a node: `GET /metrics` (Prometheus) and its protection, the request id, JSON log lines.

The metrics are scraped through the real view and parsed with prometheus-client's own parser; the events
that move them are real (requests through the test client, pulls from a peer served on loopback, webhook
deliveries to a loopback receiver, tasks published through Celery to a broker).
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from celery import current_app
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from core.logs import RequestIdFilter, logging_config
from core.logs import request_id as current_request_id
from demands.models import Notification, WebhookDelivery, WebhookSubscription
from demands.notifications import deliveries_send
from federation.models import Peer, PrivateFetch
from federation.pull import pull_origin, wake_receive
from federation.quarantine import Refusal, quarantine
from registry.celery import REQUEST_ID_HEADER
from tests.loopback import serve
from tests.test_announced_heads import _feed, keys_of  # noqa: F401 - a fixture
from tests.test_federation_apply import ORIGIN

pytestmark = pytest.mark.django_db
TOKEN = "m" * 32


def scrape(**headers) -> dict[tuple[str, tuple], float]:
    """Every sample of one scrape of /metrics: {(name, sorted labels): value}."""
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


# --- Requests ---------------------------------------------------------------------------------------------
def test_requests_are_counted_by_view_method_and_status(anon):
    count = "registry_http_request_duration_seconds_count"
    listing = {"method": "GET", "view": "api:exchange-list", "status": "200"}
    missing = {"method": "GET", "view": "unmatched", "status": "404"}
    before = scrape()
    for _ in range(3):
        assert anon.get("/api/v1/exchanges/").status_code == 200
    assert anon.get("/api/v1/no-such-thing/").status_code == 404
    after = scrape()
    assert (value(after, count, **listing) or 0) - (value(before, count, **listing) or 0) == 3
    assert (value(after, count, **missing) or 0) - (value(before, count, **missing) or 0) == 1
    # A latency histogram: the three requests fall in buckets, and the +Inf bucket holds them all.
    inf = "registry_http_request_duration_seconds_bucket"
    assert value(after, inf, le="+Inf", **listing) == value(after, count, **listing)
    assert value(after, "registry_http_request_duration_seconds_sum", **listing) > 0
    assert value(after, "registry_node_info", node="SHDEX") == 1
    assert value(after, "registry_database_up") == 1


def test_an_unknown_method_is_counted_as_other(anon):
    anon.generic("BREW", "/api/v1/exchanges/")
    samples = scrape()
    assert any(name.endswith("_count") and ("method", "other") in labels for name, labels in samples)
    assert not any(("method", "BREW") in labels for _, labels in samples)


# --- Protection -------------------------------------------------------------------------------------------
def test_metrics_are_open_in_development_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 200


def test_with_a_token_only_its_bearer_reads_the_metrics(settings):
    settings.METRICS_TOKEN = TOKEN
    for header in (None, f"Bearer {TOKEN[:-1]}x", f"Token {TOKEN}", "Bearer", f"Bearer {TOKEN}extra"):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = Client().get("/metrics", **extra)
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert response.json()["error"]["code"] == "not_authenticated"
        assert b"registry_" not in response.content
    assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")  # the right token reads them
    settings.PRODUCTION = True
    assert scrape(HTTP_AUTHORIZATION=f"bearer {TOKEN}")


def test_in_production_without_a_token_the_metrics_are_closed(settings):
    settings.PRODUCTION, settings.METRICS_TOKEN = True, ""
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything-at-all-long-enough-0000")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "metrics_closed"


def test_metrics_answer_only_get(settings):
    response = Client().post("/metrics", {})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- The federation's own -----------------------------------------------------------------------------------
def test_lag_pulls_and_their_failures_follow_the_federation(keys_of):  # noqa: F811
    lag = "registry_federation_lag_entries"
    assert wake_receive(source=ORIGIN, origin=ORIGIN, seq=5) is True
    samples = scrape()
    assert value(samples, lag, origin=ORIGIN) == 5
    assert value(samples, "registry_federation_lag_seconds", origin=ORIGIN) >= 0
    assert value(samples, "registry_federation_pulls_total", origin=ORIGIN, outcome="ok") == 0

    with serve(_feed(keys_of[ORIGIN], 5, head=5)) as url:
        Peer.objects.filter(pk=ORIGIN).update(base_url=url)
        assert pull_origin(origin=ORIGIN) == 5
    samples = scrape()
    assert value(samples, lag, origin=ORIGIN) == 0
    assert value(samples, "registry_federation_pulls_total", origin=ORIGIN, outcome="ok") == 1
    assert value(samples, "registry_federation_pulled_entries_total", origin=ORIGIN) == 5
    assert value(samples, "registry_federation_pull_duration_seconds_count", origin=ORIGIN) == 1
    assert value(samples, "registry_federation_pull_duration_seconds_sum", origin=ORIGIN) > 0
    assert value(samples, "registry_federation_last_pull_success_timestamp_seconds", origin=ORIGIN) > 0

    # Every source answers 503: the pull fails, and so does talking to each peer.
    assert wake_receive(source=ORIGIN, origin=ORIGIN, seq=9) is True
    with serve(lambda path: (503, {"error": "down"})) as url:
        Peer.objects.update(base_url=url)
        assert pull_origin(origin=ORIGIN) == 0
    samples = scrape()
    assert value(samples, "registry_federation_pulls_total", origin=ORIGIN, outcome="failed") == 1
    assert value(samples, "registry_federation_pull_consecutive_failures", origin=ORIGIN) == 1
    assert value(samples, "registry_federation_peer_consecutive_failures", peer=ORIGIN) == 1
    assert value(samples, lag, origin=ORIGIN) == 4
    assert value(samples, "registry_federation_pull_duration_seconds_count", origin=ORIGIN) == 2


def test_quarantine_and_private_fetches_are_counted(keys_of):  # noqa: F811
    from django.utils import timezone

    quarantine(ORIGIN, "GYBDX", [Refusal({"entry": {"seq": i}}, f"junk {i}", seq=i) for i in (1, 2)])
    PrivateFetch.objects.create(
        origin=ORIGIN, record_type="demand_response", gid=f"{ORIGIN}-{'a' * 32}", version=1,
        audience=["SHDEX", ORIGIN], next_attempt_at=timezone.now(),
    )  # fmt: skip
    samples = scrape()
    assert value(samples, "registry_federation_quarantined_entries", origin=ORIGIN, source="GYBDX") == 2
    assert value(samples, "registry_federation_private_fetches_pending", origin=ORIGIN) == 1
    PrivateFetch.objects.update(state=PrivateFetch.State.DONE)
    assert value(scrape(), "registry_federation_private_fetches_pending", origin=ORIGIN) is None


def test_failing_webhook_deliveries_are_counted():
    provider = "91310000MA1FL0000X"
    notification = Notification.objects.create(
        participant_id=provider, kind="match", demand_gid=f"SHDEX-{'b' * 32}", demand_version=1, payload={}
    )
    with serve(lambda path: (200, {})) as url:  # answers GET only: a webhook's POST gets 501
        subscription = WebhookSubscription.objects.create(
            participant_id=provider, url=url + "/hook", secret="s" * 32, allow_private_network=True
        )
        WebhookDelivery.objects.create(
            notification=notification, subscription=subscription, next_attempt_at=notification.created_at
        )
        assert deliveries_send() == 0
    samples = scrape()
    assert value(samples, "registry_webhook_deliveries", state="pending") == 1
    assert value(samples, "registry_webhook_deliveries_retrying") == 1
    assert value(samples, "registry_webhook_deliveries", state="failed") == 0
    # The URL is no longer allowed to point at loopback: the next attempt gives up for good.
    WebhookSubscription.objects.update(allow_private_network=False)
    WebhookDelivery.objects.update(next_attempt_at=notification.created_at)
    assert deliveries_send() == 0
    samples = scrape()
    assert value(samples, "registry_webhook_deliveries", state="failed") == 1
    assert value(samples, "registry_webhook_deliveries_retrying") == 0


def test_queue_lengths_come_from_the_broker(monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (the PostgreSQL + Redis
    # suite sets it): without it the broker is the one the configuration names.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_READ_URL", raising=False)
    monkeypatch.setattr(current_app.conf, "broker_url", "memory://")
    monkeypatch.setattr(current_app.conf, "broker_read_url", None)
    with Connection("memory://") as connection:
        queue = connection.SimpleQueue("sync")
        queue.put({"n": 1})
        queue.put({"n": 2})
        samples = scrape()
        assert value(samples, "registry_celery_queue_length", queue="sync") == 2
        assert value(samples, "registry_celery_queue_length", queue="celery") == 0
        assert value(samples, "registry_broker_up") == 1
        queue.get(timeout=1).ack()
        assert value(scrape(), "registry_celery_queue_length", queue="sync") == 1
        queue.clear()
    # A broker that does not answer: the scrape still answers, saying so.
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    samples = scrape()
    assert value(samples, "registry_broker_up") == 0
    assert not any(name == "registry_celery_queue_length" for name, _ in samples)


# --- The request id -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given",
    [
        uuid.uuid4().hex,
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        f"urn:uuid:{uuid.uuid4()}",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",  # a ULID
        "req-42.a_b:c",
        "x",
        "a" * 64,
    ],
)
def test_a_valid_request_id_is_kept_and_returned(anon, given):
    assert anon.get("/api/v1/exchanges/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given",
    ["", "a" * 65, "x" * 5000, "<script>", "1" * 32 + " ; rm", "a/b", "a b", "编号1", '"quoted"', "{x}"],
)
def test_any_other_request_id_is_replaced_by_a_new_one(anon, given):
    extra = {"HTTP_X_REQUEST_ID": given} if given else {}
    returned = anon.get("/api/v1/exchanges/", **extra)["X-Request-ID"]
    assert returned != given and len(returned) == 32 and int(returned, 16) >= 0


def test_every_response_carries_one_even_a_refusal_before_any_view(anon, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    refused = anon.post("/api/v1/products/", "x" * 2048, content_type="application/json")
    assert refused.status_code == 413 and len(refused["X-Request-ID"]) == 32
    a, b = (anon.get("/api/v1/node/")["X-Request-ID"] for _ in range(2))
    assert a != b


@pytest.fixture
def json_lines():
    """The root logger writes JSON lines as in production (LOG_FORMAT=json) into a buffer."""
    config = logging_config(fmt="json", level="INFO", node="SHDEX")
    options = dict(config["formatters"]["json"])
    formatter = import_string(options.pop("()"))(**options)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_json_log_lines_parse_and_carry_the_request_id(anon, json_lines):
    request_id = uuid.uuid4().hex
    anon.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID=request_id)
    lines = json_lines()
    mine = [line for line in lines if line.get("request_id") == request_id]
    loggers = {line["logger"] for line in mine}
    assert {"registry.requests", "django.request"} <= loggers, lines  # its line, and Django's warning
    (request,) = [line for line in mine if line["logger"] == "registry.requests"]
    assert (request["method"], request["path"], request["status"], request["view"]) == (
        "GET",
        "/api/v1/no-such-thing/",
        404,
        "unmatched",
    )
    assert request["node"] == "SHDEX" and request["level"] == "INFO" and request["duration_ms"] >= 0
    assert request["time"].endswith("+00:00")
    logging.getLogger("tests").info("outside any request")
    assert json_lines()[-1]["request_id"] is None


def test_a_path_with_a_line_break_stays_on_one_line(anon, json_lines):
    anon.get("/api/v1/a%0Ab/")
    (line,) = [line for line in json_lines() if line["logger"] == "registry.requests"]
    assert line["path"] == "/api/v1/a%0Ab/"


def test_a_task_queued_in_a_request_carries_its_id_and_runs_under_it(json_lines):
    """Published through Celery to a (memory) broker: the message has the id; the task, run with that
    message's headers, logs under it; and one queued by nothing gets an id of its own."""
    request_id = uuid.uuid4().hex
    token = current_request_id.set(request_id)
    try:
        with Connection("memory://") as connection:
            current_app.send_task("core.tasks.node_heartbeat", connection=connection, queue="observe-test")
            message = connection.SimpleQueue("observe-test").get(timeout=1)
            message.ack()
    finally:
        current_request_id.reset(token)
    assert message.headers[REQUEST_ID_HEADER] == request_id

    from core.tasks import node_heartbeat

    node_heartbeat.apply(headers={REQUEST_ID_HEADER: request_id})
    node_heartbeat.apply()
    done = [line for line in json_lines() if line["logger"] == "celery.app.trace"]
    assert [line["request_id"] == request_id for line in done] == [True, False], done
    assert done[1]["request_id"] and current_request_id.get() is None  # its own, and nothing left behind


def test_a_request_to_a_peer_carries_the_id_without_signing_it():
    from federation.http import peer_request
    from federation.keys import public_key_b64
    from federation.peers import peer_add

    seen: list = []
    request_id = uuid.uuid4().hex
    with serve(lambda path: (200, {"ok": True}), seen) as url:
        peer = peer_add(code="GYBDX", base_url=url, public_key=public_key_b64())
        peer_request(peer, "GET", "/federation/v1/node/")
        token = current_request_id.set(request_id)
        try:
            peer_request(peer, "GET", "/federation/v1/node/")
        finally:
            current_request_id.reset(token)
    (_, first), (_, second) = seen
    assert "X-Request-ID" not in first
    assert second["X-Request-ID"] == request_id
    assert "x-request-id" not in second["Signature-Input"].lower()


def test_wake_ups_sent_on_several_threads_carry_the_id():
    """Wake-ups to several peers go out on a thread pool, each thread in a copy of the caller's context."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from federation.keys import public_key_b64
    from federation.peers import peer_add
    from federation.wakeups import wakeups_deliver, wakeups_enqueue

    seen: list[str | None] = []

    class Peer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers.get("X-Request-ID"))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        for code in ("BJIDX", "GYBDX", "TJNBD"):
            peer_add(code=code, base_url=url, public_key=public_key_b64())
        wakeups_enqueue(origin="SHDEX", seq=3)
        request_id = uuid.uuid4().hex
        token = current_request_id.set(request_id)
        try:
            assert wakeups_deliver() == 3
        finally:
            current_request_id.reset(token)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [request_id] * 3


def test_a_quiet_node_still_says_its_worker_is_ready():
    """LOG_LEVEL=WARNING silences INFO lines, not the worker's "ready." that supervisors and the harness wait
    for; the rest of Celery stays quiet."""
    import logging.config

    stream = io.StringIO()
    config = logging_config(fmt="plain", level="WARNING", node="SHDEX")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        logging.getLogger("celery.apps.worker").info("%s ready.", "celery@shdex")
        logging.getLogger("celery.worker.consumer").info("Connected to redis://")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "celery@shdex ready." in stream.getvalue()
    assert "Connected" not in stream.getvalue()
