"""Spelling normalisation for the text fields: British and American spellings meet.

Applied at index and at query time alike (it is part of the text analyzer), so a
rule that also catches an unrelated word only merges two rare spellings; it never
loses a match. Rules are anchored word patterns for medical English: tumour,
oesophageal, anaemia, paediatric, haemorrhage, randomised, centre, diarrhoea.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh.analysis import Filter, Token

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


def normalise(word: str) -> str:
    """The American spelling of a lowercase word, or the word itself."""
    if len(word) < 4 or not word.isalpha():
        return word
    for pattern, repl in _RULES:
        if pattern.pattern.startswith("([a-z]{3,})is") and _ISE_KEEP.match(word):
            continue
        word = pattern.sub(repl, word)
    return word


class SpellingFilter(Filter):
    """A Whoosh filter applying `normalise` to every (lowercased) token."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpellingFilter)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = normalise(token.text)
            yield token
