"""The vocabularies of the usage policy standard (actions, purposes, territory words) with Chinese and English
labels, its size limits, how one territory lies within another, and the pieces of its JSON Schema. See
docs/standards/usage-policy.md."""

from __future__ import annotations

from standards.regions import region_contains, region_province
from standards.vocabularies import Term

ACTION = tuple(
    Term(*row)
    for row in (
        ("use", "使用", "Use"),
        ("analyse", "分析", "Analyse"),
        ("derive", "加工衍生", "Derive new data or products"),
        ("redistribute", "再分发", "Redistribute to third parties"),
        ("resell", "转售", "Resell"),
        ("train_model", "训练模型", "Train models"),
        ("link_with_other_data", "与其他数据融合关联", "Link with other data"),
    )
)
PURPOSE = tuple(
    Term(*row)
    for row in (
        ("research", "科学研究", "Research"),
        ("risk_control", "风险控制", "Risk control"),
        ("marketing", "营销推广", "Marketing"),
        ("credit_assessment", "信用评估", "Credit assessment"),
        ("public_service", "公共服务", "Public service"),
        ("product_development", "产品研发", "Product development"),
        ("internal_analysis", "内部经营分析", "Internal analysis"),
        ("model_training", "模型训练", "Model training"),
    )
)
# Territory codes besides GB/T 2260 region codes. "CN" includes Hong Kong, Macao and Taiwan; providing data
# there counts as a data export under the CAC rules, so a product that forbids export offers "CN-mainland".
CN, MAINLAND, CROSS_BORDER = "CN", "CN-mainland", "cross_border"
TERRITORY = tuple(
    Term(*row)
    for row in (
        (CN, "中国（含港澳台）", "China, including Hong Kong, Macao and Taiwan"),
        (MAINLAND, "中国大陆（境内）", "Mainland China"),
        (CROSS_BORDER, "境外（数据出境）", "Outside China (cross-border transfer)"),
    )
)
_OUTSIDE_MAINLAND = frozenset({"710000", "810000", "820000"})

ACTION_CODES = frozenset(t.code for t in ACTION)
PURPOSE_CODES = frozenset(t.code for t in PURPOSE)
TERRITORY_WORDS = frozenset(t.code for t in TERRITORY)

MAX_ACTIONS = 20  # room for duplicates, which are dropped
MAX_PURPOSES = 20
MAX_TERRITORIES = 50
MAX_DURATION_DAYS = 3650
MAX_USERS = 100_000
MAX_REMARKS = 500
TOP_KEYS = ("version", "permissions", "prohibitions", "constraints", "remarks")
CONSTRAINT_KEYS = ("purpose", "territory", "duration_days", "max_users", "delete_at_end", "deidentified_only")


def policy_vocabularies_as_json() -> dict:
    """The policy's three vocabularies with their Chinese and English labels."""
    return {
        name: [{"code": t.code, "zh": t.zh, "en": t.en} for t in terms]
        for name, terms in (("action", ACTION), ("purpose", PURPOSE), ("territory", TERRITORY))
    }


def territory_contains(outer: str, inner: str) -> bool:
    """True if territory `inner` lies within territory `outer` (each a territory code of the policy)."""
    if outer == inner:
        return True
    if CROSS_BORDER in (outer, inner) or inner == CN:
        return False
    if outer == CN:
        return True
    if outer == MAINLAND:
        province = region_province(inner)
        return inner != MAINLAND and province is not None and province.code not in _OUTSIDE_MAINLAND
    return inner not in TERRITORY_WORDS and region_contains(outer, inner)


# --- pieces of the JSON Schema (standards.usage_policy.policy_schema) ---------------------------------------


def titled(zh: str, en: str, schema: dict, about_zh: str = "", about_en: str = "") -> dict:
    node = {"title": f"{zh} / {en}", **schema}
    if about_zh:
        node["description"] = f"{about_zh} / {about_en}"
    return node


def choices(terms: tuple[Term, ...]) -> dict:
    """One code of a vocabulary, each code with its Chinese and English label."""
    return {"type": "string", "oneOf": [{"const": t.code, "title": f"{t.zh} / {t.en}"} for t in terms]}


def codes_schema(zh: str, en: str, items: dict, limit: int, *, required: bool) -> dict:
    schema = {"type": "array", "minItems": 1 if required else 0, "maxItems": limit, "items": items}
    return titled(zh, en, schema, "重复项会被去除", "duplicates are dropped")


def limit_schema(zh: str, en: str, high: int) -> dict:
    schema = {"type": ["integer", "null"], "minimum": 1, "maximum": high}
    return titled(zh, en, schema, "null 或缺省表示不限", "null or absent: no limit")
