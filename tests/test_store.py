"""The database schema: migrations keep old runs, a newer schema is refused."""

from __future__ import annotations

import sqlite_utils
import pytest

from audits.errors import StoreError
from audits.store import MIGRATIONS, SCHEMA_VERSION, open_store


def _v2_database(path) -> None:
    db = sqlite_utils.Database(path)
    for v in (1, 2):
        MIGRATIONS[v](db)
    db["meta"].insert({"key": "schema_version", "value": "2"}, pk="key")
    db["runs"].insert({"site": "Northbrook", "start_url": "http://127.0.0.1:1/", "started_at": "2026-01-01T00:00:00+00:00",
                       "status": "complete", "axe_version": "4.12.1"})
    db.close()


def test_a_v2_database_is_migrated_in_place_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.db"
    _v2_database(path)
    store = open_store(path, create=False)
    assert store.db.execute("select value from meta where key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    old = store.runs("Northbrook")
    assert len(old) == 1 and old[0]["browser"] is None and old[0]["axe_version"] == "4.12.1"
    new = store.create_run(site="Northbrook", start_url="http://127.0.0.1:1/", tool_version="0.1.0", axe_version="4.12.1",
                           config={}, config_hash="x", max_pages=10, browser="chromium-headless-shell 156.0.8078.79")
    assert store.get_run(new)["browser"] == "chromium-headless-shell 156.0.8078.79"
    store.close()


def test_a_newer_schema_is_refused_with_one_line(tmp_path):
    path = tmp_path / "new.db"
    open_store(path).close()
    db = sqlite_utils.Database(path)
    db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION + 1)}, pk="key")
    db.close()
    with pytest.raises(StoreError, match="newer a11ycrawl"):
        open_store(path)


@pytest.mark.parametrize("stored", ["three", "", "-1", "3.0", None, b"\x00", 2.5, -4])
def test_a_schema_version_that_is_not_a_number_is_refused_with_one_line(tmp_path, stored):
    path = tmp_path / "odd.db"
    open_store(path).close()
    db = sqlite_utils.Database(path)
    db.execute("update meta set value = ? where key = 'schema_version'", [stored])
    db.conn.commit()
    db.close()
    with pytest.raises(StoreError) as err:
        open_store(path)
    msg = str(err.value)
    assert str(path) in msg and "not an a11ycrawl database, or it is damaged" in msg and "--db" in msg
    assert repr(stored)[:30] in msg


def test_a_schema_version_that_is_not_a_number_is_an_error_not_a_crash_in_the_cli(cli, tmp_path):
    path = tmp_path / "odd.db"
    open_store(path).close()
    db = sqlite_utils.Database(path)
    db["meta"].upsert({"key": "schema_version", "value": "three"}, pk="key")
    db.close()
    res = cli("league", "--db", str(path), cwd=tmp_path)
    assert res.returncode == 2 and "internal error" not in res.stderr and "Traceback" not in res.stderr
    assert "is not an a11ycrawl database, or it is damaged" in res.stderr
