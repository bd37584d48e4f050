"""Highlighted snippets: the best passage of a hit's text with query terms in <mark>.

Only the hits on the page shown are highlighted, and the text is HTML-escaped
here, so a template may output the snippet as is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from whoosh import analysis

SNIPPET_CHARS = 260
SCAN_CHARS = 6000  # a passage past this point is not worth tokenising a long text for


_WORD = re.compile(r"\w+")
_CACHE_LIMIT = 100_000


@lru_cache(maxsize=1024)
def _candidates(heads: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words that could yield a term: those starting with a term's first two
    letters, and those holding a digit or underscore (split into terms of their own)."""
    starts = "|".join(re.escape(head) for head in heads)
    return re.compile(rf"\b(?:{starts})\w*|\b\w*[\d_]\w*", re.IGNORECASE)


def _spans(text: str, terms: set[str], analyzer: analysis.Analyzer) -> list[tuple[int, int, str]]:
    """Where query terms occur: each word is analysed alone (and remembered), and only
    when it could yield a term at all; the regex engine skips the rest."""
    pattern = _candidates(tuple(sorted({term[:2] for term in terms})))
    cache: dict[str, tuple[str, ...]] = analyzer.__dict__.setdefault("_snippet_terms", {})
    spans = []
    for match in pattern.finditer(text):
        word = match.group(0).lower()
        found = cache.get(word)
        if found is None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            found = cache[word] = tuple(
                t.text for t in analyzer(word, mode="query", removestops=False)
            )
        for term in found:
            if term in terms:
                spans.append((match.start(), match.end(), term))
                break
    return spans


def best_passage(
    texts: list[str | None],
    terms: set[str],
    analyzer: analysis.Analyzer,
    max_chars: int = SNIPPET_CHARS,
) -> str:
    """The window of at most max_chars with the most distinct query terms, marked and escaped."""
    best: tuple[int, int, str, list[tuple[int, int, str]]] | None = None
    for text in texts:
        if not text:
            continue
        lowered = text[:SCAN_CHARS].lower()
        # stems are (nearly always) prefixes of the surface word: skip texts without any
        hopeful = any(term[:4] in lowered for term in terms)
        spans = _spans(text[:SCAN_CHARS], terms, analyzer) if terms and hopeful else []
        if not spans:
            if best is None:
                best = (0, 0, text, [])
            continue
        for i, (start, _, _) in enumerate(spans):
            window = [s for s in spans[i:] if s[1] - start <= max_chars]
            score = len({s[2] for s in window}) * 1000 + len(window)
            if best is None or score > best[0]:
                best = (score, start, text, window)
        if best is not None and best[0] >= len(terms) * 1000:
            break  # every term is in this passage: no need to read further texts
    if best is None:
        return ""
    _, start, text, window = best
    return _render(text, start, window, max_chars)


def _render(text: str, first: int, window: list[tuple[int, int, str]], max_chars: int) -> str:
    if window:
        # a little context before the first match, but never wasted room at the end
        lead = max(0, min(first - max_chars // 4, len(text) - max_chars))
        # start at a word boundary (any white space: paragraphs end in newlines)
        if lead > 0:
            space = max(text.rfind(ch, 0, lead) for ch in " \n\t")
            if space >= 0 and lead - space < 30:
                lead = space + 1
            else:
                ahead = [i for i in (text.find(ch, lead, first) for ch in " \n\t") if i >= 0]
                lead = min(ahead) + 1 if ahead else first
    else:
        lead = 0
    end = min(len(text), lead + max_chars)
    if end < len(text):
        space = max(text.rfind(ch, lead, end) for ch in " \n\t")
        end = space if space > lead + max_chars // 2 else end
    if window:
        end = max(end, window[-1][1])  # the window's last match is always shown
    out = ["…" if lead > 0 else ""]
    pos = lead
    for start, stop, _ in window:
        if start < pos or stop > end:
            continue
        out.append(escape(text[pos:start]))
        out.append("<mark>" + escape(text[start:stop]) + "</mark>")
        pos = stop
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return " ".join("".join(out).split())
