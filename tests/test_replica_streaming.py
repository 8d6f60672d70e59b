"""The read router against a real PostgreSQL streaming replica of the test server (tests/pg_replica.py):
public reads come from the replica, the client that wrote reads its write at once, and everyone sees it once
it has streamed over (docs/operations.md, "When one machine is not enough"). PostgreSQL only: CI's PostgreSQL
leg runs it (`.ci/run` lets the server serve replication first); elsewhere it skips, saying why."""

from __future__ import annotations

import copy
import time

import psycopg
import pytest
from django.db import connection, connections
from django.db.utils import load_backend
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from core.replicas import PIN_COOKIE, REPLICA, ReplicaRouter, reads_alias
from products.models import Product
from tests.pg_replica import replica_unavailable, streaming_replica

pytestmark = [pytest.mark.streaming_replica, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def replica(transactional_db, settings):
    """A streaming replica of the test database, routed to as `DATABASE_REPLICA_URL` would (the router and its
    middleware installed); yields a function that runs SQL on the replica."""
    if connection.vendor != "postgresql":
        pytest.skip("a streaming replica needs PostgreSQL (CI's PostgreSQL leg runs this test)")
    primary = connection.settings_dict
    reason = replica_unavailable(primary)
    if reason:
        pytest.skip(reason)
    with streaming_replica(primary) as port:
        # A connection made here, not declared in DATABASES: Django's per-test guard lets such connections be.
        replica_settings = {**copy.deepcopy(primary), "PORT": port, "CONN_MAX_AGE": 0}
        connections[REPLICA] = load_backend(primary["ENGINE"]).DatabaseWrapper(replica_settings, REPLICA)
        settings.DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
        settings.MIDDLEWARE = [
            *settings.MIDDLEWARE[:2],
            "core.replicas.ReplicaReadsMiddleware",
            *settings.MIDDLEWARE[2:],
        ]

        def sql(statement: str, params: tuple | list = ()):
            with psycopg.connect(host="127.0.0.1", port=port, user=primary["USER"], dbname=primary["NAME"],
                                 autocommit=True) as conn:  # fmt: skip
                return conn.execute(statement, params).fetchone()

        try:
            yield sql
        finally:
            connections[REPLICA].close()
            del connections[REPLICA]


def _list(client: APIClient, descriptor: dict) -> str:
    created = client.post("/api/v1/products/", {"descriptor": descriptor}, format="json")
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    assert client.post(f"/api/v1/products/{code}/submit/").status_code == 200
    reviewed = client.post(f"/api/v1/products/{code}/review/", {"decision": "approve"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "listed", reviewed.json()
    return code


def _paused(sql) -> None:
    sql("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 10
    while sql("SELECT pg_get_wal_replay_pause_state()") != ("paused",):
        assert time.monotonic() < deadline, "the replica did not pause its replay"
        time.sleep(0.05)


def test_public_reads_come_from_the_replica_and_the_writer_reads_its_writes(
    replica, alice, example_descriptor
):
    assert replica("SELECT pg_is_in_recovery()") == (True,)
    assert ReplicaRouter().db_for_read(Product) == "default" and reads_alias() == "default"
    token = api_token_issue(user=alice)
    writer, anon = APIClient(), APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get("/api/v1/products/?page_size=1").status_code == 200  # the replica answers

    _paused(replica)  # from here the replica shows nothing the primary commits
    code = _list(writer, example_descriptor)

    # The client that wrote reads its write at once: by its token's marker, by its cookie, each alone.
    assert writer.get(f"/api/v1/products/{code}/").status_code == 200
    same_token = APIClient()
    same_token.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert same_token.get(f"/api/v1/products/{code}/").status_code == 200
    cookie_only = APIClient()
    cookie_only.cookies[PIN_COOKIE] = writer.cookies[PIN_COOKIE].value
    assert cookie_only.get(f"/api/v1/products/{code}/").status_code == 200
    # Outside a request (a Celery task, the federation's apply) everything is on the primary.
    assert Product.objects.filter(code=code).exists()

    # A public read comes from the replica, which has not replayed the write yet...
    assert anon.get(f"/api/v1/products/{code}/").status_code == 404
    assert replica("SELECT count(*) FROM products_product WHERE code = %s", [code]) == (0,)

    # ...and sees it once it has streamed over.
    replica("SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + 10
    while (status := anon.get(f"/api/v1/products/{code}/").status_code) != 200:
        assert status == 404 and time.monotonic() < deadline, status
        time.sleep(0.05)
    # Search and its facet counts (raw SQL on the queryset's database) run on the hot standby too.
    found = anon.get("/api/v1/products/", {"q": "充电桩", "facets": "industry"})
    assert found.status_code == 200, found.json()
    assert [p["code"] for p in found.json()["results"]] == [code] and found.json()["facets"]["industry"]
