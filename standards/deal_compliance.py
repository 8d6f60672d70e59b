"""What a product's own declarations allow a deal, read the same way at every node (docs/deals.md): the
usage policy an offer may grant and the delivery methods it may use (checked when the offer is made), and the
rules of the data level (数据分类分级, docs/standards/classification.md) the compliance check before delivery
applies. Pure: no database, no clock. Each breach is (field, code, zh, en), as `policy_within` gives them."""

from __future__ import annotations

from standards.usage_policy import Breach, policy_clean, policy_from_descriptor, policy_within
from standards.usage_policy_terms import MAINLAND, territory_contains

# Important data (重要数据) is used where it cannot be copied out: a sandbox ("usable but not visible") or an
# interface the provider controls (the listing rule C14 allows no other method).
IMPORTANT_DATA_METHODS = frozenset({"sandbox", "api"})


def data_level(descriptor: object) -> str | None:
    """The level a descriptor 1.1 declares (`classification.level`); None when it declares none."""
    classification = descriptor.get("classification") if isinstance(descriptor, dict) else None
    level = classification.get("level") if isinstance(classification, dict) else None
    return level if isinstance(level, str) else None


def _as_product(breach: Breach) -> Breach:
    """`policy_within`'s words speak of "the offer" it compares with; here that is the product's policy."""
    field, code, zh, en = breach
    return (
        field,
        code,
        f"超出产品允许的范围：{zh}",
        en.replace("The offer", "The product").replace("the offer", "the product"),
    )


def level_breaches(
    descriptor: object, *, method: str, policy: dict, method_field: str, policy_field: str
) -> list[Breach]:
    """The data level's rules for a trade by `method` under `policy` (a cleaned usage policy): core data
    is never traded; important data only by sandbox or api, and only used within mainland China (Hong
    Kong, Macao and Taiwan are a data export, as everywhere in the usage policy standard)."""
    level = data_level(descriptor)
    if level == "core":
        return [("classification.level", "data_level.core", "核心数据不得交易", "Core data is never traded")]
    if level != "important":
        return []
    breaches: list[Breach] = []
    if method not in IMPORTANT_DATA_METHODS:
        breaches.append(
            (method_field, "data_level.important_delivery",
             "重要数据仅可通过数据沙箱或接口调用交付", "Important data is delivered only by sandbox or api")
        )  # fmt: skip
    territory = policy.get("constraints", {}).get("territory", [])
    if any(not territory_contains(MAINLAND, place) for place in territory):
        breaches.append(
            (f"{policy_field}.constraints.territory", "data_level.important_cross_border",
             "重要数据不得出境（含港澳台）", "Important data is used only within mainland China")
        )  # fmt: skip
    return breaches


def offer_breaches(offer: dict, descriptor: object) -> list[Breach]:
    """What an offer (a cleaned offer body: its usage policy and delivery method) grants beyond what the
    product allows: a delivery method the product does not offer, a usage policy beyond the product's own
    (`policy_from_descriptor`: e.g. redistribution, a cross-border use the product does not declare and
    assess, identified use of personal information), and the data level's rules."""
    descriptor = descriptor if isinstance(descriptor, dict) else {}
    methods = descriptor.get("delivery_methods")
    breaches: list[Breach] = []
    if not isinstance(methods, list) or offer["delivery_method"] not in methods:
        breaches.append(
            ("delivery_method", "not_offered", "该产品不提供此交付方式", "The product is not delivered so")
        )
    policy = policy_clean(offer["usage_policy"])
    own = policy_from_descriptor(descriptor)
    breaches += [_as_product(b) for b in policy_within(policy, own, field="usage_policy")]
    breaches += level_breaches(
        descriptor,
        method=offer["delivery_method"],
        policy=policy,
        method_field="delivery_method",
        policy_field="usage_policy",
    )
    return breaches
