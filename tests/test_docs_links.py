"""The documentation refers only to what the repository holds: every relative link resolves to a file in it,
and no text points outside it (a sibling directory such as `../shared/`, an absolute path on some machine)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
# `../something` in code spans or plain text: a path relative to the document or to the repository.
PARENT_PATH = re.compile(r"(?:^|[\s`(\"'])((?:\.\./)+[\w./-]+)")
# A machine's own directories (a scratch file under /tmp in an example is fine).
ABSOLUTE_PATH = re.compile(r"(?:^|[\s`(\"'])(/(?:work|home|Users|root)/[\w./-]*)")


def _in_repository(document: Path, target: str) -> bool:
    for base in (document.parent, ROOT):
        path = (base / target).resolve()
        if path.is_relative_to(ROOT) and path.exists():
            return True
    return False


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_relative_links_resolve_inside_the_repository(document):
    for target in LINK.findall(document.read_text("utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor of this document
        path = (document.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{target} leaves the repository"
        assert path.exists(), f"{target} does not exist"


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_no_text_points_outside_the_repository(document):
    text = document.read_text("utf-8")
    for target in PARENT_PATH.findall(text):  # relative to the document (as its links) or to the repository
        assert _in_repository(document, target), f"{target} is not in the repository"
    assert not ABSOLUTE_PATH.findall(text), "an absolute path on some machine"


def test_the_checks_catch_what_they_are_for():
    assert PARENT_PATH.findall("departs from `../shared/DESIGN.md` (the design)") == ["../shared/DESIGN.md"]
    assert not _in_repository(ROOT / "docs" / "architecture.md", "../shared/DESIGN.md")
    compliance = ROOT / "docs" / "standards" / "compliance.md"
    assert _in_repository(compliance, "../examples/product-descriptor.json")
    assert LINK.findall("[the design](../../shared/DESIGN.md)") == ["../../shared/DESIGN.md"]
    assert ABSOLUTE_PATH.findall("kept in /work/shared/DESIGN.md") == ["/work/shared/DESIGN.md"]
