"""Export: every matching study as CSV, JSON Lines or RIS, in the search's order."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.index.build import reindex
from indexer.search.export import defused

from pagemaker import make_page, write_pages


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff"), "CSV starts with a byte-order mark for spreadsheets"
    return list(csv.DictReader(io.StringIO(text[1:])))


def combinations(server) -> list[dict[str, str]]:
    """20 filter combinations from the real index's own commonest values."""
    facets = server.get("/api/search", params={"facet_limit": 5, "per_page": 1}).json()["facets"]
    combos = [{"q": q} for q in ("cancer", "diabetes", "pain", "asthma", "heart failure")]
    for name in ("status", "phase", "country"):
        combos += [{name: item["value"]} for item in facets[name][:5]]
    combos += [{"q": "cancer", "status": "RECRUITING"}, {"phase": "PHASE3", "age": "70"}]
    return combos[:20]


@pytest.mark.server
def test_exports_hold_exactly_the_searchs_studies_in_its_order(real_index, start_server):
    server = start_server(real_index, workers=1)
    combos = combinations(server)
    assert len(combos) == 20
    for params in combos:
        search = server.get("/api/search", params={**params, "per_page": 100}).json()
        exported = server.get("/api/search.csv", params=params)
        assert exported.status_code == 200, (params, exported.text[:300])
        assert exported.headers["X-Total-Count"] == str(search["total"])
        rows = csv_rows(exported.text)
        assert len(rows) == search["total"], params
        first = [h["nct_id"] for h in search["results"]]
        assert [r["NCT Number"] for r in rows[: len(first)]] == first, params
    lines = server.get("/api/search.jsonl", params={"q": "asthma"}).text.splitlines()
    total = server.get("/api/search", params={"q": "asthma"}).json()["total"]
    assert len(lines) == total and json.loads(lines[0])["nct_id"].startswith("NCT")


@pytest.mark.server
def test_csv_cells_say_what_the_json_says(real_index, start_server):
    server = start_server(real_index, workers=1)
    rows = csv_rows(server.get("/api/search.csv", params={"q": "asthma"}).text)
    records = [
        json.loads(line)
        for line in server.get("/api/search.jsonl", params={"q": "asthma"}).text.splitlines()
    ]
    assert len(rows) == len(records) > 0
    for row, record in zip(rows, records, strict=True):
        assert row["NCT Number"] == record["nct_id"]
        assert row["Study Title"] == defused(record["title"])
        assert row["Study Status"] == (record["overall_status"] or "")
        assert row["Conditions"] == defused("; ".join(record["conditions"]))
        assert row["Phases"] == "; ".join(record["phases"])
        assert row["Enrollment"] == (
            "" if record["enrollment"] is None else str(record["enrollment"])
        )


def test_cells_that_a_spreadsheet_would_run_are_defused(tmp_path):
    pages = write_pages(
        tmp_path / "pages",
        {
            "NCT00000001": make_page(
                "NCT00000001", '=HYPERLINK("http://evil")', sponsor="+SUM(1,2)"
            ),
            "NCT00000002": make_page("NCT00000002", "-2+3 study", sponsor="@cmd"),
            "NCT00000003": make_page("NCT00000003", "A plain study"),
        },
    )
    reindex(pages, tmp_path / "ix")
    result = CliRunner().invoke(main, ["export", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    by_id = {row["NCT Number"]: row for row in csv_rows(result.output)}
    assert by_id["NCT00000001"]["Study Title"] == '\'=HYPERLINK("http://evil")'
    assert by_id["NCT00000001"]["Sponsor"] == "'+SUM(1,2)"
    assert by_id["NCT00000002"]["Study Title"] == "'-2+3 study"
    assert by_id["NCT00000002"]["Sponsor"] == "'@cmd"
    assert by_id["NCT00000003"]["Study Title"] == "A plain study"


def test_an_export_over_the_limit_is_refused_before_a_row_is_sent(client, monkeypatch):
    from indexer.search import export

    monkeypatch.setattr(export, "MAX_EXPORT", 5)
    refused = client.get("/api/search.csv?q=asthma")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "export_too_large" and "add filters" in error["message"]
    narrow = client.get("/api/search.csv?q=asthma&status=RECRUITING&phase=PHASE2")
    assert narrow.status_code == 200


def test_ris_and_formats_and_the_page_links(client):
    ris = client.get("/api/search.ris?q=asthma")
    assert ris.headers["Content-Type"].startswith("application/x-research-info-systems")
    records = ris.get_data(as_text=True).strip().split("ER  - ")
    total = client.get("/api/search?q=asthma").get_json()["total"]
    assert len([r for r in records if r.strip()]) == total
    assert "TY  - DBASE" in records[0] and "UR  - https://clinicaltrials.gov/study/" in records[0]
    assert client.get("/api/search.xlsx").status_code == 404
    page = client.get("/search?q=asthma&page=2&per_page=5").get_data(as_text=True)
    assert '/api/search.csv?q=asthma"' in page and "/api/search.ris?q=asthma" in page


def test_the_cli_export_writes_a_file_and_says_how_many(sample_index, tmp_path):
    out = tmp_path / "recruiting.jsonl"
    result = CliRunner().invoke(
        main,
        ["export", "--status", "RECRUITING", "--to", "jsonl", "--out", str(out),
         "--index", str(sample_index)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert f"Wrote {len(lines)} studies" in result.output
    assert all(json.loads(line)["overall_status"] == "RECRUITING" for line in lines)
