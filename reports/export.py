"""Exports of stored results: the JSON contract, a CSV of findings, a SQLite copy for Datasette.

- **JSON**: one run as :func:`reports.data.run_document` (the documented contract).
- **CSV**: one row per failing element of one run, columns :data:`reports.data.FINDING_COLUMNS`,
  then one row per page of each failing cross-page check (``rule`` ``site:consistent-navigation``...).
  Text from audited pages is data, never a formula: a cell that a spreadsheet would run
  (``=``, ``+``, ``-``, ``@``, tab or carriage return first) starts with ``'`` (:func:`csv_cell`).
- **CSV of documents or the statement** (``export --csv documents|statement``,
  :func:`export_table_csv`): one row per check of each linked document
  (:data:`reports.documents.DOCUMENT_COLUMNS`; a document without checks, unreadable or not
  fetched, gets one row with its ``check_status`` and reason), or one row per requirement of the
  accessibility statement (:data:`reports.documents.STATEMENT_COLUMNS`); cells as above.
- **SQLite**: a copy of the results database (``VACUUM INTO``; every run, or just one), in
  rollback-journal mode so that ``datasette results.db`` (or ``datasette -i``, read-only) opens it
  as it is, with a view, ``failing_elements``, that joins findings to their pages and runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
from pathlib import Path

from audits.errors import OutputError, StoreError

from reports.data import FINDING_COLUMNS, finding_rows, run_document, site_check_rows
from reports.files import prepare_output, write_text
from reports.documents import DOCUMENT_COLUMNS, STATEMENT_COLUMNS, document_rows, statement_rows

FORMATS = ("json", "csv", "sqlite")
CSV_KINDS = ("findings", "documents", "statement")


def export_json(store, run_id: int) -> str:
    return json.dumps(run_document(store, run_id), indent=2, ensure_ascii=False) + "\n"


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP "CSV Injection"),
# with the full-width forms some of them accept too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string starting (after any spaces or newlines) with a
    formula character gets a leading single quote, as OWASP advises; other values are unchanged.

    >>> csv_cell("=1+2"), csv_cell(" @SUM(A1)"), csv_cell("Home - Council"), csv_cell(3)
    ("'=1+2", "' @SUM(A1)", 'Home - Council', 3)
    """
    if isinstance(value, str) and value.lstrip(" \n").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(store, run_id: int) -> str:
    """The run's failing elements, then its failing cross-page checks (one row per page), as CSV
    (RFC 4180, a header row, UTF-8), every cell through :func:`csv_cell`."""
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=FINDING_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in finding_rows(store, run_id))
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in site_check_rows(store, run_id))
    return buf.getvalue()


def export_table_csv(store, run_id: int, kind: str) -> str:
    """The run's documents' checks (``kind="documents"``) or its accessibility statement's
    requirements (``kind="statement"``) as CSV, like :func:`export_csv`."""
    if kind == "documents":
        columns, rows = DOCUMENT_COLUMNS, document_rows(store, run_id)
    elif kind == "statement":
        columns, rows = STATEMENT_COLUMNS, statement_rows(store, run_id)
    else:
        raise ValueError(f"unknown CSV kind {kind!r} (one of {', '.join(CSV_KINDS)})")
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def export_sqlite(store, path: str | Path, run_id: int | None = None) -> Path:
    """Copy the database to ``path`` (replacing it), optionally with one run only."""
    path = prepare_output(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".a11ycrawl-export-", suffix=".db", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)  # VACUUM INTO wants to create the file itself
    try:
        store.copy_to(tmp, run_id)
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise StoreError(f"could not write the SQLite export {path}: {exc}") from None
    except OSError as exc:
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_export(store, fmt: str, output: str, run_id: int | None, kind: str = "findings") -> str:
    """Write one export; ``output`` ``-`` means stdout for JSON and CSV; ``kind``, for CSV:
    ``findings``, ``documents`` or ``statement``. Returns what was written to stdout (empty when a
    file was written)."""
    if fmt == "sqlite":
        if output == "-":
            raise StoreError("a SQLite export needs a file: pass -o results.db")
        export_sqlite(store, output, run_id)
        return ""
    if fmt == "csv" and kind != "findings":
        text = export_table_csv(store, run_id, kind)
    else:
        text = export_json(store, run_id) if fmt == "json" else export_csv(store, run_id)
    if output == "-":
        return text
    write_text(output, text, newline="")
    return ""
