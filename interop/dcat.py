"""Listed products as DCAT-AP 3 (docs/interop.md, *DCAT-AP 3*): `product_graph(product)` is one product's
graph, `catalog_graph(...)` a catalog's own description and, page by page, its products. Mapping only: HTTP
is `api/views/dcat.py`. The vocabularies that say nothing of a node (regions, industries, the quality
dimensions, the usage policy's actions) get network-wide IRIs under `STANDARDS_BASE`, the same at every node;
a product's IRI lies under its home node's public URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Min
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from exchanges.models import Exchange
from interop import dcat_parts
from interop.dcat_odrl import add_policy
from interop.dcat_parts import (
    CSVW,
    DQV,
    ODRL,
    PROV,
    Terms,
    Triples,
    add_dictionary,
    add_quality,
    concept,
    day,
    label,
    lexical,
    when,
)
from interop.dcat_terms import (
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_THEME,
    FREQUENCY,
    THEMES,
    region_iri,
    vocabulary_iri,
)
from products.models import Product, ProductStatus
from quality.models import QualityReport
from quality.selectors import reports_valid

# DCAT 3 (rdflib's DCAT is DCAT 2 and closed: it warns on dcat:version, dcat:hasVersion).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCATAP = Namespace("http://data.europa.eu/r5r/")

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "adms": ADMS,
    "vcard": VCARD,
    "odrl": ODRL,
    "dqv": DQV,
    "csvw": CSVW,
    "hydra": HYDRA,
    "prov": PROV,
    "skos": SKOS,
    "xsd": XSD,
    "rdfs": RDFS,
    "dcatap": DCATAP,
}
ZH = "zh"
DCAT, ADMS, VCARD, HYDRA, DCATAP = Terms(DCAT), Terms(ADMS), Terms(VCARD), Terms(HYDRA), Terms(DCATAP)
DCTERMS, FOAF, RDF = Terms(DCTERMS), Terms(FOAF), Terms(RDF)
RDFS, SKOS, XSD = Terms(RDFS), Terms(SKOS), Terms(XSD)


def new_graph() -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, URIRef(str(namespace)), override=True)
    return graph


def node_base(exchange: Exchange | None) -> str:
    """The public URL of the node an exchange's records live at: its node's, or this node's."""
    url = (
        exchange.node_url if exchange is not None and exchange.runs_node else ""
    ) or settings.NODE_PUBLIC_URL
    return url.rstrip("/")


def product_iri(product: Product, exchange: Exchange | None = None) -> URIRef:
    """A product's stable IRI: `<home node>/dcat/products/<code>` (served there by content negotiation)."""
    return URIRef(f"{node_base(exchange or product.exchange)}/dcat/products/{product.code}")


def exchange_iri(code: str) -> URIRef:
    return URIRef(f"{settings.NODE_PUBLIC_URL}/api/v1/exchanges/{code}/")


def _exchange_agent(graph: Triples, exchange: Exchange) -> URIRef:
    agent = exchange_iri(exchange.code)
    if graph.first(("agent", agent)):  # once per stream
        graph.add((agent, RDF.type, FOAF.Agent))
        graph.add((agent, FOAF.name, Literal(exchange.name_zh, lang=ZH)))
        graph.add((agent, FOAF.name, Literal(exchange.name_en, lang="en")))
        graph.add((agent, DCTERMS.type, _COMPANY))
    return agent


def _service_desk(graph: Triples, exchange: Exchange) -> URIRef:
    """The exchange's service desk (no personal contact data): its name and its node's address."""
    desk = URIRef(f"{exchange_iri(exchange.code)}#service-desk")
    if graph.first(("desk", desk)):  # once per stream
        graph.add((desk, RDF.type, VCARD.Organization))
        graph.add((desk, RDF.type, VCARD.Kind))  # vcard:Organization's superclass, which DCAT-AP names
        graph.add((desk, VCARD.fn, Literal(f"{exchange.name_zh}服务台", lang=ZH)))
        graph.add((desk, VCARD.hasURL, URIRef(node_base(exchange) + "/")))
    return desk


# A listed product's distributions stay available for as long as it is listed (EU planned availability).
_STABLE = URIRef("http://publications.europa.eu/resource/authority/planned-availability/STABLE")
_DCAT_AP_3 = URIRef("https://semiceu.github.io/DCAT-AP/releases/3.0.0/")
_ZHO = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")
_USCC_AGENCY = Literal("统一社会信用代码 GB 32100-2015", lang=ZH)
_COMPANY = URIRef("http://purl.org/adms/publishertype/Company")


