from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "demands"
    verbose_name = "Demands 需求"

    def ready(self):
        from demands import receivers, replicas  # noqa: F401 - declares the record types, connects receivers
