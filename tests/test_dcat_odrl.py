"""The usage policy as ODRL 2.2 in the DCAT export (docs/interop.md, *Usage policy as ODRL*): every field of
the policy standard mapped to ODRL terms (permissions with actions, constraints with left operand, operator
and right operand, duties; prohibitions), valid against the shapes, parsed back from every RDF format by
`policy_from_odrl`, and what the standard cannot hold refused rather than read wider."""

import copy
import json
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from interop.dcat import new_graph, product_graph, product_iri
from interop.dcat_odrl import USERS, _declarations, _default_policy, add_offer, policy_from_odrl
from interop.dcat_parts import ODRL, Triples
from interop.dcat_terms import vocabulary_iri
from interop.harvest import harvest_run
from interop.harvest_dcat import dcat_records
from interop.models import HarvestRecord, HarvestSource
from products.models import ProductStatus
from standards.usage_policy import policy_clean, policy_from_descriptor
from tests.factories import make_product

ROOT = Path(__file__).resolve().parents[1]
SHAPES = Graph().parse(ROOT / "interop" / "shapes" / "dcat-ap-3.ttl")
POLICY = json.loads((ROOT / "docs" / "examples" / "usage-policy.json").read_text("utf-8"))
EXAMPLE = json.loads((ROOT / "docs" / "examples" / "product-descriptor.json").read_text("utf-8"))
DATASET = URIRef("http://127.0.0.1:8001/dcat/products/SHDEX-2026-000001-T")
ODRL_NS = "http://www.w3.org/ns/odrl/2/"


def _offer_graph(policy: dict) -> Graph:
    triples = Triples()
    assigner = BNode()
    triples.add((assigner, RDF.type, URIRef("http://xmlns.com/foaf/0.1/Agent")))
    triples.add((assigner, URIRef("http://xmlns.com/foaf/0.1/name"), Literal("提供方", lang="zh")))
    add_offer(triples, DATASET, policy, assigner)
    return triples.into(new_graph())


def _constraints(graph: Graph, rule) -> dict:
    """{left operand: (operator, {right operands})} of a rule's constraints, a logical `or` as a tuple."""
    found = {}
    for node in graph.objects(rule, ODRL.constraint):
        alternatives = graph.value(node, ODRL["or"])
        if alternatives is not None:
            parts = [_constraints_of(graph, part) for part in graph.items(alternatives)]
            found["or"] = tuple(parts)
            continue
        found.update([_constraints_of(graph, node)])
    return found


def _constraints_of(graph: Graph, node) -> tuple:
    left = graph.value(node, ODRL.leftOperand)
    return left, (graph.value(node, ODRL.operator), frozenset(graph.objects(node, ODRL.rightOperand)))


def _violations(graph: Graph) -> set:
    _, report, _ = validate(graph, shacl_graph=SHAPES, allow_warnings=False)
    return {
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath))
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.resultSeverity) == SH.Violation
    }


def test_every_field_of_the_policy_maps_to_odrl_terms():
    graph = _offer_graph(POLICY)
    offer = graph.value(DATASET, ODRL.hasPolicy)
    assert (offer, RDF.type, ODRL.Offer) in graph and graph.value(offer, ODRL.target) == DATASET
    assert graph.value(offer, ODRL.assigner) is not None
    assert str(graph.value(offer, ODRL.profile)) == "https://registry.invalid/standards/usage-policy/1.0"
    assert str(graph.value(offer, RDFS.comment)) == POLICY["remarks"]
    permissions = list(graph.objects(offer, ODRL.permission))
    analyse = vocabulary_iri("usage-action", "analyse")
    assert {graph.value(p, ODRL.action) for p in permissions} == {ODRL.use, ODRL.derive, analyse}
    assert graph.value(analyse, ODRL.includedIn) == ODRL.use  # a profile action refines an ODRL one
    prohibited = {graph.value(p, ODRL.action) for p in graph.objects(offer, ODRL.prohibition)}
    assert prohibited == {ODRL.distribute, ODRL.sell}
    purposes = {vocabulary_iri("usage-purpose", c) for c in ("risk_control", "credit_assessment")}
    expected = {
        ODRL.purpose: (ODRL.isAnyOf, frozenset(purposes)),
        ODRL.spatial: (ODRL.isPartOf, frozenset({vocabulary_iri("territory", "CN-mainland")})),
        ODRL.elapsedTime: (ODRL.lteq, frozenset({Literal("P365D", datatype=XSD.duration)})),
        USERS: (ODRL.lteq, frozenset({Literal(50, datatype=XSD.integer)})),
    }
    for permission in permissions:
        assert _constraints(graph, permission) == expected
        duties = list(graph.objects(permission, ODRL.duty))
        assert [graph.value(d, ODRL.action) for d in duties] == [ODRL.delete]  # not de-identified only
        after = graph.value(duties[0], ODRL.constraint)
        assert _constraints_of(graph, after) == (ODRL.event, (ODRL.gt, frozenset({ODRL.policyUsage})))
    assert (USERS, RDF.type, ODRL.LeftOperand) in graph
    assert _violations(graph) == set()


