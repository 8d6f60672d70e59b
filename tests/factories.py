"""Test data through the same services the API uses, so every product in a test meets the standard."""

import random

from products import services
from products.columns import descriptor_columns
from products.models import Product, ProductStatus
from products.sample_data import descriptor as sample_descriptor

_rng = random.Random(20240501)

# The service calls that bring a fresh draft to each status.
_PATH = {
    ProductStatus.DRAFT: [],
    ProductStatus.SUBMITTED: ["submit"],
    ProductStatus.REJECTED: ["submit", "reject"],
    ProductStatus.LISTED: ["submit", "approve"],
    ProductStatus.SUSPENDED: ["submit", "approve", "suspend"],
    ProductStatus.DELISTED: ["submit", "approve", "delist"],
}


def random_descriptor(**overrides) -> dict:
    d = sample_descriptor(_rng)
    d.update(overrides)
    return d


def register_provider(
    uscc: str,
    name: str = "测试数据科技有限公司",
    *,
    roles=("data_merchant",),
    status: str = "verified",
    **extra,
):
    """A registration at this node (verified data merchant by default), through the participants' services."""
    from participants.models import Participant, ParticipantStatus
    from participants.services import participant_register, participant_set_status

    existing = Participant.objects.filter(participant_id=uscc).first()
    if existing is not None:
        return existing
    profile = {
        "legal_name": name,
        "entity_type": "enterprise",
        "roles": list(roles),
        "business_categories": ["data_products"] if "data_merchant" in roles else [],
        "services": extra.pop("services", ["quality_assessment"] if "service_provider" in roles else []),
        "description": extra.pop("description", ""),
    }
    participant = participant_register(
        actor=None,  # the node itself, as a management command
        uscc=uscc,
        profile=profile,
        private=extra.pop("private", None),
        account=extra.pop("account", None),
    )
    if status != ParticipantStatus.PENDING:
        participant = participant_set_status(actor=None, participant=participant, status="verified")
        if status != "verified":
            participant = participant_set_status(
                actor=None, participant=participant, status=status, reason="测试"
            )
    return participant


def make_product(*, actor=None, descriptor: dict | None = None, status: str = ProductStatus.DRAFT) -> Product:
    descriptor = descriptor or random_descriptor()
    if status != ProductStatus.DRAFT:
        register_provider(descriptor["provider"]["uscc"], descriptor["provider"]["name"])
    product = services.product_create(actor=actor, descriptor=descriptor)
    for step in _PATH[status]:
        if step == "submit":
            product = services.product_submit(actor=actor, product=product)
        elif step == "approve":
            product = services.product_review(actor=actor, product=product, decision="approve")
        elif step == "reject":
            product = services.product_review(
                actor=actor, product=product, decision="reject", reasons=["资料不全"]
            )
        elif step == "suspend":
            product = services.product_suspend(actor=actor, product=product, reasons=["核查中"])
        elif step == "delist":
            product = services.product_delist(actor=actor, product=product, reasons=["停止供应"])
    return product


def make_foreign_product(*, exchange_id: str = "BJIDX", status: str = ProductStatus.LISTED) -> Product:
    """A product whose home is another exchange, as a replica would be stored at this node."""
    d = random_descriptor()
    columns = descriptor_columns(d)
    serial = Product.objects.count() + 1
    return Product.objects.create(
        code=f"{exchange_id}-2026-{serial:06d}-X",
        exchange_id=exchange_id,
        status=status,
        is_home=False,
        **columns,
    )
