"""A patient description as a query: its medical concepts weigh most, other words little.

The dictionary of concepts is what the service already knows: the synonym lists
(MeSH conditions and interventions, the project's lay terms) and the index's own
condition and intervention names. The description's words are read left to right,
sentence by sentence, longest known phrase first (up to six words); a phrase inside
a negation ("denies chest pain") is dropped, not searched. What remains is one
BM25F `Or` over the weighted body field — a concept as a phrase, its synonyms in the
conditions and title fields, the other words as single terms at a low weight — with
its reading cost bounded by dropping the commonest words first, so a description is
never refused for its length. Eligibility by age and sex is matching.py's part.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from whoosh import query

from ..index.schema import BODY
from ..index.textnorm import word_forms
from .patient import PatientReading, read_patient
from .synonym_store import phrase_hash
from .synonyms import SYNONYM_BOOST, get_table, normalise_phrase

if TYPE_CHECKING:
    from .matching import Matches
    from .reader import Snapshot

# what each part of a description is worth: a condition or finding it names, a
# treatment it names (often only the patient's history), any other word
CONDITION_BOOST = 2.0
TREATMENT_BOOST = 0.5
WORD_BOOST = 1.0
REPEAT_WEIGHT = 0.5
MAX_REPEAT = 2.0
# where a concept's synonyms are looked for, and their weight there (text.py's fields)
SYNONYM_FIELDS = (("conditions", 3.0), ("title", 5.0))
MAX_SYNONYMS = 4
MAX_CONCEPTS = 30
MAX_WORDS = 40
# postings a patient query may read in all, a phrase's twice (its positions too): the
# commonest words go first past it. At 560,000 studies (2 cores, the 109 TREC and SIGIR
# topics, warm) 3,000,000 counted as before gave p95 563 ms, 1,500,000 329 ms,
# 1,000,000 213 ms; at 27,000 studies no topic reaches it (query_cost.MAX_POSTINGS bounds
# a keyword query)
MAX_PATIENT_POSTINGS = 1_000_000
# a word in more than this share of the studies tells them apart too little to read
MAX_WORD_SHARE = 0.5
# a phrase reads the positions of its words: at most this many (study, word) pairs
MAX_PHRASE_PAIRS = 600_000
MAX_PHRASE_WORDS = 6
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*")
_CLAUSE = re.compile(r"[.;:!?()\[\]\n]|,\s")
# words of clinical narrative that name no condition, treatment or finding of a study
# (some are MeSH entry terms: "patient", "history", "examination", "normal")
GENERIC = frozenset(
    """patient patients history year years old month months week weeks day days man woman
    male female boy girl presents presented presenting comes came admitted admission
    hospital clinic office emergency department er ed visit examination exam physical
    normal abnormal shows showed reveals revealed noted notes found finding findings
    evaluation test tests testing level levels result results value values mild moderate
    severe acute chronic recent recently current currently previous previously prior
    past medical family social significant remarkable unremarkable otherwise also well
    left right bilateral side time times today yesterday ago since last first second
    third two three four five six seven eight nine ten home work daily weekly
    taking takes took started start starting given received receiving treated treatment
    therapy medication medications drug drugs dose doses mg ml kg cm mm hour hours
    complains complaint complaints reports reported report states stated describes
    associated episode episodes onset began begin increased decreased increase decrease
    high low elevated blood pressure heart rate temperature vital signs sign symptoms
    symptom condition conditions disease diseases disorder disorders problem problems
    mother father sister brother wife husband son daughter child children parent
    parents friend friends girlfriend boyfriend partner partners
    had has have was were been being is are the and with without for from that this
    who which what when where while his her him she he they their them its into onto
    over under after before during about other some any many much more most very
    patient's following follow followed include includes including well-appearing
    pain""".split()
)
GENERIC_PHRASE_WORDS = GENERIC - {"pain", "blood", "pressure", "heart", "high", "low"}


# what only a query, not a description, would contain
_SYNTAX = re.compile(r'"|\b(?:AND|OR|NOT)\b|(?:^|\s)[-+]\w|\w[*?^~]|\b[a-z_]+:\S', re.A)
# more words than this without query syntax read as a description (mode=auto)
AUTO_WORDS = 12


def reads_as_patient(q: str, mode: str, past_keyword_limits: bool) -> bool:
    """mode=auto: a description when it is past the keyword limits (text.py's, which
    says so), or has more than 12 words and no query syntax."""
    if mode != "auto":
        return mode == "patient"
    if past_keyword_limits:
        return True
    return len(_TOKEN.findall(q)) > AUTO_WORDS and not _SYNTAX.search(q)


@dataclass(frozen=True)
class Concept:
    """A phrase of the description that names something the dictionary knows."""

    text: str  # as written
    key: str  # normalised
    kind: str  # "condition" or "treatment"
    source: str  # "synonyms" (the lists) or "index" (a study's condition or intervention)
    synonyms: tuple[str, ...]

    @property
    def boost(self) -> float:
        return CONDITION_BOOST if self.kind == "condition" else TREATMENT_BOOST

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "kind": self.kind,
            "source": self.source,
            "synonyms": list(self.synonyms),
        }


@dataclass(frozen=True)
class PatientQuery:
    reading: PatientReading
    concepts: tuple[Concept, ...]
    words: tuple[str, ...]  # the other words searched, as written
    negated: tuple[str, ...]
    query: query.Query | None
    terms: frozenset[str]  # indexed forms, for highlighting

    def to_dict(self) -> dict[str, object]:
        r = self.reading
        return {
            "age": r.age,
            "age_text": r.age_text,
            "sex": r.sex,
            "sex_text": r.sex_text,
            "concepts": [c.to_dict() for c in self.concepts],
            "words": list(self.words),
            "negated": list(self.negated),
        }


_VOCAB_LOCK = threading.Lock()


def index_vocabulary(snap: Snapshot) -> dict[str, np.ndarray]:
    """Sorted hashes of the generation's condition and of its intervention names,
    normalised: built on a snapshot's first patient query."""
    vocab = snap.patient_vocabulary
    if vocab is not None:
        return vocab
    with _VOCAB_LOCK:
        vocab = snap.patient_vocabulary
        if vocab is None:
            vocab = {}
            for facet, kind in (("condition", "condition"), ("intervention", "treatment")):
                keys = {normalise_phrase(v) for v in snap.columns.facets[facet].values}
                # one word alone ("Satisfaction", "Serum") names too much in a narrative
                hashes = [phrase_hash(k) for k in keys if " " in k]
                vocab[kind] = np.unique(np.array(hashes, dtype=np.uint64))
            snap.patient_vocabulary = vocab
        return vocab


