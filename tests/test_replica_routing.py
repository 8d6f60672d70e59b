"""Where a node reads with a read replica configured (core/replicas.py): the rules, on any database (the
router's decisions and the middleware's pins; tests/test_replica_streaming.py runs them against a real
streaming replica)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import connection, connections, transaction
from django.db.utils import load_backend
from django.http import HttpResponse
from django.test import RequestFactory

from core import replicas
from core.replicas import PIN_COOKIE, PRIMARY, REPLICA, ReplicaReadsMiddleware, ReplicaRouter, reads_alias
from products.models import Product

router = ReplicaRouter()


@pytest.fixture(autouse=True)
def _replica_answers(request, monkeypatch):
    """No replica runs here: it answers, unless a test is about one that does not."""
    if "unreachable" not in request.node.name:
        monkeypatch.setattr(replicas, "replica_usable", lambda: True)
    monkeypatch.setattr(replicas, "_down_until", 0.0)


ROOT = Path(__file__).resolve().parents[1]
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []), "
    "'core.replicas.ReplicaReadsMiddleware' in s.MIDDLEWARE]))"
)


def _settings_with(**env) -> list:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    full.update(env, DJANGO_SETTINGS_MODULE="registry.settings")
    command = [sys.executable, "-c", SHOW]
    done = subprocess.run(command, cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_router_and_its_middleware_are_installed_only_with_a_replica(tmp_path):
    primary = "postgres://registry:pw@db:5432/registry"
    assert _settings_with(DATABASE_URL=primary, DATABASE_REPLICA_URL="") == [["default"], [], False]
    with_replica = _settings_with(
        DATABASE_URL=primary, DATABASE_REPLICA_URL="postgres://registry:pw@db-replica/registry"
    )
    assert with_replica == [["default", "replica"], ["core.replicas.ReplicaRouter"], True]
    secret = tmp_path / "database_replica_url"
    secret.write_text("postgres://registry:pw@db-replica:5432/registry\n")  # as Docker secrets hold it
    assert _settings_with(DATABASE_URL=primary, DATABASE_REPLICA_URL_FILE=str(secret)) == with_replica


def _serve(request, status: int = 200):
    """The request through the middleware; returns the response and where the view's reads went."""
    seen = {}

    def view(request):
        seen["alias"] = reads_alias()
        seen["routed"] = router.db_for_read(Product)
        return HttpResponse(status=status)

    response = ReplicaReadsMiddleware(view)(request)
    assert seen["alias"] == seen["routed"]
    return response, seen["routed"]


def test_outside_a_request_everything_reads_and_writes_the_primary():
    """Celery tasks, beat, management commands and the federation's apply never enter a request."""
    assert reads_alias() == PRIMARY
    assert router.db_for_read(Product) == PRIMARY and router.db_for_write(Product) == PRIMARY
    assert router.allow_migrate(PRIMARY, "products") and not router.allow_migrate(REPLICA, "products")


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_public_read_goes_to_the_replica_and_the_routing_ends_with_the_request(rf: RequestFactory, method):
    response, routed = _serve(getattr(rf, method)("/api/v1/products/"))
    assert routed == REPLICA and PIN_COOKIE not in response.cookies
    assert reads_alias() == PRIMARY


@pytest.mark.parametrize("path", ["/federation/v1/feed/SHDEX/", "/admin/", "/metrics"])
def test_reads_that_must_see_the_latest_state_stay_on_the_primary(rf: RequestFactory, path):
    assert _serve(rf.get(path))[1] == PRIMARY


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_runs_on_the_primary_and_pins_its_client(rf: RequestFactory, method):
    token = {"HTTP_AUTHORIZATION": "Token dxr_writer"}
    response, routed = _serve(getattr(rf, method)("/api/v1/products/", **token))
    assert routed == PRIMARY
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 10 and int(cookie.value) > time.time()

    # The same token, without the cookie (an API client keeps none): its marker pins it.
    assert _serve(rf.get("/api/v1/products/", **token))[1] == PRIMARY
    # The cookie, without a token (a browser): pinned too.
    rf.cookies[PIN_COOKIE] = cookie.value
    assert _serve(rf.get("/api/v1/products/"))[1] == PRIMARY
    # Anyone else reads the replica.
    del rf.cookies[PIN_COOKIE]
    assert _serve(rf.get("/api/v1/products/", HTTP_AUTHORIZATION="Token dxr_reader"))[1] == REPLICA
    assert _serve(rf.get("/api/v1/products/"))[1] == REPLICA


