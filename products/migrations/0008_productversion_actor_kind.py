"""The kind of actor of each version (`ProductVersion.actor_kind`), which the public history shows instead of
the login. Existing rows get it from what they hold: `replicated` rows stay `replicated` (the column's value
while it is added, so the bulk of a node's history, its replicas, is not rewritten); a row with a user is the
provider's when that user is a participant user and an operator's otherwise; a row with no user is the node's.
A data merchant acting at a node that is not its home was recorded with no user: such older rows read as the
node's, which cannot be told apart any more."""

from django.db import migrations, models


def kinds_backfill(apps, schema_editor):
    ProductVersion = apps.get_model("products", "ProductVersion")
    home = ProductVersion.objects.exclude(change="replicated")
    home.filter(actor__isnull=True).update(actor_kind="node")
    home.filter(actor__role="participant").update(actor_kind="provider")
    home.filter(actor__isnull=False).exclude(actor__role="participant").update(actor_kind="operator")


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0007_product_provider_hold"),
        ("accounts", "0002_refreshtoken_user_participant_id_alter_user_role_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="productversion",
            name="actor_kind",
            field=models.CharField(
                choices=[
                    ("operator", "交易所运营人员 An operator of the product's exchange, or the node's admin"),
                    ("provider", "提供方 The provider itself (a data merchant's user)"),
                    (
                        "node",
                        "节点 The node itself (an import or command, following the provider's standing)",
                    ),
                    ("replicated", "同步 Replicated from the product's home exchange"),
                ],
                default="replicated",
                max_length=12,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(kinds_backfill, migrations.RunPython.noop, elidable=True),
    ]
