"""Text analysis of our own: British and American spellings meet; weighted sections.

Applied at index and at query time alike (it is part of the text analyzer), so a
rule that also catches an unrelated word only merges two rare spellings; it never
loses a match. Rules are anchored word patterns for medical English: tumour,
oesophageal, anaemia, paediatric, haemorrhage, randomised, centre, diarrhoea.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import STOP_WORDS, Filter, RegexTokenizer, Token, Tokenizer
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map as _ACCENTS

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (
            r"^(tum|col|behavi|fav|hum|lab|od|vap|rum|neighb|hon|arb)our(s|ed|ing|al|ly)?$",
            r"\1or\2",
        ),
        (r"^oesophag", "esophag"),
        (r"^oedem", "edem"),
        (r"^oestr", "estr"),
        (r"^oes(?=tro)", "es"),
        (r"^foet", "fet"),
        (r"^coeli", "celi"),
        (r"^manoeuv", "maneuv"),
        (r"rrhoea", "rrhea"),
        (r"^(an|ortho|gyn|)?haem", r"\1hem"),
        (r"^paed", "ped"),
        (r"^orthopaed", "orthoped"),
        (r"^gynaec", "gynec"),
        (r"^aetiol", "etiol"),
        (r"^caesar", "cesar"),
        (r"aem(ia|ic|ias)$", r"em\1"),
        (r"^anaesth", "anesth"),
        (r"aesthes", "esthes"),
        (r"^(cent|lit|met|fib|theat|lust|spect|calib|sab)re(s|d)?$", r"\1er\2"),
        (r"^(catal|anal|dial|prol|epil)ogue(s)?$", r"\1og\2"),
        (r"([a-z]{3,})is(e|ed|es|ing|ation|ations|er|ers)$", r"\1iz\2"),
        (r"^programme(s)?$", r"program\1"),
        (r"^labell(ed|ing)$", r"label\1"),
        (r"^travell(ed|ing|er|ers)$", r"travel\1"),
    )
)
# -ise words that are not the British form of an -ize word
_ISE_KEEP = re.compile(
    r"^(?:.*w|exerc|advert|superv|compr|surpr|prom|prem|exc|rev|adv|dev|desp|disgu|expert|"
    r"franch|merchand|telev|improv|enterpr|conc|prec|po|pra|cru|bru|chast|inc|circumc|dem|"
    r"treat|parad|appr|ar|sunr|repr|upr|mort|ra)is(e|ed|es|ing|ion|ions|er|ers|al)?$"
)


@lru_cache(maxsize=262_144)
def normalise(word: str) -> str:
    """The American spelling of a lowercase word, or the word itself (memoised: every
    token of every page passes here, and a corpus has far fewer distinct words)."""
    if len(word) < 4 or not word.isalpha():
        return word
    for pattern, repl in _RULES:
        if pattern.pattern.startswith("([a-z]{3,})is") and _ISE_KEEP.match(word):
            continue
        word = pattern.sub(repl, word)
    return word


SECTION_MARK = "\x1e"


class WeightedSections(Tokenizer):
    """Tokenize a text made of marked sections, each token weighted by its section.

    One `body` field holds every text of a study; `\\x1e` plus a one-letter code
    starts a section, and each token's boost is that section's weight. Whoosh sums
    the boosts into the term weight BM25 scores, so a word in the title counts five
    times one in the description: field weights in one posting list, one matcher
    per query word instead of one per field. Text without marks (a query) is read
    as one section of weight 1.
    """

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = dict(weights)
        self.inner = RegexTokenizer()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WeightedSections) and other.weights == self.weights

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        start_pos: int = 0,
        start_char: int = 0,
        **kwargs: object,
    ) -> Iterator[Token]:
        if SECTION_MARK not in value:
            yield from self.inner(
                value, positions=positions, chars=chars, start_pos=start_pos,
                start_char=start_char, **kwargs,
            )  # fmt: skip
            return
        pos, char = start_pos, start_char
        for section, part in enumerate(value.split(SECTION_MARK)):
            if part:
                boost = self.weights.get(part[0], 1.0)
                for token in self.inner(
                    part[1:], positions=positions, chars=chars, start_pos=pos,
                    start_char=char + 1, **kwargs,
                ):  # fmt: skip
                    token.boost = boost
                    token.section = section
                    if positions:
                        pos = token.pos + 1
                    yield token
            char += len(part) + 1


class SectionGaps(Filter):
    """Leave a gap in positions between sections, so no phrase spans two of them.

    Runs last: the stop filter renumbers positions as if sections were one text.
    """

    GAP = 100

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SectionGaps)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        offset = 0
        last = None
        for token in tokens:
            section = getattr(token, "section", None)
            if section is not None and token.positions:
                if last is not None and section != last:
                    offset += self.GAP
                last = section
                token.pos += offset
            yield token


_PARTS = re.compile(r"[^\W\d_]+|\d+")
# Whoosh's RegexTokenizer default pattern, its group made non-capturing for findall
_WORDS = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")


@lru_cache(maxsize=524_288)
def word_forms(raw: str, keep_stops: bool = False) -> tuple[str, ...]:
    """The indexed forms of one token: letters and digits split (covid19 → covid, 19),
    lowercased, accents folded, spelling normalised, stop words dropped, stemmed.

    One memoised function instead of a chain of six per-token filters: a corpus has
    far fewer distinct words than tokens, so most tokens cost one dictionary lookup.
    """
    out = []
    for part in _PARTS.findall(raw) or [raw]:
        word = normalise(part.lower().translate(_ACCENTS))
        if not word or (word in STOP_WORDS and not keep_stops):
            continue
        out.append(stem(word))
    return tuple(out)


class WordForms(Filter):
    """Replace each token by its `word_forms`, numbering positions afresh."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordForms)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        pos: int | None = None
        for token in tokens:
            forms = word_forms(token.text, not token.removestops)
            if not forms:
                continue
            if token.positions and pos is None:
                pos = token.pos
            for form in forms:
                token.text = form
                if token.positions:
                    token.pos = pos
                    pos += 1
                yield token


