from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "HTTP API"

    def ready(self):
        from api import checks  # noqa: F401 - registers the deployment checks
