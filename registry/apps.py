"""The project as an app, for one thing: making the node's Celery application the current one."""

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Every process that sets Django up (web workers, the Celery worker, management commands, tests) imports
    the node's Celery application here, so that `@shared_task` functions send with its configuration.
    `registry/__init__.py` used to import it, which put Celery, kombu and billiard into every importer of
    the package, gunicorn's master among them (it reads the settings: registry/gunicorn.py) — about 15 MB of
    a light node's memory for a process that never sends a task (docs/performance.md, "A node's memory at
    idle")."""

    name = "registry"
    verbose_name = "Registry node"

    def ready(self) -> None:
        from registry import celery  # noqa: F401  # lazy: only once Django is set up, never in gunicorn's master