def _provider(graph: Triples, product: Product) -> BNode:
    agent, identifier = BNode(), BNode()
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, lexical(product.provider_name, lang=ZH)))
    graph.add((agent, DCTERMS.type, _COMPANY))
    graph.add((agent, ADMS.identifier, identifier))
    graph.add((identifier, RDF.type, ADMS.Identifier))
    graph.add((identifier, SKOS.notation, lexical(product.provider_uscc)))
    graph.add((identifier, ADMS.schemaAgency, _USCC_AGENCY))
    return agent


def _coverage(graph: Triples, subject: URIRef, descriptor: dict) -> None:
    for code in descriptor.get("spatial_coverage", []):
        graph.add((subject, DCTERMS.spatial, concept(graph, "region", code)))
    temporal = descriptor.get("temporal_coverage") or {}
    if temporal.get("start"):
        period = BNode()
        graph.add((subject, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, day(temporal["start"])))
        if temporal.get("end"):
            graph.add((period, DCAT.endDate, day(temporal["end"])))


def _themes(graph: Triples, subject: URIRef, industry: str) -> None:
    graph.add((subject, DCAT.theme, concept(graph, "industry", industry)))
    if industry in THEMES:
        graph.add((subject, DCAT.theme, EU_THEME[THEMES[industry]]))


def _distributions(graph: Triples, subject: URIRef, product: Product, descriptor: dict, access: URIRef):
    """One distribution per delivery method; an `api` delivery (or an API product) is also a data service
    serving the dataset."""
    methods = descriptor.get("delivery_methods", [])
    service = None
    if "api" in methods or product.product_form == "api":
        service = URIRef(f"{subject}#service")
        graph.add((service, RDF.type, DCAT.DataService))
        graph.add((service, DCTERMS.title, lexical(f"{product.name}（数据接口）", lang=ZH)))
        graph.add((service, DCAT.endpointURL, access))
        graph.add((service, DCAT.endpointDescription, access))
        graph.add((service, DCAT.servesDataset, subject))
    sample_suffix = (descriptor.get("sample") or {}).get("url", "") or ""
    sample_suffix = sample_suffix.rsplit(".", 1)[-1].upper() if "." in sample_suffix else ""
    offer = URIRef(f"{subject}#usage-policy")
    for method in methods:
        distribution = URIRef(f"{subject}#distribution-{method}")
        graph.add((subject, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCAT.accessURL, access))
        graph.add((distribution, DCTERMS.title, label("delivery_method", method)))
        # The delivery method as the network's concept (machine-readable: a harvester reads it back).
        graph.add((distribution, DCTERMS.type, concept(graph, "delivery_method", method)))
        graph.add((distribution, DCTERMS.description, _DELIVERY_TEXT))
        graph.add((distribution, DCTERMS.license, offer))
        graph.add((distribution, DCATAP.availability, _STABLE))
        file_type = "JSON" if method == "api" else sample_suffix if method == "file" else ""
        if file_type in EU_FILE_TYPE:
            graph.add((distribution, DCTERMS.format, EU_FILE_TYPE[file_type]))
        if method == "api" and service is not None:
            graph.add((distribution, DCAT.accessService, service))
    return service


_DELIVERY_TEXT = Literal(
    "经交易所达成交易后按约定交付；访问地址为该产品在所属交易所节点上的登记信息。", lang=ZH
)


@dataclass
class ProductContext:
    """What a product's graph needs beyond the product row, fetched once per page of products."""

    exchanges: dict[str, Exchange]
    reports: dict[str, list[QualityReport]] = field(default_factory=dict)
    versions: dict[int, list[int]] = field(default_factory=dict)  # product id: its public versions


def context_for(products: list[Product], exchanges: dict[str, Exchange] | None = None) -> ProductContext:
    return ProductContext(
        exchanges=exchanges or {e.code: e for e in Exchange.objects.all()},
        reports=reports_valid([p.code for p in products]),
        versions=dcat_parts.public_versions([p.pk for p in products]),
    )


