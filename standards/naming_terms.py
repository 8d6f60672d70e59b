"""The naming rule's tables (naming rule v1.1, `standards.naming`): the rules themselves as published, the
form words of each product form, and the absolute terms the Advertising Law (《广告法》第九条) forbids with
the established phrases exempt from it. How a name is read before the terms are matched: `naming_match`,
with the variant characters of `naming_variants`."""

from __future__ import annotations

# 1.1: terms, exempt phrases and duplicates are matched on a name's reading (spaces, punctuation, width, case
# and variant characters ignored); unassigned, private-use and surrogate code points break N2.
NAMING_RULES_VERSION = "1.1"
MIN_LENGTH, MAX_LENGTH = 6, 40
# Matching takes the longest word that ends a name; the first word of a form is the one a suggestion appends.
FORM_WORDS: dict[str, tuple[str, ...]] = {
    "dataset": ("数据集", "数据库", "数据"),
    "api": ("数据接口", "数据服务接口", "查询接口", "接口", "API"),
    "report": ("分析报告", "研究报告", "白皮书", "蓝皮书", "报告", "指数"),
    "model": ("算法模型", "模型"),
    "application": ("数据应用", "应用", "系统", "平台", "工具", "软件"),
    "service": ("数据服务", "解决方案", "服务"),
}

# Absolute and superlative terms (《广告法》第九条第三项 and the terms regulators cite with it).
FORBIDDEN_TERMS: tuple[str, ...] = (
    "最佳", "最优", "最好", "最新", "最全", "最大", "最高", "最低", "最强", "最先进", "最便宜",
    "最权威", "最精准", "最",
    "第一", "唯一", "独一无二", "国家级", "世界级", "全球级", "宇宙级", "顶级", "顶尖", "极品", "极致",
    "首个", "首家", "首选", "首发", "独家", "绝对", "万能", "全网", "100%", "百分之百", "百分百", "王牌",
    "领袖", "史无前例", "前无古人", "无敌", "永久", "NO.1", "NO1", "TOP1",
)  # fmt: skip

# Established names that contain a forbidden term without boasting: they are not reported.
EXEMPT_PHRASES: tuple[str, ...] = (
    "最低工资", "最低生活保障", "最高人民法院", "最高人民检察院", "最惠国", "第一产业", "第一季度",
    "第一次", "唯一标识", "绝对湿度", "绝对值", "永久基本农田", "顶级域名", "国家级自然保护区",
    "国家级新区", "国家级高新区", "国家级经济技术开发区", "国家级开发区", "国家级非物质文化遗产",
)  # fmt: skip

NAMING_RULES: tuple[dict[str, str], ...] = (
    {"rule": "N1", "code": "naming.length", "severity": "error",
     "zh": f"名称长度为{MIN_LENGTH}至{MAX_LENGTH}个字符（去除首尾空格后）",
     "en": f"{MIN_LENGTH} to {MAX_LENGTH} characters after trimming"},
    {"rule": "N2", "code": "naming.characters", "severity": "error",
     "zh": "只能使用汉字、英文字母、数字及（）()·-—_和中间的空格；首尾不得有空格；"
           "不得含未分配、私用或代理码位",
     "en": "only CJK characters, ASCII letters and digits, （）()·-—_ and inner spaces; no outer spaces; "
           "no unassigned, private-use or surrogate code points"},
    {"rule": "N3", "code": "naming.forbidden_term", "severity": "error",
     "zh": "不得使用《广告法》第九条禁止的绝对化用语（最、第一、唯一、国家级等）；"
           "比较时忽略空格、标点、全半角、大小写及异体字、繁体字",
     "en": "no absolute terms forbidden by Art. 9 of the Advertising Law (最, 第一, 唯一, 国家级 …), "
           "matched ignoring spaces, punctuation, width, case and variant or traditional characters"},
    {"rule": "N4", "code": "naming.form_word", "severity": "error",
     "zh": "名称须以所声明产品形态的形态词结尾，且不得以其他形态的形态词结尾",
     "en": "ends with a form word of the declared product form, not with one of another form"},
    {"rule": "N5", "code": "naming.content", "severity": "error",
     "zh": "去除主体/地域前缀和形态词后，须有描述数据内容的文字（至少2个汉字或4个其他字符）",
     "en": "data content remains once prefix and form word are removed (≥2 CJK or ≥4 other characters)"},
    {"rule": "N6", "code": "naming.subject", "severity": "warning",
     "zh": "名称宜以主体（地域名称或提供方简称）开头",
     "en": "should start with a subject: a region name or the provider's short name"},
    {"rule": "N6", "code": "naming.region_mismatch", "severity": "error",
     "zh": "名称开头的地域须与产品覆盖地域相交；以“全国”开头的须覆盖全国",
     "en": "a region at the start of the name must overlap the spatial coverage; 全国 needs 100000"},
    {"rule": "N7", "code": "naming.duplicate", "severity": "error",
     "zh": "同一提供方的在架产品不得重名（按规范化后比较：忽略空格、标点、全半角、大小写及异体字）",
     "en": "no other listed product of the same provider has the same normalized name "
           "(spaces, punctuation, width, case and variant characters ignored)"},
)  # fmt: skip
