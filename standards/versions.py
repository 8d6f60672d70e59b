"""The network's standards and their versions (一套标准): one declarative registry, so that 24 exchanges can
tell that they enforce the same rules (docs/standards/versions.md).

Each standard has a code, a Chinese and an English title, its version (the standard's own constant) and a
`content` function giving its rules or data as JSON. Its `sha256` is the SHA-256 (hex) of the RFC 8785
canonical JSON of that content: two nodes announcing the same version with different content (a node whose
rules were edited without a version bump) are told apart by the hash. A node announces the compact map of
versions and one combined hash (`standards_announcement`); `standards_differences` compares an announcement
with this node's.

Adding a standard is one line in STANDARDS (and the import of its module): code, titles, version, content,
and — for a standard whose older versions a node still applies, like the descriptor — the versions it knows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rfc8785

from standards import participant_vocabularies
from standards.compliance import COMPLIANCE_RULES_VERSION, compliance_rules_as_json
from standards.deal_disputes import DISPUTE_RULES_VERSION, dispute_rules_as_json
from standards.deal_flow import DEAL_FLOW_VERSION, deal_flow_as_json
from standards.descriptor import DESCRIPTOR_VERSION, DESCRIPTOR_VERSIONS, descriptor_json_schema
from standards.naming import naming_rules_as_json
from standards.naming_terms import NAMING_RULES_VERSION
from standards.quality import VERSION as QUALITY_VERSION
from standards.quality import quality_as_json
from standards.recognition import (
    RECOGNITION_CHECK_VERSION,
    RECOGNITION_CHECK_VERSIONS,
    recognition_check_as_json,
)
from standards.terminology import DATA_PATH as GLOSSARY_PATH
from standards.terminology import glossary
from standards.usage_policy import POLICY_VERSION, policy_schema
from standards.vocabularies import VOCABULARIES_VERSION, vocabularies_as_json

# "1.0", "1.1", "2.0.3": numbers only, compared as numbers (1.10 is after 1.9).
VERSION_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,3})(\.(0|[1-9][0-9]{0,3})){1,2}$")
UNKNOWN_STANDARD = "unknown_standard"  # the refusal code (and quarantine reason) of an unknown version


@dataclass(frozen=True)
class Standard:
    code: str
    title_zh: str
    title_en: str
    version: str  # the newest version this node applies (and writes)
    content: Callable[[], Any] = field(repr=False, compare=False)
    known: tuple[str, ...] = ()  # every version this node applies; () means only `version`

    @property
    def versions_known(self) -> tuple[str, ...]:
        return self.known or (self.version,)


def _glossary_data() -> dict:
    return json.loads(GLOSSARY_PATH.read_text("utf-8"))


# The registry. One line per standard.
STANDARDS: tuple[Standard, ...] = (
    Standard("descriptor", "数据产品描述标准", "product descriptor", DESCRIPTOR_VERSION, descriptor_json_schema, DESCRIPTOR_VERSIONS),  # noqa: E501
    Standard("naming", "数据产品命名规则", "product naming rule", NAMING_RULES_VERSION, naming_rules_as_json),
    Standard("compliance", "合规审查要点", "compliance checklist", COMPLIANCE_RULES_VERSION, compliance_rules_as_json),  # noqa: E501
    Standard("vocabularies", "产品受控词表", "product vocabularies", VOCABULARIES_VERSION, vocabularies_as_json),  # noqa: E501
    Standard("participant_vocabularies", "参与方受控词表", "participant vocabularies", participant_vocabularies.PARTICIPANT_VOCABULARIES_VERSION, participant_vocabularies.as_json),  # noqa: E501
    Standard("usage_policy", "数据使用策略", "usage policy", POLICY_VERSION, policy_schema),
    Standard("deal_flow", "交易流程", "deal flow", DEAL_FLOW_VERSION, deal_flow_as_json),
    Standard("dispute_rules", "纠纷协调规则", "dispute coordination rules", DISPUTE_RULES_VERSION, dispute_rules_as_json),  # noqa: E501
    Standard("quality", "数据质量评估", "quality assessment", QUALITY_VERSION, quality_as_json),
    Standard("recognition", "互认自动核验", "automatic recognition check", RECOGNITION_CHECK_VERSION, recognition_check_as_json, RECOGNITION_CHECK_VERSIONS),  # noqa: E501
    Standard("glossary", "专业术语", "glossary", glossary().version, _glossary_data),
)  # fmt: skip


def content_sha256(content: Any) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of `content`."""
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


