"""The usage policy standard as ODRL 2.2 (docs/interop.md, *Usage policy as ODRL*): the policy a product
offers becomes an `odrl:Offer` whose permissions carry every constraint of the policy (purpose, territory,
duration, number of users) and its duties (deletion at the end, de-identified use), and whose prohibitions
are the actions the policy forbids. `policy_from_odrl` reads such an offer back (the harvester's side).

Rules, constraints and duties are named IRIs under the network's standards base, made once per distinct
content and shared by every offer that has them (a product's offer only links them): a catalog of 100,000
products holds a few dozen distinct rules."""

from __future__ import annotations

import hashlib
import itertools
import json
from functools import lru_cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from core.exceptions import ValidationFailed
from interop.dcat_parts import ODRL, Terms, Triples
from interop.dcat_terms import region_iri, vocabulary_iri
from standards.regions import NATIONWIDE, region_is_valid
from standards.usage_policy import SCHEMA_ID, policy_clean, policy_from_descriptor
from standards.usage_policy_terms import (
    ACTION,
    ACTION_CODES,
    MAX_REMARKS,
    PURPOSE,
    PURPOSE_CODES,
    TERRITORY,
    TERRITORY_WORDS,
)
from standards.vocabularies import Term

DCTERMS, RDF, RDFS, SKOS, XSD = Terms(DCTERMS), Terms(RDF), Terms(RDFS), Terms(SKOS), Terms(XSD)
ZH = "zh"
PROFILE = URIRef(SCHEMA_ID)  # the policy standard's id is the ODRL profile the offers conform to

# The standard's actions that are ODRL 2.2 common vocabulary actions; the others are the profile's own
# actions (`…/vocabularies/usage-action/<code>`), each declared `odrl:includedIn` the ODRL action it refines.
ODRL_ACTIONS = {
    "use": ODRL.use,
    "derive": ODRL.derive,
    "redistribute": ODRL.distribute,
    "resell": ODRL.sell,
}
PROFILE_ACTIONS = {"analyse": ODRL.use, "train_model": ODRL.use, "link_with_other_data": ODRL.aggregate}
# The number of users has no ODRL 2.2 left operand (`count` counts executions): the profile defines one.
USERS = vocabulary_iri("usage-left-operand", "users")
_LABELS = {t.code: t for t in (*ACTION, *PURPOSE, *TERRITORY)}
_LICENCE_LABEL = Literal("按交易约定的数据使用策略（默认：由产品描述的合规声明推导）", lang=ZH)


def action_iri(code: str) -> URIRef:
    return ODRL_ACTIONS.get(code) or vocabulary_iri("usage-action", code)


def _term(iri: URIRef, term: Term, scheme: str) -> tuple:
    return (
        (iri, RDF.type, SKOS.Concept),
        (iri, SKOS.notation, Literal(term.code)),
        (iri, SKOS.prefLabel, Literal(term.zh, lang=ZH)),
        (iri, SKOS.prefLabel, Literal(term.en, lang="en")),
        (iri, SKOS.inScheme, vocabulary_iri(scheme)),
    )


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def _constraint(name: str, left: URIRef, operator: URIRef, rights: list, extra: tuple = ()) -> tuple:
    iri = vocabulary_iri("usage-constraint", name)
    triples = [
        (iri, RDF.type, ODRL.Constraint),
        (iri, ODRL.leftOperand, left),
        (iri, ODRL.operator, operator),
        *((iri, ODRL.rightOperand, right) for right in rights),
        *extra,
    ]
    return iri, triples


def _territory(codes: tuple[str, ...]) -> tuple[URIRef, list]:
    """One territory: `spatial isPartOf` it; several: an `odrl:LogicalConstraint` whose `odrl:or` lists one
    such constraint per territory (constraints of a rule are ANDed in ODRL; the policy's territories are
    alternatives)."""
    parts, triples = [], []
    for code in codes:  # a word of the standard, or a GB/T 2260 region (the export's region concept)
        place = vocabulary_iri("territory", code) if code in _LABELS else region_iri(code)
        extra = _term(place, _LABELS[code], "territory") if code in _LABELS else ()
        iri, found = _constraint(f"territory-{code}", ODRL.spatial, ODRL.isPartOf, [place], extra)
        parts.append(iri)
        triples += found
    if len(parts) == 1:
        return parts[0], triples
    iri = vocabulary_iri("usage-constraint", "territory-" + "+".join(codes))
    triples.append((iri, RDF.type, ODRL.LogicalConstraint))
    head = URIRef(f"{iri}#or")
    triples.append((iri, ODRL["or"], head))
    for position, part in enumerate(parts):  # an RDF list, its nodes named after the constraint
        rest = URIRef(f"{iri}#or-{position + 1}") if position < len(parts) - 1 else RDF.nil
        triples += [(head, RDF.first, part), (head, RDF.rest, rest)]
        head = rest
    return iri, triples


