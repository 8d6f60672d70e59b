from django.db import models


class PlainBindMixin:
    """Opt a model out of Django 5.2's `UNNEST(array)` bulk insert on PostgreSQL.

    psycopg builds those arrays by escaping every value in Python with regular expressions; for large JSON
    documents and texts that costs more than the insert itself (bench/import_products.py,
    bench/replication.py). A field with `get_placeholder` makes Django use plain multi-row VALUES.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class JSONField(PlainBindMixin, models.JSONField):
    pass


class LargeTextField(PlainBindMixin, models.TextField):
    pass
