from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from products.search import search_index_install


def _install_search_index(sender, using, **kwargs):
    search_index_install(connections[using])


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products"

    def ready(self):
        from products import receivers, replicas  # noqa: F401 - declares the record types, connects receivers

        # Schema upkeep, not business logic: SQLite table rebuilds drop the FTS triggers (products.search).
        post_migrate.connect(_install_search_index, sender=self, dispatch_uid="products.search_index")
