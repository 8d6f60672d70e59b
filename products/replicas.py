"""The replicated record types of products (federation.replica): a listing — only its public part — and one
exchange's recognition of a listing. Reviewers' compliance findings, who edited a product, and drafts never
replicate."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from core.exceptions import ValidationFailed
from federation import wire
from federation.payloads import payload_error
from federation.protocols import protocol_compared
from federation.replica import ReplicaType, register
from products.bulk import DESCRIPTOR_COLUMNS, products_insert, products_write
from products.columns import descriptor_columns
from products.models import (
    Product,
    ProductProfile,
    ProductStatus,
    ProductVersion,
    Recognition,
    RecognitionStatus,
)
from products.published import recognitions_exceptions
from standards.descriptor import descriptor_validate
from standards.product_code import product_code_parse
from standards.quality_profile_check import profile_check

PUBLISHED = frozenset({ProductStatus.LISTED, ProductStatus.SUSPENDED, ProductStatus.DELISTED})


class ProductReplica(ReplicaType):
    name = "product"
    what = "a product payload"
    model = Product
    key = "code"
    origin_field = "exchange_id"
    fields = (
        wire.value("code"),
        wire.choice("status", PUBLISHED),
        wire.value("descriptor"),
        wire.time("listed_at"),
        wire.time("delisted_at"),
        wire.reasons("status_reasons"),
    )
    derived_columns = DESCRIPTOR_COLUMNS

    def standards(self, payload: dict) -> dict[str, Any]:
        descriptor = payload.get("descriptor")
        return {"descriptor": descriptor.get("descriptor_version")} if isinstance(descriptor, dict) else {}

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        code = payload["code"]
        if code != gid:
            raise payload_error("code", "mismatch", "code differs from the entry's gid")
        if product_code_parse(code).origin != origin:
            raise payload_error("code", "origin", f"code {code} does not belong to origin {origin}")
        values["code"] = code
        try:  # the common standard, as for a descriptor sent to the API
            values["descriptor"] = descriptor_validate(payload["descriptor"])
        except ValidationFailed as exc:
            raise exc.prefixed("descriptor") from None

    def derive(self, values: dict[str, Any]) -> dict[str, Any]:
        columns = descriptor_columns(values["descriptor"])
        del columns["descriptor"]
        return columns

    def extras(self, origin: str, values: dict[str, Any]) -> dict[str, Any]:
        """This node's automatic verdict on another exchange's product, computed with the descriptor's columns
        (its receiver records it)."""
        if origin == settings.NODE_CODE:
            return {}
        return {"verdict": (values["verdict"], values["verdict_reasons"])}

    def on_create(self, origin: str) -> dict[str, Any]:
        return {"is_home": origin == settings.NODE_CODE}

    def publishable(self, obj) -> bool:
        return obj.status in PUBLISHED

    def live_rows(self, origin: str):
        rows = Product.objects.filter(exchange_id=origin, status__in=PUBLISHED)
        return rows.only(*self.live_columns).iterator(chunk_size=2000)

    live_columns = ("code", "version", "status", "descriptor", "listed_at", "delisted_at", "status_reasons")

    def store(self, origin, creates, columns, updates, now) -> None:
        """With each product its region rows and its version history (`products.bulk`)."""
        replicated = {
            "change": ProductVersion.Change.REPLICATED,
            "actor_kind": ProductVersion.ActorKind.REPLICATED,
        }
        products_insert(creates, columns=columns, now=now, **replicated)
        products_write(
            [], updates, update_fields=self.update_columns, now=now, ignore_conflicts=True, **replicated
        )


class RecognitionReplica(ReplicaType):
    """Whether one exchange recognises one product (互认): owned by the recognising exchange's node. The
    record may be a `Recognition` or a `products.verdict.RecognitionRecord` (plain values)."""

    name = "recognition"
    what = "a recognition payload"
    model = Recognition
    key = "product_code"
    origin_field = "exchange_id"
    scoped = True
    verbatim = True
    fields = (
        wire.value("product", column="product_code"),
        wire.value("exchange", column="exchange_id"),
        wire.choice("status", RecognitionStatus),
        wire.reasons("reasons"),
        wire.integer(
            "product_version", 1, 2**31 - 1, "product_version must be a positive integer", code="type"
        ),
        wire.choice("decided_by", Recognition.DecidedBy),
        wire.value("policy", column="policy_version"),
    )

    def gid(self, obj) -> str:
        return f"{obj.product_code}@{obj.exchange_id}"

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        if payload["exchange"] != origin:
            raise payload_error("exchange", "origin", "a node only publishes its own exchange's recognitions")
        product_code_parse(payload["product"])
        if gid != f"{payload['product']}@{origin}":
            raise payload_error("product", "mismatch", "gid must be <product>@<exchange>")
        policy = payload["policy"]
        if not isinstance(policy, str) or len(policy) > 8:
            raise payload_error("policy", "type", "policy must be a short string")
        values.update(product_code=payload["product"], exchange_id=payload["exchange"], policy_version=policy)

    def publishable(self, obj) -> bool:
        """In the change log: the exceptions an origin on recognition protocol 2 publishes, and whatever it
        published before (products.recognition); every record held from a peer."""
        return obj.published

    def live_rows(self, origin: str):
        """What anti-entropy compares: the records in the origin's log; when the two nodes comparing agree on
        recognition protocol 2 (`federation.protocols.protocol_compared`), only the exceptions among them
        (`products.published`), the same at every node, so a node that dropped the others
        (`recognitions_compact`) and one that did not still agree. Never what either node has learned of
        third nodes: that differs from node to node while they learn it."""
        rows = Recognition.objects.filter(exchange_id=origin, published=True).iterator(chunk_size=5000)
        return recognitions_exceptions(rows) if protocol_compared("recognition") >= 2 else rows


class ProfileReplica(ReplicaType):
    """The machine profile of a product's sample (docs/standards/quality-profile.md), owned by the product's
    home node. A record type of its own rather than a field of the product payload: a node on older code
    refuses a product payload with a field it does not know, and would lose the listing; this way it
    quarantines only the profile. The product need not be held here."""

    name = "product_profile"
    digest_when_empty = False  # newer than the first protocol: older peers know no such type
    what = "a product profile payload"
    model = ProductProfile
    key = "product_code"
    verbatim = True
    fields = (wire.value("product", column="product_code"), wire.value("profile"))

    def clean(self, origin: str, gid: str, payload: dict, values: dict[str, Any]) -> None:
        code = payload["product"]
        if code != gid or not isinstance(code, str):
            raise payload_error("product", "mismatch", "product differs from the entry's gid")
        if product_code_parse(code).origin != origin:
            raise payload_error("product", "origin", f"product {code} does not belong to origin {origin}")
        profile = payload["profile"]
        if profile is not None:
            try:  # the standard's own check; null: the product no longer has a profiled sample
                profile_check(profile)
            except ValidationFailed as exc:
                raise exc.prefixed("profile") from None
        values.update(product_code=code, profile=profile)

    def on_create(self, origin: str) -> dict[str, Any]:
        return {"public": True}

    def publishable(self, obj) -> bool:
        return obj.public

    def live_rows(self, origin: str):
        return ProductProfile.objects.filter(origin=origin, public=True).iterator(chunk_size=2000)


PRODUCT = register(ProductReplica())
PROFILE = register(ProfileReplica())
RECOGNITION = register(RecognitionReplica())
