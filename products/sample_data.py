"""Realistic, valid product descriptors, generated deterministically from a seed.

Used by the demo seed, the tests' factories and the benchmarks, so all three exercise the same standard.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from stdnum.cn import uscc

from standards.uscc import organisation_check_character

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# (region code, region name used in product names)
REGIONS = [
    ("310000", "上海市"),
    ("110000", "北京市"),
    ("440300", "深圳市"),
    ("520100", "贵阳市"),
    ("330100", "杭州市"),
    ("440100", "广州市"),
    ("320500", "苏州市"),
    ("420100", "武汉市"),
    ("370200", "青岛市"),
    ("500000", "重庆市"),
    ("350000", "福建省"),
    ("430000", "湖南省"),
    ("410100", "郑州市"),
    ("120000", "天津市"),
    ("460000", "海南省"),
]

# (content words, industry section, keywords)
TOPICS = [
    ("新能源汽车充电桩运行", "D", ["新能源汽车", "充电桩", "能源"]),
    ("企业信用评价", "L", ["企业信用", "风险评估", "征信"]),
    ("港口集装箱吞吐量", "G", ["港口", "集装箱", "物流"]),
    ("城市交通出行", "G", ["交通", "出行", "城市治理"]),
    ("气象观测", "M", ["气象", "观测", "降水"]),
    ("农产品价格监测", "A", ["农产品", "价格", "农业"]),
    ("医疗机构服务能力", "Q", ["医疗", "医院", "服务能力"]),
    ("工业互联网设备运行", "C", ["工业互联网", "设备", "制造业"]),
    ("商业零售消费趋势", "F", ["零售", "消费", "商圈"]),
    ("房地产交易", "K", ["房地产", "成交", "住房"]),
    ("金融市场舆情", "J", ["金融", "舆情", "市场"]),
    ("电力负荷", "D", ["电力", "负荷", "用电"]),
    ("旅游客流", "R", ["旅游", "客流", "景区"]),
    ("教育资源分布", "P", ["教育", "学校", "资源"]),
    ("环境空气质量", "N", ["空气质量", "环境", "污染"]),
    ("建筑工程项目", "E", ["建筑", "工程", "项目"]),
]

FORMS = {
    "dataset": "数据集",
    "api": "数据接口",
    "report": "分析报告",
    "model": "预测模型",
    "application": "应用",
    "service": "数据服务",
}

COMPANY_WORDS = [
    "数智",
    "云图",
    "海量",
    "星河",
    "天衡",
    "融信",
    "九章",
    "锦程",
    "华数",
    "通达",
    "远景",
    "博观",
]


def make_uscc(rng: random.Random, region: str = "310000") -> str:
    """A valid enterprise code (`91`) of `region`: a random organisation code body with its GB 11714 check
    character, then the GB 32100 check character. Draws nine characters from `rng` as it always has (the
    ninth is replaced by the organisation code's check character), so seeded data keeps its other values."""
    drawn = "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    body = "91" + region + drawn[:8] + organisation_check_character(drawn[:8])
    return body + uscc.calc_check_digit(body)


def descriptor(rng: random.Random) -> dict:
    """One valid descriptor. Each has its own random provider, so names never clash within a provider."""
    region_code, region_name = rng.choice(REGIONS)
    topic, industry, keywords = rng.choice(TOPICS)
    form = rng.choice(list(FORMS))
    company = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS)
    pmin = rng.choice([0, 500, 1000, 5000, 20000])
    return {
        "descriptor_version": "1.0",
        "name": f"{region_name}{topic}{FORMS[form]}",
        "summary": (
            f"{region_name}{topic}数据，覆盖{region_name}主要区域，按{rng.choice(['日', '月', '周'])}更新，"
            f"可用于{keywords[0]}分析、{keywords[1]}研究与决策支持。"
        ),
        "provider": {
            "name": f"{region_name[:2]}{company}数据科技有限公司",
            "uscc": make_uscc(rng, region_code),
        },
        "product_form": form,
        "industry": industry,
        "keywords": list(keywords),
        "data_source": {
            "type": rng.choice(["self_generated", "collected", "public_data_authorized"]),
            "description": f"来源于{region_name}{topic}相关业务系统的合法采集与自有积累。",
        },
        "spatial_coverage": [region_code],
        "temporal_coverage": {"start": f"{rng.randint(2015, 2022)}-01-01", "end": None},
        "update_frequency": rng.choice(["daily", "weekly", "monthly", "realtime"]),
        "delivery_methods": rng.sample(["api", "file", "sandbox"], k=rng.randint(1, 2)),
        "pricing": {
            "model": "subscription",
            "currency": "CNY",
            "min": pmin,
            "max": pmin + rng.choice([1000, 10000]),
        },
        "usage_restrictions": "仅限购买方内部使用，不得转售或向第三方提供。",
        "compliance": {
            "source_legality": {"status": "passed", "evidence_ref": f"LEGAL-{rng.randint(1000, 9999)}"},
            "authorization": {"status": "passed", "evidence_ref": f"AUTH-{rng.randint(1000, 9999)}"},
            "personal_information": {"category": "none", "status": "passed", "evidence_ref": None},
            "important_data": {"involved": False, "status": "not_applicable", "evidence_ref": None},
            "cross_border_transfer": {"involved": False, "status": "not_applicable", "evidence_ref": None},
            "security_assessment": {"status": "passed", "evidence_ref": f"SEC-{rng.randint(1000, 9999)}"},
        },
        "sample": {"description": "样例数据 10 条", "url": None, "records": []},
    }


def descriptors(count: int, *, seed: int = 1) -> Iterator[dict]:
    rng = random.Random(seed)
    for _ in range(count):
        yield descriptor(rng)
