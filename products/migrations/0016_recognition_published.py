# Which of this node's recognitions are in its change log (recognition protocol 2 publishes only exceptions).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0015_product_verdict"),
    ]

    operations = [
        migrations.AddField(
            model_name="recognition",
            name="published",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text=(
                    "In the change log: every record held from a peer; of this node's own, those it published "
                    "(recognition protocol 2 publishes only exceptions: products.recognition). Once published, "
                    "always published, so peers hold its latest."
                ),
            ),
        ),
    ]
