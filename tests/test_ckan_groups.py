"""Providers as CKAN groups (the second grouping beside the exchanges as organizations) and the CKAN API's
own rate limit, read by the real `ckanapi` client against a live node (docs/interop.md, *CKAN Action API*)."""

import json

import pytest
import requests
from ckanapi import CKANAPIError, NotFound, RemoteCKAN, ValidationError
from django.core.exceptions import ImproperlyConfigured

from products.models import ProductStatus
from tests.factories import make_product, random_descriptor
from tests.test_ckan_api import _cli

pytestmark = pytest.mark.django_db(transaction=True)
CHARGING = {"name": "上海沪电智联能源科技有限公司", "uscc": "91310000MA1FL8XK2Y"}
CREDIT = {"name": "北京信评数据服务有限公司", "uscc": "91110000R8A676TY72"}


def _product(alice, provider, status=ProductStatus.LISTED, **overrides):
    descriptor = random_descriptor(provider=dict(provider), **overrides)
    return make_product(actor=alice, descriptor=descriptor, status=status)


@pytest.fixture
def providers(alice):
    return {
        "ev": _product(alice, CHARGING, industry="D", keywords=["充电桩"]),
        "grid": _product(alice, CHARGING, industry="D", keywords=["电网"]),
        "credit": _product(alice, CREDIT, industry="L", keywords=["征信"]),
        "draft": _product(alice, CREDIT, status=ProductStatus.DRAFT),
    }


@pytest.fixture
def ckan(live_server):
    remote = RemoteCKAN(live_server.url)
    yield remote
    remote.close()


def test_group_list_and_show_are_the_providers_of_listed_products(ckan, providers):
    charging, credit = CHARGING["uscc"].lower(), CREDIT["uscc"].lower()
    assert sorted(ckan.action.group_list()) == sorted([charging, credit])
    full = ckan.action.group_list(all_fields=True, sort="package_count desc")
    # the draft is not counted
    assert [(g["name"], g["package_count"]) for g in full] == [(charging, 2), (credit, 1)]
    group = full[0]
    assert group["title"] == CHARGING["name"] and group["id"] == CHARGING["uscc"]
    assert group["is_organization"] is False and group["type"] == "group" and group["state"] == "active"
    assert ckan.action.group_list(sort="title desc") == [credit, charging]  # by code point: 北 after 上
    assert ckan.action.group_list(q="信评") == [credit]
    assert ckan.action.group_list(limit=1, offset=1, sort="name asc") == sorted([charging, credit])[1:]
    shown = ckan.action.group_show(id=CHARGING["uscc"], include_datasets=True)
    assert shown["package_count"] == 2
    assert {p["id"] for p in shown["packages"]} == {providers["ev"].code, providers["grid"].code}
    assert ckan.action.group_show(id=credit)["package_count"] == 1
    with pytest.raises(NotFound):
        ckan.action.group_show(id="91520100M1RWG3G69L")  # a provider of no listed product
    with pytest.raises(ValidationError):
        ckan.action.group_list(sort="colour asc")


def test_packages_name_their_group_and_search_filters_and_counts_by_it(ckan, providers):
    package = ckan.action.package_show(id=providers["credit"].code)
    assert package["groups"] == [
        {
            "id": CREDIT["uscc"],
            "name": CREDIT["uscc"].lower(),
            "title": CREDIT["name"],
            "display_name": CREDIT["name"],
            "description": f"数据提供方 · Data provider (统一社会信用代码 USCC {CREDIT['uscc']})",
            "image_display_url": "",
        }
    ]
    mine = ckan.action.package_search(fq=f"groups:{CHARGING['uscc'].lower()}", rows=10)
    assert {p["id"] for p in mine["results"]} == {providers["ev"].code, providers["grid"].code}
    both = ckan.action.package_search(fq=f"groups:{CHARGING['uscc'].lower()} industry:L")
    assert both["count"] == 0
    counted = ckan.action.package_search(**{"facet.field": json.dumps(["groups", "organization"])})
    assert counted["facets"]["groups"] == {CHARGING["uscc"].lower(): 2, CREDIT["uscc"].lower(): 1}
    items = counted["search_facets"]["groups"]["items"]
    assert items[0] == {"name": CHARGING["uscc"].lower(), "display_name": CHARGING["name"], "count": 2}


def test_the_ckanapi_command_line_reads_the_groups(live_server, providers):
    code, out, err = _cli(live_server, "group_list")
    assert code == 0, err
    assert sorted(json.loads(out)) == sorted([CHARGING["uscc"].lower(), CREDIT["uscc"].lower()])
    code, out, err = _cli(live_server, "group_show", f"id={CREDIT['uscc'].lower()}")
    assert code == 0 and json.loads(out)["package_count"] == 1, err


# --- the rate limit -----------------------------------------------------------------------------------------


def test_calls_over_the_limit_are_refused_in_ckans_shape_with_retry_after(live_server, settings):
    settings.CKAN_THROTTLE_RATE = "3/min"
    url = f"{live_server.url}/api/3/action/package_list"
    for _ in range(3):
        assert requests.get(url, timeout=10).status_code == 200
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False and body["error"]["__type"] == "Rate Limit Error"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert body["error"]["retry_after"] == int(refused.headers["Retry-After"])
    # every path and action shares the address's counter; the project's API keeps its own
    assert requests.post(f"{live_server.url}/api/action/status_show", json={}, timeout=10).status_code == 429
    assert requests.get(f"{live_server.url}/api/3/action/package_create", timeout=10).status_code == 429
    assert requests.get(f"{live_server.url}/api/v1/exchanges/", timeout=10).status_code == 200
    remote = RemoteCKAN(live_server.url)
    try:
        with pytest.raises(CKANAPIError) as caught:
            remote.action.status_show()
        assert "429" in str(caught.value)
    finally:
        remote.close()


def test_the_limit_counts_per_client_address(client, settings):
    settings.CKAN_THROTTLE_RATE = "2/min"
    first, second = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "198.51.100.8"}
    assert [client.get("/api/3/action/status_show", **first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/3/action/status_show", **second).status_code == 200
    # X-Forwarded-For is not trusted without NUM_PROXIES: it cannot buy a fresh counter
    spoofed = client.get("/api/3/action/status_show", HTTP_X_FORWARDED_FOR="203.0.113.1", **first)
    assert spoofed.status_code == 429


def test_the_rate_is_read_from_the_environment_strictly(monkeypatch):
    from registry.environment import rate

    monkeypatch.setenv("THROTTLE_CKAN", "120/min")
    assert rate("THROTTLE_CKAN", "300/min") == "120/min"
    monkeypatch.setenv("THROTTLE_CKAN", "lots")
    with pytest.raises(ImproperlyConfigured, match="THROTTLE_CKAN"):
        rate("THROTTLE_CKAN", "300/min")
