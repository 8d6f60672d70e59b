"""A narrow product heap on PostgreSQL: the descriptor and the segmented search texts move to TOAST.

A product row was about 2.8 KB (the JSONB descriptor and three segmented texts inline), so a search that
visits a few thousand matches read a few thousand heap pages (bench/search.py, EXPLAIN BUFFERS). With
`toast_tuple_target = 128` PostgreSQL moves every large value out of the row; the columns a search and a
list page read row by row — the tsvector it ranks, the name and provider it shows — stay in the row
(storage MAIN: compressed in place, moved out only if the row would not fit a page). Rows written before
this migration keep their layout until rewritten (`VACUUM FULL products_product` rewrites them all).
SQLite has no such setting; nothing changes there.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE products_product SET (toast_tuple_target = 128)",
    "ALTER TABLE products_product ALTER COLUMN search_vector SET STORAGE MAIN",
    "ALTER TABLE products_product ALTER COLUMN name SET STORAGE MAIN",
    "ALTER TABLE products_product ALTER COLUMN provider_name SET STORAGE MAIN",
]
BACKWARD = [
    "ALTER TABLE products_product RESET (toast_tuple_target)",
    "ALTER TABLE products_product ALTER COLUMN search_vector SET STORAGE EXTENDED",
    "ALTER TABLE products_product ALTER COLUMN name SET STORAGE EXTENDED",
    "ALTER TABLE products_product ALTER COLUMN provider_name SET STORAGE EXTENDED",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("products", "0005_product_is_home")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
