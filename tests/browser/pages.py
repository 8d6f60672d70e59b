"""Reading a page as a person does, for the browser tests."""

import re

CJK = re.compile(r"[\u3400-\u9fff]")
# Labels: what the page itself says, not the data it shows (names, summaries stay as their owners wrote them).
LABELS = (
    "h2, thead th, label, nav a, button:not([lang='zh-hans']), .badge, .facets h3, dt, .stat, footer p + p"
)


def labels(page) -> list[str]:
    return [t.strip() for t in page.locator(LABELS).all_inner_texts() if t.strip()]


def chinese_labels(page) -> list[str]:
    """The page's labels that still hold Chinese (none, once the page is in English)."""
    return [label for label in labels(page) if CJK.search(label)]
