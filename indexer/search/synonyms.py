"""Condition and intervention synonyms: what a searcher's words also mean.

Lists are TSV files (`preferred<TAB>synonym<TAB>source<TAB>id`, one header line;
gzipped when named `.gz`), named in TRIALSEARCH_SYNONYMS (paths joined with the OS
path separator; `none` turns expansion off). Without it the built-in lists are
used: the project's own short list of lay terms and abbreviations
(indexer/search/data/synonyms.tsv) and the MeSH-based condition and intervention
lists (data/mesh-*.tsv.gz, ../shared/synonyms as they were shipped; NLM's notice is
in the README). Lists are compiled once per machine into memory-mapped arrays
(synonym_store.py), so workers share one copy.

Rows sharing an `id` form a group. A query phrase that is a term of a group is
searched as itself OR the group's other terms, at a lower weight, so exact matches
rank first:
- a preferred heading or a true synonym brings the heading and its true synonyms
  (never the narrower `*-subconcept` terms);
- a subconcept term (Cancer under Neoplasms) brings the heading and its true synonyms;
- a short abbreviation (CVA, OCD) matches only as a whole query word, not in a
  phrase, and is weighted lowest: it may name several headings.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import read_setting
from .synonym_store import Compiled, open_compiled

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_LIST = DATA / "synonyms.tsv"
DEFAULT_LISTS = (DEFAULT_LIST, DATA / "mesh-conditions.tsv.gz", DATA / "mesh-interventions.tsv.gz")
MAX_PHRASE_WORDS = 6
MAX_ALTERNATIVES = 6
SYNONYM_BOOST = 0.5
ABBREVIATION_BOOST = 0.3
# words that are never read as an abbreviation, whatever a list says (ALL, CAT, PAD…)
_COMMON = frozenset(
    "a an and are as at be but by can for from has have he in is it its may no not of on or "
    "she that the their them they this to was we were will with you all cat pad aid aids "
    "men man age act ace arm art bad bed big car cut day die dry ear eat end eye far fat few "
    "fit fix fun gas get hip hot ice ill leg lip low mad map mix mom net new off old one out "
    "pet pig pin pop put raw red run sad sex sit six ski sun tan ten tip toe top two use war "
    "web wet win yes mice ms add".split()
)


def normalise_phrase(text: str) -> str:
    """Lowercase, accents folded, punctuation as spaces: how list terms and queries meet."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", folded))


@dataclass
class _Group:
    preferred: str
    exact: list[str] = field(default_factory=list)  # preferred first, then true synonyms


@dataclass(frozen=True)
class Expansion:
    """One phrase of the query and what else it was searched as."""

    text: str
    alternatives: tuple[str, ...]
    kind: str  # "synonym" or "abbreviation"
    # the groups it names, as the table numbers them (concepts.py: who lists them)
    groups: tuple = field(default=(), compare=False)
    listed: int = 0  # studies listing one of those groups' terms as their condition

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "alternatives": list(self.alternatives),
            "kind": self.kind,
            "listed": self.listed,
        }


class _Lookups:
    """Phrase look-ups and expansion, over any store of groups: a group is a number or
    an id, its terms are its preferred heading first, then its true synonyms."""

    def phrase_groups(self, key: str) -> list:
        raise NotImplementedError

    def abbreviation_groups(self, key: str) -> list:
        raise NotImplementedError

    def terms(self, group) -> list[str]:
        raise NotImplementedError

    def names_treatment(self, group) -> bool:
        """Whether the group came from an intervention list (else a condition one)."""
        raise NotImplementedError

    def lookup(self, key: str, single_word: bool) -> tuple[list, str]:
        """The groups a normalised phrase names, and whether as a phrase or an abbreviation."""
        groups = self.phrase_groups(key)
        if groups or not single_word:
            return groups, "synonym"
        return self.abbreviation_groups(key), "abbreviation"

    def expand(
        self, words: list[str], narrower: bool = False, known=None
    ) -> list[tuple[int, int, Expansion]]:
        """Spans (start, end) of `words` that a list knows, longest first, left to right.
        `narrower`: keep terms holding every word ("chronic obstructive asthma" for
        "asthma"): they find nothing more, but weigh the studies they name."""
        keys = [normalise_phrase(w) for w in words]
        found: list[tuple[int, int, Expansion]] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                key = " ".join(k for k in keys[i : i + n] if k)
                if not key or not all(keys[i : i + n]):
                    continue
                groups, kind = self.lookup(key, n == 1)
                if groups:
                    alternatives = self._alternatives(key, groups, narrower, known)
                    if alternatives:
                        text = " ".join(words[i : i + n])
                        found.append((i, i + n, Expansion(text, alternatives, kind, tuple(groups))))
                        i += n
                        break
            else:
                i += 1
        return found

    def _alternatives(
        self, key: str, groups: list, narrower: bool = False, known=None
    ) -> tuple[str, ...]:
        """A phrase naming several headings (CVA) is searched as each of them first, then
        their synonyms in turn: the first heading's synonyms must not crowd out the rest."""
        out: list[str] = []
        seen = {key}
        typed = set(key.split())
        lists = [self.terms(group) for group in groups]
        for rank in range(max((len(terms) for terms in lists), default=0)):
            for terms in lists:
                if rank >= len(terms):
                    continue
                term = terms[rank]
                norm = normalise_phrase(term)
                # inverted headings ("Carcinoma, Non-Small-Cell Lung") never stand in text;
                # a term holding every typed word ("chronic obstructive asthma" for
                # "asthma") finds nothing the words do not
                if (
                    norm
                    and norm not in seen
                    and "," not in term
                    and (narrower or not typed <= set(norm.split()))
                ):
                    seen.add(norm)
                    out.append(term)
                if len(out) >= MAX_ALTERNATIVES and known is None:
                    return tuple(out)
        if known is not None:  # the terms the index's studies use first
            out.sort(key=lambda term: not known(normalise_phrase(term)))
        return tuple(out[:MAX_ALTERNATIVES])


