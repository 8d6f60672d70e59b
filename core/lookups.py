"""`field__any=values`: the `__in` lookup, written on PostgreSQL as `field = ANY(%s)`, one array parameter.

Django writes `__in` as `IN (%s, %s, …)`, one placeholder per value. For the hundreds of keys a feed page or
an import batch looks up, compiling that list and psycopg's re-splitting of the long statement (it does not
cache statements that long) cost more than the lookup itself (bench/catchup.py profile). The rows are the
same; on other databases, and for an empty list, it is `__in` unchanged.
"""

from __future__ import annotations

from django.db.models import Field, ForeignKey
from django.db.models.lookups import In


@Field.register_lookup
class AnyOf(In):
    """Also on foreign keys, given key values (not model instances)."""

    lookup_name = "any"

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql" or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        if not values or any(hasattr(v, "resolve_expression") for v in values):
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        array_type = field.db_type(connection).split("(")[0]
        params = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
        return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, params)


ForeignKey.register_lookup(AnyOf)
