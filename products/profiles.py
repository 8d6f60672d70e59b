"""The machine profile of this node's products' samples (docs/standards/quality-profile.md): computed by the
home node when a product with a data dictionary and a sample is written (created, edited, listed, any change
it publishes) or a sample file is uploaded, and published as a `product_profile` record once the product is
public. Peers' profiles arrive through the replica type (products/replicas.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from products.models import Product, ProductProfile, ProductSample, ProductStatus
from products.permissions import actor_kind, authorize_write
from products.replicas import PROFILE, PUBLISHED
from products.sample_files import sample_file_read
from standards.quality_profile import profile_compute


def _sample(product: Product, sample_file: ProductSample | None) -> tuple[list, str] | None:
    """(records, source): the uploaded file if there is one, else the descriptor's inline records."""
    if sample_file is not None:
        return sample_file.records, sample_file.format
    sample = product.descriptor.get("sample")
    records = sample.get("records") if isinstance(sample, dict) else None
    return (records, "inline") if records else None


def profile_of(product: Product, sample_file: ProductSample | None, now: dt.datetime) -> dict | None:
    """The product's machine profile now; None without a data dictionary or a sample."""
    fields = product.descriptor.get("fields")
    sample = _sample(product, sample_file)
    if not fields or sample is None:
        return None
    records, source = sample
    frequency = product.descriptor.get("update_frequency")
    return profile_compute(records, fields, frequency, now=now, source=source)


def profiles_refresh(products: list[Product]) -> None:
    """Compute again the profiles of these home products and publish the changed ones that are public. Call
    inside the transaction that wrote the products (`products.publishing.products_publish`)."""
    home = [p for p in products if p.is_home]
    if not home:
        return
    codes = [p.code for p in home]
    # Only a product with a data dictionary is profiled: the sample files of the others are not read (an
    # import of 1.0 descriptors pays one query), but their held profiles are, to be withdrawn.
    profiled = [p.code for p in home if p.descriptor.get("fields")]
    samples = ProductSample.objects.filter(product__code__any=profiled).select_related("product")
    files = {sample.product.code: sample for sample in samples} if profiled else {}
    held = {row.product_code: row for row in ProductProfile.objects.filter(product_code__any=codes)}
    now = timezone.now()
    changed = []
    for product in home:
        profile = profile_of(product, files.get(product.code), now)
        row = held.get(product.code)
        public = product.status in PUBLISHED
        if row is None:
            if profile is None:
                continue
            row = ProductProfile(
                product_code=product.code, origin=product.exchange_id, version=0, public=False
            )
        elif profile is None and row.profile is None:
            continue
        row.version += 1
        row.profile = profile
        row.public = row.public or public
        row.save()
        changed.append(row)
    PROFILE.publish(changed)


def _uploadable(product: Product) -> None:
    if product.status == ProductStatus.DELISTED:
        raise Conflict(
            message="产品已下架，不能再上传样例文件",
            message_en="The product is delisted: no sample file can be uploaded",
            code="invalid_state",
        )
    if not product.descriptor.get("fields"):
        raise Conflict(
            message="产品描述没有数据字典（fields），无法为样例文件计算画像",
            message_en="The descriptor has no data dictionary (fields): a sample file cannot be profiled",
            code="no_data_dictionary",
        )


def product_sample_upload(*, actor, product: Product, data: bytes, file_format: str) -> ProductSample:
    """Store a sample file of `product` (its provider, or an operator of its exchange, at its home node),
    replacing any earlier one, and compute and publish its profile."""
    authorize_write(
        actor=actor, exchange_id=product.exchange_id, provider=product.provider_uscc, action="sample"
    )
    records = sample_file_read(data, file_format)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        _uploadable(product)
        sample, _ = ProductSample.objects.update_or_create(
            product=product,
            defaults={
                "format": file_format,
                "records": records,
                "rows": len(records),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "uploaded_at": timezone.now(),
                "uploaded_by_kind": actor_kind(actor),
            },
        )
        profiles_refresh([product])
    return sample


def product_profile_get(*, product: Product) -> tuple[ProductSample | None, dict | None]:
    """The uploaded sample file held here (home only) and the product's profile (home or replicated)."""
    sample = ProductSample.objects.filter(product=product).first()
    row = ProductProfile.objects.filter(product_code=product.code).first()
    return sample, (row.profile if row is not None else None)
