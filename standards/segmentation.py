"""Chinese word segmentation, the one rule by which every node turns Chinese text into search terms: products
and demands are indexed, queries and demands matched, with the same tokens everywhere.

jieba runs through `rjieba`, the binding of jieba-rs: the same dictionary and algorithm (DAG + HMM) with the
same output as Python jieba, about ten times faster. Indexing uses search-engine mode (which also emits the
sub-words of long words); queries use precise mode. Punctuation and the commonest function words are dropped;
a demand matched against products also drops the words that say nothing about which data is wanted
(`match_terms`).

The dictionary (about 34 MB of a process's memory) is loaded on the first segmentation, not at import: a
process that never segments (gunicorn's master, beat, a management command) does not hold it
(docs/operations.md, "Light nodes"); `warm_up` loads it ahead where the first request must not wait.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from types import ModuleType

from standards.regions import region_names_for_prefix

# Tokens that carry no meaning: punctuation and spaces, and the stop words of standards/data/stopwords.txt.
_SKIP = re.compile(r"^[\s\W_]+$")
STOP_WORDS_FILE = Path(__file__).resolve().parent / "data" / "stopwords.txt"


def _stop_words() -> dict[str, frozenset[str]]:
    """The file's sections: `[index]` words are never indexed or searched, `[match]` words are also not a
    demand's match terms."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in STOP_WORDS_FILE.read_text("utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word.startswith("[") and word.endswith("]"):
            current = sections.setdefault(word[1:-1], set())
        elif word:
            current.add(word.lower())
    return {name: frozenset(words) for name, words in sections.items()}


_SECTIONS = _stop_words()
_STOPWORDS = _SECTIONS["index"]
MATCH_STOP_WORDS = _SECTIONS["index"] | _SECTIONS["match"]
MAX_QUERY_TOKENS = 12


_JIEBA: list[ModuleType] = []


def _jieba() -> ModuleType:
    """rjieba, imported (its dictionary built) on the first call."""
    if not _JIEBA:
        import rjieba  # lazy: importing builds the 34 MB dictionary, which most processes never use

        _JIEBA.append(rjieba)
    return _JIEBA[0]


def warm_up() -> None:
    """Load the dictionary now instead of in the first request that needs it."""
    _jieba().cut("预热")


def _keep(token: str) -> bool:
    return bool(token) and not _SKIP.match(token) and token not in _STOPWORDS


# Token as segmented -> the indexed form ("" when dropped). Filtering a token costs twice the segmentation
# itself; a catalogue's vocabulary repeats, so an import or a feed page mostly hits this cache.
_INDEX_FORMS: dict[str, str] = {}
_INDEX_FORMS_MAX = 200_000


def segment_for_index(text: str) -> str:
    forms = _INDEX_FORMS
    kept = []
    for token in _jieba().cut_for_search(text, True):
        form = forms.get(token)
        if form is None:
            form = token.strip().lower()
            if not _keep(form):
                form = ""
            if len(forms) < _INDEX_FORMS_MAX:
                forms[token] = form
        if form:
            kept.append(form)
    return " ".join(kept)


def segment_query(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for token in _jieba().cut(text, True):
        token = token.strip().lower()
        if _keep(token):
            seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TOKENS]


@cache
def _not_match_terms() -> frozenset[str]:
    # Region names (上海市, 上海, 全国 …) say where, not what: the region factor weighs where.
    return MATCH_STOP_WORDS | frozenset(name.lower() for name in region_names_for_prefix())


def match_terms(text: str, *, limit: int) -> list[str]:
    """The words of `text` that say which data is wanted (in order, once each, at most `limit`): its words in
    precise mode, each followed by the shorter words within it that search-engine mode indexes (气象观测, then
    气象 and 观测: a product that says 气象站观测 shares those), without the `[match]` stop words — function
    words, a demand's own wording (需要, 采购), words nearly every product uses (数据, 服务, 平台) — and
    without region names."""
    skip = _not_match_terms()
    seen: dict[str, None] = {}
    jieba = _jieba()
    for word in jieba.cut(text, True):
        word = word.strip().lower()
        if not _keep(word) or word in skip:
            continue
        for token in (word, *jieba.cut_for_search(word, True)):
            token = token.strip().lower()
            if _keep(token) and token not in skip:
                seen.setdefault(token, None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]