def known_names(snap: Snapshot) -> Callable[[str], bool]:
    """Whether a normalised phrase is one of the generation's condition or intervention
    names (of two words or more): synonyms the studies use are searched first. The
    names are collected only when an expansion first asks (warm-up does it earlier)."""

    def known(key: str) -> bool:
        vocab = index_vocabulary(snap)
        return _in_vocab(vocab["condition"], key) or _in_vocab(vocab["treatment"], key)

    return known


def _in_vocab(vocab: np.ndarray, key: str) -> bool:
    wanted = np.uint64(phrase_hash(key))
    at = int(np.searchsorted(vocab, wanted))
    return at < len(vocab) and vocab[at] == wanted


def patient_query(snap: Snapshot, text: str, exact: bool = False) -> PatientQuery:
    """The description read (patient.py) and turned into one bounded query."""
    reading = read_patient(text)
    table = get_table() if not exact else None
    vocab = index_vocabulary(snap)
    concepts: dict[str, Concept] = {}
    words: dict[str, str] = {}
    said: Counter[str] = Counter()  # how often each concept and word is said
    for clause in _clauses(text, reading):
        _read_clause(clause, table, vocab, concepts, words, said)
    parts, terms = _bounded_parts(snap, list(concepts.values()), list(words.values()), said)
    kept = {p[0] for p in parts}
    q = query.Or([p[1] for p in parts]) if parts else None
    return PatientQuery(
        reading,
        tuple(c for c in concepts.values() if ("c", c.key) in kept),
        tuple(w for w in words.values() if ("w", w.lower()) in kept),
        tuple(reading.negated_text(text)),
        q,
        frozenset(terms),
    )


def _clauses(text: str, reading: PatientReading) -> list[list[str]]:
    """Runs of words neither split by punctuation nor denied."""
    out: list[list[str]] = [[]]
    last = 0
    for token in _TOKEN.finditer(text):
        if _CLAUSE.search(text, last, token.start()) or reading.is_negated(*token.span()):
            if out[-1]:
                out.append([])
        if not reading.is_negated(*token.span()):
            out[-1].append(token.group(0))
        last = token.end()
    return [words for words in out if words]


def _read_clause(words, table, vocab, concepts, leftovers, said) -> None:
    keys = [normalise_phrase(w) for w in words]
    i = 0
    while i < len(words):
        for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            span = keys[i : i + n]
            if not all(span):
                continue
            key = " ".join(span)
            if n == 1 and (key in GENERIC or len(key) < 3 and not words[i].isupper()):
                continue
            if n > 1 and all(k in GENERIC_PHRASE_WORDS for k in span):
                continue
            concept = _concept(" ".join(words[i : i + n]), key, n, table, vocab)
            if concept is not None:
                concepts.setdefault(key, concept)
                said[key] += 1
                i += n
                break
        else:
            word = words[i]
            low = keys[i]
            if low and low not in GENERIC and len(low) > 2 and not low.isdigit():
                leftovers.setdefault(low, word)
                said[low] += 1
            i += 1


