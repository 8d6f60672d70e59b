from django.db import models


class JSONField(models.JSONField):
    """A JSONField that PostgreSQL bulk inserts bind as plain parameters.

    Django 5.2 bulk-inserts through `UNNEST(array)` on PostgreSQL, and psycopg builds those arrays by
    escaping every value in Python with regular expressions — for large JSON documents that costs more than
    the insert itself. A field with `get_placeholder` opts its model out of the UNNEST path.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"
