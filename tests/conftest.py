"""Personas (as in healthchecks' tests): alice operates SHDEX (this node's exchange), bob operates BJIDX,
root is the node's admin, and anonymous readers use `anon`."""

import copy
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_token_issue

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DESCRIPTOR = json.loads((ROOT / "docs" / "examples" / "product-descriptor.json").read_text("utf-8"))


@pytest.fixture(scope="session", autouse=True)
def _node_key(tmp_path_factory):
    """This test node's Ed25519 key, made fresh for the session (never the developer's own)."""
    from django.conf import settings

    from federation import keys

    settings.NODE_KEY_FILE = tmp_path_factory.mktemp("node") / "node_key.pem"
    keys.key_generate(path=settings.NODE_KEY_FILE)
    yield
    keys.private_key.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """The throttle counters and the public read cache (api/read_cache.py) start empty in every test."""
    cache.clear()
    caches["reads"].clear()
    yield
    cache.clear()
    caches["reads"].clear()


@pytest.fixture(autouse=True)
def _fresh_digests():
    """Digests are cached in the process per origin head; every test's database starts over."""
    from federation import selectors

    selectors._digest_cache.clear()
    yield
    selectors._digest_cache.clear()


@pytest.fixture
def example_descriptor() -> dict:
    return copy.deepcopy(EXAMPLE_DESCRIPTOR)


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


@pytest.fixture
def alice(db) -> User:
    return User.objects.create(username="alice", role=User.Role.OPERATOR, exchange_id="SHDEX")


@pytest.fixture
def bob(db) -> User:
    return User.objects.create(username="bob", role=User.Role.OPERATOR, exchange_id="BJIDX")


@pytest.fixture
def root(db) -> User:
    return User.objects.create(username="root", role=User.Role.ADMIN, is_superuser=True, is_staff=True)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_api(alice) -> APIClient:
    return _client(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return _client(bob)


@pytest.fixture
def root_api(root) -> APIClient:
    return _client(root)


@pytest.fixture(autouse=True)
def _example_provider_registered(request):
    """The example descriptor's provider is a verified data merchant at this node in every database test
    (products now need registered providers); tests about unregistered providers use another USCC."""
    if request.node.get_closest_marker("no_example_provider"):
        yield
        return
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if uses_db and "multinode" not in request.node.keywords:
        marker = request.node.get_closest_marker("django_db")
        transactional = "transactional_db" in request.fixturenames or bool(
            marker and marker.kwargs.get("transaction")
        )
        if not transactional:
            request.getfixturevalue("db")
        else:
            # A transactional test's database was emptied after the one before it, the member exchanges a
            # data migration made too: seed them again (idempotent).
            request.getfixturevalue("transactional_db")
            importlib.import_module("exchanges.migrations.0002_seed_members").seed(django_apps, None)
        from tests.factories import register_provider

        provider = EXAMPLE_DESCRIPTOR["provider"]
        register_provider(provider["uscc"], provider["name"])
    yield
