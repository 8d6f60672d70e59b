"""The node's Celery application is the one every task sends with once Django is set up (registry/apps.py),
and gunicorn's master, which reads the settings (registry/gunicorn.py), does not import Celery."""

import os
import subprocess
import sys
from pathlib import Path

from celery import current_app

from federation.tasks import wake_peers
from registry.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_the_node_app_is_current_and_sends_every_task():
    assert current_app._get_current_object() is app
    assert wake_peers.app is app
    assert app.conf.task_default_queue == "celery"  # the node's settings, not Celery's defaults


def _modules_after(code: str) -> set[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings"}
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603 (this test's code)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


def test_gunicorns_configuration_reads_the_settings_without_celery():
    modules = _modules_after("import registry.gunicorn")
    assert "registry.settings" in modules
    assert not {"celery", "kombu", "billiard", "registry.celery"} & modules


def test_django_setup_imports_the_node_app():
    modules = _modules_after("import django; django.setup()")
    assert "registry.celery" in modules
