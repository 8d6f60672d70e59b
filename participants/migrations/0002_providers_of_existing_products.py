"""Products now have registered providers: every provider of a product listed at this node before the
participants standard becomes a verified data merchant registered at this node (its home), so no existing
product loses its provider. Their change-log entries are written by `node_init` (it signs them), see
`participants.replication.participants_publish_unlogged`."""

from django.db import migrations
from django.db.models import Min


def forwards(apps, schema_editor):
    Product = apps.get_model("products", "Product")
    Participant = apps.get_model("participants", "Participant")
    ParticipantPrivate = apps.get_model("participants", "ParticipantPrivate")
    rows = (
        Product.objects.filter(is_home=True)
        .values("provider_uscc", "exchange_id")
        .annotate(first=Min("created_at"))
        .order_by("provider_uscc")
    )
    taken = set(Participant.objects.values_list("participant_id", flat=True))
    for row in rows:
        uscc = row["provider_uscc"]
        if uscc in taken:
            continue
        name = (
            Product.objects.filter(provider_uscc=uscc, is_home=True)
            .order_by("-id")
            .values_list("provider_name", flat=True)
            .first()
        )
        participant = Participant.objects.create(
            participant_id=uscc,
            home_id=row["exchange_id"],
            is_home=True,
            version=1,
            legal_name=name[:120],
            entity_type="enterprise",
            region=uscc[2:8],
            roles=["data_merchant"],
            business_categories=["data_products"],
            services=[],
            description="",
            status="verified",
            status_reason="migrated: provider of products listed before the participants standard",
            registered_at=row["first"],
            verified_at=row["first"],
        )
        ParticipantPrivate.objects.create(participant=participant)
        taken.add(uscc)


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0001_initial"),
        ("products", "0005_product_is_home"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
