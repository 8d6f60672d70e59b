"""What the quality app does when replicas arrive and registrations change: the products' grades and this
node's automatic recognitions follow the reports that are valid here."""

from __future__ import annotations

from django.dispatch import receiver as signal_receiver

from federation.applied import AppliedBatch, receiver
from participants.signals import registrations_changed
from products.replicas import PRODUCT
from quality.models import QualityReport
from quality.replicas import QUALITY_REPORT
from quality.services import grades_refresh, reports_changed


@receiver(QUALITY_REPORT)
def reports_arrived(batch: AppliedBatch) -> None:
    reports_changed({r.values["product_code"] for r in batch.records})


@receiver(PRODUCT)
def product_grades_on_arrival(batch: AppliedBatch) -> None:
    """A report may arrive before the product it is about (two origins' feeds): the grade is set once the
    product is here (its recognition reads the reports themselves)."""
    codes = [r.gid for r in batch.records if r.created]
    if codes:
        assessed = QualityReport.objects.filter(product_code__any=codes).values_list(
            "product_code", flat=True
        )
        grades_refresh(set(assessed))


@signal_receiver(registrations_changed, dispatch_uid="quality.registrations_changed")
def registrations_changed_received(sender, *, participant_ids: set[str], **kwargs) -> None:
    """An assessor's standing changed: the reports it issued count, or no longer count."""
    codes = QualityReport.objects.filter(assessor_id__any=sorted(participant_ids)).values_list(
        "product_code", flat=True
    )
    if codes:
        reports_changed(set(codes))
