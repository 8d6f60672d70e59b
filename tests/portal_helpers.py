"""Helpers for the portal's tests (docs/portal.md, "Tests"): sign a person in on a Django test client, read a
page's HTML, check a page against the portal's rules (strict CSP, no inline script or style)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
    assert_accessible(page)
    return page


class _Controls(HTMLParser):
    """The form controls of a page and the labels that name them."""

    UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.headings: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in self.UNLABELLED_TYPES:
            self.controls.append({**a, "_tag": tag, "_wrapped": self.open_labels > 0})
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(tag)

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels -= 1


def assert_accessible(page: str) -> None:
    """Every control a person fills in has a name a screen reader reads (a label, or aria-label /
    aria-labelledby / title), and a full page has one h1 (an htmx fragment may have none)."""
    parser = _Controls()
    parser.feed(page)
    unnamed = [
        f"<{c['_tag']} name={c.get('name')!r}>"
        for c in parser.controls
        if not (
            c["_wrapped"]
            or c.get("id") in parser.label_for
            or c.get("aria-label")
            or c.get("aria-labelledby")
            or c.get("title")
        )
    ]
    assert not unnamed, f"controls without a label: {unnamed}"
    if "<html" in page:
        assert parser.headings.count("h1") == 1, f"one h1 per page, found {parser.headings.count('h1')}"


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
