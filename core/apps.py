from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Node core"

    def ready(self) -> None:
        from core import lookups  # noqa: F401 - registers the `__any` lookup
        from core.middleware import request_id_clear

        request_finished.connect(request_id_clear, dispatch_uid="core.request_id_clear")
