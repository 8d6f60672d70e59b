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


def other_descriptor(index: int) -> dict:
    """A listed product's descriptor that no test's search word matches (random ones might: the generator's
    state depends on the tests before)."""
    from tests.factories import random_descriptor

    descriptor = random_descriptor(
        name=f"企业工商登记变更数据集（第{index + 1}期）",
        summary="收录企业工商登记信息的变更记录，包括企业名称、注册资本、经营范围与登记机关等字段，按月汇总，"
        "可用于企业征信、供应链风险评估与区域经济研究。",
        keywords=["企业", "工商登记", "征信"],
    )
    descriptor["data_source"]["description"] = "提供方从公开渠道汇集并整理的企业登记信息。"
    descriptor["product_form"] = "dataset"
    return descriptor
