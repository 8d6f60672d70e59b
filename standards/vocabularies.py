"""Controlled vocabularies of the product descriptor standard.

Every node validates against the same codes, so a listing made at one exchange means the same thing at all 24.
Codes are stable identifiers (they travel between nodes and sit in databases); labels may be reworded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from standards.regions import regions_all

VOCABULARIES_VERSION = "1.1"


@dataclass(frozen=True)
class Term:
    code: str
    zh: str
    en: str


def _terms(*rows: tuple[str, str, str]) -> tuple[Term, ...]:
    return tuple(Term(*row) for row in rows)


PRODUCT_FORM = _terms(
    ("dataset", "数据集", "Dataset"),
    ("api", "数据接口", "Data API"),
    ("report", "数据报告", "Data report"),
    ("model", "数据模型", "Data model"),
    ("application", "数据应用", "Data application"),
    ("service", "数据服务", "Data service"),
)

# GB/T 4754-2017 国民经济行业分类, sections (门类) A–T.
INDUSTRY = _terms(
    ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    ("B", "采矿业", "Mining"),
    ("C", "制造业", "Manufacturing"),
    ("D", "电力、热力、燃气及水生产和供应业", "Production and supply of electricity, heat, gas and water"),
    ("E", "建筑业", "Construction"),
    ("F", "批发和零售业", "Wholesale and retail trade"),
    ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services"),
    ("H", "住宿和餐饮业", "Accommodation and catering"),
    (
        "I",
        "信息传输、软件和信息技术服务业",
        "Information transmission, software and information technology services",
    ),
    ("J", "金融业", "Finance"),
    ("K", "房地产业", "Real estate"),
    ("L", "租赁和商务服务业", "Leasing and business services"),
    ("M", "科学研究和技术服务业", "Scientific research and technical services"),
    ("N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management"),
    ("O", "居民服务、修理和其他服务业", "Resident services, repair and other services"),
    ("P", "教育", "Education"),
    ("Q", "卫生和社会工作", "Health and social work"),
    ("R", "文化、体育和娱乐业", "Culture, sports and entertainment"),
    ("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organizations"),
    ("T", "国际组织", "International organizations"),
)

DATA_SOURCE_TYPE = _terms(
    ("self_generated", "自有数据", "Generated in the provider's own operations"),
    ("collected", "合法采集", "Lawfully collected"),
    ("public_data_authorized", "公共数据授权运营", "Public data under authorised operation"),
    ("third_party_purchased", "第三方采购", "Purchased from a third party"),
    ("user_authorized", "个人授权", "Authorised by the individuals concerned"),
    ("derived", "加工衍生", "Derived by processing other data"),
)

UPDATE_FREQUENCY = _terms(
    ("realtime", "实时", "Real time"),
    ("hourly", "每小时", "Hourly"),
    ("daily", "每日", "Daily"),
    ("weekly", "每周", "Weekly"),
    ("monthly", "每月", "Monthly"),
    ("quarterly", "每季度", "Quarterly"),
    ("yearly", "每年", "Yearly"),
    ("irregular", "不定期", "Irregular"),
    ("one_off", "一次性", "One-off"),
)

DELIVERY_METHOD = _terms(
    ("api", "接口调用", "API"),
    ("file", "文件交付", "File transfer"),
    ("sandbox", "数据沙箱/隐私计算", "Data sandbox / privacy-preserving computation"),
    ("offline", "线下交付", "Offline delivery"),
)

PRICING_MODEL = _terms(
    ("one_time", "一次性买断", "One-time purchase"),
    ("subscription", "订阅", "Subscription"),
    ("per_call", "按次计费", "Per call"),
    ("per_record", "按条计费", "Per record"),
    ("negotiable", "协商定价", "Negotiable"),
    ("free", "免费", "Free"),
)

PERSONAL_INFORMATION = _terms(
    ("none", "不含个人信息", "No personal information"),
    ("deidentified", "已去标识化", "De-identified personal information"),
    ("with_consent", "经个人同意", "Personal information with the individuals' consent"),
)

COMPLIANCE_STATUS = _terms(
    ("passed", "已通过", "Passed"),
    ("pending", "待确认", "Pending"),
    ("failed", "未通过", "Failed"),
    ("not_applicable", "不适用", "Not applicable"),
)

COMPLIANCE_ITEM = _terms(
    ("source_legality", "数据来源合法性", "Lawful data source"),
    ("authorization", "数据权属与授权", "Ownership and authorisation"),
    ("personal_information", "个人信息保护", "Personal information protection"),
    ("important_data", "重要数据识别", "Important data"),
    ("cross_border_transfer", "数据出境", "Cross-border data transfer"),
    ("security_assessment", "安全评估", "Security assessment"),
)

# Descriptor 1.1: the data dictionary's field types (数据字典字段类型).
FIELD_TYPE = _terms(
    ("string", "字符串", "String"),
    ("integer", "整数", "Integer"),
    ("decimal", "小数", "Decimal number"),
    ("boolean", "布尔值", "Boolean"),
    ("date", "日期", "Date"),
    ("datetime", "日期时间", "Date and time"),
    ("code", "代码", "Code from a code list"),
    ("geo", "地理位置", "Geographic location"),
)

# Descriptor 1.1: the data's level (数据分类分级), Data Security Law art. 21.
DATA_LEVEL = _terms(
    ("general", "一般数据", "General data"),
    ("important", "重要数据", "Important data"),
    ("core", "核心数据", "Core data"),
)

VOCABULARY_TITLES: dict[str, tuple[str, str]] = {
    "product_form": ("产品形态", "Product form"),
    "industry": ("行业门类（GB/T 4754-2017）", "Industry section (GB/T 4754-2017)"),
    "data_source_type": ("数据来源类型", "Data source type"),
    "update_frequency": ("更新频率", "Update frequency"),
    "delivery_method": ("交付方式", "Delivery method"),
    "pricing_model": ("计价方式", "Pricing model"),
    "personal_information": ("个人信息类别", "Personal information category"),
    "compliance_status": ("合规状态", "Compliance status"),
    "compliance_item": ("合规检查项", "Compliance checklist item"),
    "region": ("行政区划（GB/T 2260）", "Administrative division (GB/T 2260)"),
    "field_type": ("字段类型", "Field type"),
    "data_level": ("数据级别", "Data level"),
}


def _region_terms() -> tuple[Term, ...]:
    # Prefecture-level units carry no English name in the table; the Chinese name stands in.
    return tuple(Term(r.code, r.name_zh, r.name_en or r.name_zh) for r in regions_all())


VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "product_form": PRODUCT_FORM,
    "industry": INDUSTRY,
    "data_source_type": DATA_SOURCE_TYPE,
    "update_frequency": UPDATE_FREQUENCY,
    "delivery_method": DELIVERY_METHOD,
    "pricing_model": PRICING_MODEL,
    "personal_information": PERSONAL_INFORMATION,
    "compliance_status": COMPLIANCE_STATUS,
    "compliance_item": COMPLIANCE_ITEM,
    "region": _region_terms(),
    "field_type": FIELD_TYPE,
    "data_level": DATA_LEVEL,
}


@cache
def _codes(name: str) -> frozenset[str]:
    return frozenset(term.code for term in VOCABULARIES[name])


@cache
def _by_code(name: str) -> dict[str, Term]:
    return {term.code: term for term in VOCABULARIES[name]}


def vocabulary_codes(name: str) -> frozenset[str]:
    """The codes of a vocabulary; KeyError for an unknown vocabulary name (a programming error)."""
    return _codes(name)


def vocabulary_label(name: str, code: object) -> Term | None:
    """The term for a code, or None if the code is not in the vocabulary."""
    if not isinstance(code, str):
        return None
    return _by_code(name).get(code)


def vocabularies_as_json() -> dict:
    """What `GET /api/v1/standards/vocabularies/` serves; the shape is documented in product-descriptor.md."""
    return {
        "version": VOCABULARIES_VERSION,
        "vocabularies": {
            name: {
                "title": {"zh": VOCABULARY_TITLES[name][0], "en": VOCABULARY_TITLES[name][1]},
                "terms": [{"code": t.code, "zh": t.zh, "en": t.en} for t in terms],
            }
            for name, terms in VOCABULARIES.items()
        },
    }
