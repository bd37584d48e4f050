"""The text of a request, read once: pinned NCT IDs, the Whoosh query, its words.

`parse_text` is the one place query text becomes a query. Whoosh syntax is used when
it parses cleanly and plain AND-ed words when it does not; then synonyms are OR-ed
in at a lower weight, acronyms and words standing together earn a bonus, and a
query whose cost has no useful bound is refused before anything is read.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from whoosh import qparser, query

from ..errors import ParamError
from ..index.schema import BODY, FIELD_PREFIXES, SEARCHABLE_FIELDS
from ..pages.values import NCT_IN_TEXT as _NCT
from .concepts import concept_leaf
from .params import MAX_QUERY_CHARS
from .patient_query import PatientQuery, known_names, patient_query, reads_as_patient
from .query_cost import MAX_TERMS, check_cost
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
_TYPED_WORD = re.compile(r"\w+(?![\w:])")  # a word, not a field name before `:`


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


# Marks a placeholder the parser turns into a query object made beforehand (the
# studies listing a concept): a private-use character, taken out of what is typed.
_LISTED = "\ue000"


class _ListedPlugin(qparser.TaggingPlugin):
    """`<mark>N<mark>` becomes the parser's `listed[N]` (concepts.ListedStudies)."""

    expr = _LISTED + "(?P<n>[0-9]+)" + _LISTED
    priority = -1

    def create(self, parser: qparser.QueryParser, match: re.Match) -> qparser.syntax.SyntaxNode:
        return _ListedNode(int(match.group("n")))


class _ListedNode(qparser.syntax.SyntaxNode):
    def __init__(self, n: int) -> None:
        self.n = n

    def r(self) -> str:
        return f"listed[{self.n}]"

    def query(self, parser: qparser.QueryParser) -> query.Query:
        return getattr(parser, "listed", {}).get(self.n, query.NullQuery)


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
    parser.add_plugin(_ListedPlugin())
    parser.listed = {}  # type: ignore[attr-defined]
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
    schema = snap.searcher.schema  # the index's own would read its TOC file: 1.6 ms
    # balanced before the synonyms are written in: their quotes must pair with nothing else
    text = _balance(text.replace(_LISTED, " "))
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
        # on the words as typed: expansions are ours to bound
        check_cost(snap.searcher.reader(), parsed, snap.scorer.doc_frequency)
        expansions: list[Expansion] = []
        if not exact:
            table = get_table()
            leaves: dict[int, query.Query] = {}  # placeholder number -> studies listing
            counts: dict[int, int] = {}  # id(expansion) -> how many studies list it

            def listed(expansion: Expansion) -> str:
                """The placeholder of the studies listing the phrase's concept."""
                leaf = concept_leaf(snap, table, expansion)
                if leaf is None:
                    return ""
                leaves[len(leaves)] = leaf
                counts[id(expansion)] = len(leaf.docs)
                return f" OR {_LISTED}{len(leaves) - 1}{_LISTED}"

            rewritten, expansions = _with_synonyms(text, known_names(snap), listed)
            expansions = [replace(e, listed=counts.get(id(e), 0)) for e in expansions]
            if expansions:
                parser.listed = leaves
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


def _with_synonyms(
    text: str, known=None, listed: Callable[[Expansion], str] = lambda e: ""
) -> tuple[str, list[Expansion]]:
    """The query text with every known phrase of plain words OR-ed with its synonyms
    (and with what `listed` writes for it: the studies listing its concept).

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
            span = " ".join(run[start:end])
            if span.count("(") != span.count(")"):
                continue  # "(schwannian stroma-poor)" is a group: a span must hold all of it
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
            out.append(f"(({span}) OR {alternatives}{listed(expansion)})")
            found.append(expansion)
            i = end
        out.extend(run[i:])
        run.clear()

    negate_next = False
    for token in tokens:
        # MeSH entry terms carry parentheses ("Alzheimer Type Dementia (ATD)"): a word
        # in brackets reads as a word of the phrase, and is written back as typed
        plain = bool(_PLAIN.match(token.strip("()"))) and token not in OPERATORS
        if plain and not negate_next:
            run.append(token)
        else:
            flush()
            out.append(token)
        negate_next = token in ("NOT", "ANDNOT")
    flush()
    return " ".join(out), found


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
