"""Reading a patient description: age, sex, and which findings it denies.

A clinician's note ("A 45-year-old man with … He denies chest pain.") is evidence,
not a conjunction of words. This module reads the facts that decide eligibility —
age and sex — and marks the words a negation covers, so that "no history of
diabetes" does not count for diabetes studies. It knows nothing of the index: the
concepts are looked up by patient_query.py over the words this module leaves
standing. Everything here is deliberately conservative: an age is read only when
the text says it is one ("45-year-old", "aged 45", "6 yo", "72 F" at the start),
never from "18F-FDG", "COVID-19", "type 2", "phase 3" or "for 5 years".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_TENS |= {"eighty": 80, "ninety": 90}
_WORD_NUMBER = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|"
    r"four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_NUM = rf"(?P<n>[0-9]{{1,3}}(?:\.[0-9])?|{_WORD_NUMBER})"
_UNIT = r"(?P<unit>years?|yrs?|y|months?|mos?|weeks?|wks?|days?)"
# ASCII digits only (re.ASCII): a look-alike digit is never a number here
_AGE_PATTERNS = [
    # 45-year-old, 45 year old, 3-month-old, forty-five-year-old, 45-yr-old
    re.compile(rf"(?<![\w.-]){_NUM}[- ]?{_UNIT}[- ]old(?![\w])", re.I | re.A),
    # aged 45, age 45, age: 45, aged 45 years
    re.compile(rf"\bage(?:d|:)?\s*:?\s*{_NUM}(?:\s*{_UNIT})?(?![\w-])", re.I | re.A),
    # 45 years of age
    re.compile(rf"(?<![\w.-]){_NUM}\s*{_UNIT}\s+of\s+age\b", re.I | re.A),
    # 6 yo, 6yo, 6 y/o, 6 y.o., 6-yo
    re.compile(rf"(?<![\w.-]){_NUM}[- ]?(?:yo|y/o|y\.o\.?)(?![\w/])", re.I | re.A),
]
# "72 F", "72M", "72 yo F": a note's opening shorthand; elsewhere "101 F" is a temperature
_SHORTHAND = re.compile(
    r"^\W*(?:(?:a|an|pt|patient)\s+)?(?P<n>[0-9]{1,3})\s?(?:yo\s?|y/o\s?)?(?P<sex>[MF])(?![\w-])",
    re.A,
)
_SEX_WORDS = {
    "FEMALE": r"woman|women|female|girl|lady|mother|wife|daughter|sister|pregnant|"
    r"postmenopausal|premenopausal|gravida|primigravida",
    "MALE": r"man|men|male|boy|gentleman|father|husband|son|brother",
}
_SEX_NOUN = re.compile(
    r"\b(?:(?P<FEMALE>" + _SEX_WORDS["FEMALE"] + r")|(?P<MALE>" + _SEX_WORDS["MALE"] + r"))\b",
    re.I,
)
_PRONOUN = re.compile(
    r"\b(?:(?P<FEMALE>she|her|hers|herself)|(?P<MALE>he|him|his|himself))\b", re.I
)
# the nouns that follow an age name the patient; farther on they may name anyone
_NEAR = 40

# NegEx-style cues: what follows them, to the end of the clause, is denied.
_CUES = re.compile(
    r"\b(?:no|not|denies|denied|denying|deny|without|never|negative\s+for|free\s+of|"
    r"absence\s+of|absent|rules?\s+out|ruled\s+out|excluding|non|nor|neither)\b|n't\b",
    re.I,
)
# a negation ends at the clause: punctuation but the comma, or a word that turns it
_SCOPE_END = re.compile(
    r"[.;:!?\n]|\b(?:but|however|although|though|except|aside|apart|which|who|whose|"
    r"presents?|presented|presenting|reports?|reported|complains?|complained|admits?|"
    r"has|had|have|is|was|were|are|shows?|showed|revealed?|reveals|now|then|since|"
    r"because|due|after|while|when|and\s+(?:has|had|is|was|reports?))\b",
    re.I,
)
_AFTER_CUES = re.compile(
    r"\b(?:was|were|is|are)\s+(?:ruled\s+out|negative|absent|excluded)\b", re.I
)
MAX_SCOPE_WORDS = 12
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class PatientReading:
    """What the description says about the patient, and the words it denies."""

    age: float | None  # years (a 3-month-old is 0.25)
    age_text: str | None  # the words it was read from
    sex: str | None  # FEMALE or MALE, as the sex facet spells it
    sex_text: str | None
    negated: tuple[tuple[int, int], ...]  # character spans a negation covers

    def is_negated(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.negated)

    def negated_text(self, text: str) -> list[str]:
        return [text[s:e].strip(" ,") for s, e in self.negated if text[s:e].strip(" ,")]


def read_patient(text: str) -> PatientReading:
    """Age, sex and negated spans of a description (any of them may be missing)."""
    age, age_text, age_end, shorthand_sex = _read_age(text)
    sex, sex_text = shorthand_sex, shorthand_sex and age_text
    if sex is None:
        sex, sex_text = _read_sex(text, age_end)
    return PatientReading(age, age_text, sex, sex_text, tuple(negated_spans(text)))


def _number(text: str) -> float | None:
    text = text.lower().replace("-", " ")
    if re.fullmatch(r"[0-9]{1,3}(?:\.[0-9])?", text, re.A):
        return float(text)
    parts = text.split()
    if len(parts) == 1:
        return float(_NUMBER_WORDS.get(parts[0], _TENS.get(parts[0], -1)))
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _NUMBER_WORDS:
        return float(_TENS[parts[0]] + _NUMBER_WORDS[parts[1]])
    return None


def _years(value: float, unit: str | None) -> float:
    unit = (unit or "y").lower()
    if unit.startswith("mo"):
        return round(value / 12, 2)
    if unit.startswith("w"):
        return round(value / 52, 2)
    if unit.startswith("d"):
        return round(value / 365, 2)
    return value


def _read_age(text: str) -> tuple[float | None, str | None, int, str | None]:
    """(years, words, where they end, sex of a "72 F" shorthand) of the first age."""
    shorthand = _SHORTHAND.match(text)
    if shorthand:
        value = float(shorthand.group("n"))
        if value <= 120:
            sex = "FEMALE" if shorthand.group("sex") == "F" else "MALE"
            return value, shorthand.group(0).strip(), shorthand.end(), sex
    best: re.Match[str] | None = None
    for pattern in _AGE_PATTERNS:
        for found in pattern.finditer(text):
            if best is None or found.start() < best.start():
                best = found
            break
    if best is None:
        return None, None, 0, None
    value = _number(best.group("n"))
    if value is None or value < 0:
        return None, None, 0, None
    years = _years(value, best.groupdict().get("unit"))
    if years > 120:
        return None, None, 0, None
    return years, best.group(0).strip(), best.end(), None


def _read_sex(text: str, age_end: int) -> tuple[str | None, str | None]:
    """The sex noun just after the age ("45-year-old man"), else the first in the text,
    else the pronouns when one kind clearly prevails."""
    near = _SEX_NOUN.search(text, age_end, age_end + _NEAR) if age_end else None
    found = near or _SEX_NOUN.search(text)
    if found:
        return ("FEMALE" if found.group("FEMALE") else "MALE"), found.group(0)
    counts = {"FEMALE": 0, "MALE": 0}
    for pronoun in _PRONOUN.finditer(text):
        counts["FEMALE" if pronoun.group("FEMALE") else "MALE"] += 1
    if counts["FEMALE"] >= 2 * counts["MALE"] + 1:
        return "FEMALE", "she/her"
    if counts["MALE"] >= 2 * counts["FEMALE"] + 1:
        return "MALE", "he/his"
    return None, None


def negated_spans(text: str) -> list[tuple[int, int]]:
    """Spans after a negation cue up to the end of its clause (at most 12 words), and
    the few words before "was ruled out" / "were negative"."""
    spans: list[tuple[int, int]] = []
    for cue in _CUES.finditer(text):
        start = cue.end()
        end = _SCOPE_END.search(text, start)
        stop = end.start() if end else len(text)
        words = list(_WORDS.finditer(text, start, stop))
        if len(words) > MAX_SCOPE_WORDS:
            stop = words[MAX_SCOPE_WORDS - 1].end()
        if words and stop > start:
            spans.append((start, stop))
    for after in _AFTER_CUES.finditer(text):
        clause = max(text.rfind(mark, 0, after.start()) for mark in ".;:\n,") + 1
        before = list(_WORDS.finditer(text, clause, after.start()))[-5:]
        if before:
            spans.append((before[0].start(), after.start()))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
