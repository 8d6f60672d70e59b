"""Chinese word segmentation, the one rule by which every node turns Chinese text into search terms: products
and demands are indexed, queries and demands matched, with the same tokens everywhere.

jieba runs through `rjieba`, the binding of jieba-rs: the same dictionary and algorithm (DAG + HMM) with the
same output as Python jieba, about ten times faster. Indexing uses search-engine mode (which also emits the
sub-words of long words); queries use precise mode. Punctuation and the commonest function words are dropped.
"""

from __future__ import annotations

import re

import rjieba

# Tokens that carry no meaning for search: punctuation, spaces and the commonest function words.
_SKIP = re.compile(r"^[\s\W_]+$")
_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "为",
        "对",
        "等",
        "之",
        "其",
        "以",
        "于",
        "由",
        "从",
        "把",
        "被",
        "个",
        "这",
        "那",
        "有",
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
    ]
)
MAX_QUERY_TOKENS = 12


def warm_up() -> None:
    """Load the dictionary now instead of in the first request that needs it."""
    rjieba.cut("预热")


def _keep(token: str) -> bool:
    return bool(token) and not _SKIP.match(token) and token not in _STOPWORDS


# Token as segmented -> the indexed form ("" when dropped). Filtering a token costs twice the segmentation
# itself; a catalogue's vocabulary repeats, so an import or a feed page mostly hits this cache.
_INDEX_FORMS: dict[str, str] = {}
_INDEX_FORMS_MAX = 200_000


def segment_for_index(text: str) -> str:
    forms = _INDEX_FORMS
    kept = []
    for token in rjieba.cut_for_search(text, True):
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
    for token in rjieba.cut(text, True):
        token = token.strip().lower()
        if _keep(token):
            seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TOKENS]
