"""`manage.py harvest` (docs/interop.md, *Harvesting*): a CKAN site through a fixture HTTP server answering
with recorded CKAN JSON, DCAT catalogs in tests/data/harvest/ (Turtle, JSON-LD) and served in hydra pages."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command

from interop.harvest_ckan import ckan_records, package_record
from interop.harvest_dcat import dcat_records, graph_parse
from interop.models import HarvestRecord, HarvestSource
from products import services
from products.models import Product, ProductStatus, ProductVersion
from tests.conftest import EXAMPLE_DESCRIPTOR

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "harvest"
USCC = EXAMPLE_DESCRIPTOR["provider"]["uscc"]


class FixtureSite:
    """A tiny HTTP server: `routes` maps a path to (content type, body or a function of the query)."""

    def __init__(self):
        self.routes: dict = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                site.requests.append(self.path)
                if url.path not in site.routes:
                    self.send_response(404)
                    self.end_headers()
                    return
                kind, body = site.routes[url.path]
                body = body(parse_qs(url.query)) if callable(body) else body
                data = body.encode() if isinstance(body, str) else body
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve_ckan(self, packages: list[dict]):
        def search(query):
            rows, start = int(query.get("rows", ["10"])[0]), int(query.get("start", ["0"])[0])
            assert query.get("sort", ["name asc"])[0] == "name asc"
            ordered = sorted(packages, key=lambda p: p["name"])
            result = {"count": len(packages), "results": ordered[start : start + rows]}
            return json.dumps({"help": "", "success": True, "result": result})

        self.routes["/api/3/action/package_search"] = ("application/json", search)


@pytest.fixture
def site():
    server = FixtureSite()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def ckan_packages():
    return json.loads((DATA / "ckan_packages.json").read_text(encoding="utf-8"))


@pytest.fixture
def provider_map(tmp_path):
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"hudian-energy": USCC}), encoding="utf-8")
    return str(path)


@pytest.fixture
def dcat_map(tmp_path):
    path = tmp_path / "providers.csv"
    path.write_text(f"organisation,uscc\n{USCC},{USCC}\n沪电智联,{USCC}\n", encoding="utf-8")
    return str(path)


def _harvest(url, provider_map, *args):
    out, err = StringIO(), StringIO()
    call_command(
        "harvest",
        url,
        "--exchange",
        "SHDEX",
        "--provider-map",
        provider_map,
        "--defaults",
        str(DATA / "defaults.json"),
        *args,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_ckan_site_into_drafts_with_an_unmapped_organisation_reported(site, ckan_packages, provider_map):
    site.serve_ckan(ckan_packages)
    out, err = _harvest(site.url, provider_map)
    assert "source: ckan" in out and "created: 2" in out and "incomplete: 1" in out
    assert "3/3" in err and "records" in err  # the progress bar, on stderr, of the count CKAN gave
    assert "3f1c2a9e-0003-4d6b-9a1e-5b8f2c7d0a13" in out
    assert "descriptor.provider: harvest.unmapped_organisation" in out and "weather-bureau" in out
    products = {p.name: p for p in Product.objects.all()}
    assert set(products) == {"上海市充电桩运行数据集", "上海市电网负荷数据集"}
    ev = products["上海市充电桩运行数据集"].descriptor
    assert products["上海市充电桩运行数据集"].status == ProductStatus.DRAFT
    assert ev["provider"] == {"name": EXAMPLE_DESCRIPTOR["provider"]["name"], "uscc": USCC}
    assert ev["keywords"] == ["充电桩", "新能源汽车"]
    assert ev["update_frequency"] == "daily"  # the record's EU frequency over the default
    assert ev["delivery_methods"] == ["file", "api"]
    assert ev["temporal_coverage"] == {"start": "2021-01-01", "end": None}
    grid = products["上海市电网负荷数据集"].descriptor
    assert grid["temporal_coverage"] == {"start": "2020-06-01", "end": "2024-12-31"}
    assert grid["update_frequency"] == "irregular"  # from --defaults
    assert grid["compliance"]["source_legality"]["status"] == "pending"
    stored = HarvestRecord.objects.get(identifier="3f1c2a9e-0003-4d6b-9a1e-5b8f2c7d0a13")
    assert stored.product is None and stored.errors[0]["code"] == "harvest.unmapped_organisation"
    assert stored.descriptor["name"] == "气象观测数据集"


def test_rerun_updates_without_duplicates(site, ckan_packages, provider_map):
    site.serve_ckan(ckan_packages)
    _harvest(site.url, provider_map)
    first = dict(
        HarvestRecord.objects.filter(product__isnull=False).values_list("identifier", "product__code")
    )
    out, _ = _harvest(site.url, provider_map)
    assert "unchanged: 2" in out and "created" not in out
    # The operator completes a draft where the source says nothing: a re-harvest keeps it.
    edited = Product.objects.get(code=first[ckan_packages[0]["id"]])
    completed = json.loads(json.dumps(edited.descriptor))
    completed["compliance"]["source_legality"] = {"status": "passed", "evidence_ref": "SHDEX-LEGAL-2026-0001"}
    services.product_update(actor=None, product=edited, descriptor=completed)
    ckan_packages[0]["title"] = "上海市公共充电桩运行数据集"
    ckan_packages[0]["metadata_modified"] = "2026-04-01T08:00:00.000000"
    out, _ = _harvest(site.url, provider_map)
    assert "updated: 1" in out and "unchanged: 1" in out
    assert Product.objects.count() == 2 and HarvestRecord.objects.count() == 3
    assert HarvestSource.objects.count() == 1
    again = dict(
        HarvestRecord.objects.filter(product__isnull=False).values_list("identifier", "product__code")
    )
    assert again == first
    product = Product.objects.get(code=first[ckan_packages[0]["id"]])
    assert product.name == "上海市公共充电桩运行数据集" and product.version == 3
    assert product.descriptor["compliance"]["source_legality"]["evidence_ref"] == "SHDEX-LEGAL-2026-0001"
    assert ProductVersion.objects.filter(product=product).count() == 3


def test_dry_run_writes_nothing(site, ckan_packages, provider_map):
    site.serve_ckan(ckan_packages)
    out, _ = _harvest(site.url, provider_map, "--dry-run")
    assert "dry run" in out and "would_create: 2" in out and "incomplete: 1" in out
    assert "harvest.unmapped_organisation" in out
    assert not Product.objects.exists()
    assert not HarvestSource.objects.exists() and not HarvestRecord.objects.exists()


def test_ckan_paging_reads_every_page(site, ckan_packages):
    site.serve_ckan(ckan_packages)
    records = list(ckan_records(site.url + "/api/3/action", rows=2))
    assert [r["identifier"] for r in records] == sorted(p["id"] for p in ckan_packages)
    starts = [parse_qs(urlparse(r).query)["start"][0] for r in site.requests]
    assert starts == ["0", "2"]


def test_dcat_turtle_file(dcat_map):
    out, _ = _harvest(str(DATA / "catalog.ttl"), dcat_map, "--no-progress")
    assert "source: dcat" in out and "created: 1" in out and "incomplete: 1" in out
    product = Product.objects.get()
    d = product.descriptor
    assert d["name"] == "上海市充电桩运行数据集"  # the @zh title over the @en one
    assert d["spatial_coverage"] == ["310000"] and d["update_frequency"] == "daily"
    assert d["delivery_methods"] == ["file"] and d["keywords"] == ["充电桩", "新能源汽车"]
    assert HarvestRecord.objects.get(product=product).identifier == "EV-CHARGING-001"
    assert "https://catalog.example.cn/dataset/no-publisher" in out
    assert "harvest.unmapped_organisation" in out and "(none)" in out


def test_dcat_jsonld_file(dcat_map):
    out, _ = _harvest(str(DATA / "catalog.jsonld"), dcat_map, "--format", "dcat")
    assert "created: 1" in out
    d = Product.objects.get().descriptor
    assert d["temporal_coverage"] == {"start": "2020-06-01", "end": "2024-12-31"}
    assert d["update_frequency"] == "monthly" and d["delivery_methods"] == ["api"]


def test_dcat_records_is_a_function_of_a_graph():
    graph = graph_parse((DATA / "catalog.ttl").read_bytes(), fmt="turtle", base="file:///catalog.ttl")
    records = dcat_records(graph)
    assert [r["identifier"] for r in records] == [
        "EV-CHARGING-001",
        "https://catalog.example.cn/dataset/no-publisher",
    ]
    assert records[0]["publisher"] == {"id": USCC, "name": "上海沪电智联能源科技有限公司"}
    # The GB/T 4754 theme (the EU data theme is not one), and the rights statement.
    assert records[0]["descriptor"] == {"industry": "D", "usage_restrictions": "仅限需方内部使用，不得转售。"}
    assert records[0]["keywords"] == ["充电桩", "新能源汽车"]  # the Chinese ones where there are
    assert records[1]["descriptor"] == {} and records[1]["publisher"] == {"id": "", "name": ""}


def test_dcat_hydra_pages_over_http(site, dcat_map):
    first = (DATA / "catalog.ttl").read_text(encoding="utf-8") + (
        "\n@prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n"
        "<https://catalog.example.cn/catalog?page=1> a hydra:PartialCollectionView ;\n"
        "    hydra:next </page2.jsonld> .\n"
    )
    site.routes["/catalog.ttl"] = ("text/turtle", first)
    site.routes["/page2.jsonld"] = (
        "application/ld+json",
        (DATA / "catalog.jsonld").read_text(encoding="utf-8"),
    )
    out, _ = _harvest(site.url + "/catalog.ttl", dcat_map)
    assert "created: 2" in out
    assert [urlparse(r).path for r in site.requests] == ["/catalog.ttl", "/page2.jsonld"]


def test_unreachable_url_is_a_command_error(provider_map):
    with pytest.raises(CommandError, match=r"cannot read http://127\.0\.0\.1:9/"):
        _harvest("http://127.0.0.1:9/", provider_map, "--format", "ckan")
    assert not HarvestSource.objects.exists()


def test_a_site_that_is_not_ckan_is_a_command_error(site, provider_map):
    site.routes["/api/3/action/package_search"] = ("text/html", "<html><body>Welcome</body></html>")
    with pytest.raises(CommandError, match="not a CKAN Action API"):
        _harvest(site.url, provider_map, "--format", "ckan")
    site.routes["/api/3/action/package_search"] = ("application/json", '{"success": false, "error": {}}')
    with pytest.raises(CommandError, match="CKAN's envelope"):
        _harvest(site.url, provider_map, "--format", "ckan")
    with pytest.raises(CommandError, match="not a DCAT catalog"):  # auto: not CKAN, nor DCAT
        _harvest(site.url + "/api/3/action/package_search", provider_map)


def test_bad_inputs_are_command_errors(tmp_path, provider_map):
    with pytest.raises(CommandError, match="cannot read"):
        _harvest(str(tmp_path / "missing.ttl"), provider_map)
    with pytest.raises(CommandError, match="this node's exchange"):
        call_command("harvest", "x.ttl", "--exchange", "BJDEX", "--provider-map", provider_map)
    bad_map = tmp_path / "bad.json"
    bad_map.write_text(json.dumps({"org": "91110000000000000X"}), encoding="utf-8")
    with pytest.raises(CommandError, match="no registered participant"):
        _harvest(str(DATA / "catalog.ttl"), str(bad_map))


def test_a_jsonld_context_by_url_is_not_fetched(tmp_path, dcat_map, site):
    document = json.loads((DATA / "catalog.jsonld").read_text(encoding="utf-8"))
    document["@context"] = [site.url + "/context.jsonld", document["@context"]]
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="not fetched"):
        _harvest(str(path), dcat_map)
    assert site.requests == [] and not Product.objects.exists()


def test_malformed_packages_are_reported_not_a_traceback(site, provider_map):
    odd = [
        {
            "id": "odd-1",
            "name": "odd-1",
            "title": 5,
            "tags": 7,
            "resources": "x",
            "organization": [],
            "extras": {},
        },
        {
            "id": "odd-2",
            "name": "odd-2",
            "title": "标题",
            "tags": [{"name": ["x"]}],
            "extras": [{"key": 1}, 3],
        },
    ]
    site.serve_ckan(odd)
    out, _ = _harvest(site.url, provider_map, "--no-progress")
    assert "records: 2" in out and "incomplete: 2" in out
    assert "record odd-1 'odd-1' still needs" in out  # no title: the package's name
    assert "descriptor.summary: required" in out and "descriptor.keywords: required" in out
    assert not Product.objects.exists() and HarvestRecord.objects.count() == 2
    site.routes["/api/3/action/package_search"] = (
        "application/json",
        json.dumps({"success": True, "result": {"count": "many", "results": []}}),
    )
    with pytest.raises(CommandError, match="no count"):
        _harvest(site.url, provider_map, "--format", "ckan")


def test_a_product_no_longer_a_draft_is_left_as_it_is(site, ckan_packages, provider_map):
    site.serve_ckan(ckan_packages)
    _harvest(site.url, provider_map)
    stored = HarvestRecord.objects.get(identifier=ckan_packages[0]["id"])
    product = stored.product
    Product.objects.filter(pk=product.pk).update(status=ProductStatus.SUBMITTED)
    ckan_packages[0]["title"] = "上海市公共充电桩运行数据集"
    out, _ = _harvest(site.url, provider_map, "--no-progress")
    assert "skipped: 1" in out and f"harvest.not_draft (Product {product.code} is no longer a draft" in out
    product.refresh_from_db()
    assert product.name == "上海市充电桩运行数据集" and product.version == 1
    assert HarvestRecord.objects.get(pk=stored.pk).descriptor == stored.descriptor  # nothing written


def test_rdf_xml_file_and_multilingual_ckan_titles(tmp_path, dcat_map):
    graph = graph_parse((DATA / "catalog.ttl").read_bytes(), fmt="turtle", base="file:///catalog.ttl")
    path = tmp_path / "catalog.rdf"
    path.write_bytes(graph.serialize(format="xml", encoding="utf-8"))
    out, _ = _harvest(str(path), dcat_map, "--no-progress")
    assert "source: dcat" in out and "created: 1" in out
    assert Product.objects.get().name == "上海市充电桩运行数据集"
    record = package_record(
        {
            "id": "p",
            "title_translated": {"en": "Grid load", "zh_Hans": "电网负荷"},
            "notes": {"en": "Load data"},
        }
    )
    assert record["title"] == "电网负荷" and record["description"] == "Load data"


def test_a_next_page_on_another_host_is_not_followed(site, dcat_map):
    page = (DATA / "catalog.ttl").read_text(encoding="utf-8") + (
        "\n<https://catalog.example.cn/catalog?page=1> <http://www.w3.org/ns/hydra/core#next>"
        " <http://localhost:1/internal> .\n"
    )
    site.routes["/catalog.ttl"] = ("text/turtle", page)
    with pytest.raises(CommandError, match=r"is not on http://127\.0\.0\.1"):
        _harvest(site.url + "/catalog.ttl", dcat_map)
    assert len(site.requests) == 1
