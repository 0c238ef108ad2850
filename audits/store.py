"""The results database: one SQLite file, WAL mode, written through sqlite-utils.

Tables (schema version in ``meta``; migrations in ``MIGRATIONS``):

- ``runs``: one per site per audit: site, start_url, started_at, finished_at, status
  (``running`` | ``complete`` | ``incomplete`` | ``failed``), tool/axe versions, config and its
  hash, coverage counters, error.
- ``pages``: one per URL per run, in exactly one state: ``audited`` | ``failed`` | ``skipped``,
  with a machine ``reason_code`` and human ``reason`` for the last two. Unique (run_id, url).
- ``findings``: one per failing (or needs-review) node: rule, impact, tags, target, html,
  failure summary, help URL, fingerprint. ``kind`` is ``violation`` or ``incomplete``.
- ``rules``: axe rule metadata per axe-core version.
- ``documents``: PDFs and Office files linked from pages.
- ``frontier``: URLs queued for a run, so a killed run can be resumed.
- ``scores``: derived site scores per run and scoring model (recomputable).
- ``resources``: the hash of each script, stylesheet, frame and fetched data file the run's pages
  loaded, so a later run can tell an unchanged page from a changed one without rendering it.

Every page is written in one transaction as soon as it is done, so a killed run keeps what it
audited.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils

from audits.errors import StoreError

SCHEMA_VERSION = 3


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _migrate_1(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": int, "site": str, "start_url": str, "started_at": str, "finished_at": str,
            "status": str, "tool_version": str, "axe_version": str, "config": str,
            "config_hash": str, "max_pages": int, "pages_discovered": int, "pages_audited": int,
            "pages_failed": int, "pages_skipped": int, "pages_reused": int, "error": str,
            "resumed_at": str,
        },
        pk="id", not_null={"site", "start_url", "started_at", "status"},
    )
    db["runs"].create_index(["site", "started_at"])
    db["pages"].create(
        {
            "id": int, "run_id": int, "url": str, "final_url": str, "status": str,
            "reason_code": str, "reason": str, "http_status": int, "content_type": str,
            "title": str, "lang": str, "depth": int, "referrer": str, "found_via": str,
            "load_ms": int, "audit_ms": int, "finished_at": str, "violations": int,
            "violation_nodes": int, "incomplete": int, "frames": int, "content_hash": str,
            "reused_from": int, "facts": str,
        },
        pk="id", foreign_keys=[("run_id", "runs", "id")], not_null={"run_id", "url", "status"},
    )
    db["pages"].create_index(["run_id", "url"], unique=True)
    db["pages"].create_index(["run_id", "status"])
    db["findings"].create(
        {
            "id": int, "run_id": int, "page_id": int, "kind": str, "rule": str, "impact": str,
            "tags": str, "target": str, "html": str, "failure_summary": str, "help": str,
            "help_url": str, "fingerprint": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("page_id", "pages", "id")],
    )
    db["findings"].create_index(["run_id", "rule"])
    db["findings"].create_index(["page_id"])
    db["rules"].create(
        {"axe_version": str, "rule": str, "description": str, "help": str, "help_url": str, "tags": str, "impact": str},
        pk=("axe_version", "rule"),
    )
    db["documents"].create(
        {"id": int, "run_id": int, "url": str, "kind": str, "page_url": str, "http_status": int,
         "content_type": str, "size": int},
        pk="id", foreign_keys=[("run_id", "runs", "id")],
    )
    db["documents"].create_index(["run_id", "url"], unique=True)
    db["frontier"].create(
        {"run_id": int, "url": str, "depth": int, "referrer": str, "found_via": str, "state": str},
        pk=("run_id", "url"), foreign_keys=[("run_id", "runs", "id")],
    )
    db["scores"].create(
        {"run_id": int, "model_version": str, "axe_version": str, "score": float,
         "components": str, "computed_at": str, "reason": str},
        pk=("run_id", "model_version"), foreign_keys=[("run_id", "runs", "id")],
    )


def _migrate_2(db: sqlite_utils.Database) -> None:
    """Hashes of the scripts, stylesheets, frames and data a run's pages loaded (for re-audits)."""
    db["resources"].create(
        {"run_id": int, "url": str, "sha256": str, "http_status": int, "fetched_at": str},
        pk=("run_id", "url"), foreign_keys=[("run_id", "runs", "id")],
    )


def _migrate_3(db: sqlite_utils.Database) -> None:
    """The browser a run used (results can differ between Chromium versions)."""
    if "browser" not in db["runs"].columns_dict:  # another process may have migrated it meanwhile
        db["runs"].add_column("browser", str)


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3}


