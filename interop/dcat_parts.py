"""Parts of a product's DCAT graph (interop/dcat.py): its usage policy (ODRL), its data dictionary (CSVW)
and its quality reports (DQV)."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from interop.dcat_terms import FIELD_DATATYPES, vocabulary_iri
from quality.models import QualityReport
from standards.usage_policy import policy_from_descriptor

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
DQV = Namespace("http://www.w3.org/ns/dqv#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
PROV = Namespace("http://www.w3.org/ns/prov#")
ZH = "zh"
DQV_DIMENSIONS = ("normativity", "completeness", "accuracy", "consistency", "timeliness", "accessibility")


def add_policy(graph: Graph, subject: URIRef, descriptor: dict) -> None:
    """The usage policy a product allows (the standard's default from its descriptor) as an ODRL offer,
    the same policy as the licence document, and the usage restrictions as the rights statement."""
    policy = policy_from_descriptor(descriptor)
    offer = URIRef(f"{subject}#usage-policy")
    graph.add((subject, ODRL.hasPolicy, offer))
    graph.add((offer, RDF.type, ODRL.Offer))
    graph.add((offer, ODRL.profile, URIRef("https://registry.invalid/standards/usage-policy/1.0")))
    for kind, actions in (
        (ODRL.permission, policy["permissions"]),
        (ODRL.prohibition, policy["prohibitions"]),
    ):
        for action in actions:
            rule = BNode()
            graph.add((offer, kind, rule))
            graph.add((rule, ODRL.action, vocabulary_iri("usage-action", action)))
            graph.add((rule, ODRL.target, subject))
    for territory in policy["constraints"].get("territory", []):
        constraint = BNode()
        graph.add((offer, ODRL.constraint, constraint))
        graph.add((constraint, ODRL.leftOperand, ODRL.spatial))
        graph.add((constraint, ODRL.operator, ODRL.isPartOf))
        graph.add((constraint, ODRL.rightOperand, vocabulary_iri("territory", territory)))
    graph.add((offer, RDF.type, DCTERMS.LicenseDocument))
    graph.add((offer, RDFS.label, Literal("按交易约定的数据使用策略（默认：产品描述推导）", lang=ZH)))
    restrictions = (descriptor.get("usage_restrictions") or "").strip()
    if restrictions:
        rights = BNode()
        graph.add((subject, DCTERMS.rights, rights))
        graph.add((rights, RDF.type, DCTERMS.RightsStatement))
        graph.add((rights, RDFS.label, Literal(restrictions, lang=ZH)))


def add_dictionary(graph: Graph, subject: URIRef, descriptor: dict) -> None:
    """The data dictionary (descriptor 1.1 `fields`) as a CSVW table schema the dataset conforms to."""
    fields = descriptor.get("fields") or []
    if not fields:
        return
    schema = URIRef(f"{subject}#schema")
    graph.add((subject, DCTERMS.conformsTo, schema))
    graph.add((schema, RDF.type, DCTERMS.Standard))
    graph.add((schema, RDF.type, CSVW.Schema))
    columns = []
    for entry in fields:
        column = URIRef(f"{subject}#field-{entry['name']}")
        columns.append(column)
        graph.add((column, RDF.type, CSVW.Column))
        graph.add((column, CSVW.name, Literal(entry["name"])))
        graph.add((column, CSVW.title, Literal(entry["label"], lang=ZH)))
        graph.add((column, CSVW.datatype, FIELD_DATATYPES.get(entry["type"], XSD.string)))
        if "nullable" in entry:
            graph.add((column, CSVW.required, Literal(not entry["nullable"])))
        if entry.get("description"):
            graph.add((column, DCTERMS.description, Literal(entry["description"], lang=ZH)))
        if entry.get("unit"):
            graph.add((column, URIRef("http://www.w3.org/ns/csvw#unit"), Literal(entry["unit"])))
    head = BNode()
    Collection(graph, head, columns)
    graph.add((schema, CSVW.column, head))


def add_quality(graph: Graph, subject: URIRef, reports: Iterable[QualityReport]) -> None:
    """Each valid quality report's six dimension scores and its overall score as DQV measurements."""
    for report in reports:
        base = f"{subject}#quality-{report.gid}"
        scores = [(d, (report.dimensions.get(d) or {}).get("score")) for d in DQV_DIMENSIONS]
        scores.append(("overall", report.overall_score))
        for dimension, score in scores:
            if not isinstance(score, int):
                continue
            measurement = URIRef(f"{base}-{dimension}")
            graph.add((subject, DQV.hasQualityMeasurement, measurement))
            graph.add((measurement, RDF.type, DQV.QualityMeasurement))
            graph.add((measurement, DQV.computedOn, subject))
            graph.add((measurement, DQV.isMeasurementOf, vocabulary_iri("quality-metric", dimension)))
            graph.add((measurement, DQV.value, Literal(score, datatype=XSD.integer)))
            graph.add((measurement, PROV.generatedAtTime, Literal(report.assessed_at, datatype=XSD.date)))
            graph.add((measurement, DCTERMS.source, Literal(f"{report.assessor_name} {report.reference}")))
