"""A version of a listed product as DCAT-AP 3 (docs/interop.md, *Versions*): `<product IRI>/v<version>` is
the dataset as that version of its stored history describes it, a `dcat:Dataset` of its own with
`dcat:isVersionOf` the product and `dcat:previousVersion` the version stored before it."""

from __future__ import annotations

import copy

from rdflib import Graph

from interop.dcat import add_product, context_for, new_graph, product_iri
from interop.dcat_parts import DCAT, Triples, version_iri
from products import lifecycle
from products.models import Product, ProductVersion


def _as_of(product: Product, row: ProductVersion) -> Product:
    """The product as a version describes it: the version's descriptor and the columns made from it (a copy,
    never saved); `listed_at` and `updated_at` are when that version was made."""
    described = copy.copy(product)
    descriptor = row.descriptor if isinstance(row.descriptor, dict) else {}
    provider = descriptor.get("provider") if isinstance(descriptor.get("provider"), dict) else {}
    described.descriptor = descriptor
    described.version = row.version
    described.name = descriptor.get("name") or product.name
    described.provider_name = provider.get("name") or product.provider_name
    described.provider_uscc = provider.get("uscc") or product.provider_uscc
    for column in ("product_form", "industry", "update_frequency"):
        setattr(described, column, descriptor.get(column) or getattr(product, column))
    described.listed_at = described.updated_at = row.created_at
    return described


def version_graph(product: Product, version: int) -> Graph | None:
    """One version of a listed product as a DCAT-AP 3 graph, or None when its history holds no such version
    that a reader may see (those in which the product was public; the current one always). Its quality
    measurements are the valid reports that assessed that version."""
    context = context_for([product])
    stored = sorted({*context.versions.get(product.pk, []), product.version})
    if version not in stored:
        return None
    row = ProductVersion.objects.filter(product=product, version=version, status__in=lifecycle.PUBLIC).first()
    if row is not None:
        described = _as_of(product, row)
    else:  # the current version, with no history row (a product written before histories were kept)
        described = copy.copy(product)
        described.listed_at = product.updated_at
    reports = [r for r in context.reports.get(product.code, []) if r.product_version == version]
    context.reports = {product.code: reports}
    dataset = product_iri(product, context.exchanges[product.exchange_id])
    subject = version_iri(dataset, version)
    triples = Triples()
    add_product(triples, described, context, subject=subject)
    triples.add((subject, DCAT.isVersionOf, dataset))
    position = stored.index(version)
    if position > 0:
        triples.add((subject, DCAT.previousVersion, version_iri(dataset, stored[position - 1])))
    return triples.into(new_graph())
