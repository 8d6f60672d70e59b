"""The portal in a real browser (docs/portal.md, "Browser tests"): Playwright for Python drives Debian's
chromium (/usr/bin/chromium, installed by .ci/run when missing; Playwright's own browser downloads are never
used) against pytest-django's live server: this node's whole Django stack on a real port, with the test
database. The tests skip, saying why, only when the browser is missing.

Every page a test opens is watched: a console error (a Content-Security-Policy violation is one), an
uncaught script error or a static file that fails to load fails the test (a page or an htmx request
answered 4xx does not: that is how the portal refuses bad input). With SCREENSHOTS=1 (`make screenshots`)
`shot(page, name)` saves what a 1280×800 window shows of the page into docs/screenshots/NAME.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOT = {"width": 1280, "height": 800}  # the screenshots' window (`shot`)

# Playwright's sync API keeps an asyncio loop in the test's thread; Django would then refuse the tests' own
# (synchronous) ORM calls as if they ran in async code. They do not: allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright  # lazy: only when a browser test runs

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Watched:
    """A browser context with its pages' console errors and uncaught exceptions collected."""

    def __init__(self, browser, base_url: str, *, locale: str, viewport: dict):
        self.errors: list[str] = []
        self.context = browser.new_context(base_url=base_url, locale=locale, viewport=viewport)
        self.context.set_default_timeout(10_000)

    def new_page(self):
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("response", self._response)
        return page

    def _console(self, message) -> None:
        # A page or an htmx request answered 4xx is a form's refusal (the portal answers bad input so); a
        # missing script, stylesheet, image or font is caught by _response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type not in ("document", "xhr", "fetch"):
            self.errors.append(f"{response.status} {response.url}")


@pytest.fixture
def visitor(browser, live_server):
    """A visitor's browser (Chinese first, desktop size) on this node: `visitor.new_page()`."""
    watched = Watched(browser, live_server.url, locale="zh-CN", viewport=DESKTOP)
    yield watched
    watched.context.close()
    assert watched.errors == [], watched.errors


@pytest.fixture
def phone(browser, live_server):
    """The same at phone width."""
    watched = Watched(browser, live_server.url, locale="zh-CN", viewport=PHONE)
    yield watched
    watched.context.close()
    assert watched.errors == [], watched.errors


@pytest.fixture
def page(visitor):
    return visitor.new_page()


@pytest.fixture
def shot():
    """`shot(page, name, at=None)`: with SCREENSHOTS=1, the page as a person sees it in a fixed window: a
    desktop page at 1280×800 (SHOT), a phone page at its own size; `at` (a CSS selector) scrolls that part
    of the page to the top first (the product page's recognition matrix, below the fold). One window, not
    the whole page: the PNGs stay small (docs/portal.md, "Screenshots")."""

    def save(page, name: str, *, at: str | None = None) -> None:
        if os.environ.get("SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        viewport = page.viewport_size
        phone = viewport is not None and viewport["width"] <= PHONE["width"]
        if not phone:
            page.set_viewport_size(SHOT)
        if at:
            page.locator(at).first.evaluate("element => element.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")
        if at:
            page.evaluate("window.scrollTo(0, 0)")
        if not phone and viewport is not None:
            page.set_viewport_size(viewport)

    return save