def _concept(text: str, key: str, n: int, table, vocab) -> Concept | None:
    if table is not None:
        groups, kind = table.lookup(key, n == 1)
        if kind == "abbreviation" and not (text.isupper() and len(text) >= 2):
            groups = []
        if groups:
            expansions = table.expand(text.split(), narrower=True)
            synonyms = expansions[0][2].alternatives if len(expansions) == 1 else ()
            treatment = all(table.names_treatment(g) for g in groups)
            return Concept(
                text,
                key,
                "treatment" if treatment else "condition",
                "synonyms",
                synonyms[:MAX_SYNONYMS],
            )
    for kind in ("condition", "treatment"):
        if n > 1 and _in_vocab(vocab[kind], key):
            return Concept(text, key, kind, "index", ())
    return None


def _forms(text: str) -> list[str]:
    return [form for word in _TOKEN.findall(text) for form in word_forms(word)]


def _repeated(count: int) -> float:
    """A concept or word said again is more of the description's point."""
    return min(MAX_REPEAT, 1.0 + REPEAT_WEIGHT * (count - 1))


def _bounded_parts(snap, concepts: list[Concept], words: list[str], said: Counter[str]):
    """The query's parts, concepts first, within the reading budget: the commonest
    words and phrases a study shares with most others are dropped first."""
    total = max(1, snap.columns.documents)
    df = snap.scorer.doc_frequency  # remembered per generation

    candidates = []  # (0 concept / 1 word, order or studies, key, query, forms, cost)
    for order, concept in enumerate(concepts[:MAX_CONCEPTS]):
        forms = _forms(concept.text)
        if not forms:
            continue
        counts = [df(BODY, f) for f in forms]
        if min(counts) == 0:
            continue
        boost = concept.boost * _repeated(said[concept.key])
        if len(forms) == 1:
            main: query.Query = query.Term(BODY, forms[0], boost=boost)
            cost = counts[0]
        else:
            if sum(counts) > MAX_PHRASE_PAIRS:
                continue
            main = query.Phrase(BODY, forms, boost=boost)
            cost = 2 * sum(counts)  # every word's postings, then its positions
        alternatives = [main]
        for synonym in concept.synonyms:
            syn_forms = _forms(synonym)
            for field, weight in SYNONYM_FIELDS:
                if not syn_forms or min(df(field, f) for f in syn_forms) == 0:
                    continue
                syn_boost = boost * SYNONYM_BOOST * weight / 3.0
                if len(syn_forms) == 1:
                    alternatives.append(query.Term(field, syn_forms[0], boost=syn_boost))
                else:
                    alternatives.append(query.Phrase(field, syn_forms, boost=syn_boost))
                cost += sum(df(field, f) for f in syn_forms) * (1 if len(syn_forms) == 1 else 2)
        part = alternatives[0] if len(alternatives) == 1 else query.Or(alternatives)
        candidates.append((0, order, ("c", concept.key), part, forms, cost))
    for word in words[: MAX_WORDS * 2]:
        forms = _forms(word)
        if len(forms) != 1:
            continue
        count = df(BODY, forms[0])
        if count == 0 or count > MAX_WORD_SHARE * total:
            continue
        boost = WORD_BOOST * _repeated(said[normalise_phrase(word)])
        part = query.Term(BODY, forms[0], boost=boost)
        candidates.append((1, count, ("w", word.lower()), part, forms, count))
    candidates.sort(key=lambda c: (c[0], c[1]))
    parts, terms, spent, taken_words = [], set(), 0, 0
    for kind, _, key, part, forms, cost in candidates:
        if spent + cost > MAX_PATIENT_POSTINGS or (kind == 1 and taken_words >= MAX_WORDS):
            continue
        if kind == 1 and forms[0] in terms:
            continue
        spent += cost
        taken_words += kind
        parts.append((key, part))
        terms.update(forms)
    return parts, terms


def why_matched(snap: Snapshot, pq: PatientQuery, matches: Matches, doc: int) -> dict[str, object]:
    """Why a study is on the list: whether its age and sex bounds admit the patient as
    read (matching.py's masks; None when not read), and the concepts it holds."""
    held = []
    for concept in pq.concepts:
        forms = _forms(concept.text)
        if forms and all(_holds(snap, form, doc) for form in forms):
            held.append(concept.text)
    return {
        "age_ok": None if matches.age_ok is None else bool(matches.age_ok[doc]),
        "sex_ok": None if matches.sex_ok is None else bool(matches.sex_ok[doc]),
        "concepts": held,
    }


def _holds(snap: Snapshot, form: str, doc: int) -> bool:
    ids, _ = snap.scorer.postings(BODY, form)
    at = int(np.searchsorted(ids, doc))
    return at < len(ids) and int(ids[at]) == doc
