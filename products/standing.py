"""A product follows its provider's standing (一地注册，全国互信): a participant suspended at home loses its
standing everywhere, its products included."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from participants.selectors import provider_standing
from products.models import Product, ProductStatus, ProductVersion
from products.services import record_change
from standards.compliance import compliance_evaluate, findings_blocking

Change = ProductVersion.Change
logger = logging.getLogger(__name__)


PROVIDER_HOLD_REASONS = {
    "provider.not_registered": "提供方的登记已不存在 / The provider is no longer a registered participant",
    "provider.not_verified": (
        "提供方的登记已被暂停或撤销，产品随之暂停，提供方恢复核验后自动恢复上架 / "
        "The provider's registration was suspended or revoked at its home exchange; the product is listed "
        "again automatically when the provider is verified again"
    ),
    "provider.not_data_merchant": (
        "提供方已不具有数商角色，产品随之暂停 / The provider no longer has the data merchant role"
    ),
}


def products_follow_providers(*, participant_ids: Iterable[str] | None = None) -> list[Product]:
    """Make this exchange's products follow their providers' standing (一地注册，全国互信: a participant
    suspended at home loses its standing everywhere, its products included).

    A listed product whose provider is no longer a verified data merchant is suspended (`provider_hold`,
    the reason in `status_reasons`); a product held that way is listed again once its provider is back in
    good standing and the product still meets the compliance rules. A product an operator suspended stays
    as the operator left it. Each change is a new version that replicates like any other.

    `participant_ids`: the providers whose registrations changed (the task queued when such a change
    commits, at home or applied from a peer: the product's exchange need not be the provider's); None: every
    provider of this exchange's listed or held products (the beat's sweep, which catches a lost task).

    Its own transaction, never the registration change's: it locks the products it changes, all of them
    before it publishes, in the order an operator's change takes its locks (the product, then this node's
    log counter), so the two cannot deadlock. Standing is read again under those locks: a registration
    change that commits meanwhile queues its own run, which waits for these locks and decides again."""
    scope = Product.objects.filter(exchange_id=settings.NODE_CODE, is_home=True)
    if participant_ids is not None:
        participant_ids = set(participant_ids)
        if not participant_ids:
            return []
        scope = scope.filter(provider_uscc__in=participant_ids)
    # Which products look wrong, without locks: the listed ones of providers out of good standing, and
    # the held ones (few) of providers back in it.
    listed = scope.filter(status=ProductStatus.LISTED).order_by()
    listed_by = set(listed.values_list("provider_uscc", flat=True).distinct())
    held = list(
        scope.filter(status=ProductStatus.SUSPENDED, provider_hold=True).values_list("pk", "provider_uscc")
    )
    if not listed_by and not held:
        return []
    standing = provider_standing(listed_by | {uscc for _, uscc in held})
    out = {uscc for uscc in listed_by if standing[uscc] is not None}
    suspects = [pk for pk, uscc in held if standing[uscc] is None]
    if out:
        suspects += listed.filter(provider_uscc__in=out).values_list("pk", flat=True)
    if not suspects:
        return []
    changed = []
    with transaction.atomic():
        products = list(Product.objects.select_for_update().filter(pk__in=suspects).order_by("pk"))
        standing = provider_standing({p.provider_uscc for p in products})
        for product in products:
            rule = standing[product.provider_uscc]
            if product.status == ProductStatus.LISTED and rule is not None:
                product.status = ProductStatus.SUSPENDED
                product.provider_hold = True
                product.status_reasons = [PROVIDER_HOLD_REASONS[rule]]
                change = Change.SUSPENDED
            elif product.status == ProductStatus.SUSPENDED and product.provider_hold and rule is None:
                if findings_blocking(compliance_evaluate(product.descriptor)):
                    continue  # the rules changed meanwhile: an operator decides (reinstating reports why)
                product.status = ProductStatus.LISTED
                product.provider_hold = False
                product.status_reasons = []
                change = Change.REINSTATED
            else:
                continue  # changed meanwhile
            changed.append(record_change(product, change=change, actor=None, reasons=product.status_reasons))
    if changed:
        logger.info(
            "%d product(s) follow their provider's standing: %s",
            len(changed),
            ", ".join(f"{p.code} {p.status}" for p in changed[:20]),
        )
    return changed
