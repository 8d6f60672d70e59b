"""The facet rollup (products/facet_rollup.py): a table of product counts per status and combination of one
facet group's values, kept by PostgreSQL triggers on the products table in the writing statement's own
transaction, and filled from the products already held. On SQLite the table stays empty and unused."""

from django.db import migrations, models

# The facet columns of each group (products/facets.py, FACETS' groups), and the price band of the lowest
# price (products/facets.py, PRICE_BANDS: the first band whose upper bound is above it).
_BAND = (
    "CASE WHEN price_min < 0.01 THEN 'free' WHEN price_min < 1000 THEN 'lt_1k' "
    "WHEN price_min < 10000 THEN '1k_10k' WHEN price_min < 100000 THEN '10k_100k' "
    "WHEN price_min < 1000000 THEN '100k_1m' ELSE 'ge_1m' END"
)
_COLUMNS = (
    "status, industry, product_form, data_level, quality_grade, update_frequency, exchange_id, price_band, "
    "province_mask, delivery_mask"
)


def _delta(rows: str) -> str:
    """The INSERT of the counts of `rows` (a query of the facet columns and n, +1 or -1 per product row) per
    status and group, leaving out the combinations whose changes cancel (an update of other columns)."""
    return (
        f"INSERT INTO products_facetrollup (grp, {_COLUMNS}, n) "
        f"SELECT CASE GROUPING(industry, update_frequency, province_mask) WHEN 3 THEN 0 WHEN 5 THEN 1 ELSE 2 END,"
        f" {_COLUMNS}, SUM(n) FROM ({rows}) AS d "
        "GROUP BY GROUPING SETS ((status, industry, product_form, data_level, quality_grade), "
        "(status, update_frequency, exchange_id, price_band), (status, province_mask, delivery_mask)) "
        "HAVING SUM(n) <> 0"
    )


def _rows(table: str, n: int) -> str:
    return (
        f"SELECT status, industry, product_form, data_level, quality_grade, update_frequency, exchange_id, "
        f"{_BAND} AS price_band, province_mask, delivery_mask, {n} AS n FROM {table}"
    )


FUNCTION = f"""
CREATE OR REPLACE FUNCTION products_facet_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_delta(_rows("rollup_new", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        {_delta(_rows("rollup_old", -1))};
    ELSIF TG_OP = 'UPDATE' THEN
        {_delta(_rows("rollup_new", 1) + " UNION ALL " + _rows("rollup_old", -1))};
    ELSE
        DELETE FROM products_facetrollup;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER products_facet_rollup_insert AFTER INSERT ON products_product
    REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION products_facet_rollup();
CREATE TRIGGER products_facet_rollup_update AFTER UPDATE ON products_product
    REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new
    FOR EACH STATEMENT EXECUTE FUNCTION products_facet_rollup();
CREATE TRIGGER products_facet_rollup_delete AFTER DELETE ON products_product
    REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION products_facet_rollup();
CREATE TRIGGER products_facet_rollup_truncate AFTER TRUNCATE ON products_product
    FOR EACH STATEMENT EXECUTE FUNCTION products_facet_rollup();
"""

DROP = """
DROP TRIGGER IF EXISTS products_facet_rollup_insert ON products_product;
DROP TRIGGER IF EXISTS products_facet_rollup_update ON products_product;
DROP TRIGGER IF EXISTS products_facet_rollup_delete ON products_product;
DROP TRIGGER IF EXISTS products_facet_rollup_truncate ON products_product;
DROP FUNCTION IF EXISTS products_facet_rollup();
"""


def rollup_statement(table: str) -> str:
    """The INSERT of the rollup of every product of `table` (products/facet_rollup.py's rollup_rebuild)."""
    return _delta(_rows(table, 1))


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(rollup_statement("products_product"))  # the products already held


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("products", "0013_product_region_codes")]

    operations = [
        migrations.CreateModel(
            name="FacetRollup",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("grp", models.SmallIntegerField()),
                ("status", models.CharField(max_length=16)),
                ("industry", models.CharField(max_length=1, null=True)),
                ("product_form", models.CharField(max_length=16, null=True)),
                ("data_level", models.CharField(max_length=16, null=True)),
                ("quality_grade", models.CharField(max_length=1, null=True)),
                ("update_frequency", models.CharField(max_length=16, null=True)),
                ("exchange_id", models.CharField(max_length=8, null=True)),
                ("price_band", models.CharField(max_length=16, null=True)),
                ("province_mask", models.BigIntegerField(null=True)),
                ("delivery_mask", models.IntegerField(null=True)),
                ("n", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
