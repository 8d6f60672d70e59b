from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality assessment 质量评估"

    def ready(self):
        # Declares the record types, connects the receivers and registers the recognition condition.
        from quality import conditions, receivers, replicas  # noqa: F401
