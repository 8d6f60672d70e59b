"""Thin Celery tasks over the products services; each is idempotent."""

from celery import shared_task

from products.standing import products_follow_providers


@shared_task(name="products.tasks.follow_providers", ignore_result=True)
def follow_providers(participant_ids: list[str] | None = None) -> None:
    """After a registration changed (queued on commit), or every 60 s for every provider (beat,
    `participant_ids` None): this exchange's products follow their providers' standing."""
    products_follow_providers(participant_ids=participant_ids)
