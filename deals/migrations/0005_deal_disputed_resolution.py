from django.db import migrations, models

from deals.figures import resolution_seconds


def fill(apps, schema_editor):
    """The deals and disputes held before the columns existed: as deals.dispute_followups keeps them."""
    Deal = apps.get_model("deals", "Deal")
    Dispute = apps.get_model("deals", "Dispute")
    Deal.objects.filter(gid__in=Dispute.objects.values("deal_gid")).update(disputed=True)
    resolved = list(Dispute.objects.filter(state="resolved", closed_at__isnull=False))
    for dispute in resolved:
        dispute.resolution_s = resolution_seconds(dispute.state, dispute.filed_at, dispute.closed_at)
    Dispute.objects.bulk_update(resolved, ["resolution_s"], batch_size=1000)  # one statement per 1,000


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0004_deal_step_outcome"),
    ]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="disputed",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="dispute",
            name="resolution_s",
            field=models.FloatField(
                blank=True,
                help_text="Resolved: the seconds from its filing to its resolution (stats).",
                null=True,
            ),
        ),
        migrations.RemoveIndex(
            model_name="deal",
            name="deal_figures",
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=[
                    "state",
                    "currency",
                    "product_exchange",
                    "buyer_home",
                    "agreed_at",
                    "delivered_at",
                    "accepted_at",
                    "delivery_by",
                    "price_cents",
                    "disputed",
                ],
                name="deal_figures",
            ),
        ),
        migrations.AddIndex(
            model_name="dispute",
            index=models.Index(
                condition=models.Q(("resolution_s__isnull", False)),
                fields=["resolution_s", "coordinator", "co_coordinator"],
                name="dispute_resolution",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
