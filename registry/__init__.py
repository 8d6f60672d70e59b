"""The node's project package: settings, URLs, the WSGI/ASGI entry points and the Celery application.

The Celery application (registry/celery.py) is imported by `registry.apps.RegistryConfig.ready`, in every
process that sets Django up, and found by `celery -A registry` itself; importing this package does not import
Celery (gunicorn's master imports the settings only)."""
