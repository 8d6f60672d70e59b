"""A deal's contract as any node of its audience serves it: the canonical document built from the deal and
the agreed offer, its digest, and both parties' signatures checked offline against the nodes' public keys
(this node's own, or its peer directory's)."""

from __future__ import annotations

from core.exceptions import Conflict
from deals.models import Deal
from deals.selectors import deal_derive
from federation import keys
from federation.payloads import time_text
from federation.selectors import origin_public_key
from standards.deal_contract import contract_digest, contract_text, signed_message


def deal_contract(deal: Deal) -> dict:
    derived = deal_derive(deal)
    document = derived.contract(deal)
    if document is None:
        raise Conflict(
            message="双方尚未接受同一报价，合同未成立",
            message_en="No contract yet: the parties have not accepted the same offer",
            code="no_contract",
            extra={"state": derived.state},
        )
    digest = contract_digest(document)
    signatures = []
    for role in ("buyer", "provider"):
        step = derived.accepts[role]
        key = origin_public_key(step.origin)
        signature = step.body["signature"]
        valid = key is not None and keys.verify(key, signed_message(digest), signature)
        signatures.append(
            {
                "role": role,
                "node": step.origin,
                "at": time_text(step.at),
                "signature": signature,
                "valid": valid,
            }
        )
    return {
        "document": document,
        "sha256": digest,
        "signatures": signatures,
        "valid": all(s["valid"] for s in signatures),
    }


def deal_contract_text(contract: dict) -> str:
    return contract_text(contract["document"], contract["sha256"], contract["signatures"])
