"""The portal's English is complete (docs/portal.md, "Translations"): every msgid of locale/en's catalog is
translated (no empty msgstr, nothing fuzzy), the committed .mo says the same as the .po, and every string the
portal's templates and code mark for translation is in the catalog (`make messages` was run)."""

import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _unquote(chunks: list[str]) -> str:
    text = "".join(c.strip()[1:-1] for c in chunks)
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def entries() -> list[dict]:
    """The catalog's entries: msgid, msgstr (the plural forms joined), flags."""
    found = []
    for block in PO.read_text("utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        flags = {f.strip() for line in lines if line.startswith("#,") for f in line[2:].split(",")}
        parts: dict[str, list[str]] = {}
        key = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r"(msgid_plural|msgid|msgstr(?:\[\d+\])?) (.*)", line)
            if match:
                key = match.group(1)
                parts[key] = [match.group(2)]
            elif key:
                parts[key].append(line)
        if "msgid" in parts:
            strs = [_unquote(v) for k, v in sorted(parts.items()) if k.startswith("msgstr")]
            found.append({"msgid": _unquote(parts["msgid"]), "msgstr": strs, "flags": flags})
    return found


def test_every_msgid_has_an_english_translation_and_none_is_fuzzy():
    messages = [e for e in entries() if e["msgid"]]
    assert messages, "the catalog is empty"
    assert [e["msgid"] for e in messages if not all(e["msgstr"])] == []
    assert [e["msgid"] for e in entries() if "fuzzy" in e["flags"]] == []


def test_the_compiled_catalog_matches_the_po():
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    for entry in entries():
        if entry["msgid"] and len(entry["msgstr"]) == 1:
            assert catalog.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


_MARKED = (
    r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1""",  # {% translate "…" %} (also with `as name`)
    r"""\b_\((["'])(.*?)\1\)""",  # _("…") in templates and code
    r"""\b(?:gettext|gettext_lazy|pgettext)\((["'])(.*?)\1\)""",
)


def _blocktranslate(text: str) -> list[str]:
    bodies = re.findall(r"\{%\s*blocktranslate\b[^%]*%\}(.*?)\{%\s*endblocktranslate\s*%\}", text, flags=re.S)
    singular = [
        re.split(r"\{%\s*plural\s*%\}", body)[0] for body in bodies
    ]  # msgid; the plural is msgid_plural
    return [re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body) for body in singular]


def test_every_marked_string_of_the_portal_is_in_the_catalog():
    known = {e["msgid"] for e in entries()}
    marked = set()
    for path in [*(ROOT / "portal").rglob("*.html"), *(ROOT / "portal").rglob("*.py")]:
        text = path.read_text("utf-8")
        for pattern in _MARKED:
            marked |= {m[1] for m in re.findall(pattern, text, flags=re.S)}
        if path.suffix == ".html":
            marked |= set(_blocktranslate(text))
    assert marked, "no marked strings found: the test reads the wrong place"
    assert sorted(marked - known) == [], "run `make messages` and translate the new strings"