@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "xml"])
def test_the_offer_parses_back_from_every_format_to_the_same_policy(fmt):
    text = _offer_graph(POLICY).serialize(format=fmt)
    parsed = Graph().parse(data=text, format=fmt)
    assert policy_from_odrl(parsed, DATASET) == policy_clean(POLICY)
    unlimited = {**POLICY, "constraints": {**POLICY["constraints"], "duration_days": None, "max_users": None}}
    again = Graph().parse(data=_offer_graph(unlimited).serialize(format=fmt), format=fmt)
    assert policy_from_odrl(again, DATASET) == policy_clean(unlimited)


def _personal_abroad() -> dict:
    descriptor = copy.deepcopy(EXAMPLE)
    descriptor["name"] = "上海市充电桩用户出行统计数据集"
    compliance = descriptor["compliance"]
    compliance["personal_information"] = {
        "category": "deidentified",
        "status": "passed",
        "evidence_ref": "P-1",
    }
    compliance["cross_border_transfer"] = {"involved": True, "status": "passed", "evidence_ref": "X-1"}
    return descriptor


@pytest.mark.django_db
def test_a_products_default_policy_with_personal_information_and_export(alice):
    product = make_product(actor=alice, descriptor=_personal_abroad(), status=ProductStatus.LISTED)
    graph = product_graph(product)
    s = product_iri(product)
    offer = graph.value(s, ODRL.hasPolicy)
    assert graph.value(offer, ODRL.assigner) == graph.value(s, URIRef("http://purl.org/dc/terms/publisher"))
    prohibited = {graph.value(p, ODRL.action) for p in graph.objects(offer, ODRL.prohibition)}
    assert vocabulary_iri("usage-action", "link_with_other_data") in prohibited  # linking may re-identify
    permission = next(iter(graph.objects(offer, ODRL.permission)))
    duties = {graph.value(d, ODRL.action) for d in graph.objects(permission, ODRL.duty)}
    assert duties == {ODRL.delete, ODRL.anonymize}
    territory = _constraints(graph, permission)["or"]  # CN or abroad: alternatives, not both at once
    assert {right for _, (_, rights) in territory for right in rights} == {
        vocabulary_iri("territory", "CN"),
        vocabulary_iri("territory", "cross_border"),
    }
    read = policy_from_odrl(graph, s, remarks=product.descriptor["usage_restrictions"])
    assert read == policy_from_descriptor(product.descriptor)
    assert (
        read["constraints"]["territory"] == ["CN", "cross_border"]
        and read["constraints"]["deidentified_only"]
    )
    assert _violations(graph) == set()


@pytest.mark.django_db
def test_the_shapes_refuse_a_broken_offer(alice):
    product = make_product(actor=alice, descriptor=copy.deepcopy(EXAMPLE), status=ProductStatus.LISTED)
    graph = product_graph(product)
    offer = graph.value(product_iri(product), ODRL.hasPolicy)
    graph.remove((offer, ODRL.assigner, None))
    rule = next(iter(graph.objects(offer, ODRL.prohibition)))
    graph.add((rule, ODRL.action, ODRL.play))  # a second action
    permission = next(iter(graph.objects(offer, ODRL.permission)))
    constraint = next(
        c for c in graph.objects(permission, ODRL.constraint) if (c, RDF.type, ODRL.Constraint) in graph
    )
    graph.remove((constraint, ODRL.operator, None))
    broken = _violations(graph)
    assert (offer, ODRL.assigner) in broken
    assert (rule, ODRL.action) in broken
    assert (constraint, ODRL.operator) in broken


def _tweaked(change) -> Graph:
    graph = Graph().parse(data=_offer_graph(POLICY).serialize(format="turtle"), format="turtle")
    change(graph, graph.value(DATASET, ODRL.hasPolicy))
    return graph