@dataclass
class PageRecord:
    """One URL's outcome in a run, as the pipeline hands it to the store."""

    url: str
    status: str  # audited | failed | skipped
    final_url: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    title: str | None = None
    lang: str | None = None
    depth: int | None = None
    referrer: str | None = None
    found_via: str | None = None
    load_ms: int | None = None
    audit_ms: int | None = None
    frames: int | None = None
    content_hash: str | None = None
    reused_from: int | None = None
    facts: dict[str, Any] | None = None
    violations: list[dict] = field(default_factory=list)  # axe result objects, nodes inside
    incomplete: list[dict] = field(default_factory=list)


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False, sort_keys=False)


class Store:
    """Thin, explicit API over the database. Open with :func:`open_store`."""

    def __init__(self, db: sqlite_utils.Database, path: str):
        self.db = db
        self.path = path

    # -- runs -------------------------------------------------------------------------------
    def create_run(self, *, site: str, start_url: str, tool_version: str, axe_version: str,
                   config: dict, config_hash: str, max_pages: int, browser: str | None = None) -> int:
        with self.db.conn:
            table = self.db["runs"].insert(
                {
                    "site": site, "start_url": start_url, "started_at": utcnow(), "status": "running",
                    "tool_version": tool_version, "axe_version": axe_version, "browser": browser,
                    "config": _json(config), "config_hash": config_hash, "max_pages": max_pages,
                    "pages_discovered": 0, "pages_audited": 0, "pages_failed": 0,
                    "pages_skipped": 0, "pages_reused": 0,
                }
            )
        return int(table.last_pk)

    def get_run(self, run_id: int) -> dict:
        try:
            run = self.db["runs"].get(run_id)
        except sqlite_utils.db.NotFoundError:
            raise StoreError(f"no run {run_id} in {self.path}") from None
        return dict(run)

    def runs(self, site: str | None = None) -> list[dict]:
        where, args = ("site = ?", [site]) if site else (None, None)
        return list(self.db["runs"].rows_where(where, args, order_by="started_at, id"))

    def latest_run(self, site: str | None = None, statuses: tuple[str, ...] = ("complete",)) -> dict | None:
        q = "status in (%s)" % ",".join("?" * len(statuses))
        args: list[Any] = list(statuses)
        if site:
            q += " and site = ?"
            args.append(site)
        rows = list(self.db["runs"].rows_where(q, args, order_by="started_at desc, id desc", limit=1))
        return rows[0] if rows else None

    def comparable_run_before(self, run_id: int, site: str, config_hash: str, axe_version: str) -> dict | None:
        """The latest earlier run of ``site`` audited with the same settings and axe-core version."""
        rows = list(self.db["runs"].rows_where(
            "site = ? and id < ? and config_hash = ? and axe_version = ? and status in ('complete', 'incomplete')",
            [site, run_id, config_hash, axe_version], order_by="id desc", limit=1))
        return rows[0] if rows else None

    def sites(self) -> list[str]:
        return [r[0] for r in self.db.execute("select distinct site from runs order by site").fetchall()]

    def update_counts(self, run_id: int) -> dict:
        counts = dict(
            self.db.execute(
                "select status, count(*) from pages where run_id = ? group by status", [run_id]
            ).fetchall()
        )
        reused = self.db.execute(
            "select count(*) from pages where run_id = ? and reused_from is not null", [run_id]
        ).fetchone()[0]
        values = {
            "pages_audited": counts.get("audited", 0),
            "pages_failed": counts.get("failed", 0),
            "pages_skipped": counts.get("skipped", 0),
            "pages_reused": reused,
        }
        self.db["runs"].update(run_id, values)
        return values

    def finish_run(self, run_id: int, status: str, discovered: int | None = None, error: str | None = None) -> None:
        with self.db.conn:
            values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
            if discovered is not None:
                values["pages_discovered"] = discovered
            if error:
                values["error"] = error
            self.db["runs"].update(run_id, values)
            self.update_counts(run_id)

    def mark_resumed(self, run_id: int) -> None:
        with self.db.conn:
            self.db["runs"].update(run_id, {"status": "running", "resumed_at": utcnow(), "finished_at": None, "error": None})

    def frontier_done(self, run_id: int) -> int:
        """Pages of the run that went to the browser and have a result (the page budget used)."""
        return self.db.execute(
            "select count(*) from frontier where run_id = ? and state = 'done'", [run_id]).fetchone()[0]

    # -- pages ------------------------------------------------------------------------------
    def save_page(self, run_id: int, page: PageRecord, fingerprint=None) -> int:
        """Write one page and its findings in a single transaction. Returns the page id."""
        nviol_nodes = sum(len(v.get("nodes", [])) for v in page.violations)
        row = {
            "run_id": run_id, "url": page.url, "final_url": page.final_url, "status": page.status,
            "reason_code": page.reason_code, "reason": page.reason, "http_status": page.http_status,
            "content_type": page.content_type, "title": page.title, "lang": page.lang,
            "depth": page.depth, "referrer": page.referrer, "found_via": page.found_via,
            "load_ms": page.load_ms, "audit_ms": page.audit_ms, "finished_at": utcnow(),
            "violations": len(page.violations), "violation_nodes": nviol_nodes,
            "incomplete": len(page.incomplete), "frames": page.frames,
            "content_hash": page.content_hash, "reused_from": page.reused_from,
            "facts": _json(page.facts),
        }
        try:
            with self.db.conn:
                self.db.execute("delete from findings where page_id in (select id from pages where run_id = ? and url = ?)", [run_id, page.url])
                self.db.execute("delete from pages where run_id = ? and url = ?", [run_id, page.url])
                page_id = int(self.db["pages"].insert(row).last_pk)
                rows = []
                for kind, results in (("violation", page.violations), ("incomplete", page.incomplete)):
                    for res in results:
                        for node in res.get("nodes", []):
                            f = {
                                "run_id": run_id, "page_id": page_id, "kind": kind, "rule": res.get("id"),
                                "impact": node.get("impact") or res.get("impact"),
                                "tags": _json(res.get("tags", [])), "target": _json(node.get("target", [])),
                                "html": node.get("html"), "failure_summary": node.get("failureSummary"),
                                "help": res.get("help"), "help_url": res.get("helpUrl"),
                            }
                            f["fingerprint"] = fingerprint(f, page) if fingerprint else None
                            rows.append(f)
                if rows:
                    self.db["findings"].insert_all(rows)
                self.db.execute(
                    "update frontier set state = 'done' where run_id = ? and url = ?", [run_id, page.url]
                )
        except sqlite3.Error as exc:
            raise StoreError(f"could not write page {page.url} to {self.path}: {exc}") from exc
        return page_id

    def pages(self, run_id: int) -> list[dict]:
        return list(self.db["pages"].rows_where("run_id = ?", [run_id], order_by="id"))

    def unsettled_pages(self, run_id: int) -> list[dict]:
        """Audited pages of a run that were audited before they settled (``settled`` false in their
        facts: the settle wait hit its cap), with ``url``, ``title`` and ``facts``."""
        return list(self.db.query(
            """select url, title, facts from pages where run_id = ? and status = 'audited'
               and json_extract(facts, '$.settled') = 0 order by url""", [run_id]))

    def findings(self, run_id: int, kind: str | None = None) -> list[dict]:
        where, args = "run_id = ?", [run_id]
        if kind:
            where += " and kind = ?"
            args.append(kind)
        return list(self.db["findings"].rows_where(where, args, order_by="id"))

    def findings_with_urls(self, run_id: int, kind: str = "violation") -> list[dict]:
        """Findings of one kind in a run, each with its page's ``url``."""
        return list(self.db.query(
            """select findings.*, pages.url from findings join pages on pages.id = findings.page_id
               where findings.run_id = ? and findings.kind = ? order by findings.id""",
            [run_id, kind],
        ))

    def audited_urls(self, run_id: int) -> set[str]:
        return {r[0] for r in self.db.execute("select url from pages where run_id = ? and status = 'audited'", [run_id])}

    def impact_counts(self, run_id: int) -> dict[str, int]:
        """Violation elements (axe nodes) per impact in a run."""
        return dict(self.db.execute(
            "select coalesce(impact, 'unknown'), count(*) from findings where run_id = ? and kind = 'violation' group by 1",
            [run_id],
        ).fetchall())

    def reuse_page(self, run_id: int, old_page_id: int, **overrides: Any) -> int:
        """Carry an unchanged page's stored result (and its findings) into ``run_id``."""
        old = dict(self.db["pages"].get(old_page_id))
        row = {k: v for k, v in old.items() if k != "id"}
        row.update(overrides, run_id=run_id, reused_from=old_page_id, finished_at=utcnow())
        with self.db.conn:
            self.db.execute("delete from pages where run_id = ? and url = ?", [run_id, row["url"]])
            page_id = int(self.db["pages"].insert(row).last_pk)
            self.db.execute(
                """insert into findings (run_id, page_id, kind, rule, impact, tags, target, html,
                       failure_summary, help, help_url, fingerprint)
                   select ?, ?, kind, rule, impact, tags, target, html, failure_summary, help, help_url,
                       fingerprint from findings where page_id = ? order by id""",
                [run_id, page_id, old_page_id],
            )
            self.db.execute("update frontier set state = 'done' where run_id = ? and url = ?", [run_id, row["url"]])
        return page_id

    def audited_pages_by_url(self, run_id: int) -> dict[str, dict]:
        return {r["url"]: r for r in self.db["pages"].rows_where("run_id = ? and status = 'audited'", [run_id])}

    def save_resource(self, run_id: int, url: str, sha256: str | None, http_status: int | None) -> None:
        with self.db.conn:
            self.db["resources"].upsert(
                {"run_id": run_id, "url": url, "sha256": sha256, "http_status": http_status, "fetched_at": utcnow()},
                pk=("run_id", "url"),
            )

    def resource_hashes(self, run_id: int) -> dict[str, str | None]:
        return {u: h for u, h in self.db.execute("select url, sha256 from resources where run_id = ?", [run_id])}

    # -- rules and documents ------------------------------------------------------------------
    def save_rules(self, axe_version: str, rules: Iterable[dict]) -> None:
        with self.db.conn:
            self.db["rules"].upsert_all(
                [
                    {"axe_version": axe_version, "rule": r["ruleId"], "description": r.get("description"),
                     "help": r.get("help"), "help_url": r.get("helpUrl"), "tags": _json(r.get("tags", []))}
                    for r in rules
                ],
                pk=("axe_version", "rule"),
            )

    def save_document(self, run_id: int, doc: dict) -> None:
        with self.db.conn:
            self.db["documents"].insert({"run_id": run_id, **doc}, ignore=True)

    def documents(self, run_id: int) -> list[dict]:
        return list(self.db["documents"].rows_where("run_id = ?", [run_id], order_by="id"))

    # -- frontier (resume) -----------------------------------------------------------------
    def enqueue(self, run_id: int, url: str, depth: int, referrer: str | None, found_via: str) -> None:
        with self.db.conn:
            self.db["frontier"].insert(
                {"run_id": run_id, "url": url, "depth": depth, "referrer": referrer,
                 "found_via": found_via, "state": "queued"},
                ignore=True,
            )

    def pending(self, run_id: int) -> list[dict]:
        return list(self.db["frontier"].rows_where("run_id = ? and state = 'queued'", [run_id]))

    # -- scores ---------------------------------------------------------------------------------
    def save_score(self, run_id: int, model_version: str, axe_version: str, score: float | None,
                   components: dict, reason: str | None = None) -> None:
        with self.db.conn:
            self.db["scores"].upsert(
                {"run_id": run_id, "model_version": model_version, "axe_version": axe_version,
                 "score": score, "components": _json(components), "computed_at": utcnow(),
                 "reason": reason},
                pk=("run_id", "model_version"),
            )

    def score(self, run_id: int, model_version: str | None = None) -> dict | None:
        where, args = "run_id = ?", [run_id]
        if model_version:
            where += " and model_version = ?"
            args.append(model_version)
        rows = list(self.db["scores"].rows_where(where, args, order_by="computed_at desc", limit=1))
        return rows[0] if rows else None

    def close(self) -> None:
        self.db.close()


def open_store(path: str | Path, create: bool = True) -> Store:
    """Open (and create or migrate) the database at ``path``."""
    path = str(path)
    if not create and not Path(path).exists():
        raise StoreError(f"no database at {path} (run 'a11ycrawl audit' first, or pass --db PATH)")
    try:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        if path != ":memory:":
            db.enable_wal()
        db.execute("pragma busy_timeout = 10000")
        db.execute("pragma foreign_keys = on")
        db.execute("pragma synchronous = normal")
        version = _schema_version(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable SQLite database: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot open database {path}: {exc.strerror}") from None
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer a11ycrawl (schema {version} > {SCHEMA_VERSION}); upgrade a11ycrawl"
        )
    if version == 0 and db.table_names() and "meta" not in db.table_names():
        raise StoreError(f"{path} is a SQLite database but not an a11ycrawl one; pass another --db PATH")
    for v in range(version + 1, SCHEMA_VERSION + 1):
        with db.conn:
            MIGRATIONS[v](db)
            db["meta"].upsert({"key": "schema_version", "value": str(v)}, pk="key")
    return Store(db, path)


def _schema_version(db: sqlite_utils.Database) -> int:
    if "meta" not in db.table_names():
        return 0
    row = db.execute("select value from meta where key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0
