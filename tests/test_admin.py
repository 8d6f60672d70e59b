"""Django admin for operators: each sees only its own exchange's products, and nothing is editable there."""

import pytest

from products.models import ProductStatus
from tests.factories import make_foreign_product, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return alice


def test_operator_sees_only_own_exchange_in_admin(client, staff_alice):
    own = make_product(actor=staff_alice, status=ProductStatus.LISTED)
    foreign = make_foreign_product(exchange_id="BJIDX")
    client.force_login(staff_alice)
    page = client.get("/admin/products/product/")
    assert page.status_code == 200
    html = page.content.decode()
    assert own.code in html and foreign.code not in html
    assert client.get(f"/admin/products/product/{foreign.pk}/change/").status_code in (302, 404)


def test_admin_cannot_change_products(client, staff_alice):
    own = make_product(actor=staff_alice)
    client.force_login(staff_alice)
    response = client.post(f"/admin/products/product/{own.pk}/change/", {"name": "篡改"})
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.name != "篡改"


def test_superuser_sees_all_exchanges(admin_client):
    foreign = make_foreign_product(exchange_id="GYBDX")
    assert foreign.code in admin_client.get("/admin/products/product/").content.decode()
