"""Helpers for the portal's tests (docs/portal.md, "Tests"): sign a person in on a Django test client, read a
page's HTML, check a page against the portal's rules (strict CSP, no inline script or style)."""

from __future__ import annotations

import re

from django.test import Client

from accounts.models import User
from portal.actors import SESSION_GENERATION


def signed_in(user: User, client: Client | None = None) -> Client:
    """A test client with the user's portal session (as /login/ would start it)."""
    client = client or Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[SESSION_GENERATION] = user.token_generation
    session.save()
    return client


def html(response) -> str:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


def assert_portal_page(response) -> str:
    """The page carries the portal's strict policy and holds nothing that it would block: no inline script
    (JSON data blocks do not run), no <style> element, no style attribute, no event-handler attribute, no
    URL of another host."""
    from core.middleware import PORTAL_POLICY

    assert response["Content-Security-Policy"] == PORTAL_POLICY
    page = html(response)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert not [a for a, body in scripts if body.strip() and "application/json" not in a], "inline script"
    assert "<style" not in page
    assert not re.search(r"\sstyle\s*=", page), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", page), "event-handler attribute"
    assert not re.findall(r'(?:src|href|action)\s*=\s*["\'](?:https?:)?//', page), "another host"
    return page