def add_product(
    graph: Triples, product: Product, context: ProductContext, *, subject: URIRef | None = None
) -> tuple[URIRef, URIRef | None]:
    """Adds a product's triples to `graph` (at its IRI, or at `subject`: one of its versions); returns its
    dataset IRI and its data service IRI (or None)."""
    exchange = context.exchanges[product.exchange_id]
    descriptor = product.descriptor
    subject = subject or product_iri(product, exchange)
    access = URIRef(f"{node_base(exchange)}/api/v1/products/{product.code}/")
    graph.add((subject, RDF.type, DCAT.Dataset))
    graph.add((subject, DCTERMS.identifier, lexical(product.code)))
    if product.product_form:  # the product form as the network's concept (DCAT-AP: dct:type of a dataset)
        graph.add((subject, DCTERMS.type, concept(graph, "product_form", product.product_form)))
    graph.add((subject, DCTERMS.title, lexical(product.name, lang=ZH)))
    graph.add((subject, DCTERMS.description, lexical(descriptor.get("summary", ""), lang=ZH)))
    for keyword in descriptor.get("keywords", []):
        graph.add((subject, DCAT.keyword, lexical(keyword, lang=ZH)))
    provider = _provider(graph, product)
    graph.add((subject, DCTERMS.publisher, provider))
    graph.add((subject, DCAT.contactPoint, _service_desk(graph, exchange)))
    graph.add((subject, DCTERMS.language, _ZHO))
    _coverage(graph, subject, descriptor)
    frequency = FREQUENCY.get(product.update_frequency)
    if frequency:
        graph.add((subject, DCTERMS.accrualPeriodicity, EU_FREQUENCY[frequency]))
    _themes(graph, subject, product.industry)
    add_policy(graph, subject, descriptor, assigner=provider)
    add_dictionary(graph, subject, descriptor)
    add_quality(graph, subject, context.reports.get(product.code, []))
    graph.add((subject, DCAT.version, lexical(str(product.version))))
    if product.listed_at:
        graph.add((subject, DCTERMS.issued, when(product.listed_at, XSD.dateTime)))
    graph.add((subject, DCTERMS.modified, when(product.updated_at, XSD.dateTime)))
    graph.add((subject, DCAT.landingPage, access))
    return subject, _distributions(graph, subject, product, descriptor, access)


def product_graph(product: Product) -> Graph:
    """One listed product as a DCAT-AP 3 graph: its dataset (and data service), distributions, publisher,
    contact point, themes, coverage, policy, data dictionary and quality measurements."""
    triples = Triples()
    context = context_for([product])
    subject, _ = add_product(triples, product, context)
    dcat_parts.add_versions(triples, subject, product.version, context.versions.get(product.pk, []))
    return triples.into(new_graph())


def listed_products():
    return Product.objects.filter(status=ProductStatus.LISTED, provider_hold=False)


# --- catalogs -------------------------------------------------------------------------------------------

CATALOG_SCOPES = ("catalog", "network")  # this node's own products; every listed product it holds
CHUNK = 500


def catalog_iri(scope: str) -> URIRef:
    return URIRef(f"{settings.NODE_PUBLIC_URL}/dcat/{scope}")


def catalog_products(scope: str):
    """The listed products of a catalog, in id order (the order its pages and its stream follow)."""
    products = listed_products().order_by("id")
    return products.filter(is_home=True) if scope == "catalog" else products


def catalog_header(scope: str, *, page: int | None = None, per_page: int = CHUNK, total: int = 0) -> Graph:
    """The catalog's own description (and, for one page, its hydra paging view)."""
    graph = new_graph()
    catalog = catalog_iri(scope)
    home = Exchange.objects.filter(code=settings.NODE_CODE).first()
    graph.add((catalog, RDF.type, DCAT.Catalog))
    name = home.name_zh if home else settings.NODE_CODE
    if scope == "catalog":
        title, text = f"{name}数据产品目录", f"{name}上架的数据产品（本交易所为所属交易所）。"
    else:
        title = f"{name}节点所持全国互认数据产品目录"
        text = "本节点持有的全部上架数据产品：本交易所的产品与其他交易所产品的副本，每条记录注明所属交易所。"
    graph.add((catalog, DCTERMS.title, Literal(title, lang=ZH)))
    graph.add((catalog, DCTERMS.description, Literal(text, lang=ZH)))
    if home is not None:
        agent = Triples()
        graph.add((catalog, DCTERMS.publisher, _exchange_agent(agent, home)))
        agent.into(graph)
    graph.add((catalog, FOAF.homepage, URIRef(settings.NODE_PUBLIC_URL + "/")))
    graph.add((catalog, DCTERMS.language, _ZHO))
    span = catalog_products(scope).aggregate(issued=Min("listed_at"), modified=Max("updated_at"))
    for prop, key in ((DCTERMS.issued, "issued"), (DCTERMS.modified, "modified")):
        if span[key] is not None:
            graph.add((catalog, prop, Literal(span[key], datatype=XSD.dateTime)))
    graph.add((catalog, DCTERMS.spatial, region_iri("100000")))  # the network's catalogs cover China
    graph.add((catalog, DCAT.themeTaxonomy, vocabulary_iri("industry")))
    graph.add((catalog, DCAT.themeTaxonomy, URIRef(str(EU_THEME)[:-1])))
    graph.add((vocabulary_iri("industry"), RDF.type, SKOS.ConceptScheme))
    graph.add(
        (vocabulary_iri("industry"), DCTERMS.title, Literal("国民经济行业分类 GB/T 4754-2017 门类", lang=ZH))
    )
    if page is not None:
        _paging(graph, catalog, page=page, per_page=per_page, total=total)
    return graph


