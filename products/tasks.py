"""Thin Celery tasks over the products services; each is idempotent."""

from celery import shared_task

from products.facet_rollup import rollup_compact
from products.standing import products_follow_providers


@shared_task(name="products.tasks.follow_providers", ignore_result=True)
def follow_providers(participant_ids: list[str] | None = None) -> None:
    """After a registration changed (queued on commit), or every 60 s for every provider (beat,
    `participant_ids` None): this exchange's products follow their providers' standing."""
    products_follow_providers(participant_ids=participant_ids)


@shared_task(name="products.tasks.facet_rollup_compact", ignore_result=True)
def facet_rollup_compact() -> None:
    """Every 60 s (beat): fold the facet rollup's rows, one per combination (products/facet_rollup.py)."""
    rollup_compact()
