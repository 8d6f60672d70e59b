from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Federation"

    def ready(self):
        from federation import private  # noqa: F401 - declares the sealed stub record type
