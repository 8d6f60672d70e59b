"""The CKAN-compatible read API (`/api/3/action/`), read by the real `ckanapi` client, its Python `RemoteCKAN`
and its command line, against a live node (pytest-django's live_server: a real HTTP server on loopback)."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ckanapi import NotFound, RemoteCKAN, ValidationError

from products.models import ProductStatus
from tests.factories import make_product, random_descriptor

CKANAPI = str(Path(sys.executable).with_name("ckanapi"))
# A live server reads what the test wrote, so the test commits; the member exchanges, emptied by the flush
# after a transactional test, are seeded again by tests/conftest.py (serialized_rollback would put back
# content types that the flush's post_migrate had already made again: IntegrityError).
pytestmark = pytest.mark.django_db(transaction=True)


def _listed(alice, **overrides):
    descriptor = random_descriptor(**overrides)
    # The searched text is the name, keywords, summary, provider and data source: the random data source's
    # description would make a search's matches depend on what earlier tests drew from the generator.
    descriptor["data_source"] = {**descriptor["data_source"], "description": "提供方自有业务系统产生的数据。"}
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


def _pricing(low, high):
    return {"model": "subscription", "currency": "CNY", "min": low, "max": high}


@pytest.fixture
def shelf(alice):
    made = {
        "ev": _listed(
            alice,
            name="上海市新能源汽车充电桩运行数据集",
            summary="全市公共充电设施的实时运行状态与充电量统计。",
            keywords=["充电桩", "新能源汽车"],
            industry="D",
            product_form="dataset",
            spatial_coverage=["310000"],
            delivery_methods=["api", "file"],
            pricing=_pricing(20000.0, 180000.0),
        ),
        "grid": _listed(
            alice,
            name="上海市电网负荷数据接口",
            summary="电网分区负荷的实时数据，含充电桩负荷。",
            keywords=["电网负荷"],
            industry="D",
            product_form="api",
            spatial_coverage=["310115"],
            delivery_methods=["api"],
            pricing=_pricing(500.0, 900.0),
        ),
        "credit": _listed(
            alice,
            name="全国企业信用评价数据接口",
            summary="企业工商、司法、经营异常等信用信息的综合评价。",
            keywords=["企业信用", "征信"],
            industry="L",
            product_form="api",
            spatial_coverage=["100000"],
            delivery_methods=["api", "sandbox"],
            pricing=_pricing(0.0, 0.0),
        ),
    }
    made["draft"] = make_product(actor=alice, descriptor=random_descriptor(keywords=["充电桩"]))
    return made


@pytest.fixture
def ckan(live_server):
    remote = RemoteCKAN(live_server.url)
    yield remote
    remote.close()


def _names(result):
    return [p["name"] for p in result["results"]]


def test_package_search_with_q_ranks_matches_and_leaves_drafts_out(ckan, shelf):
    result = ckan.action.package_search(q="充电桩")
    assert result["count"] == 2
    assert _names(result) == [shelf["ev"].code.lower(), shelf["grid"].code.lower()]  # name match first
    assert shelf["draft"].code.lower() not in _names(ckan.action.package_search(rows=100))


def test_package_search_fq_rows_start_sort(ckan, shelf):
    by_industry = ckan.action.package_search(fq="industry:D")
    assert {p["id"] for p in by_industry["results"]} == {shelf["ev"].code, shelf["grid"].code}
    both = ckan.action.package_search(fq='industry:D +form:"api"')
    assert [p["id"] for p in both["results"]] == [shelf["grid"].code]
    assert ckan.action.package_search(fq="organization:shdex delivery_method:sandbox")["count"] == 1
    assert ckan.action.package_search(fq="price:free")["results"][0]["id"] == shelf["credit"].code
    assert ckan.action.package_search(fq="region:310000")["count"] == 2  # a district lies in Shanghai
    ordered = ckan.action.package_search(sort="name asc", rows=3)["results"]
    assert [p["name"] for p in ordered] == sorted(p.code.lower() for k, p in shelf.items() if k != "draft")
    pages = [ckan.action.package_search(sort="name asc", rows=1, start=i)["results"] for i in range(4)]
    assert [p[0]["name"] for p in pages[:3]] == [p["name"] for p in ordered] and pages[3] == []
    newest = ckan.action.package_search(sort="metadata_modified desc")["results"]
    stamps = [p["metadata_modified"] for p in newest]
    assert stamps == sorted(stamps, reverse=True)


def test_package_search_facets_in_ckans_shape(ckan, shelf):
    result = ckan.action.package_search(q="数据", **{"facet.field": json.dumps(["organization", "industry"])})
    assert result["facets"]["industry"] == {"D": 2, "L": 1}
    assert result["facets"]["organization"] == {"shdex": 3}
    industry = result["search_facets"]["industry"]
    assert industry["title"] == "industry"
    assert industry["items"][0] == {"name": "D", "display_name": "电力、热力、燃气及水生产和供应业",
                                    "count": 2}  # fmt: skip
    assert result["search_facets"]["organization"]["items"][0]["display_name"] == "上海数据交易所"
    filtered = ckan.action.package_search(fq="industry:D", **{"facet.field": '["delivery_method"]'})
    assert filtered["facets"] == {"delivery_method": {"api": 2, "file": 1}}
    assert ckan.action.package_search()["search_facets"] == {}  # none asked for: none counted
    tagged = ckan.action.package_search(fq='tags:"充电桩"', **{"facet.field": '["tags"]'})
    assert [p["id"] for p in tagged["results"]] == [shelf["ev"].code]
    assert tagged["facets"] == {"tags": {"充电桩": 1, "新能源汽车": 1}}


def test_package_search_errors_are_ckan_validation_errors(ckan, shelf):
    for bad in ({"rows": "many"}, {"fq": "colour:red"}, {"sort": "price desc"}, {"facet.field": "industry"}):
        with pytest.raises(ValidationError) as caught:
            ckan.action.package_search(**bad)
        field = next(iter(bad))
        assert field in caught.value.error_dict and caught.value.error_dict["__type"] == "Validation Error"


def test_package_show_and_not_found(ckan, shelf):
    package = ckan.action.package_show(id=shelf["ev"].code)
    assert package["title"] == "上海市新能源汽车充电桩运行数据集"
    assert ckan.action.package_show(id=shelf["ev"].code.lower())["id"] == shelf["ev"].code
    with pytest.raises(NotFound):
        ckan.action.package_show(id="SHDEX-2099-999999-X")
    with pytest.raises(NotFound):
        ckan.action.package_show(id=shelf["draft"].code)  # drafts are not in the public catalog


def test_package_dict_has_the_fields_and_types_ckans_harvester_reads(ckan, shelf):
    package = ckan.action.package_show(id=shelf["ev"].code)
    texts = ("id", "name", "title", "notes", "metadata_created", "metadata_modified", "owner_org", "version")
    for key in texts:
        assert isinstance(package[key], str) and package[key], key
    assert package["name"] == shelf["ev"].code.lower()
    assert package["notes"] == "全市公共充电设施的实时运行状态与充电量统计。"
    assert package["tags"] == [
        {"name": "充电桩", "display_name": "充电桩", "state": "active", "vocabulary_id": None},
        {"name": "新能源汽车", "display_name": "新能源汽车", "state": "active", "vocabulary_id": None},
    ]
    assert package["num_tags"] == 2 and package["num_resources"] == len(package["resources"]) >= 1
    for resource in package["resources"]:
        assert isinstance(resource["url"], str) and resource["url"].startswith("http")
        assert isinstance(resource["format"], str)
    assert package["resources"][0]["format"] == "JSON"
    assert package["organization"]["name"] == "shdex" and package["organization"]["title"] == "上海数据交易所"
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert all(isinstance(e["key"], str) and isinstance(e["value"], str) for e in package["extras"])
    assert extras["product_code"] == shelf["ev"].code and extras["industry"] == "D"
    assert extras["delivery_methods"] == "api,file" and extras["price_band"] == "10k_100k"
    # the harvester compares metadata_modified as an ISO 8601 timestamp
    modified = dt.datetime.fromisoformat(package["metadata_modified"])
    assert abs(modified.replace(tzinfo=dt.UTC) - shelf["ev"].updated_at) < dt.timedelta(seconds=1)


def test_package_list_status_and_tags(ckan, shelf):
    listed = sorted(p.code.lower() for k, p in shelf.items() if k != "draft")
    assert ckan.action.package_list() == listed
    assert ckan.action.package_list(limit=1, offset=1) == listed[1:2]
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and status["site_url"].startswith("http")
    assert ckan.action.tag_list() == sorted(["充电桩", "新能源汽车", "电网负荷", "企业信用", "征信"])
    assert ckan.action.tag_list(query="信用") == ["企业信用"]


def test_organizations_are_the_24_exchanges(ckan, shelf):
    names = ckan.action.organization_list()
    assert len(names) == 24 and "shdex" in names
    full = ckan.action.organization_list(all_fields=True, sort="package_count desc")
    assert full[0]["name"] == "shdex" and full[0]["package_count"] == 3
    assert {org["package_count"] for org in full[1:]} == {0}
    org = ckan.action.organization_show(id="shdex", include_datasets=True)
    assert org["title"] == "上海数据交易所" and org["is_organization"] is True
    assert len(org["packages"]) == 3
    with pytest.raises(NotFound):
        ckan.action.organization_show(id="nosuch")


def test_get_only_client_and_the_versioned_path(live_server, shelf):
    remote = RemoteCKAN(live_server.url, get_only=True)
    try:
        assert remote.action.package_search(fq="form:api", rows=1)["count"] == 2
    finally:
        remote.close()
    answer = requests.get(f"{live_server.url}/api/3/action/package_show", params={"id": "NOPE"}, timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {
        "help": answer.json()["help"],
        "success": False,
        "error": {"__type": "Not Found Error", "message": "Not found"},
    }
    unknown = requests.post(f"{live_server.url}/api/3/action/package_create", json={}, timeout=10)
    assert unknown.status_code == 400 and unknown.json()["error"]["__type"] == "Bad Request"
    broken = requests.post(f"{live_server.url}/api/3/action/package_search", data=b"[1", timeout=10,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 400 and broken.json()["success"] is False


def _cli(live_server, *args):
    done = subprocess.run(  # noqa: S603 (the installed ckanapi, fixed arguments)
        [CKANAPI, "action", *args, "-r", live_server.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_ckanapi_command_line_reads_the_node(live_server, shelf):
    code, out, err = _cli(live_server, "package_search", "q=充电桩", "fq=form:api")
    assert code == 0, err
    result = json.loads(out)
    assert result["count"] == 1 and result["results"][0]["id"] == shelf["grid"].code
    code, out, err = _cli(live_server, "package_search", 'facet.field:["industry"]', "rows:0")
    assert code == 0, err
    assert json.loads(out)["facets"] == {"industry": {"D": 2, "L": 1}} and json.loads(out)["results"] == []
    code, out, err = _cli(live_server, "organization_show", "id=shdex")
    assert code == 0 and json.loads(out)["package_count"] == 3, err
    code, out, err = _cli(live_server, "package_show", "id=SHDEX-2099-999999-X")
    assert code != 0 and "NotFound" in out + err