@dataclass(frozen=True)
class StandardState:
    """A standard as this node holds it: the declaration and the hash of its content."""

    standard: Standard
    sha256: str

    def as_json(self) -> dict:
        s = self.standard
        return {
            "code": s.code,
            "title": {"zh": s.title_zh, "en": s.title_en},
            "version": s.version,
            "versions_known": list(s.versions_known),
            "sha256": self.sha256,
        }


def standards_check(standards: tuple[Standard, ...]) -> list[str]:
    """What is wrong with a registry: duplicate codes, versions that are not semver-like, a newest version
    missing from the known ones."""
    problems = []
    codes = [s.code for s in standards]
    problems += [f"{code}: declared twice" for code in sorted({c for c in codes if codes.count(c) > 1})]
    for s in standards:
        for version in (s.version, *s.known):
            if not isinstance(version, str) or not VERSION_PATTERN.match(version):
                problems.append(f"{s.code}: version {version!r} is not MAJOR.MINOR[.PATCH]")
        if s.version not in s.versions_known:
            problems.append(f"{s.code}: version {s.version} is not among the versions it knows")
    return problems


@cache
def standards_all() -> tuple[StandardState, ...]:
    """Every standard of this node with its content's hash, computed once per process."""
    problems = standards_check(STANDARDS)
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(StandardState(s, content_sha256(s.content())) for s in STANDARDS)


def standard_get(code: str) -> StandardState | None:
    return next((state for state in standards_all() if state.standard.code == code), None)


def standard_knows(code: str, version: object) -> bool:
    """Whether this node applies version `version` of standard `code`."""
    state = standard_get(code)
    return state is not None and isinstance(version, str) and version in state.standard.versions_known


def combined_sha256(hashes: Mapping[str, str]) -> str:
    """The one hash of a set of standards: SHA-256 of the canonical JSON of {code: sha256}."""
    return content_sha256(dict(hashes))


@cache
def _announcement() -> tuple[tuple[tuple[str, str], ...], str]:
    states = standards_all()
    versions = tuple((state.standard.code, state.standard.version) for state in states)
    return versions, combined_sha256({state.standard.code: state.sha256 for state in states})


def standards_announcement() -> dict:
    """What a node tells its peers and clients: {"versions": {code: version}, "sha256": combined hash}."""
    versions, digest = _announcement()
    return {"versions": dict(versions), "sha256": digest}


def standards_forget() -> None:
    """Compute the hashes again at the next call (tests that change the registry)."""
    standards_all.cache_clear()
    _announcement.cache_clear()


def announcement_valid(value: object) -> bool:
    """Whether a peer's announcement (untrusted) has the announced shape, within bounds."""
    if not isinstance(value, dict) or set(value) != {"versions", "sha256"}:
        return False
    versions, digest = value["versions"], value["sha256"]
    return (
        isinstance(digest, str)
        and re.fullmatch(r"[0-9a-f]{64}", digest) is not None
        and isinstance(versions, dict)
        and len(versions) <= 100
        and all(
            isinstance(k, str)
            and re.fullmatch(r"[a-z][a-z0-9_]{0,39}", k)
            and isinstance(v, str)
            and len(v) <= 20
            for k, v in versions.items()
        )
    )


def standards_differences(theirs: Mapping, mine: Mapping | None = None) -> list[dict]:
    """How a peer's announcement differs from this node's: one row per standard whose version differs (or
    that one side lacks: version null), and, when every version agrees but the combined hash does not, one
    row with code "*" (same versions, different content). [] when they agree."""
    mine = standards_announcement() if mine is None else mine
    ours, other = mine["versions"], theirs["versions"]
    rows = [
        {"code": code, "mine": ours.get(code), "theirs": other.get(code)}
        for code in sorted({*ours, *other})
        if ours.get(code) != other.get(code)
    ]
    if not rows and theirs["sha256"] != mine["sha256"]:
        rows.append({"code": "*", "mine": mine["sha256"], "theirs": theirs["sha256"]})
    return rows
