"""The product descriptor standard v1 as a JSON Schema (draft 2020-12): the document every node publishes at
`GET /api/v1/standards/product-descriptor/` and validates descriptors against, with the compiled validators.
Each field carries its Chinese and English title; the vocabularies are the standard's own
(`standards.vocabularies`). One schema serves every 1.x version: the fields a minor version added are refused
in a descriptor that declares an older one (`if`/`then` on `descriptor_version`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from standards.uscc import PATTERN as USCC_PATTERN
from standards.vocabularies import VOCABULARIES

DESCRIPTOR_VERSION = "1.1"  # the newest version this node knows
DESCRIPTOR_VERSIONS = ("1.0", "1.1")
# The fields each version added; a descriptor declaring an older version may not carry them.
ADDED_IN = {"1.1": ("fields", "classification")}
SCHEMA_ID = f"https://registry.invalid/standards/product-descriptor/{DESCRIPTOR_VERSION}"

MAX_PRICE = 10**10
# Anything beyond these is garbage: a descriptor is at most 4 levels deep (sample records aside), its longest
# list has 50 items, its widest object (a sample record) 50 fields.
MAX_NESTING = 32
MAX_CONTAINER_SIZE = 1000
MAX_VALUES = 20_000
MAX_RECORD_NESTING = 5
MAX_UNKNOWN_FIELDS_REPORTED = 20
MAX_FIELDS = 500  # data dictionary entries
MAX_CODES = 1000  # an inline code list; a longer one is referenced by its standard's name

# A field that may not appear. Not `false`: jsonschema reports a `false` subschema without its path.
FORBIDDEN = {"not": {}}

FIELD_NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_]{0,63}$"

DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
REGION_PATTERN = "^[0-9]{6}$"
URL_PATTERN = "^https://[^\\s/?#]+[^\\s]*$"


# --- the schema ------------------------------------------------------------------------------------------


def _field(zh: str, en: str, schema: dict, about_zh: str = "", about_en: str = "") -> dict:
    node = {"title": f"{zh} / {en}", **schema}
    if about_zh:
        node["description"] = f"{about_zh} / {about_en}"
    return node


def _text(
    zh: str, en: str, min_length: int, max_length: int, *, nullable: bool = False, **extra: Any
) -> dict:
    kind: str | list[str] = ["string", "null"] if nullable else "string"
    return _field(zh, en, {"type": kind, "minLength": min_length, "maxLength": max_length}, **extra)


def _choice(zh: str, en: str, vocabulary: str, **extra: Any) -> dict:
    codes = [term.code for term in VOCABULARIES[vocabulary]]
    return _field(zh, en, {"type": "string", "enum": codes}, **extra)


def _object(zh: str, en: str, properties: dict, *, optional: Iterable[str] = (), **extra: Any) -> dict:
    required = [name for name in properties if name not in set(optional)]
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return _field(zh, en, schema, **extra)


def _price(zh: str, en: str) -> dict:
    return _field(
        zh,
        en,
        {"type": "number", "minimum": 0, "maximum": MAX_PRICE},
        "人民币元，最多两位小数",
        "yuan, at most 2 decimals",
    )


def _status() -> dict:
    return _choice("状态", "status", "compliance_status")


def _evidence() -> dict:
    return _text(
        "证明材料编号",
        "evidence reference",
        0,
        200,
        nullable=True,
        about_zh="合规证明文件的编号，如 SHDEX-LEGAL-2024-0137",
        about_en="reference of the supporting document, e.g. SHDEX-LEGAL-2024-0137",
    )


def _item(zh: str, en: str, **first: dict) -> dict:
    return _object(zh, en, {**first, "status": _status(), "evidence_ref": _evidence()})


def _involved() -> dict:
    return _field("是否涉及", "involved", {"type": "boolean"})


def _code_list() -> dict:
    entry = _object(
        "代码项",
        "code",
        {"code": _text("代码", "code", 1, 64), "label": _text("代码名称", "code label", 1, 100)},
    )
    node = _object(
        "代码表",
        "code list",
        {
            "codes": _field(
                "代码列表", "codes", {"type": "array", "minItems": 1, "maxItems": MAX_CODES, "items": entry}
            ),
            "standard": _text(
                "标准代码表",
                "standard code list",
                1,
                100,
                about_zh="所引用的标准代码表名称，如 GB/T 2261.1-2003",
                about_en="the name of the standard code list referred to, e.g. GB/T 2261.1-2003",
            ),
        },
        optional=("codes", "standard"),
        about_zh="codes（内联代码列表，代码不重复）与 standard（标准代码表）二选一",
        about_en="either codes (an inline list, codes unique) or standard (a named standard code list)",
    )
    return {**node, "minProperties": 1, "maxProperties": 1}


def _dictionary_field() -> dict:
    node = _object(
        "字段",
        "field",
        {
            "name": _field(
                "字段名",
                "field name",
                {"type": "string", "pattern": FIELD_NAME_PATTERN},
                "字母开头，仅含字母、数字和下划线，最多64个字符；不区分大小写不得重复",
                "a letter, then letters, digits or underscores, at most 64 characters; unique ignoring case",
            ),
            "label": _text("中文名称", "Chinese label", 1, 50),
            "type": _choice("字段类型", "field type", "field_type"),
            "code_list": _code_list(),
            "unit": _text("计量单位", "unit", 1, 20),
            "nullable": _field("可为空", "nullable", {"type": "boolean"}),
            "description": _text("字段说明", "field description", 0, 500),
            "personal_information": _field("是否个人信息", "personal information", {"type": "boolean"}),
        },
        optional=("code_list", "unit", "nullable", "description", "personal_information"),
    )
    node["if"] = {"properties": {"type": {"const": "code"}}, "required": ["type"]}
    node["then"] = {"required": ["code_list"]}
    node["else"] = {"properties": {"code_list": FORBIDDEN}}
    return node


def _dictionary() -> dict:
    return _field(
        "数据字典",
        "data dictionary",
        {"type": "array", "minItems": 1, "maxItems": MAX_FIELDS, "items": _dictionary_field()},
        "描述标准 1.1 起；字段名不得重复",
        "from descriptor 1.1; field names are unique",
    )


def _classification() -> dict:
    return _object(
        "数据分类分级",
        "data classification",
        {"level": _choice("数据级别", "data level", "data_level")},
        about_zh="描述标准 1.1 起",
        about_en="from descriptor 1.1",
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _older_versions_refuse_newer_fields() -> list[dict]:
    rules = []
    for added_in, names in ADDED_IN.items():
        older = [v for v in DESCRIPTOR_VERSIONS if _version_key(v) < _version_key(added_in)]
        rules.append(
            {
                "if": {
                    "properties": {"descriptor_version": {"enum": older}},
                    "required": ["descriptor_version"],
                },
                "then": {"properties": dict.fromkeys(names, FORBIDDEN)},
            }
        )
    return rules


@cache
def schema() -> dict:
    properties = {
        "descriptor_version": _field(
            "描述标准版本", "descriptor version", {"type": "string", "enum": list(DESCRIPTOR_VERSIONS)}
        ),
        "name": _text(
            "产品名称", "name", 1, 60, about_zh="须符合产品命名规则", about_en="must follow the naming rule"
        ),
        "summary": _text("产品简介", "summary", 10, 2000),
        "provider": _object(
            "数据提供方",
            "provider",
            {
                "name": _text("提供方名称", "provider name", 2, 100),
                "uscc": _field(
                    "统一社会信用代码",
                    "unified social credit code",
                    {"type": "string", "pattern": USCC_PATTERN},
                    "18位，GB 32100-2015，含校验位；第9–17位为 GB 11714 组织机构代码，含其校验码",
                    "18 characters per GB 32100-2015, with check character; characters 9–17 are a GB 11714 "
                    "organisation code, with its own check character",
                ),
            },
        ),
        "product_form": _choice("产品形态", "product form", "product_form"),
        "industry": _choice(
            "行业门类", "industry", "industry", about_zh="GB/T 4754-2017 门类", about_en="section"
        ),
        "keywords": _field(
            "关键词",
            "keywords",
            {"type": "array", "minItems": 1, "maxItems": 10, "items": _text("关键词", "keyword", 1, 20)},
        ),
        "data_source": _object(
            "数据来源",
            "data source",
            {
                "type": _choice("来源类型", "source type", "data_source_type"),
                "description": _text("来源说明", "source description", 1, 1000),
            },
        ),
        "spatial_coverage": _field(
            "覆盖地域",
            "spatial coverage",
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": _field(
                    "行政区划代码",
                    "region code",
                    {"type": "string", "pattern": REGION_PATTERN},
                    "GB/T 2260 代码，100000 表示全国",
                    "GB/T 2260 code, 100000 for nationwide",
                ),
            },
        ),
        "temporal_coverage": _object(
            "时间范围",
            "temporal coverage",
            {
                "start": _field("开始日期", "start date", {"type": "string", "pattern": DATE_PATTERN}),
                "end": _field(
                    "结束日期",
                    "end date",
                    {"type": ["string", "null"], "pattern": DATE_PATTERN},
                    "null 表示持续更新",
                    "null while ongoing",
                ),
            },
        ),
        "update_frequency": _choice("更新频率", "update frequency", "update_frequency"),
        "delivery_methods": _field(
            "交付方式",
            "delivery methods",
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "uniqueItems": True,
                "items": _choice("交付方式", "delivery method", "delivery_method"),
            },
        ),
        "pricing": _object(
            "价格",
            "pricing",
            {
                "model": _choice("计价方式", "pricing model", "pricing_model"),
                "currency": _field("币种", "currency", {"type": "string", "const": "CNY"}),
                "min": _price("最低价格", "minimum price"),
                "max": _price("最高价格", "maximum price"),
            },
        ),
        "usage_restrictions": _text("使用限制", "usage restrictions", 0, 2000),
        "compliance": _object(
            "合规信息",
            "compliance",
            {
                "source_legality": _item("数据来源合法性", "source legality"),
                "authorization": _item("数据权属与授权", "authorization"),
                "personal_information": _item(
                    "个人信息保护",
                    "personal information",
                    category=_choice("个人信息类别", "category", "personal_information"),
                ),
                "important_data": _item("重要数据", "important data", involved=_involved()),
                "cross_border_transfer": _item("数据出境", "cross-border transfer", involved=_involved()),
                "security_assessment": _item("安全评估", "security assessment"),
            },
        ),
        "sample": _object(
            "样例",
            "sample",
            {
                "description": _text("样例说明", "sample description", 1, 1000),
                "url": _field(
                    "样例地址",
                    "sample URL",
                    {"type": ["string", "null"], "maxLength": 2000, "pattern": URL_PATTERN},
                ),
                "records": _field(
                    "样例记录",
                    "sample records",
                    {
                        "type": "array",
                        "maxItems": 5,
                        "items": _field("样例记录", "sample record", {"type": "object", "maxProperties": 50}),
                    },
                ),
            },
            optional=("url", "records"),
        ),
        "fields": _dictionary(),
        "classification": _classification(),
    }
    root = _object(
        "数据产品描述",
        "product descriptor",
        properties,
        optional=("usage_restrictions", "sample", "fields", "classification"),
        about_zh="数据交易机构互认互通：统一数据产品描述标准 v1",
        about_en="Data Exchange Mutual Recognition Initiative: common product descriptor standard v1",
    )
    root["allOf"] = _older_versions_refuse_newer_fields()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **root}


def descriptor_json_schema() -> dict:
    """The JSON Schema served at `GET /api/v1/standards/product-descriptor/` (a copy callers may mutate)."""
    return copy.deepcopy(schema())


@cache
def fast_validator():
    return fastjsonschema.compile(schema(), use_formats=False)


@cache
def full_validator() -> Draft202012Validator:
    return Draft202012Validator(schema())
