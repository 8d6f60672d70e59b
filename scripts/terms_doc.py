"""Write docs/standards/terminology.md from the glossary (standards/data/terms.json).

.venv/bin/python scripts/terms_doc.py           # write the document
.venv/bin/python scripts/terms_doc.py --check   # exit 1 when the committed document is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standards.terminology import glossary  # noqa: E402 - after the project root is on the path
from standards.terminology_doc import DOC_PATH, terminology_markdown  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the document is up to date")
    args = parser.parse_args(argv)
    path = ROOT / DOC_PATH
    text = terminology_markdown(glossary())
    if args.check:
        if not path.exists() or path.read_text("utf-8") != text:
            print(f"{DOC_PATH} is out of date: run scripts/terms_doc.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, "utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