def _paging(graph: Triples, catalog: URIRef, *, page: int, per_page: int, total: int) -> None:
    last = max(1, -(-total // per_page))
    view = URIRef(f"{catalog}?page={page}&per_page={per_page}")
    graph.add((catalog, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((catalog, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, URIRef(f"{catalog}?page=1&per_page={per_page}")))
    graph.add((view, HYDRA.last, URIRef(f"{catalog}?page={last}&per_page={per_page}")))
    if page > 1:
        graph.add((view, HYDRA.previous, URIRef(f"{catalog}?page={min(page - 1, last)}&per_page={per_page}")))
    if page < last:
        graph.add((view, HYDRA.next, URIRef(f"{catalog}?page={page + 1}&per_page={per_page}")))


def _add_to_catalog(graph: Triples, scope: str, product: Product, context: ProductContext) -> None:
    dataset, service = add_product(graph, product, context)
    dcat_parts.add_versions(graph, dataset, product.version, context.versions.get(product.pk, []))
    catalog = catalog_iri(scope)
    graph.add((catalog, DCAT.dataset, dataset))
    if service is not None:
        graph.add((catalog, DCAT.service, service))
    if scope == "network":
        record = URIRef(f"{catalog}/records/{product.code}")
        graph.add((catalog, DCAT.record, record))
        graph.add((record, RDF.type, DCAT.CatalogRecord))
        graph.add((record, FOAF.primaryTopic, dataset))
        graph.add((record, DCTERMS.modified, when(product.updated_at, XSD.dateTime)))
        graph.add((record, DCTERMS.conformsTo, _DCAT_AP_3))
        # The record's own dates: when this node first held the product, and its last change here.
        graph.add((record, DCTERMS.issued, when(product.created_at, XSD.dateTime)))
        graph.add((record, DCTERMS.publisher, _exchange_agent(graph, context.exchanges[product.exchange_id])))
        graph.add((record, PROV.wasDerivedFrom, dataset))  # the dataset's IRI is the one at its home


# The columns a product's mapping reads (not the search texts, findings and reasons it does not).
_MAPPED = ("id", "code", "exchange_id", "version", "descriptor", "name", "provider_name", "provider_uscc",
           "product_form", "industry", "update_frequency", "created_at", "updated_at", "listed_at",
)  # fmt: skip


def catalog_chunks(scope: str, *, offset: int = 0, limit: int | None = None, chunk: int = CHUNK):
    """The catalog's products as graphs of at most `chunk` products each, read in id order by keyset, so
    memory stays flat whatever the catalog's size; `offset`/`limit` select one page."""
    products = catalog_products(scope).only(*_MAPPED)
    if offset:
        first = products.values_list("id", flat=True)[offset : offset + 1]
        products = products.filter(id__gte=first[0]) if first else products.none()
    exchanges = {e.code: e for e in Exchange.objects.all()}
    shared: set = set()  # what many products share (concepts, rules, exchanges) is written once per catalog
    after, left = 0, limit
    while left is None or left > 0:
        size = chunk if left is None else min(chunk, left)
        rows = list(products.filter(id__gt=after)[:size])
        if not rows:
            return
        context = context_for(rows, exchanges)
        triples = Triples(shared)
        for product in rows:
            _add_to_catalog(triples, scope, product, context)
        yield triples
        after = rows[-1].id
        left = None if left is None else left - len(rows)


def catalog_graph(scope: str = "catalog", *, page: int | None = None, per_page: int = CHUNK) -> Graph:
    """A catalog in one graph: `scope` "catalog" (this node's own listed products) or "network" (every
    listed product it holds, each with a catalog record naming its home exchange); the whole catalog, or
    one page with its hydra view. For tests and small catalogs: the HTTP view streams `catalog_chunks`."""
    total = catalog_products(scope).count() if page is not None else 0
    graph = catalog_header(scope, page=page, per_page=per_page, total=total)
    offset = (page - 1) * per_page if page is not None else 0
    for chunk in catalog_chunks(scope, offset=offset, limit=per_page if page is not None else None):
        chunk.into(graph)
    return graph
