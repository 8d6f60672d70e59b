"""Full-text index: a weighted tsvector on PostgreSQL, an FTS5 table on SQLite (see products.search)."""

from django.db import migrations


def install(apps, schema_editor):
    from products.search import search_index_install  # lazy: a migration loads app code only when it runs

    search_index_install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