def _constraints(constraints: dict) -> tuple[list[URIRef], list]:
    """The policy's constraints as ODRL constraints of each permission: (their IRIs, all their triples)."""
    iris, triples = [], []
    purposes = constraints["purpose"]
    rights = [vocabulary_iri("usage-purpose", code) for code in purposes]
    extra = tuple(
        t
        for code in purposes
        for t in _term(vocabulary_iri("usage-purpose", code), _LABELS[code], "usage-purpose")
    )
    found = [_constraint(f"purpose-{_digest(purposes)}", ODRL.purpose, ODRL.isAnyOf, rights, extra)]
    found.append(_territory(tuple(constraints["territory"])))
    if constraints["duration_days"] is not None:
        days = constraints["duration_days"]
        duration = Literal(f"P{days}D", datatype=XSD.duration)
        found.append(_constraint(f"duration-{days}d", ODRL.elapsedTime, ODRL.lteq, [duration]))
    if constraints["max_users"] is not None:
        users = constraints["max_users"]
        label = (USERS, RDFS.label, Literal("使用人数", lang=ZH))
        declared = ((USERS, RDF.type, ODRL.LeftOperand), label)
        count = Literal(users, datatype=XSD.integer)
        found.append(_constraint(f"users-{users}", USERS, ODRL.lteq, [count], declared))
    for iri, made in found:
        iris.append(iri)
        triples += made
    return iris, triples


def _duties(constraints: dict) -> tuple[list[URIRef], list]:
    """Deletion when the use ends (`odrl:delete` once the `odrl:event` `odrl:policyUsage` is over) and
    de-identified use only (`odrl:anonymize`), as duties of each permission."""
    iris, triples = [], []
    if constraints["delete_at_end"]:
        duty = vocabulary_iri("usage-duty", "delete-at-end")
        after, made = _constraint("after-use", ODRL.event, ODRL.gt, [ODRL.policyUsage])
        triples += [
            (duty, RDF.type, ODRL.Duty),
            (duty, ODRL.action, ODRL.delete),
            (duty, ODRL.constraint, after),
        ]
        triples += made
        iris.append(duty)
    if constraints["deidentified_only"]:
        duty = vocabulary_iri("usage-duty", "deidentified-only")
        triples += [(duty, RDF.type, ODRL.Duty), (duty, ODRL.action, ODRL.anonymize)]
        iris.append(duty)
    return iris, triples


def _action_triples(code: str) -> tuple:
    iri = action_iri(code)
    if code not in PROFILE_ACTIONS:
        return ()
    return (
        (iri, RDF.type, ODRL.Action),
        (iri, ODRL.includedIn, PROFILE_ACTIONS[code]),
        *_term(iri, _LABELS[code], "usage-action")[1:],
    )


@lru_cache(maxsize=256)
def _rules(policy_json: str) -> tuple[tuple[tuple[URIRef, URIRef], ...], tuple, Literal | None]:
    """A policy's rules as ((property, rule IRI), ...), the triples of every rule, constraint and duty, and
    its remarks (or None): made once per distinct policy."""
    policy = json.loads(policy_json)
    constraints, constraint_triples = _constraints(policy["constraints"])
    duties, duty_triples = _duties(policy["constraints"])
    key = _digest([policy["constraints"], policy["version"]])
    links, triples = [], [*constraint_triples, *duty_triples]
    for code in policy["permissions"]:
        rule = vocabulary_iri("usage-rule", f"permission-{code}-{key}")
        links.append((ODRL.permission, rule))
        triples += [(rule, RDF.type, ODRL.Permission), (rule, ODRL.action, action_iri(code))]
        triples += [(rule, ODRL.constraint, c) for c in constraints] + [(rule, ODRL.duty, d) for d in duties]
        triples += _action_triples(code)
    for code in policy["prohibitions"]:
        rule = vocabulary_iri("usage-rule", f"prohibition-{code}")
        links.append((ODRL.prohibition, rule))
        triples += [(rule, RDF.type, ODRL.Prohibition), (rule, ODRL.action, action_iri(code))]
        triples += _action_triples(code)
    remarks = Literal(policy["remarks"], lang=ZH) if policy["remarks"] else None
    return tuple(links), tuple(dict.fromkeys(triples)), remarks


