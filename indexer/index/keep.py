"""What a full rebuild keeps of the live generation: the last good version of a study
whose page has turned bad.

An incremental reindex keeps serving a study whose page stopped parsing (its old
document simply stays). A full rebuild starts from nothing, so it used to drop such
a study, silently, under the removal guard. Here the live generation's stored
records of those studies are read back, so the rebuild indexes them as they were;
a study whose record cannot be read is lost, and counted against the guard.
It reads the live generation and writes only into the generation being built.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from whoosh import index as whoosh_index

from ..pages.record import StudyRecord
from .schema import record_to_document, unpack_record
from .segment_writer import FastSegmentWriter

log = logging.getLogger(__name__)


def last_good_records(live_dir: Path, wanted: Mapping[str, str]) -> dict[str, StudyRecord]:
    """file -> record, for each wanted (file -> NCT ID) study the live generation holds."""
    found: dict[str, StudyRecord] = {}
    try:
        ix = whoosh_index.open_dir(str(live_dir))
    except Exception as exc:  # a damaged live index: nothing can be kept from it
        log.warning("cannot read the live generation to keep studies (%s)", exc)
        return found
    try:
        with ix.searcher() as searcher:
            for rel, nct in wanted.items():
                try:
                    doc = searcher.document_number(nct_id=nct)
                    if doc is not None:
                        data = unpack_record(searcher.stored_fields(doc)["record"])
                        found[rel] = StudyRecord.from_dict(data)
                except Exception as exc:  # one unreadable record loses that study only
                    log.warning("cannot keep %s from the live generation (%s)", nct, exc)
    finally:
        ix.close()
    return found


def add_records(folder: Path, records: Iterable[StudyRecord]) -> None:
    """Index `records` into the committed index in `folder`, as one more segment."""
    ix = whoosh_index.open_dir(str(folder))
    writer = FastSegmentWriter(ix, compound=False)
    try:
        for record in records:
            writer.add_document(**record_to_document(record))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        ix.close()
