"""`docs/standards/terminology.md`, written from the glossary itself (`scripts/terms_doc.py` writes it, a test
checks that the committed file is what this gives), so the document and the data cannot disagree."""

from __future__ import annotations

from standards.terminology import Glossary, GlossaryTerm

DOC_PATH = "docs/standards/terminology.md"

_PREAMBLE = """\
# Terminology (专业术语)

<!-- Generated from standards/data/terms.json by scripts/terms_doc.py: edit the data, then run
     `.venv/bin/python scripts/terms_doc.py`. tests/test_standards_terminology.py checks this file. -->

The glossary of the network's standards: each term with its Chinese and English name, its definition in both
languages, the laws, regulations, policies and national standards it comes from, and related terms. Every code
of every controlled vocabulary (product forms, delivery methods, update frequencies, pricing models, personal
information categories, compliance items and statuses, entity types, roles, business categories, services,
evaluation dimensions and grades, demand compliance requirements, industry sections, regions, deal states,
usage policy actions, purposes and territory words, dispute categories, states, outcomes and escalation
venues) links to the term that explains it ([Vocabulary codes](#vocabulary-codes)). A deal's delivery method
is a code of the descriptor's delivery methods. Where a national classification defines the
codes (GB/T 2260 regions, GB/T 4754 industry sections) or the codes are a scale (evaluation grades), the whole
vocabulary links to the term of that classification.

A definition citing an article follows that article's wording closely; others summarise the cited sources as
they bear on this network. A term citing this network's standards is defined by the network (its meaning in
the product descriptor, participant, demand, usage policy, transaction flow or dispute coordination
standard). Nothing here is legal advice.

## Where it lives

- the data, versioned with the code: `standards/data/terms.json`;
- loading and rules: `standards/terminology.py`, `standards/terminology_rules.py` (read once per process, when
  the API app starts; a file that breaks a rule stops the process, every broken rule listed);
- search: `standards/terminology_search.py`;
- API, anonymous ([api.md](../api.md)): `GET /api/v1/standards/terms/` (`?q=`, `page`, `page_size`; each
  page also gives the glossary's `version` and `sha256`) and `GET /api/v1/standards/terms/{id}/`;
- `GET /api/v1/standards/vocabularies/` and `/participant-vocabularies/` give each code's `term` (its id).

Rules of the file: term ids are lowercase slugs and never change once published (the vocabularies' responses
and clients refer to them); ids, Chinese names and English names are unique; every term has both
definitions and cites at least one source of the file's source list; related terms exist; every vocabulary
code links to exactly one term, and a code without a term is refused. The glossary's hash is the SHA-256 of
the file's JSON in its RFC 8785 canonical form, so two nodes with the same hash serve the same glossary.

Search (`?q=`) segments Chinese as product search does (jieba): 出境 finds 数据出境. A term matches when it
holds every word of the query (in its names, aliases or definitions) or its name contains the query; when no
term does, terms holding any word match. Best first: the query equal to a name, alias or id; then a name
containing it; then by the words found (a word in a name counts five times one in a definition).
"""


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


def _sources(current: Glossary) -> list[str]:
    lines = ["## Sources", "", "| id | source | issuer | year |", "|---|---|---|---|"]
    for source in current.sources:
        year = str(source.year) if source.year is not None else "—"
        lines.append(
            f"| `{source.id}` | {_esc(source.zh)}<br>{_esc(source.en)} | "
            f"{_esc(source.issuer_zh)}<br>{_esc(source.issuer_en)} | {year} |"
        )
    return [*lines, ""]


def _term(term: GlossaryTerm, current: Glossary) -> list[str]:
    lines = [f'<a id="{term.id}"></a>', f"### {term.zh} — {term.en}", "", f"`{term.id}`", ""]
    if term.aliases_zh or term.aliases_en:
        lines += [f"Also: {'、'.join(term.aliases_zh + term.aliases_en)}", ""]
    lines += [term.definition_zh, "", term.definition_en, ""]
    cited = []
    for cite in term.citations:
        where = f" {cite.provision_zh} / {cite.provision_en}" if cite.provision_zh else ""
        cited.append(f"{cite.source.zh}{where}")
    lines += [f"Sources: {'；'.join(cited)}", ""]
    if term.related:
        links = ", ".join(f"[{current.by_id[other].zh}](#{other})" for other in term.related)
        lines += [f"Related: {links}", ""]
    codes = [f"`{name}.{code}`" for name, code in term.codes] + [
        f"every `{name}` code" for name in term.vocabularies
    ]
    if codes:
        lines += [f"Codes: {', '.join(codes)}", ""]
    return lines


def _codes(current: Glossary) -> list[str]:
    lines = [
        '<a id="vocabulary-codes"></a>',
        "## Vocabulary codes",
        "",
        "| vocabulary | code | term |",
        "|---|---|---|",
    ]
    for name in sorted(current.vocabulary_codes):
        if name in current.by_vocabulary:
            term = current.by_id[current.by_vocabulary[name]]
            lines.append(f"| `{name}` | every code | [{term.zh} — {term.en}](#{term.id}) |")
            continue
        for code in sorted(current.vocabulary_codes[name]):
            term = current.by_id[current.by_code[name, code]]
            lines.append(f"| `{name}` | `{code}` | [{term.zh} — {term.en}](#{term.id}) |")
    return [*lines, ""]


def terminology_markdown(current: Glossary) -> str:
    """The whole document for a glossary."""
    lines = [
        _PREAMBLE,
        f"Glossary version **{current.version}**, {len(current.terms)} terms, SHA-256 `{current.sha256}`.",
        "",
    ]
    lines += _sources(current)
    lines += ["## Terms", ""]
    for term in current.terms:
        lines += _term(term, current)
    lines += _codes(current)
    return "\n".join(lines).rstrip("\n") + "\n"
