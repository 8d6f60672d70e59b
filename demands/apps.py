from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "demands"
    verbose_name = "Demands 需求"

    def ready(self):
        from demands import replication  # noqa: F401 - registers the demand record type
