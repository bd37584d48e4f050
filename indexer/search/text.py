"""The text of a request, read once: pinned NCT IDs, the Whoosh query, its words.

`parse_text` is the one place query text becomes a query. Whoosh syntax is used when
it parses cleanly and plain AND-ed words when it does not; then synonyms are OR-ed
in at a lower weight, acronyms and words standing together earn a bonus, and a
query whose cost has no useful bound is refused before anything is read.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whoosh import qparser, query

from ..errors import ParamError
from ..index.schema import BODY, FIELD_PREFIXES, SEARCHABLE_FIELDS
from ..pages.values import NCT_IN_TEXT as _NCT
from .params import MAX_QUERY_CHARS
from .patient_query import PatientQuery, known_names, patient_query, reads_as_patient
from .synonyms import ABBREVIATION_BOOST, SYNONYM_BOOST, Expansion, get_table

if TYPE_CHECKING:
    from .reader import Snapshot

_BARE_NCT = re.compile(r"(?<![\w-])(\d{8})(?![\w-])")
PROXIMITY_SLOP = 3
# The words of a query standing together in a title or a condition earn a bonus
# (phrase matching costs per field and per document: only short fields are read).
PROXIMITY_FIELDS = (("title", 2.0), ("conditions", 1.5))
# Synonyms name conditions and treatments: they are looked for where those are named
# (short fields, so their phrases are cheap to match), weighted like the body's parts.
SYNONYM_FIELDS = (("conditions", 3.0), ("interventions", 2.5), ("title", 5.0))
WORD = re.compile(r"\w+", re.UNICODE)
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
MAX_TERMS = 32
_TYPED_WORD = re.compile(r"\w+(?![\w:])")  # a word, not a field name before `:`
MIN_WILDCARD_PREFIX = 3
MAX_EXPANSIONS = 2000
# "words"~N: matching a phrase costs more the wider its window, and a study's words
# twenty apart are not "near" any more (ClinicalTrials.gov's own proximity is tighter)
MAX_SLOP = 20
# A sloppy phrase is checked in every study holding all its words, at a cost growing
# with the window: its rarest word's studies × the window may be at most this. At
# 560,000 studies (2 cores) "patients study"~20 (442,000 × 20) took 2.8 s, ~4 0.57 s
# warm and 1.6 s with cold caches; this allows ~2 there (0.36 s warm) and any window
# for words in fewer than 50,000 studies.
MAX_PHRASE_WORK = 1_000_000
# Any phrase reads the positions of its words in every study holding them: at most
# this many (study, word) pairs. "patients study" (442,000 + 486,000) took 1.7 s at
# 560,000 studies with cold caches; "clinical trial" (560,000 pairs) and every phrase
# with a less common word pass.
MAX_PHRASE_POSITIONS = 700_000
# Postings a query reads: the studies of each of its words (synonyms and bonuses
# included). 32 words that most studies hold read 6.7 million at 560,000 studies:
# 0.13 s with warm caches, 1.7 s when other queries had pushed them out. The bound
# refuses 16 such words (4.1 million) and allows any query of ordinary words.
MAX_POSTINGS = 4_000_000
# word^N: a weight beyond this only overflows scores (1e40 gave "score": Infinity)
MAX_BOOST = 100.0


@dataclass(frozen=True)
class ParsedText:
    """What the text of a request means, made by `parse_text` and shared read-only by
    matching, snippets and the suggestion."""

    pinned: tuple[str, ...]  # NCT IDs named in the text, in the order given
    rest: str  # the text without them
    query: query.Query | None  # None: only IDs were given and none is mentioned
    expansions: tuple[Expansion, ...]
    terms: frozenset[str]  # the query's words, for highlighting
    patient: PatientQuery | None = None  # the text read as a patient description

    @property
    def mode(self) -> str:
        return "keywords" if self.patient is None else "patient"


def parse_text(
    snap: Snapshot, q: str, exact: bool = False, mode: str = "auto"
) -> ParsedText | None:
    """The request text read as a query, or None for an empty text (browse)."""
    if not q.strip():
        return None
    if reads_as_patient(q, mode, len(q) > MAX_QUERY_CHARS or len(_typed_words(q)) > MAX_TERMS):
        pq = patient_query(snap, q, exact)
        return ParsedText((), q, pq.query, (), pq.terms, pq)
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError(
            "query_too_long",
            f"the query is {len(q)} characters; keywords may have {MAX_QUERY_CHARS} "
            "(mode=patient reads a description of up to 4,000)",
            "q",
        )
    pinned: list[str] = []

    def pin(nct: str) -> None:
        if nct not in pinned:
            pinned.append(nct)

    for match in _NCT.finditer(q):
        pin("NCT" + match.group(1).zfill(8))
    rest = _NCT.sub(" ", q)
    # eight bare digits are an NCT ID when such a study exists (IDs from letters)
    for match in _BARE_NCT.finditer(rest):
        if snap.searcher.document_number(nct_id="NCT" + match.group(1)) is not None:
            pin("NCT" + match.group(1))
            rest = rest.replace(match.group(0), " ", 1)
    rest = rest.strip()
    parsed: query.Query | None = None
    expansions: list[Expansion] = []
    if rest and WORD.search(rest):
        parsed, expansions = _parse_words(snap, rest, exact)
    elif pinned:
        # studies that mention the ID: the analyzer splits NCT01234567 into nct·01234567
        parsed = query.Or([query.Phrase(BODY, ["nct", nct[3:]]) for nct in pinned])
    terms: set[str] = set()
    if parsed is not None:
        for _, word in parsed.iter_all_terms():
            terms.add(word.decode("utf-8") if isinstance(word, bytes) else word)
    return ParsedText(tuple(pinned), rest, parsed, tuple(expansions), frozenset(terms))


def _parser() -> qparser.QueryParser:
    """Words go to the weighted `body` field; `prefix:` words to the part fields."""
    parser = qparser.QueryParser(BODY, schema=None, group=qparser.AndGroup)
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    # `-word` excludes, but the hyphen in T-cell or KEYNOTE-189 joins: +/- only after a space
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    # Only text fields may be named; internal fields (record, f_*) stay out of reach.
    names_re = "|".join(SEARCHABLE_FIELDS)
    parser.replace_plugin(qparser.FieldsPlugin(expr=rf"(?P<text>{names_re}):"))
    return parser


_PARSER_LOCK = threading.Lock()


def _typed_words(text: str) -> list[str]:
    """Every word as typed, repeats too, as the keyword limit counts them (19-year-old
    is three: `the` 125 times is 125 posting walks)."""
    return [w for w in _TYPED_WORD.findall(text) if w not in OPERATORS]


def _parse_words(snap: Snapshot, text: str, exact: bool) -> tuple[query.Query, list[Expansion]]:
    """Whoosh syntax when it parses cleanly, plain AND-ed words when it does not; then
    synonyms OR-ed in at a lower weight, and a bonus for the words standing together."""
    typed = _typed_words(text)
    if len(typed) > MAX_TERMS:
        raise ParamError(
            "too_many_terms",
            f"the query has {len(typed)} words (repeats count); the limit is {MAX_TERMS}",
            "q",
        )
    schema = snap.ix.schema
    # balanced before the synonyms are written in: their quotes must pair with nothing else
    text = _balance(text)
    with _PARSER_LOCK:
        parser = _parser()
        parser.schema = schema
        try:
            parsed = parser.parse(_prefix_to_field(text))
        except Exception:  # noqa: BLE001 - any parser failure means "read it as words"
            parsed = None
        if parsed is None or not _is_sane(parsed):
            text = " ".join(w for w in WORD.findall(text) if w.upper() not in OPERATORS)
            parsed = parser.parse(text or "")
        _check_cost(snap, parsed)  # on the words as typed: expansions are ours to bound
        expansions: list[Expansion] = []
        if not exact:
            rewritten, expansions = _with_synonyms(text, known_names(snap))
            if expansions:
                try:
                    expanded = parser.parse(_prefix_to_field(rewritten))
                except Exception:  # noqa: BLE001 - keep the unexpanded query
                    expanded = None
                if expanded is not None and _is_sane(expanded):
                    parsed = expanded
                else:
                    expansions = []
        acronyms = [w for w in text.split() if _ACRONYMWORD.match(w) and w not in OPERATORS]
        if acronyms:
            named = parser.parse(
                " OR ".join(f"acronym:{_acronym_query(w)}^{ACRONYM_BONUS:g}" for w in acronyms)
            )
            if _is_sane(named):
                parsed = query.AndMaybe(parsed, named)
        words = plain_words(text)
        if 2 <= len(words) <= 8 and len(words) == len(text.split()):
            phrase = '"' + " ".join(words) + f'"~{PROXIMITY_SLOP}'
            near = parser.parse(
                " OR ".join(f"{name}:{phrase}^{weight:g}" for name, weight in PROXIMITY_FIELDS)
            )
            if _is_sane(near):
                parsed = query.AndMaybe(parsed, near)
    return parsed, expansions


_UNQUOTE = re.compile(r'["\\]')
# A word typed with two or more capitals (SPRINT, DAPA-HF, KEYNOTE189, NeoIMLung) may
# be a trial's acronym: studies carrying exactly it (unstemmed) earn a bonus.
_ACRONYMWORD = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z0-9][A-Za-z0-9-]{2,}$")
ACRONYM_BONUS = 3.0


def _acronym_query(word: str) -> str:
    joined = "".join(ch for ch in word if ch.isalnum())
    return f'"{word}"' if joined == word else f'("{word}" OR {joined})'


_TOKEN = re.compile(r'"[^"]*"|\S+')
_PLAIN = re.compile(r"^[^\W_][\w'’.-]*$")


def plain_words(text: str) -> list[str]:
    return [t for t in text.split() if _PLAIN.match(t) and t not in OPERATORS]


def _with_synonyms(text: str, known=None) -> tuple[str, list[Expansion]]:
    """The query text with every known phrase of plain words OR-ed with its synonyms.

    Only runs of plain words are read: quoted phrases, `field:` words, operators and
    the word after NOT or a minus stay exactly as typed.
    """
    table = get_table()
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    found: list[Expansion] = []
    run: list[str] = []

    def flush() -> None:
        spans = table.expand(run, known=known) if run else []
        i = 0
        for start, end, expansion in spans:
            if (
                expansion.kind == "abbreviation"
                and len(run[start]) <= 3
                and not run[start].isupper()
            ):
                continue  # two- and three-letter abbreviations only when typed in capitals
            out.extend(run[i:start])
            boost = ABBREVIATION_BOOST if expansion.kind == "abbreviation" else SYNONYM_BOOST
            alternatives = " OR ".join(
                f'{name}:"{_UNQUOTE.sub(" ", alt)}"^{boost * weight:g}'
                for alt in expansion.alternatives
                for name, weight in SYNONYM_FIELDS
            )
            # OR binds tighter than the implicit AND: the words as typed need their own group
            out.append(f"(({' '.join(run[start:end])}) OR {alternatives})")
            found.append(expansion)
            i = end
        out.extend(run[i:])
        run.clear()

    negate_next = False
    for token in tokens:
        plain = bool(_PLAIN.match(token)) and token not in OPERATORS
        if plain and not negate_next:
            run.append(token)
        else:
            flush()
            out.append(token)
        negate_next = token in ("NOT", "ANDNOT")
    flush()
    return " ".join(out), found


def _check_cost(snap: Snapshot, q: query.Query) -> None:
    """Refuse queries whose cost has no useful bound: too many words, too-broad wildcards."""
    words: set[str] = set()
    reader = snap.searcher.reader()
    checked: set[str] = set()
    for leaf in q.leaves():
        if isinstance(leaf, query.Phrase):
            words.update(leaf.words)
        elif hasattr(leaf, "text"):
            words.add(str(leaf.text))
        if isinstance(leaf, query.Wildcard | query.Prefix) and leaf.text not in checked:
            checked.add(leaf.text)
            prefix = (
                re.split(r"[*?]", leaf.text)[0] if isinstance(leaf, query.Wildcard) else leaf.text
            )
            if len(prefix) < MIN_WILDCARD_PREFIX:
                raise ParamError(
                    "wildcard_too_broad",
                    f"a wildcard needs at least {MIN_WILDCARD_PREFIX} letters before * or ? "
                    f"(got '{leaf.text}')",
                    "q",
                )
            for field in SEARCHABLE_FIELDS:
                expansions = 0
                for _ in reader.expand_prefix(field, prefix):
                    expansions += 1
                    if expansions > MAX_EXPANSIONS:
                        raise ParamError(
                            "wildcard_too_broad",
                            f"'{leaf.text}' matches more than {MAX_EXPANSIONS} words; add letters",
                            "q",
                        )
    _check_weights(q)
    studies = functools.lru_cache(maxsize=None)(reader.doc_frequency)  # (field, word): once
    _check_phrase_work(studies, q)
    _check_postings(studies, q)
    if len(words) > MAX_TERMS:
        raise ParamError(
            "too_many_terms", f"the query has {len(words)} words; the limit is {MAX_TERMS}", "q"
        )


def _check_postings(studies: Callable[[str, str], int], q: query.Query) -> None:
    """Refuse a query whose words together fill most studies many times over.
    `studies(field, word)`: how many studies hold the word."""
    read: dict[str, int] = {}
    for leaf in q.leaves():
        if isinstance(leaf, query.Phrase):  # its rarest word bounds what is read
            key = " ".join(leaf.words)
            count = min((studies(leaf.fieldname, w) for w in leaf.words), default=0)
        elif isinstance(leaf, query.Term):
            key = str(leaf.text)
            count = studies(leaf.fieldname, key)
        else:
            continue
        read[key] = read.get(key, 0) + count
    total = sum(read.values())
    if total > MAX_POSTINGS:
        commonest = sorted(read, key=lambda word: -read[word])[:3]
        raise ParamError(
            "query_too_costly",
            f"the words of this query are in {total:,} study entries together (the limit "
            f"is {MAX_POSTINGS:,}); drop some of the commonest ({', '.join(commonest)}, "
            "as indexed) or use rarer words",
            "q",
        )


def _check_phrase_work(studies: Callable[[str, str], int], q: query.Query) -> None:
    """Refuse a phrase over words that most studies hold, or a wide window over words
    that many do (MAX_PHRASE_POSITIONS, MAX_PHRASE_WORK)."""
    for leaf in q.leaves():
        if not isinstance(leaf, query.Phrase) or not leaf.words:
            continue
        counts = [studies(leaf.fieldname, word) for word in leaf.words]
        if sum(counts) > MAX_PHRASE_POSITIONS:
            raise ParamError(
                "phrase_too_costly",
                f'the words of the phrase "{" ".join(leaf.words)}" (as indexed) are in '
                f"{sum(counts):,} study entries together, more than {MAX_PHRASE_POSITIONS:,} "
                "a phrase may read; use rarer words or search them without quotes",
                "q",
            )
        if leaf.slop <= 1:
            continue
        rarest = min(counts)
        if rarest * leaf.slop > MAX_PHRASE_WORK:
            widest = max(1, MAX_PHRASE_WORK // max(rarest, 1))
            raise ParamError(
                "phrase_too_costly",
                f"a phrase window of ~{leaf.slop} over words that {rarest:,} studies or more "
                f'hold ("{" ".join(leaf.words)}", as indexed) costs too much: at most ~{widest} '
                "here; narrow it or use rarer words",
                "q",
            )


def _balance(text: str) -> str:
    """Drop quotes or parentheses that do not pair up, so they read as plain words."""
    if text.count('"') % 2:
        text = text.replace('"', " ")
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("(", " ").replace(")", " ")
    return text


def _prefix_to_field(text: str) -> str:
    """`condition:asthma` -> a group over the text fields that prefix searches."""

    def repl(match: re.Match[str]) -> str:
        fields = FIELD_PREFIXES[match.group(1).lower()]
        value = match.group(2)
        if len(fields) == 1:
            return f"{fields[0]}:{value}"
        return "(" + " OR ".join(f"{f}:{value}" for f in fields) + ")"

    pattern = "|".join(FIELD_PREFIXES)
    return re.sub(rf"(?i)\b({pattern}):(\"[^\"]*\"|\([^)]*\)|\S+)", repl, text)


def _is_sane(q: query.Query) -> bool:
    if q is None or q is query.NullQuery:
        return False
    for sub in q.leaves():
        if isinstance(sub, query.Every):
            return False
    return True


def _check_weights(q: query.Query) -> None:
    """Refuse a phrase window or a weight whose cost or score has no useful bound."""
    stack = [q]
    while stack:
        node = stack.pop()
        boost = getattr(node, "boost", 1.0)
        if not (0 <= boost <= MAX_BOOST):  # also refuses nan and inf
            raise ParamError("boost_too_large", f"a weight (^) may be at most {MAX_BOOST:g}", "q")
        if isinstance(node, query.Phrase) and node.slop > MAX_SLOP:
            raise ParamError(
                "slop_too_large",
                f'a phrase\'s "…"~N may be at most {MAX_SLOP} (got {node.slop})',
                "q",
            )
        stack.extend(node.children())
