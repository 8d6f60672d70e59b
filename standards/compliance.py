"""Automatic compliance rules, run when a product is submitted for listing and when a peer's product arrives.

They read only the descriptor's own declarations (the six checklist items, the data level and dictionary of a
1.1 descriptor, delivery, sample), so every node
reaches the same findings for the same descriptor. A blocking finding keeps a product from being listed or
recognised; a warning is shown to the reviewer. The rules encode the Data Security Law, the Personal
Information Protection Law and the CAC data-export rules as they bear on a listing, not legal advice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["blocking", "warning"]
COMPLIANCE_RULES_VERSION = "1.1"

ITEMS = (
    "source_legality",
    "authorization",
    "personal_information",
    "important_data",
    "cross_border_transfer",
    "security_assessment",
)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    field: str
    message: str
    message_en: str


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    zh: str
    en: str


COMPLIANCE_RULES: tuple[Rule, ...] = (
    Rule("C1.source_legality", "blocking",
         "数据来源合法性须为“已通过”并附证明材料编号",
         "source legality must be passed, with an evidence reference"),
    Rule("C2.authorization", "blocking",
         "数据权属与授权须为“已通过”并附证明材料编号",
         "authorisation must be passed, with an evidence reference"),
    Rule("C3.personal_information", "blocking",
         "含个人信息的：经个人同意的须“已通过”并附同意证明；已去标识化的须“已通过”",
         "with_consent needs passed and a consent evidence reference; deidentified needs passed"),
    Rule("C4.important_data", "blocking",
         "重要数据（或声明涉及重要数据）的，安全评估须“已通过”并附证明材料编号",
         "important data requires a passed security assessment with an evidence reference"),
    Rule("C5.cross_border_transfer", "blocking",
         "涉及数据出境的，安全评估须“已通过”",
         "cross-border transfer requires a passed security assessment"),
    Rule("C6.involved_not_applicable", "blocking",
         "声明涉及重要数据或数据出境的，该项状态不能为“不适用”",
         "an item declared as involved cannot be not_applicable"),
    Rule("C7.item_failed", "blocking",
         "任一检查项为“未通过”的，不得上架",
         "any item with status failed blocks the listing"),
    Rule("C8.data_export_assessment", "warning",
         "同时涉及重要数据和数据出境的，须通过国家网信部门组织的数据出境安全评估",
         "important data leaving China needs the CAC data-export security assessment"),
    Rule("C9.item_pending", "warning",
         "检查项为“待确认”的，需在审核时补充确认",
         "an item with status pending must be confirmed during review"),
    Rule("C10.sample_missing", "warning",
         "未提供样例，需方难以评估数据质量",
         "no sample: buyers cannot judge the data before buying"),
    Rule("C11.offline_personal_information", "warning",
         "经个人同意的个人信息数据集采用线下交付的，难以留痕审计，建议改用数据沙箱/隐私计算",
         "offline delivery of a personal-information dataset is hard to audit; prefer the sandbox"),
    Rule("C12.assessment_evidence", "warning",
         "安全评估为“已通过”但未附证明材料编号",
         "the security assessment is passed but has no evidence reference"),
    Rule("C13.core_data", "blocking",
         "核心数据不得挂牌交易",
         "core data is never listed"),
    Rule("C14.important_data_delivery", "blocking",
         "重要数据仅可通过数据沙箱/隐私计算或接口调用交付",
         "important data may only be delivered by sandbox or api"),
    Rule("C15.important_data_cross_border", "blocking",
         "重要数据不得用于数据出境",
         "important data may not be transferred across the border"),
    Rule("C16.classification_contradiction", "blocking",
         "数据级别与“重要数据识别”的声明相矛盾",
         "the data level contradicts compliance.important_data.involved"),
    Rule("C17.personal_information_field", "blocking",
         "数据字典中标为个人信息的字段，与“不含个人信息”的声明相矛盾",
         "a field marked as personal information contradicts personal_information.category none"),
)  # fmt: skip

_RULES = {rule.code: rule for rule in COMPLIANCE_RULES}


def compliance_rules_as_json() -> dict:
    return {
        "version": COMPLIANCE_RULES_VERSION,
        "rules": [{"rule": r.code, "severity": r.severity, "zh": r.zh, "en": r.en} for r in COMPLIANCE_RULES],
    }


class _Descriptor:
    """Safe reads from a validated descriptor (and no crash on a half-valid one)."""

    def __init__(self, data: dict) -> None:
        self.data = data if isinstance(data, dict) else {}
        compliance = self.data.get("compliance")
        self.compliance = compliance if isinstance(compliance, dict) else {}

    def item(self, name: str) -> dict:
        item = self.compliance.get(name)
        return item if isinstance(item, dict) else {}

    def status(self, name: str) -> str | None:
        return self.item(name).get("status")

    def has_evidence(self, name: str) -> bool:
        evidence = self.item(name).get("evidence_ref")
        return isinstance(evidence, str) and bool(evidence.strip())

    def involved(self, name: str) -> bool:
        return self.item(name).get("involved") is True

    def level(self) -> str | None:
        """The declared data level (descriptor 1.1); None when the descriptor does not classify its data."""
        classification = self.data.get("classification")
        level = classification.get("level") if isinstance(classification, dict) else None
        return level if isinstance(level, str) else None

    def important(self) -> bool:
        """Important data: by the declared level, or, without one (descriptor 1.0), by `important_data`."""
        level = self.level()
        return level == "important" if level is not None else self.involved("important_data")


def _finding(code: str, field: str, message: str = "", message_en: str = "") -> Finding:
    rule = _RULES[code]
    return Finding(code, rule.severity, field, message or rule.zh, message_en or rule.en)


def _status_path(name: str) -> str:
    return f"compliance.{name}.status"


def _evidence_path(name: str) -> str:
    return f"compliance.{name}.evidence_ref"


def _passed_with_evidence(
    d: _Descriptor, item: str, code: str, *, evidence: bool = True
) -> Iterator[Finding]:
    """The common shape of C1–C5: the item must be passed (failed is left to C7), and maybe evidenced."""
    status = d.status(item)
    if status == "failed":
        return
    if status != "passed":
        yield _finding(code, _status_path(item))
    elif evidence and not d.has_evidence(item):
        yield _finding(code, _evidence_path(item))


def _c1(d: _Descriptor) -> Iterator[Finding]:
    yield from _passed_with_evidence(d, "source_legality", "C1.source_legality")


def _c2(d: _Descriptor) -> Iterator[Finding]:
    yield from _passed_with_evidence(d, "authorization", "C2.authorization")


def _c3(d: _Descriptor) -> Iterator[Finding]:
    category = d.item("personal_information").get("category")
    if category == "with_consent":
        yield from _passed_with_evidence(d, "personal_information", "C3.personal_information")
    elif category == "deidentified":
        yield from _passed_with_evidence(d, "personal_information", "C3.personal_information", evidence=False)


def _c4(d: _Descriptor) -> Iterator[Finding]:
    if d.important():
        yield from _passed_with_evidence(d, "security_assessment", "C4.important_data")


def _c5(d: _Descriptor) -> Iterator[Finding]:
    # With important data involved too, C4 already demands the same assessment (with evidence).
    if d.involved("cross_border_transfer") and not d.important():
        yield from _passed_with_evidence(d, "security_assessment", "C5.cross_border_transfer", evidence=False)


def _c6(d: _Descriptor) -> Iterator[Finding]:
    for item in ("important_data", "cross_border_transfer"):
        if d.involved(item) and d.status(item) == "not_applicable":
            yield _finding("C6.involved_not_applicable", _status_path(item))


def _c7(d: _Descriptor) -> Iterator[Finding]:
    for item in ITEMS:
        if d.status(item) == "failed":
            yield _finding("C7.item_failed", _status_path(item))


def _c8(d: _Descriptor) -> Iterator[Finding]:
    # With a declared level, C15 refuses important data leaving China outright.
    if d.level() is None and d.involved("important_data") and d.involved("cross_border_transfer"):
        yield _finding("C8.data_export_assessment", "compliance.cross_border_transfer.involved")


def _c9(d: _Descriptor, blocked: set[str]) -> Iterator[Finding]:
    for item in ITEMS:
        if d.status(item) == "pending" and _status_path(item) not in blocked:
            yield _finding("C9.item_pending", _status_path(item))


def _c10(d: _Descriptor) -> Iterator[Finding]:
    if not isinstance(d.data.get("sample"), dict):
        yield _finding("C10.sample_missing", "sample")


def _c11(d: _Descriptor) -> Iterator[Finding]:
    methods = d.data.get("delivery_methods")
    if (
        d.data.get("product_form") == "dataset"
        and d.item("personal_information").get("category") == "with_consent"
        and isinstance(methods, list)
        and "offline" in methods
    ):
        yield _finding("C11.offline_personal_information", "delivery_methods")


def _c12(d: _Descriptor, blocked: set[str]) -> Iterator[Finding]:
    path = _evidence_path("security_assessment")
    passed = d.status("security_assessment") == "passed"
    if passed and not d.has_evidence("security_assessment") and path not in blocked:
        yield _finding("C12.assessment_evidence", path)


def _c13(d: _Descriptor) -> Iterator[Finding]:
    if d.level() == "core":
        yield _finding("C13.core_data", "classification.level")


def _c14(d: _Descriptor) -> Iterator[Finding]:
    methods = d.data.get("delivery_methods")
    if d.level() == "important" and isinstance(methods, list):
        for index, method in enumerate(methods):
            if method not in ("sandbox", "api"):
                yield _finding("C14.important_data_delivery", f"delivery_methods.{index}")


def _c15(d: _Descriptor) -> Iterator[Finding]:
    if d.level() == "important" and d.involved("cross_border_transfer"):
        yield _finding("C15.important_data_cross_border", "compliance.cross_border_transfer.involved")


def _c16(d: _Descriptor) -> Iterator[Finding]:
    level = d.level()
    # Core data is refused by C13 whatever else it declares.
    if level in ("general", "important") and d.involved("important_data") != (level == "important"):
        yield _finding("C16.classification_contradiction", "classification.level")


def _c17(d: _Descriptor) -> Iterator[Finding]:
    fields = d.data.get("fields")
    if d.item("personal_information").get("category") != "none" or not isinstance(fields, list):
        return
    for index, field in enumerate(fields):
        if isinstance(field, dict) and field.get("personal_information") is True:
            yield _finding("C17.personal_information_field", f"fields.{index}.personal_information")


_BLOCKING: tuple[Callable[[_Descriptor], Iterator[Finding]], ...] = (
    _c1, _c2, _c3, _c4, _c5, _c6, _c7, _c13, _c14, _c15, _c16, _c17
)  # fmt: skip


def compliance_evaluate(descriptor: dict) -> list[Finding]:
    """Every finding for a validated descriptor, blocking rules first, each rule in table order."""
    d = _Descriptor(descriptor)
    findings = [finding for rule in _BLOCKING for finding in rule(d)]
    blocked = {finding.field for finding in findings}
    findings += _c8(d)
    findings += _c9(d, blocked)
    findings += _c10(d)
    findings += _c11(d)
    findings += _c12(d, blocked)
    return findings


def findings_blocking(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that stop a listing (and a recognition elsewhere)."""
    return [f for f in findings if f.severity == "blocking"]
