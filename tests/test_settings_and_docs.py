"""Strict settings, the OpenAPI schema and the offline Swagger UI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _django_check(**env):
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NODE_CODE", "REGISTRY_ENV"}}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"NODE_CODE": "NOPE"}, "NODE_CODE"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        # A streaming replica is PostgreSQL, of a PostgreSQL primary (here the default, SQLite).
        ({"DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"}, "DATABASE_REPLICA_URL"),
        ({"DATABASE_REPLICA_URL": "postgres://registry@replica:5432/registry"}, "DATABASE_REPLICA_URL"),
        ({"DATABASE_REPLICA_PIN_SECONDS": "0"}, "DATABASE_REPLICA_PIN_SECONDS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"REGISTRY_ENV": "production", "SECRET_KEY": "short", "ALLOWED_HOSTS": "a.org"}, "SECRET_KEY"),
        ({"CELERY_BROKER_URL": "kafka://x"}, "CELERY_BROKER_URL"),
        ({"NODE_PUBLIC_URL": "ftp://x"}, "NODE_PUBLIC_URL"),
        ({"THROTTLE_ANON": "lots"}, "THROTTLE_ANON"),
        ({"NUM_PROXIES": "-1"}, "NUM_PROXIES"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
    ],
)
def test_bad_environment_stops_the_start_naming_the_variable(env, needle):
    done = _django_check(**env)
    assert done.returncode != 0
    assert f"Bad setting {needle}=" in done.stderr


def test_good_environment_starts():
    assert _django_check(NODE_CODE="gybdx").returncode == 0


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_complete(anon):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    for path in [
        "/api/v1/products/",
        "/api/v1/products/{code}/review/",
        "/api/v1/exchanges/{code}/",
        "/api/v1/standards/naming/check/",
        "/api/v1/products/{code}/versions/",
    ]:
        assert path in paths
    assert "409" in paths["/api/v1/products/{code}/submit/"]["post"]["responses"]


@pytest.mark.django_db
def test_swagger_ui_is_served_without_internet(anon):
    page = anon.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    # Every script, stylesheet and image comes from this node (drf-spectacular-sidecar through WhiteNoise):
    # no absolute URL to another host. (Not a search for "cdn": the page's random nonce once contained it.)
    import re

    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    external = re.findall(r'(?:src|href)\s*=\s*["\'](?:https?:)?//[^"\']+', html, flags=re.IGNORECASE)
    assert external == [], external
    assert not re.search(r"(?:cdn\.jsdelivr|unpkg\.com|cdnjs)", html, flags=re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_html_pages_carry_a_content_security_policy_and_still_render(anon, path):
    """The pages run no inline script (Swagger UI's start-up script is a file of its own) and load nothing
    from another host; they are never framed."""
    import re

    from core.middleware import PAGE_POLICY

    page = anon.get(path)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["Content-Security-Policy"] == PAGE_POLICY
    policy = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert page["X-Content-Type-Options"] == "nosniff" and page["Referrer-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"
    html = page.content.decode()
    inline = [s for s in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S) if s[1].strip()]
    assert not [attrs for attrs, _ in inline if "application/json" not in attrs]  # data blocks do not run


@pytest.mark.django_db
def test_swagger_ui_start_up_script_is_served_from_the_node(anon):
    import re

    html = anon.get("/api/docs/").content.decode()
    (script,) = re.findall(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html)
    code = anon.get(script.replace("&amp;", "&"))
    assert code.status_code == 200 and code["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in code.content.decode() and "/api/schema/" in code.content.decode()


@pytest.mark.django_db
def test_other_responses_carry_a_policy_that_allows_nothing(anon):
    from core.middleware import OTHER_POLICY

    for path in ("/api/v1/exchanges/", "/api/v1/no-such-thing/", "/api/schema/"):
        response = anon.get(path)
        assert response["Content-Security-Policy"] == OTHER_POLICY, path
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_request_django_refuses_before_any_view_gets_the_error_shape(anon):
    """A Host not in ALLOWED_HOSTS is refused by Django itself: 400 in the error shape, not an HTML page.
    (gunicorn's 400/414/431 for a malformed or oversized request come before Django: docs/operations.md.)"""
    response = anon.get("/api/v1/node/", HTTP_HOST="not-this-node.example")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "bad_request") and error["message_en"]