def test_a_pin_lasts_the_configured_seconds_and_a_stale_or_forged_cookie_pins_nothing(rf, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 3
    response, _ = _serve(rf.post("/api/v1/products/"))
    assert response.cookies[PIN_COOKIE]["max-age"] == 3
    for stale in (str(int(time.time()) - 1), "soon", "9" * 40, ""):
        rf.cookies[PIN_COOKIE] = stale
        assert _serve(rf.get("/api/v1/products/"))[1] == REPLICA, stale


@pytest.mark.parametrize(("method", "status"), [("post", 400), ("post", 403), ("put", 500), ("options", 200)])
def test_a_refused_write_or_an_options_request_pins_nothing(rf: RequestFactory, method, status):
    token = {"HTTP_AUTHORIZATION": "Token dxr_refused"}
    response, routed = _serve(getattr(rf, method)("/api/v1/products/", **token), status=status)
    assert routed == PRIMARY and PIN_COOKIE not in response.cookies
    assert _serve(rf.get("/api/v1/products/", **token))[1] == REPLICA


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_and_for_a_records_relations_reads_stay_where_they_were(rf: RequestFactory):
    def view(request):
        before = router.db_for_read(Product)
        with transaction.atomic():
            inside = router.db_for_read(Product)
        product = Product(code="SHDEX-2026-000001-X")
        product._state.db = PRIMARY
        return HttpResponse(f"{before} {inside} {router.db_for_read(Product, instance=product)}")

    assert ReplicaReadsMiddleware(view)(rf.get("/api/v1/products/")).content == b"replica default default"


def test_deploy_check_warns_while_the_pins_live_in_a_cache_of_each_process(settings, monkeypatch):
    def warned() -> bool:
        return "registry.W002" in {m.id for m in run_checks(include_deployment_checks=True)}

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not warned()  # no replica
    monkeypatch.setitem(settings.DATABASES, REPLICA, dict(settings.DATABASES[PRIMARY]))
    assert warned()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert not warned()


@pytest.mark.django_db(transaction=True)  # not inside the test's transaction: the router would keep to it
def test_an_unreachable_replica_sends_the_reads_to_the_primary_and_is_retried_later(rf, caplog, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    gone = {**connection.settings_dict, "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1"}
    gone.update(PORT=port, NAME="registry", USER="registry", PASSWORD="", OPTIONS={"connect_timeout": 2})
    connections[REPLICA] = load_backend(gone["ENGINE"]).DatabaseWrapper(gone, REPLICA)
    try:
        assert _serve(rf.get("/api/v1/products/"))[1] == PRIMARY
        assert "read replica unreachable" in caplog.text
        attempts = []
        monkeypatch.setattr(connections[REPLICA], "ensure_connection", lambda: attempts.append(1))
        assert _serve(rf.get("/api/v1/products/"))[1] == PRIMARY and not attempts  # not tried again yet
        monkeypatch.setattr(replicas, "_down_until", time.monotonic() - 1)
        assert _serve(rf.get("/api/v1/products/"))[1] == REPLICA and attempts == [1]  # back
    finally:
        del connections[REPLICA]


def test_the_replica_is_checked_at_the_first_read_of_a_request_only(rf: RequestFactory, monkeypatch):
    checks = []
    monkeypatch.setattr(replicas, "replica_usable", lambda: checks.append(1) or True)
    ReplicaReadsMiddleware(lambda request: HttpResponse())(rf.get("/api/v1/products/"))
    assert checks == []  # a request that reads nothing (a cached answer) costs the replica nothing
    assert _serve(rf.get("/api/v1/products/"))[1] == REPLICA and checks == [1]  # two reads, one check
