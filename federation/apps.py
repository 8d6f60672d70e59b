from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Federation"

    def ready(self):
        from federation import private, records  # noqa: F401 - registers the sealed stub record type