@lru_cache(maxsize=64)
def _default_policy(compliance: str) -> str:
    # The default policy depends on the compliance declarations only (the remarks aside, which the export
    # states as dct:rights): one computation per distinct declaration set, not per product.
    policy = policy_from_descriptor({"compliance": json.loads(compliance)})
    return json.dumps(policy, sort_keys=True)


def _declarations(compliance: object) -> str:
    """The compliance declarations as the default policy's cache key: without their evidence references,
    which differ from product to product and which the default policy does not read (with them, the cache
    of 64 never hit and every product computed and validated its policy again: docs/performance.md)."""
    if isinstance(compliance, dict):
        compliance = {
            name: {k: v for k, v in item.items() if k != "evidence_ref"} if isinstance(item, dict) else item
            for name, item in compliance.items()
        }
    return json.dumps(compliance, sort_keys=True)


def add_offer(graph: Triples, subject: URIRef, policy: dict | str, assigner=None) -> URIRef:
    """A usage policy (a document of the standard, or its canonical JSON) as the ODRL offer
    `<subject>#usage-policy` on `subject`, typed `dct:LicenseDocument` too, assigned by `assigner` (the
    provider); its rules link the shared rules made once per distinct policy."""
    if isinstance(policy, dict):
        policy = json.dumps(policy_clean(policy), sort_keys=True)
    offer = URIRef(f"{subject}#usage-policy")
    graph.add((subject, ODRL.hasPolicy, offer))
    graph.add((offer, RDF.type, ODRL.Offer))
    graph.add((offer, RDF.type, DCTERMS.LicenseDocument))
    graph.add((offer, RDFS.label, _LICENCE_LABEL))
    graph.add((offer, ODRL.profile, PROFILE))
    graph.add((offer, ODRL.target, subject))
    if assigner is not None:
        graph.add((offer, ODRL.assigner, assigner))
    links, triples, remarks = _rules(policy)
    if remarks is not None:  # free words, for people (a product's default policy has none: dct:rights)
        graph.add((offer, RDFS.comment, remarks))
    for prop, rule in links:
        graph.add((offer, prop, rule))
    graph.add_shared(("rules", policy), triples)  # the rules themselves: once per stream
    return offer


def add_policy(graph: Triples, subject: URIRef, descriptor: dict, assigner=None) -> None:
    """The usage policy a product allows (the standard's default from its descriptor's compliance
    declarations) as its ODRL offer; the usage restrictions as the rights statement."""
    add_offer(graph, subject, _default_policy(_declarations(descriptor.get("compliance"))), assigner)
    restrictions = (descriptor.get("usage_restrictions") or "").strip()
    if restrictions:
        rights = URIRef(f"{subject}#rights")
        graph.add((subject, DCTERMS.rights, rights))
        graph.add((rights, RDF.type, DCTERMS.RightsStatement))
        graph.add((rights, RDFS.label, Literal(restrictions, lang=ZH)))


# --- reading an offer back (harvest) ------------------------------------------------------------------------

_ACTION_CODES = {str(iri): code for code, iri in ODRL_ACTIONS.items()}
_PREFIXES = {
    "usage-action": (str(vocabulary_iri("usage-action")) + "/",),
    "usage-purpose": (str(vocabulary_iri("usage-purpose")) + "/",),
    "territory": (str(vocabulary_iri("territory")) + "/", str(region_iri("")).rstrip("/") + "/"),
}


_KNOWN = {
    "usage-action": ACTION_CODES.__contains__,
    "usage-purpose": PURPOSE_CODES.__contains__,
    "territory": lambda c: c in TERRITORY_WORDS or (c != NATIONWIDE and region_is_valid(c)),
}


def _code(node, vocabulary: str) -> str | None:
    """The standard's code an IRI of the export names; None for any other IRI or a code it does not know."""
    text = str(node)
    if vocabulary == "usage-action" and text in _ACTION_CODES:
        return _ACTION_CODES[text]
    for prefix in _PREFIXES[vocabulary]:
        code = text[len(prefix) :] if text.startswith(prefix) else ""
        if code and _KNOWN[vocabulary](code):
            return code
    return None


