"""The peers trialsearch is measured against, each used the plain, documented way.

Every peer indexes the same parsed studies and answers the same mix: top 20 by
relevance (or by a field), the exact total, and counts for five facets (status,
phase, sponsor, country, condition), filters AND-ed, values of one filter OR-ed.
- NaiveWhoosh: whoosh-reloaded as its docs show it: one TEXT field per part,
  KEYWORD facets, a `procs=2` writer, `groupedby` with FieldFacet(maptype=Count).
- Fts5: SQLite FTS5 (stdlib sqlite3), bm25() with column weights, GROUP BY facets.
- Tantivy: the `tantivy` package, en_stem text fields, raw fast facet fields,
  terms aggregations for the counts.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from indexer.pages.record import StudyRecord
from indexer.pages.values import date_key

FACETS = ("status", "phase", "sponsor", "country", "condition")
TEXT_PARTS = ("title", "conditions", "interventions", "summary", "description")
WEIGHTS = {"title": 5.0, "conditions": 3.0, "interventions": 2.5, "summary": 1.5}
SORTS = {"last_update": "last_update", "start_date": "start_date", "enrollment": "enrollment"}


def study_fields(rec: StudyRecord) -> dict[str, Any]:
    """What every peer indexes of a study."""
    return {
        "nct_id": rec.nct_id,
        "title": "\n".join(t for t in (rec.title, rec.official_title) if t),
        "conditions": "\n".join(rec.conditions),
        "interventions": "\n".join(iv.name for iv in rec.interventions),
        "summary": rec.brief_summary or "",
        "description": rec.detailed_description or "",
        "status": [rec.overall_status] if rec.overall_status else [],
        "phase": list(rec.phases),
        "sponsor": [rec.sponsor] if rec.sponsor else [],
        "country": list(rec.countries),
        "condition": list(rec.conditions),
        "last_update": date_key(rec.last_update) or 0,
        "start_date": date_key(rec.start_date) or 0,
        "enrollment": rec.enrollment or 0,
    }


def _words(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())


def _phrase(q: str) -> bool:
    return q.startswith('"') and q.endswith('"') and len(q) > 2


# --- naive Whoosh -------------------------------------------------------------------------


class NaiveWhoosh:
    name = "whoosh (plain)"
    # groupedby loops over every match: at 20k a first pass was within 7% of later ones
    caches = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ix = None
        self.searcher = None

    def build(self, studies: list[dict[str, Any]]) -> None:
        from whoosh import fields, index
        from whoosh.analysis import StemmingAnalyzer

        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        schema = fields.Schema(
            nct_id=fields.ID(stored=True, unique=True),
            **{p: fields.TEXT(analyzer=StemmingAnalyzer()) for p in TEXT_PARTS},
            **{f: fields.KEYWORD(commas=False, lowercase=False, sortable=False) for f in FACETS},
            **{s: fields.NUMERIC(sortable=True) for s in SORTS},
        )
        ix = index.create_in(str(self.folder), schema)
        writer = ix.writer(procs=2, limitmb=256)
        for s in studies:
            doc = {k: s[k] for k in ("nct_id", *TEXT_PARTS, *SORTS) if s[k] not in ("", None)}
            for f in FACETS:  # one term per value: the separator is a space-free token list
                if s[f]:
                    doc[f] = " ".join(v.replace(" ", "\u00a0") for v in s[f])
            writer.add_document(**doc)
        writer.commit()
        self.ix = index.open_dir(str(self.folder))
        self.searcher = self.ix.searcher()

    def search(self, req: dict[str, Any]) -> tuple[int, list[str]]:
        from whoosh import qparser, query, sorting

        parts: list[Any] = []
        if req.get("q"):
            parser = qparser.MultifieldParser(
                list(TEXT_PARTS), self.ix.schema, fieldboosts=WEIGHTS, group=qparser.AndGroup
            )
            parts.append(parser.parse(req["q"]))
        for f, values in req.get("filters", {}).items():
            terms = [query.Term(f, v.replace(" ", "\u00a0")) for v in values]
            parts.append(query.Or(terms))
        q = query.And(parts) if parts else query.Every()
        facets = {
            f: sorting.FieldFacet(f, maptype=sorting.Count, allow_overlap=True) for f in FACETS
        }
        kwargs: dict[str, Any] = {}
        if req.get("sort") in SORTS:
            kwargs["sortedby"] = sorting.FieldFacet(SORTS[req["sort"]], reverse=True)
        page = req.get("page", 1)
        results = self.searcher.search_page(q, page, pagelen=20, groupedby=facets, **kwargs)
        for f in FACETS:
            results.results.groups(f)
        return len(results), [hit["nct_id"] for hit in results]

    def close(self) -> None:
        if self.searcher:
            self.searcher.close()


# --- SQLite FTS5 --------------------------------------------------------------------------


class Fts5:
    name = "sqlite fts5"
    caches = True  # SQLite's page cache

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def build(self, studies: list[dict[str, Any]]) -> None:
        self.path.unlink(missing_ok=True)
        db = sqlite3.connect(self.path)
        db.executescript(
            f"""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE VIRTUAL TABLE fts USING fts5({", ".join(TEXT_PARTS)},
                tokenize='porter unicode61');
            CREATE TABLE docs(rowid INTEGER PRIMARY KEY, nct_id TEXT, status TEXT, sponsor TEXT,
                last_update INTEGER, start_date INTEGER, enrollment INTEGER);
            CREATE TABLE f_phase(rowid INTEGER, value TEXT);
            CREATE TABLE f_country(rowid INTEGER, value TEXT);
            CREATE TABLE f_condition(rowid INTEGER, value TEXT);
            """
        )
        rows, multi = [], {f: [] for f in ("phase", "country", "condition")}
        texts = []
        for i, s in enumerate(studies, start=1):
            texts.append((i, *(s[p] for p in TEXT_PARTS)))
            rows.append(
                (i, s["nct_id"], (s["status"] or [None])[0], (s["sponsor"] or [None])[0],
                 s["last_update"], s["start_date"], s["enrollment"])
            )  # fmt: skip
            for f in multi:
                multi[f].extend((i, v) for v in s[f])
        db.executemany(
            f"INSERT INTO fts(rowid, {', '.join(TEXT_PARTS)}) VALUES (?,?,?,?,?,?)", texts
        )
        db.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?)", rows)
        for f, values in multi.items():
            db.executemany(f"INSERT INTO f_{f} VALUES (?,?)", values)
        db.executescript(
            """
            CREATE INDEX docs_status ON docs(status); CREATE INDEX docs_sponsor ON docs(sponsor);
            CREATE INDEX f_phase_i ON f_phase(value, rowid);
            CREATE INDEX f_phase_r ON f_phase(rowid);
            CREATE INDEX f_country_i ON f_country(value, rowid);
            CREATE INDEX f_country_r ON f_country(rowid);
            CREATE INDEX f_condition_i ON f_condition(value, rowid);
            CREATE INDEX f_condition_r ON f_condition(rowid);
            INSERT INTO fts(fts) VALUES('optimize');
            """
        )
        db.commit()
        self.db = db

    def _match(self, q: str) -> str:
        if _phrase(q):
            return '"' + " ".join(_words(q)) + '"'
        return " AND ".join(f'"{w}"' for w in _words(q))

    def search(self, req: dict[str, Any]) -> tuple[int, list[str]]:
        db = self.db
        where, args = [], []
        for f, values in req.get("filters", {}).items():
            marks = ",".join("?" * len(values))
            if f in ("status", "sponsor"):
                where.append(f"d.{f} IN ({marks})")
            else:
                where.append(f"d.rowid IN (SELECT rowid FROM f_{f} WHERE value IN ({marks}))")
            args += values
        cond = (" AND " + " AND ".join(where)) if where else ""
        db.execute("DROP TABLE IF EXISTS temp.hits")
        if req.get("q"):
            w = WEIGHTS
            db.execute(
                "CREATE TEMP TABLE hits AS SELECT d.rowid AS rowid, "
                f"bm25(fts, {w['title']}, {w['conditions']}, {w['interventions']}, "
                f"{w['summary']}, 1.0) AS s, d.* FROM fts JOIN docs d ON d.rowid = fts.rowid "
                f"WHERE fts MATCH ?{cond}",
                [self._match(req["q"]), *args],
            )
            order = "s"
        else:
            db.execute(
                f"CREATE TEMP TABLE hits AS SELECT d.rowid AS rowid, 0 AS s, d.* FROM docs d "
                f"WHERE 1{cond}",
                args,
            )
            order = "last_update DESC"
        if req.get("sort") in SORTS:
            order = f"{SORTS[req['sort']]} DESC"
        offset = (req.get("page", 1) - 1) * 20
        ids = [
            r[0]
            for r in db.execute(
                f"SELECT nct_id FROM hits ORDER BY {order} LIMIT 20 OFFSET {offset}"
            )
        ]
        total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
        for f in ("status", "sponsor"):
            db.execute(
                f"SELECT {f}, count(*) c FROM hits GROUP BY {f} ORDER BY c DESC LIMIT 20"
            ).fetchall()
        for f in ("phase", "country", "condition"):
            db.execute(
                f"SELECT v.value, count(*) c FROM hits h JOIN f_{f} v ON v.rowid = h.rowid "
                "GROUP BY v.value ORDER BY c DESC LIMIT 20"
            ).fetchall()
        return total, ids

    def close(self) -> None:
        if self.db:
            self.db.close()


# --- tantivy ------------------------------------------------------------------------------


class Tantivy:
    name = "tantivy"
    caches = True  # its searcher's caches and the page cache of its mmap'd files

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def build(self, studies: list[dict[str, Any]]) -> None:
        import tantivy

        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("nct_id", stored=True, tokenizer_name="raw")
        for p in TEXT_PARTS:
            sb.add_text_field(p, tokenizer_name="en_stem")
        for f in FACETS:
            sb.add_text_field(f, fast=True, tokenizer_name="raw")
        for s in SORTS:
            sb.add_integer_field(s, fast=True)
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(self.folder))
        writer = self.index.writer(heap_size=256_000_000, num_threads=2)
        for s in studies:
            doc = tantivy.Document()
            doc.add_text("nct_id", s["nct_id"])
            for p in TEXT_PARTS:
                doc.add_text(p, s[p])
            for f in FACETS:
                for v in s[f]:
                    doc.add_text(f, v)
            for k in SORTS:
                doc.add_integer(k, int(s[k]))
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, req: dict[str, Any]) -> tuple[int, list[str]]:
        import tantivy

        clauses = []
        if req.get("q"):
            text = (
                '"' + " ".join(_words(req["q"])) + '"'
                if _phrase(req["q"])
                else " ".join(_words(req["q"]))
            )
            clauses.append(
                (
                    tantivy.Occur.Must,
                    self.index.parse_query(
                        text, list(TEXT_PARTS), field_boosts=WEIGHTS, conjunction_by_default=True
                    ),
                )
            )
        for f, values in req.get("filters", {}).items():
            terms = [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, f, v)) for v in values
            ]
            clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(terms)))
        q = tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.all_query()
        offset = (req.get("page", 1) - 1) * 20
        kwargs: dict[str, Any] = {}
        if req.get("sort") in SORTS or not req.get("q"):
            kwargs = {"order_by_field": SORTS.get(req.get("sort"), "last_update")}
        result = self.searcher.search(q, 20, count=True, offset=offset, **kwargs)
        ids = [self.searcher.doc(addr)["nct_id"][0] for _, addr in result.hits]
        aggs = {f: {"terms": {"field": f, "size": 20}} for f in FACETS}
        self.searcher.aggregate(q, aggs)
        return result.count, ids

    def close(self) -> None:
        pass


def timed_build(peer: Any, studies: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    peer.build(studies)
    return time.perf_counter() - started
