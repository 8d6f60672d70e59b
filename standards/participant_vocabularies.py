"""Controlled vocabularies of the participant standard: entity types, roles, business categories, services,
evaluation dimensions and the grade scale. Codes travel between nodes; labels may be reworded."""

from __future__ import annotations

from standards.vocabularies import Term

PARTICIPANT_VOCABULARIES_VERSION = "1.0"


def _terms(*rows: tuple[str, str, str]) -> tuple[Term, ...]:
    return tuple(Term(*row) for row in rows)


ENTITY_TYPE = _terms(
    ("enterprise", "企业", "Enterprise"),
    ("individual_business", "个体工商户", "Individual business"),
    ("public_institution", "事业单位", "Public institution"),
    ("social_organization", "社会组织", "Social organisation"),
    ("government_agency", "机关", "Government agency"),
    ("other", "其他", "Other"),
)

ROLE = _terms(
    ("data_merchant", "数商", "Data merchant"),
    ("demander", "需求方", "Demander"),
    ("service_provider", "第三方专业服务机构", "Third-party professional service provider"),
)

# 数商 business categories (the initiative's 数商 typology).
BUSINESS_CATEGORY = _terms(
    ("data_products", "数据产品供应", "Data products"),
    ("data_technology", "数据技术服务", "Data technology services"),
    ("data_circulation", "数据流通服务", "Data circulation services"),
    ("data_security", "数据安全服务", "Data security"),
    ("platform_operation", "平台运营", "Platform operation"),
    ("data_processing", "数据加工处理", "Data processing"),
    ("data_consulting", "数据咨询", "Data consulting"),
)

SERVICE = _terms(
    ("compliance_assessment", "合规评估", "Compliance assessment"),
    ("quality_assessment", "质量评估", "Quality assessment"),
    ("security_assessment", "安全评估", "Security assessment"),
    ("asset_valuation", "资产评估", "Asset valuation"),
    ("legal", "法律服务", "Legal services"),
    ("audit", "审计", "Audit"),
    ("credit_rating", "信用评级", "Credit rating"),
    ("delivery_privacy_computing", "交付与隐私计算", "Delivery and privacy computing"),
    ("brokerage", "数据经纪", "Brokerage"),
    ("consulting", "咨询", "Consulting"),
)

DIMENSION = _terms(
    ("credit", "信用", "Credit"),
    ("compliance", "合规", "Compliance"),
    ("data_quality", "数据质量能力", "Data quality capability"),
    ("security", "安全能力", "Security capability"),
    ("service", "服务能力", "Service capability"),
)

# Which third-party services may issue an evaluation of each dimension. Exchange operators issue any.
DIMENSION_SERVICES: dict[str, frozenset[str]] = {
    "credit": frozenset({"credit_rating", "audit"}),
    "compliance": frozenset({"compliance_assessment", "legal"}),
    "data_quality": frozenset({"quality_assessment"}),
    "security": frozenset({"security_assessment", "delivery_privacy_computing"}),
    "service": frozenset({"consulting", "brokerage", "quality_assessment"}),
}

# The grade scale: a score from 0 to 100 and the grade it maps to (lower bound inclusive).
GRADES: tuple[tuple[int, str, str, str], ...] = (
    (90, "AAA", "优秀", "Excellent"),
    (80, "AA", "良好", "Good"),
    (70, "A", "较好", "Fair"),
    (60, "B", "合格", "Adequate"),
    (0, "C", "不合格", "Inadequate"),
)


def grade_for(score: int) -> str:
    for floor, grade, _, _ in GRADES:
        if score >= floor:
            return grade
    return GRADES[-1][1]


def codes(terms: tuple[Term, ...]) -> frozenset[str]:
    return frozenset(t.code for t in terms)


def as_json() -> dict:
    def rows(terms):
        return [{"code": t.code, "zh": t.zh, "en": t.en} for t in terms]

    return {
        "version": PARTICIPANT_VOCABULARIES_VERSION,
        "entity_type": rows(ENTITY_TYPE),
        "role": rows(ROLE),
        "business_category": rows(BUSINESS_CATEGORY),
        "service": rows(SERVICE),
        "evaluation_dimension": rows(DIMENSION),
        "dimension_services": {k: sorted(v) for k, v in DIMENSION_SERVICES.items()},
        "grade_scale": [{"grade": g, "min_score": floor, "zh": zh, "en": en} for floor, g, zh, en in GRADES],
    }
