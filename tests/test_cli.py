"""`trialsearch` end to end in a subprocess: exit codes, summaries, the skipped list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli.serve import gunicorn_args

from pagemaker import make_page, write_pages

CLI = [str(Path(sys.executable).with_name("trialsearch"))]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def good_pages(folder: Path) -> Path:
    return write_pages(
        folder,
        {
            "NCT00000001": make_page("NCT00000001", "Asthma inhaler study"),
            "NCT00000002": make_page(
                "NCT00000002",
                "Knee pain trial",
                status="COMPLETED",
                conditions=("Knee Osteoarthritis",),
                countries=("Korea, Republic of",),
            ),
        },
    )


def test_reindex_json_summary_lists_indexed_skipped_and_duplicates(tmp_path):
    pages = good_pages(tmp_path / "pages")
    (pages / "NCT00000003.md").write_text("---\ntitle: [broken\n---\n")
    (pages / "sub").mkdir()
    (pages / "sub" / "NCT00000001.md").write_text(make_page("NCT00000001", "Copy"))
    result = run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["indexed"] == 2
    assert summary["skipped"] == [
        {"file": "NCT00000003.md", "reason": summary["skipped"][0]["reason"]}
    ]
    assert summary["skipped"][0]["reason"].startswith("broken YAML frontmatter at line 3")
    assert summary["duplicates"] == [
        {"nct_id": "NCT00000001", "file": "sub/NCT00000001.md", "kept": "NCT00000001.md"}
    ]
    assert summary["seconds"] > 0 and summary["generation"] == 1


def test_reindex_text_summary_and_strict_exit_code(tmp_path):
    pages = good_pages(tmp_path / "pages")
    (pages / "NCT00000009.md").write_text("")
    result = run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"))
    assert result.returncode == 0
    assert "Full reindex: 2 added" in result.stdout
    assert "NCT00000009.md: page is empty" in result.stdout
    strict = run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"), "--strict")
    assert strict.returncode == 1


def test_missing_pages_folder_is_a_one_line_error_and_touches_nothing(tmp_path):
    index = tmp_path / "ix"
    result = run("reindex", "--pages", str(tmp_path / "nope"), "--index", str(index))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr
    assert not index.exists()


def test_pages_folder_from_the_environment(tmp_path):
    pages = good_pages(tmp_path / "pages")
    env = {
        "PATH": "/usr/bin:/bin",
        "TRIALSEARCH_PAGES_DIR": str(pages),
        "TRIALSEARCH_INDEX_DIR": str(tmp_path / "ix"),
    }
    result = run("reindex", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["indexed"] == 2


def test_stats_counts_every_facet_value(tmp_path):
    pages = good_pages(tmp_path / "pages")
    run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"))
    result = run("stats", "--index", str(tmp_path / "ix"), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["documents"] == 2
    assert stats["facets"]["status"] == {"RECRUITING": 1, "COMPLETED": 1}
    assert stats["facets"]["country"] == {"France": 1, "Korea, Republic of": 1}
    text = run("stats", "--index", str(tmp_path / "ix"))
    assert "2 documents" in text.stdout and "Korea, Republic of" in text.stdout


def test_stats_without_an_index_fails_clearly(tmp_path):
    result = run("stats", "--index", str(tmp_path / "none"))
    assert result.returncode == 5
    assert "no index has been built" in result.stderr


def test_search_prints_results_and_json(tmp_path):
    pages = good_pages(tmp_path / "pages")
    run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"))
    text = run("search", "asthma", "--index", str(tmp_path / "ix"))
    assert text.returncode == 0
    assert text.stdout.startswith("1 study\n") and "NCT00000001" in text.stdout
    data = json.loads(
        run("search", "--index", str(tmp_path / "ix"), "--status", "COMPLETED", "--json").stdout
    )
    assert [h["nct_id"] for h in data["results"]] == ["NCT00000002"]
    bad = run("search", "x", "--index", str(tmp_path / "ix"), "-f", "status=NOPE")
    assert bad.returncode == 2 and "'NOPE' is not a value of 'status'" in bad.stderr


def test_search_reads_a_patient_description_from_the_line_or_a_file(tmp_path):
    pages = good_pages(tmp_path / "pages")
    run("reindex", "--pages", str(pages), "--index", str(tmp_path / "ix"))
    text = "A 70-year-old woman with knee osteoarthritis. She has no asthma."
    line = run("search", "--patient", text, "--index", str(tmp_path / "ix"))
    assert line.returncode == 0, line.stderr
    assert "Read as a patient: age 70, female" in line.stdout
    assert "not counted (denied): asthma" in line.stdout
    assert "NCT00000002" in line.stdout and "NCT00000001" not in line.stdout
    assert "age EXCLUDES the patient" in line.stdout  # 18–65: listed, with the reason
    described = tmp_path / "patient.txt"
    described.write_text(text, encoding="utf-8")
    data = json.loads(
        run(
            "search",
            "--patient-file",
            str(described),
            "--eligible-only",
            "--json",
            "--index",
            str(tmp_path / "ix"),
        ).stdout  # fmt: skip
    )
    assert data["mode"] == "patient" and data["patient"]["age"] == 70
    assert data["total"] == 0  # the one knee study admits 18–65 only
    clash = run("search", "--patient", "--mode", "keywords", "x", "--index", str(tmp_path / "ix"))
    assert clash.returncode == 2


def test_help_explains_every_command():
    for command in ("reindex", "stats", "search", "serve", "sample"):
        result = run(command, "--help")
        assert result.returncode == 0
        assert "Usage:" in result.stdout and "--help" in result.stdout
    assert "Exit codes" in run("reindex", "--help").stdout


def test_a_search_past_its_budget_is_stopped_with_exit_7(sample_index):
    result = run("search", "cancer", "--index", str(sample_index), "--budget", "0.000001")
    assert result.returncode == 7, result.stderr
    assert "was stopped" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_budget_comes_from_the_environment_by_default(sample_index):
    env = {**os.environ, "TRIALSEARCH_REQUEST_BUDGET": "0.000001"}
    result = run("search", "cancer", "--index", str(sample_index), env=env)
    assert result.returncode == 7, result.stderr
    assert run("search", "cancer", "--index", str(sample_index), "--budget", "0").returncode == 0


def test_reindex_and_stats_say_how_many_sites_were_placed_and_search_finds_them_near(tmp_path):
    sites = (
        ("Dana-Farber Cancer Institute, Boston, Massachusetts, United States", "RECRUITING"),
        ("Hospital of the Isle, Atlantis Bay, Massachusetts, United States", "RECRUITING"),
        ("Baylor College of Medicine, Houston, Texas, United States", "COMPLETED"),
    )
    pages = write_pages(
        tmp_path / "pages",
        {"NCT00000001": make_page("NCT00000001", "Asthma study", countries=("United States",),
                                  sites=sites)},
    )  # fmt: skip
    index = str(tmp_path / "ix")
    built = run("reindex", "--pages", str(pages), "--index", index)
    assert built.returncode == 0, built.stderr
    said = "3 sites listed; 3 name a city, 2 placed on the map (66.7%), 1 unplaced"
    assert said in built.stdout
    report = json.loads(run("reindex", "--pages", str(pages), "--index", index, "--full",
                            "--json").stdout)  # fmt: skip
    assert report["sites"] == {"sites": 3, "named": 3, "placed": 2}
    assert said in run("stats", "--index", index).stdout
    near = run("search", "--index", index, "--near", "Boston, MA", "--radius", "10mi")
    assert near.returncode == 0, near.stderr
    assert "Near Boston, Massachusetts, United States, within 10 mi (16.093 km)." in near.stdout
    assert "0 mi: Dana-Farber Cancer Institute, Boston, Massachusetts (Recruiting)" in near.stdout
    far = json.loads(run("search", "--index", index, "--near", "77030", "--site-status",
                         "RECRUITING", "--json").stdout)  # fmt: skip
    assert far["total"] == 0  # the Houston site is completed: not a recruiting site there
    ambiguous = run("search", "--index", index, "--near", "Portland")
    assert ambiguous.returncode == 2
    assert "Portland, Oregon, United States; Portland, Maine, United States" in ambiguous.stderr


@pytest.mark.parametrize(
    "host, port, bind, expected",
    [
        (None, None, "0.0.0.0:9000", None),  # gunicorn_conf.py applies TRIALSEARCH_BIND
        ("0.0.0.0", None, "127.0.0.1:8000", "0.0.0.0:8000"),
        (None, 8123, "10.0.0.5:9000", "10.0.0.5:8123"),
        ("::1", 8123, "127.0.0.1:8000", "[::1]:8123"),
        (None, 8123, "unix:/run/trialsearch.sock", "127.0.0.1:8123"),
    ],
)
def test_serve_listens_where_told_else_where_trialsearch_bind_says(host, port, bind, expected):
    args = gunicorn_args(host, port, None, bind)
    assert args[:3] == ["gunicorn", "-c", "python:webapp.gunicorn_conf"]
    assert args[-1] == "webapp:create_app()"
    if expected is None:
        assert "--bind" not in args
    else:
        assert args[args.index("--bind") + 1] == expected
    assert gunicorn_args(None, None, 3, bind)[3:5] == ["--workers", "3"]
