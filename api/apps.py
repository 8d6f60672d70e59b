from django.apps import AppConfig

from standards.terminology import glossary


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "HTTP API"

    def ready(self):
        from api import checks  # noqa: F401 - registers the deployment checks

        glossary()  # read and check the glossary now: a bad terms file stops the process at start
