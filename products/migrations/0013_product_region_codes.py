"""The spatial coverage's codes on the product row (`region_codes`), filled from the descriptors held, and on
PostgreSQL a GIN index on their array, which the region filter uses (products/selectors.py)."""

from django.db import migrations, models

from core.bulk import copy_update
from products.columns import region_codes

CHUNK = 2000
INDEX = (
    "CREATE INDEX IF NOT EXISTS products_product_regions ON products_product "
    "USING gin (string_to_array(region_codes, ' '))"
)


def codes_fill(apps, schema_editor):
    """`region_codes` of the products already held, from their descriptors, in chunks of primary keys."""
    product = apps.get_model("products", "Product")
    rows = product.objects.order_by("pk").values_list("pk", "descriptor")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        changed = [
            product(pk=pk, region_codes=codes)
            for pk, descriptor in chunk
            if (codes := region_codes(descriptor.get("spatial_coverage") or []))
        ]
        copy_update(product, changed, ["region_codes"])


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS products_product_regions")


class Migration(migrations.Migration):
    dependencies = [("products", "0012_product_facet_columns")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="region_codes",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                help_text="The GB/T 2260 codes of the spatial coverage, space separated.",
            ),
        ),
        migrations.RunPython(codes_fill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(index_create, index_drop),
    ]
