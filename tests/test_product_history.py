"""Who made each version of a product, as its history tells it: the kind of actor and its exchange to every
reader, the login only to the product's exchange (its operators and this node's admins)."""

import importlib

import pytest
from django.apps import apps

from participants.models import Participant
from participants.principal import ParticipantPrincipal
from products import services
from products.models import ProductStatus, ProductVersion
from tests.factories import make_product, random_descriptor, register_provider
from tests.test_federation_apply import ORIGIN, code, item, product
from tests.test_federation_apply import bjidx_key as _bjidx_key
from tests.test_federation_apply import samples as replica_samples

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
OPERATOR = {"kind": "operator", "exchange": "SHDEX", "username": None}
NODE = {"kind": "node", "exchange": "SHDEX", "username": None}
PROVIDER = {"kind": "provider", "exchange": None, "username": None}


bjidx_key = _bjidx_key  # a signing key on file for BJIDX, as in the apply tests


def _actors(client, code: str) -> list[dict]:
    response = client.get(f"{URL}{code}/versions/")
    assert response.status_code == 200, response.content
    return [v["actor"] for v in response.json()["results"]]


def _merchant(uscc: str, *, home: str = "SHDEX") -> ParticipantPrincipal:
    return ParticipantPrincipal(
        participant_id=uscc,
        home=home,
        username="merchant-user",
        roles=("data_merchant",),
        services=(),
        legal_name="测试数据科技有限公司",
        status="verified",
    )


def _participant_client(uscc: str):
    """A participant user's client (Bearer token from the login at this, its home, node)."""
    from rest_framework.test import APIClient

    account = {"username": f"reader-{uscc[-4:]}", "password": "Qz8-reader-harbor"}
    register_provider(uscc, "读者数据有限公司", account=account)
    client = APIClient()
    access = client.post("/api/v1/auth/token/", account, format="json").json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_readers_see_the_kind_of_actor_and_the_exchange_never_the_login(anon, alice, bob_api):
    listed = make_product(actor=alice, status=ProductStatus.LISTED)
    reader = _participant_client(random_descriptor()["provider"]["uscc"])
    for client in (anon, bob_api, reader):  # anyone, another exchange's operator, a participant user
        assert _actors(client, listed.code) == [OPERATOR]  # the public versions: listed
        assert client.get(f"{URL}{listed.code}/versions/3/").json()["actor"] == OPERATOR
        assert "alice" not in client.get(f"{URL}{listed.code}/versions/").content.decode()


def test_the_products_exchange_sees_the_login(alice, alice_api, root_api):
    listed = make_product(actor=alice, status=ProductStatus.LISTED)
    for client in (alice_api, root_api):  # an operator of the product's exchange; this node's admin
        assert [a["username"] for a in _actors(client, listed.code)] == ["alice"] * 3
        assert client.get(f"{URL}{listed.code}/versions/3/").json()["actor"]["username"] == "alice"
    node_made = make_product(actor=None, status=ProductStatus.LISTED)  # a command, an import
    assert _actors(alice_api, node_made.code) == [NODE] * 3


def test_the_provider_is_named_as_the_provider_at_home_and_elsewhere(anon, alice, alice_api):
    descriptor = random_descriptor()
    uscc = descriptor["provider"]["uscc"]
    listed = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
    # Its home is another exchange: no user row here, and still the provider, not the node. (Its
    # registration here is BJIDX's: a token is authorised by the registration, USCC and home.)
    Participant.objects.filter(participant_id=uscc).update(home_id="BJIDX", is_home=False)
    away = _merchant(uscc, home="BJIDX")
    edited = services.product_update(
        actor=away, product=listed, descriptor={**descriptor, "summary": descriptor["summary"] + "（更新）"}
    )
    row = ProductVersion.objects.get(product=edited, version=edited.version)
    assert (row.actor_id, row.actor_kind) == (None, "provider")
    assert _actors(anon, listed.code)[-1] == PROVIDER
    assert _actors(alice_api, listed.code)[-1] == PROVIDER  # no login to show


def test_a_home_participant_users_login_is_shown_to_its_exchange_only(anon, alice, alice_api):
    from accounts.models import User

    descriptor = random_descriptor()
    uscc = descriptor["provider"]["uscc"]
    register_provider(uscc, descriptor["provider"]["name"])
    User.objects.create(username="merchant-user", role=User.Role.PARTICIPANT, participant_id=uscc)
    listed = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
    services.product_delist(actor=_merchant(uscc), product=listed, reasons=["停止供应"])
    assert _actors(anon, listed.code)[-1] == PROVIDER
    assert _actors(alice_api, listed.code)[-1] == {**PROVIDER, "username": "merchant-user"}


def test_replicated_versions_name_the_home_exchange(anon, alice_api, bjidx_key):
    from federation.apply import apply_page

    d = replica_samples(1, seed=5)[0]
    v1 = item(bjidx_key, seq=1, gid=code(1), payload=product(1, d))
    v2 = item(
        bjidx_key, seq=2, gid=code(1), version=2, payload=product(1, {**d, "summary": d["summary"] + "。"})
    )
    assert apply_page(origin=ORIGIN, items=[v1], source=ORIGIN, after=0)[0] == 1
    assert apply_page(origin=ORIGIN, items=[v2], source=ORIGIN, after=1)[0] == 1
    replicated = {"kind": "replicated", "exchange": "BJIDX", "username": None}
    assert _actors(anon, code(1)) == [replicated, replicated]
    assert _actors(alice_api, code(1)) == [replicated, replicated]


def test_the_migration_gives_existing_rows_their_kind(alice):
    from accounts.models import User

    descriptor = random_descriptor()
    uscc = descriptor["provider"]["uscc"]
    register_provider(uscc, descriptor["provider"]["name"])
    merchant = User.objects.create(username="merchant-user", role=User.Role.PARTICIPANT, participant_id=uscc)
    by_alice = make_product(actor=alice, descriptor=descriptor)
    by_node = make_product(actor=None)
    ProductVersion.objects.create(
        product=by_alice,
        version=2,
        change="updated",
        status="draft",
        descriptor=descriptor,
        actor=merchant,
        actor_kind="operator",
        created_at=by_alice.created_at,
    )
    ProductVersion.objects.update(actor_kind="replicated")  # the value every row has when the column is added
    migration = importlib.import_module("products.migrations.0008_productversion_actor_kind")
    migration.kinds_backfill(apps, None)
    rows = ProductVersion.objects.order_by("id")
    assert [(r.product_id, r.version, r.actor_kind) for r in rows] == [
        (by_alice.pk, 1, "operator"),
        (by_node.pk, 1, "node"),
        (by_alice.pk, 2, "provider"),
    ]
