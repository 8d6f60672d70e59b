from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        from exchanges import receivers  # noqa: F401 - connects the directory to the federation's signals