def _days(value) -> int | None:
    text = str(value)
    if text.startswith("P") and text.endswith("D") and text[1:-1].isdigit():
        return int(text[1:-1])
    return None


def _whole(value) -> int | None:
    text = str(value).strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _read_constraint(graph: Graph, node, found: dict) -> bool:
    """One constraint (or a logical `or` of territory constraints) into `found`; False when it says what the
    standard cannot hold (another left operand, operator or value), which would widen the policy if left
    out."""
    alternatives = graph.value(node, ODRL["or"])
    if alternatives is not None:
        try:  # a peer's list: bounded, and rdflib refuses a cyclic one
            parts = list(itertools.islice(graph.items(alternatives), 60))
        except ValueError:
            return False
        return bool(parts) and all(_read_constraint(graph, part, found) for part in parts)
    left, operator = graph.value(node, ODRL.leftOperand), graph.value(node, ODRL.operator)
    rights = list(graph.objects(node, ODRL.rightOperand))[:60]
    if left == ODRL.purpose and operator in (ODRL.isAnyOf, ODRL.eq, ODRL.isA):
        found.setdefault("purpose", []).extend(c for c in (_code(r, "usage-purpose") for r in rights) if c)
        return True
    if left == ODRL.spatial and operator in (ODRL.isPartOf, ODRL.eq, ODRL.isAnyOf):
        found.setdefault("territory", []).extend(c for c in (_code(r, "territory") for r in rights) if c)
        return True
    if left == ODRL.elapsedTime and operator in (ODRL.lteq, ODRL.lt, ODRL.eq) and len(rights) == 1:
        found["duration_days"] = _days(rights[0])
        return found["duration_days"] is not None
    if left == USERS and operator in (ODRL.lteq, ODRL.eq) and len(rights) == 1:
        found["max_users"] = _whole(rights[0])
        return found["max_users"] is not None
    return False


def _read_permission(graph: Graph, rule, found: dict) -> bool:
    mapped = all(_read_constraint(graph, n, found) for n in list(graph.objects(rule, ODRL.constraint))[:20])
    for duty in list(graph.objects(rule, ODRL.duty))[:20]:
        action = graph.value(duty, ODRL.action)
        if action == ODRL.delete:
            found["delete_at_end"] = True
        elif action == ODRL.anonymize:
            found["deidentified_only"] = True
        else:
            mapped = False
    return mapped


def policy_from_odrl(graph: Graph, dataset, *, remarks: str = "") -> dict | None:
    """The usage policy of a dataset's ODRL offer (`odrl:hasPolicy`), as this network's export writes it
    (its remarks: the offer's `rdfs:comment`, else `remarks`, the dataset's rights statement),
    validated by the standard (`policy_clean`). None when there is none, when a permission's constraint or
    duty is one the standard cannot hold, or when what maps is not a valid policy. An action, purpose or
    territory the standard does not know is left out (the policy reads narrower, never wider). The standard's
    constraints and duties hold for every permission alike: permissions with different ones give None."""
    offer = graph.value(dataset, ODRL.hasPolicy)
    if offer is None:
        return None
    permissions, prohibitions, conditions = [], [], []
    for rule in list(graph.objects(offer, ODRL.permission))[:40]:
        code = _code(graph.value(rule, ODRL.action), "usage-action")
        if code:
            permissions.append(code)
        found: dict = {}
        if not _read_permission(graph, rule, found):
            return None  # a condition the standard cannot hold: left out, the policy would read wider
        conditions.append({k: sorted(set(v)) if isinstance(v, list) else v for k, v in found.items()})
    if not conditions or any(c != conditions[0] for c in conditions):
        return None  # the standard's constraints hold for every permission alike
    for rule in list(graph.objects(offer, ODRL.prohibition))[:40]:
        code = _code(graph.value(rule, ODRL.action), "usage-action")
        if code:
            prohibitions.append(code)
    remarks = str(graph.value(offer, RDFS.comment) or "").strip() or remarks
    document = {
        "permissions": permissions,
        "prohibitions": prohibitions,
        "constraints": conditions[0],
        "remarks": remarks[: MAX_REMARKS - 1] + "…" if len(remarks) > MAX_REMARKS else remarks,
    }
    try:
        return policy_clean(document)
    except ValidationFailed:
        return None
