"""Django admin for operators: each sees only its own exchange's products, and nothing is editable there."""

import logging

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


def _read_only_models(user, rf) -> list:
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = user
    registered = admin.site._registry.items()
    return [model for model, options in registered if not options.has_add_permission(request)]


def test_read_only_models_offer_no_add_and_their_add_page_answers_403_without_a_traceback(
    admin_client, admin_user, rf, caplog
):
    read_only = _read_only_models(admin_user, rf)
    names = {model._meta.model_name for model in read_only}
    assert {"product", "participant", "demand", "syncstate", "quarantinedentry", "privatefetch"} <= names
    for model in read_only:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        listing = admin_client.get(base)
        assert listing.status_code == 200, base
        assert f'href="{base}add/"' not in listing.content.decode(), f"{base} shows an add button"
        caplog.clear()
        assert admin_client.get(f"{base}add/").status_code == 403, base
        assert admin_client.post(f"{base}add/", {}).status_code == 403, base
        logged = [r for r in caplog.records if r.name == "django.request"]
        assert logged and all(r.exc_info is None and r.levelno == logging.WARNING for r in logged), base


def test_admin_labels_are_plural_english():
    """ "Quarantined entrys", "Private fetchs": Django adds an "s" unless told the plural."""
    from django.contrib import admin

    labels = {model._meta.model_name: str(model._meta.verbose_name_plural) for model in admin.site._registry}
    assert labels["quarantinedentry"] == "quarantined entries"
    assert labels["privatefetch"] == "private fetches"
    for model in admin.site._registry:
        singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        if singular.endswith(("y", "ch", "sh", "x", "s")) and singular.isascii():
            assert plural != f"{singular}s", f"{model._meta.label}: {plural!r}"
