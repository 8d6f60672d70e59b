"""The contract of a deal (合同): the canonical JSON document both parties accept, its SHA-256, and a
readable Chinese rendering. Pure: every node builds the same bytes from the deal and the agreed offer, so any
node of the deal's audience checks the parties' signatures offline (docs/deals.md, "Contract").

The document is canonicalised with RFC 8785 (JSON Canonicalization Scheme); its digest is the SHA-256 of
those bytes, in hex. Each party's home node signs `SIGNED_PREFIX + digest` with its node key (Ed25519) in
that party's `accept` step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import rfc8785

from standards.usage_policy_terms import ACTION, PURPOSE, TERRITORY

CONTRACT_VERSION = "1"
_BASIS = {"listing": "挂牌", "buyer": "引入需方"}
SIGNED_PREFIX = b"dexr-deal-contract-v1:"
_OFFER_TERMS = (
    "price",
    "currency",
    "usage_policy",
    "delivery_method",
    "delivery_days",
    "acceptance_window_hours",
)


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def contract_document(deal: Any, offer: dict, offer_version: int) -> dict:
    """The contract for `deal` (a Deal or anything with its attributes) on `offer` (a cleaned offer or
    counter body) of version `offer_version`."""
    return {
        "contract_version": CONTRACT_VERSION,
        "deal": deal.gid,
        "placed_at": _time(deal.placed_at),
        "placed_at_exchange": deal.origin,
        "product": {
            "code": deal.product_code,
            "version": deal.product_version,
            "exchange": deal.product_exchange,
            "name": deal.product_name,
        },
        "provider": {"uscc": deal.provider_id, "name": deal.provider_name, "home": deal.provider_home},
        "buyer": {"uscc": deal.buyer_id, "name": deal.buyer_name, "home": deal.buyer_home},
        "order": {k: deal.request[k] for k in ("purpose", "usage_policy")},
        "offer_version": offer_version,
        "terms": {k: offer[k] for k in _OFFER_TERMS},
        "fees": offer["fees"],
        "coordinators": sorted({deal.product_exchange, deal.buyer_home}),
    }


def contract_bytes(document: dict) -> bytes:
    return rfc8785.dumps(document)


def contract_digest(document: dict) -> str:
    return hashlib.sha256(contract_bytes(document)).hexdigest()


def signed_message(digest: str) -> bytes:
    """What a party's home node signs: the digest, prefixed so the signature means nothing else."""
    return SIGNED_PREFIX + digest.encode("ascii")


def _labels(terms, codes: list[str]) -> str:
    zh = {t.code: t.zh for t in terms}
    return "、".join(zh.get(code, code) for code in codes) or "无"


def _policy_lines(policy: dict) -> list[str]:
    """A usage policy (cleaned by the usage policy standard) in words."""
    c = policy.get("constraints", {})
    yes = {True: "是", False: "否"}
    return [
        f"    允许：{_labels(ACTION, policy.get('permissions', []))}",
        f"    禁止：{_labels(ACTION, policy.get('prohibitions', []))}",
        f"    用途：{_labels(PURPOSE, c.get('purpose', []))}",
        f"    地域：{_labels(TERRITORY, c.get('territory', []))}",
        f"    期限：{c['duration_days']} 天" if c.get("duration_days") else "    期限：不限",
        f"    使用人数：最多 {c['max_users']} 人" if c.get("max_users") else "    使用人数：不限",
        f"    到期删除：{yes[bool(c.get('delete_at_end'))]}",
        f"    仅限去标识化使用：{yes[bool(c.get('deidentified_only'))]}",
        *([f"    备注：{policy['remarks']}"] if policy.get("remarks") else []),
    ]


def contract_text(document: dict, digest: str, signatures: list[dict]) -> str:
    """The contract in readable Chinese (the JSON document is what is signed; this is its rendering)."""
    product, provider, buyer = document["product"], document["provider"], document["buyer"]
    terms, order = document["terms"], document["order"]
    lines = [
        "数据产品交易合同",
        f"合同编号（交易编号）：{document['deal']}",
        f"下单时间：{document['placed_at']}（下单交易所：{document['placed_at_exchange']}）",
        "",
        f"供方：{provider['name']}（统一社会信用代码 {provider['uscc']}，注册于 {provider['home']}）",
        f"需方：{buyer['name']}（统一社会信用代码 {buyer['uscc']}，注册于 {buyer['home']}）",
        f"产品：{product['name']}（{product['code']}，第 {product['version']} 版，"
        f"挂牌于 {product['exchange']}）",
        "",
        f"用途：{order['purpose']}",
        "需方申请的使用策略：",
        *_policy_lines(order["usage_policy"]),
        f"报价版本：第 {document['offer_version']} 版",
        f"价格：{terms['price']} {terms['currency']}",
        f"交付方式：{terms['delivery_method']}；交付期限：约定后 {terms['delivery_days']} 天内",
        f"验收期：交付后 {terms['acceptance_window_hours']} 小时内，逾期视为验收通过",
        "使用策略（约定）：",
        *_policy_lines(terms["usage_policy"]),
        "交易所服务费：",
        *(f"    {fee['exchange']}（{_BASIS[fee['basis']]}）：{fee['bp']} 基点" for fee in document["fees"]),
        f"协调交易所：{'、'.join(document['coordinators'])}",
        "",
        f"合同摘要（SHA-256，RFC 8785 规范化 JSON）：{digest}",
        "签署：",
        *(
            f"    {s['role']}方 由 {s['node']} 节点签署于 {s['at']}，签名{'有效' if s['valid'] else '无效'}"
            for s in signatures
        ),
    ]
    return "\n".join(lines) + "\n"
