"""Exports: the JSON contract, a CSV of failing elements (golden file), and a SQLite copy that
Datasette can open as it is (read-only, immutable, with a readable view)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from reports.cli import cli as a11ycrawl
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
    assert set(doc) == {"run", "pages", "documents"} and doc["run"]["id"] == 3


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