class SynonymTable(_Lookups):
    """Phrase → groups in dictionaries: how lists are read, and compiled from
    (synonym_store.py); tests build small ones row by row."""

    def __init__(self) -> None:
        self.groups: dict[str, _Group] = {}
        self.phrases: dict[str, set[str]] = defaultdict(set)  # full terms
        self.abbreviations: dict[str, set[str]] = defaultdict(set)
        self.sources: list[str] = []
        self.treatments: set[str] = set()  # groups first read from an intervention list
        self._treatment_list = False

    @classmethod
    def load(cls, paths: list[Path]) -> SynonymTable:
        table = cls()
        for path in paths:
            table._treatment_list = "intervention" in path.name.lower()
            table._read(path)
            table.sources.append(str(path))
        return table

    def _read(self, path: Path) -> None:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            header = handle.readline()
            if not header.startswith("preferred\t"):
                raise ValueError(f"{path}: the first line must be preferred<TAB>synonym<TAB>…")
            for number, line in enumerate(handle, start=2):
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
                    if line.strip():
                        log.warning("%s:%d: not a synonym row, skipped", path, number)
                    continue
                preferred, synonym = parts[0].strip(), parts[1].strip()
                source = parts[2].strip() if len(parts) > 2 else ""
                ident = parts[3].strip() if len(parts) > 3 and parts[3].strip() else preferred
                self.add(ident, preferred, synonym, source)

    def add(self, ident: str, preferred: str, synonym: str, source: str) -> None:
        group = self.groups.get(ident)
        if group is None:
            group = self.groups[ident] = _Group(preferred)
            group.exact.append(preferred)
            if self._treatment_list:
                self.treatments.add(ident)
            self.phrases[normalise_phrase(preferred)].add(ident)
        key = normalise_phrase(synonym)
        if not key:
            return
        if _is_abbreviation(synonym, source):
            if key not in _COMMON:
                self.abbreviations[key].add(ident)
            return
        self.phrases[key].add(ident)
        if not source.endswith("subconcept") and synonym not in group.exact:
            group.exact.append(synonym)

    def _ordered(self, idents: set[str] | None) -> list[str]:
        return sorted(idents or (), key=lambda g: (self.groups[g].preferred.lower(), g))

    def phrase_groups(self, key: str) -> list[str]:
        return self._ordered(self.phrases.get(key))

    def abbreviation_groups(self, key: str) -> list[str]:
        return self._ordered(self.abbreviations.get(key))

    def terms(self, group: str) -> list[str]:
        return self.groups[group].exact

    def names_treatment(self, group: str) -> bool:
        return group in self.treatments


class CompiledTable(_Lookups):
    """The same look-ups over compiled, memory-mapped arrays (synonym_store.py)."""

    def __init__(self, compiled: Compiled, sources: list[str]) -> None:
        self.compiled = compiled
        self.sources = sources
        self.phrase_groups = compiled.phrase_groups  # type: ignore[method-assign]
        self.abbreviation_groups = compiled.abbreviation_groups  # type: ignore[method-assign]
        self.terms = compiled.terms  # type: ignore[method-assign]
        self.names_treatment = compiled.names_treatment  # type: ignore[method-assign]

    @property
    def sizes(self) -> tuple[int, int, int]:
        return self.compiled.groups, self.compiled.phrases, self.compiled.abbreviations


def _is_abbreviation(term: str, source: str) -> bool:
    """Short all-capitals tokens (and the lists' own -abbr rows) are ambiguous abbreviations."""
    if source.endswith("-abbr"):
        return True
    compact = term.replace("-", "")
    return (
        " " not in term
        and len(compact) <= 6
        and sum(ch.isupper() for ch in compact) >= max(2, len(compact) - 2)
    )


_CACHE: dict[tuple[str, ...], _Lookups] = {}
_CACHE_LOCK = threading.Lock()


def configured_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """The lists TRIALSEARCH_SYNONYMS names, the built-in ones by default, none for `none`.

    Read at each call, not once: the lists are cached by their paths (`get_table`), so
    this costs a dictionary look-up, and a process may switch lists without a restart.
    """
    value = read_setting("synonyms", env)
    if not value.strip():
        return list(DEFAULT_LISTS)
    if value.strip().lower() == "none":
        return []
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def get_table(paths: list[Path] | None = None) -> _Lookups:
    """The table for these lists, opened once per process (a missing file is an error):
    compiled and memory-mapped, or read into memory when the cache cannot be written."""
    paths = configured_paths() if paths is None else paths
    key = tuple(str(p) for p in paths)
    with _CACHE_LOCK:
        table = _CACHE.get(key)
        if table is None:
            table = _open(list(paths))
            _CACHE[key] = table
        return table


def _open(paths: list[Path]) -> _Lookups:
    if not paths:
        return SynonymTable()
    compiled = open_compiled(paths, SynonymTable.load)
    if compiled is None:
        return SynonymTable.load(paths)
    log.info(
        "synonyms: %d groups, %d phrases, %d abbreviations from %s",
        compiled.groups,
        compiled.phrases,
        compiled.abbreviations,
        ", ".join(str(p) for p in paths),
    )
    return CompiledTable(compiled, [str(p) for p in paths])