class _FormsOfWords(dict):
    """word -> word_forms(word) for indexing: a plain dict read inside a comprehension
    costs less per token than a call through lru_cache. Cleared when full, so a long
    tail of rare words cannot grow it without bound."""

    LIMIT = 400_000

    def __missing__(self, word: str) -> tuple[str, ...]:
        forms = word_forms.__wrapped__(word)
        if len(self) >= self.LIMIT:
            self.clear()
        self[word] = forms
        return forms


_INDEX_FORMS = _FormsOfWords()


def index_terms(
    value: str, weights: dict[str, float] | None = None
) -> tuple[dict[str, list[int]], dict[str, float]]:
    """Each indexed word's positions and summed weight, as the analyzer chain gives them.

    The same result as running `WeightedSections | WordForms | SectionGaps` (or,
    without `weights`, `RegexTokenizer | WordForms`) and summing boosts per word,
    without making and mutating a Token object per word: indexing spends most of
    its analysis time there (tests/test_textnorm.py checks the two agree). A
    section's forms are listed first, so the loop over them does nothing else.
    """
    positions: dict[str, list[int]] = {}
    totals: dict[str, float] = {}
    if weights is None or SECTION_MARK not in value:
        sections: list[tuple[float, str]] = [(1.0, value)]
    else:
        sections = [
            (weights.get(part[0], 1.0) if part else 1.0, part[1:])
            for part in value.split(SECTION_MARK)
        ]
    gap = 0 if weights is None else SectionGaps.GAP
    forms_of = _INDEX_FORMS
    pos = -1  # the next position given; -1 until the first word kept
    raw = 0  # words read so far, kept or not
    for boost, text in sections:
        words = _WORDS.findall(text)
        forms = [form for word in words for form in forms_of[word]]
        if forms:
            if pos < 0:  # as WordForms: counting starts at the tokenizer's place of that word
                pos = raw + next(i for i, word in enumerate(words) if forms_of[word])
            else:
                pos += gap  # sections apart, so no phrase spans two
            for at, form in enumerate(forms, pos):
                found = positions.get(form)
                if found is None:
                    positions[form] = [at]
                    totals[form] = boost
                else:
                    found.append(at)
                    totals[form] += boost
            pos += len(forms)
        raw += len(words)
    return positions, totals


@lru_cache(maxsize=262_144)
def _spelling_form(raw: str) -> str | None:
    word = raw.lower()
    if len(word) < 3 or word in STOP_WORDS:
        return None
    return word.translate(_ACCENTS)


def spelling_counts(value: str) -> dict[str, int]:
    """Words as `spell_analyzer` keeps them (unstemmed, lowercased, no stop words,
    three letters or more, accents folded), counted: the same words, made faster."""
    counts: dict[str, int] = {}
    for raw in _WORDS.findall(value):
        word = _spelling_form(raw)
        if word is not None:
            counts[word] = counts.get(word, 0) + 1
    return counts
