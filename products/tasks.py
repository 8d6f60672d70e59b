"""Thin Celery tasks over the products services; each is idempotent."""

from celery import shared_task


@shared_task(name="products.tasks.follow_providers", ignore_result=True)
def follow_providers(participant_ids: list[str] | None = None) -> None:
    """After a registration changed (queued on commit), or every 60 s for every provider (beat,
    `participant_ids` None): this exchange's products follow their providers' standing."""
    from products.services import products_follow_providers

    products_follow_providers(participant_ids=participant_ids)
