# The automatic recognition verdict stored once per product (docs/federation.md, "Recognitions at national size").

from django.db import migrations, models

import core.fields
from core.bulk import copy_update
from standards.recognition import recognition_evaluate

CHUNK = 2000


def verdicts_fill(apps, schema_editor):
    """The verdict of the products already held, from their descriptors (as products.columns computes it on
    every write since), in chunks of primary keys."""
    product = apps.get_model("products", "Product")
    rows = product.objects.order_by("pk").values_list("pk", "descriptor")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        changed = []
        for pk, descriptor in chunk:
            try:
                status, reasons = recognition_evaluate(descriptor)
            except (KeyError, TypeError, AttributeError):  # a descriptor no write would accept today
                continue
            changed.append(product(pk=pk, verdict=status, verdict_reasons=reasons))
        copy_update(product, changed, ["verdict", "verdict_reasons"])


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0014_facet_rollup"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="verdict",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The automatic recognition check's status (recognised, pending, refused); empty: none.",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="verdict_reasons",
            field=core.fields.JSONField(blank=True, default=list, help_text="The automatic check's reasons."),
        ),
        migrations.RunPython(verdicts_fill, migrations.RunPython.noop, elidable=True),
    ]
