from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Node core"

    def ready(self) -> None:
        from core import lookups  # noqa: F401 - registers the `__any` lookup