def test_what_the_standard_cannot_hold_is_refused_not_read_wider():
    def pay(graph, offer):  # a payment condition: the standard has none
        for permission in graph.objects(offer, ODRL.permission):
            node = BNode()
            graph.add((permission, ODRL.constraint, node))
            graph.add((node, ODRL.leftOperand, ODRL.payAmount))
            graph.add((node, ODRL.operator, ODRL.eq))
            graph.add((node, ODRL.rightOperand, Literal("100")))

    def differ(graph, offer):  # one permission without the territory constraint
        permission = next(iter(graph.objects(offer, ODRL.permission)))
        for node in list(graph.objects(permission, ODRL.constraint)):
            if graph.value(node, ODRL.leftOperand) == ODRL.spatial:
                graph.remove((permission, ODRL.constraint, node))

    def unknown_action(graph, offer):  # an action the standard does not know, with the same conditions
        first, node = next(iter(graph.objects(offer, ODRL.permission))), BNode()
        for prop in (ODRL.constraint, ODRL.duty):
            for value in list(graph.objects(first, prop)):
                graph.add((node, prop, value))
        graph.add((node, ODRL.action, ODRL.play))
        graph.add((offer, ODRL.permission, node))

    def cyclic(graph, offer):  # a territory `or` whose list points back at itself
        permission = next(iter(graph.objects(offer, ODRL.permission)))
        logical, head = BNode(), BNode()
        graph.add((permission, ODRL.constraint, logical))
        graph.add((logical, ODRL["or"], head))
        graph.add((head, RDF.first, vocabulary_iri("usage-constraint", "territory-CN")))
        graph.add((head, RDF.rest, head))

    assert policy_from_odrl(_tweaked(pay), DATASET) is None
    assert policy_from_odrl(_tweaked(differ), DATASET) is None
    assert policy_from_odrl(_tweaked(cyclic), DATASET) is None
    kept = policy_from_odrl(_tweaked(unknown_action), DATASET)
    assert kept == policy_clean(POLICY)
    assert policy_from_odrl(Graph(), DATASET) is None
    assert URIRef(ODRL_NS + "use") == ODRL.use


@pytest.mark.django_db
def test_harvest_keeps_the_offered_policy_with_the_record_and_follows_its_changes():
    """A source's ODRL offer is read into `HarvestRecord.usage_policy` (a descriptor holds no policy); a
    re-run whose only change is the offer rewrites the record, and the draft stays as it was."""
    source_graph = Graph().parse(ROOT / "tests" / "data" / "harvest" / "catalog.ttl")
    dataset = URIRef("https://catalog.example.cn/dataset/ev-charging")
    defaults = json.loads((ROOT / "tests" / "data" / "harvest" / "defaults.json").read_text("utf-8"))
    uscc = EXAMPLE["provider"]["uscc"]
    source = HarvestSource(url="file:///odrl.ttl", format="dcat", exchange_id="SHDEX")

    def harvest(policy: dict) -> list:
        graph = Graph()
        for triple in source_graph:
            graph.add(triple)
        publisher = graph.value(dataset, URIRef("http://purl.org/dc/terms/publisher"))
        for triple in _offer_graph(policy).triples((None, None, None)):
            graph.add(tuple(dataset if term == DATASET else term for term in triple))
        graph.set((graph.value(dataset, ODRL.hasPolicy), ODRL.assigner, publisher))
        return harvest_run(dcat_records(graph), source=source, mapping={uscc: uscc}, defaults=defaults)

    first = {r.identifier: r for r in harvest(POLICY)}
    assert first["EV-CHARGING-001"].action == "created"
    record = HarvestRecord.objects.get(source=source, identifier="EV-CHARGING-001")
    assert record.usage_policy == policy_clean(POLICY)
    wider = {**POLICY, "constraints": {**POLICY["constraints"], "duration_days": 730}}
    again = {r.identifier: r for r in harvest(wider)}
    assert again["EV-CHARGING-001"].action == "unchanged"  # the draft: nothing of it changed
    record.refresh_from_db()
    assert record.usage_policy["constraints"]["duration_days"] == 730
    assert record.product.version == 1


def test_the_default_policy_is_cached_by_the_declarations_not_their_evidence():
    """The streamed catalog caches a product's default policy by its compliance declarations without their
    evidence references (unique per product): two products that differ only in them share one entry and get
    the standard's own policy; a declaration that changes the policy changes the entry."""
    first, second = copy.deepcopy(EXAMPLE), copy.deepcopy(EXAMPLE)
    for item in second["compliance"].values():
        if isinstance(item, dict):
            item["evidence_ref"] = "OTHER-0001"
    assert first["compliance"] != second["compliance"]
    assert _declarations(first["compliance"]) == _declarations(second["compliance"])
    for descriptor in (first, second, _personal_abroad()):
        cached = json.loads(_default_policy(_declarations(descriptor["compliance"])))
        expected = policy_from_descriptor({"compliance": descriptor["compliance"]})
        assert cached == expected
    assert _declarations(_personal_abroad()["compliance"]) != _declarations(first["compliance"])
    assert _declarations(None) == "null" and _declarations(["x"]) == '["x"]'  # malformed: kept as it is
