from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = "Deals 交易"

    def ready(self):
        from deals import receivers, replicas  # noqa: F401 - declares the record types, connects receivers
