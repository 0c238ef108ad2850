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
- ``documents``: PDFs and Office files linked from pages; for fetched PDFs, ``check_status``
  (checked, unparsed, fetch_failed, not_fetched), ``check_reason`` and ``checks`` (JSON list).
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
from typing import Any, Iterable

import sqlite_utils

from audits.errors import StoreError

SCHEMA_VERSION = 4


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


def _migrate_4(db: sqlite_utils.Database) -> None:
    """Accessibility checks of linked PDFs: whether each was checked (or why not) and the results."""
    have = db["documents"].columns_dict
    for col, typ in (("check_status", str), ("check_reason", str), ("pages", int), ("created", str),
                     ("possibly_exempt", int), ("checks", str)):
        if col not in have:  # another process may have migrated it meanwhile
            db["documents"].add_column(col, typ)


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3, 4: _migrate_4}


# Readable findings for Datasette: one row per failing element with its page and run.
FAILING_ELEMENTS_VIEW = """
select runs.site, runs.id as run_id, runs.started_at, pages.url as page_url, pages.title as page_title,
       findings.rule, findings.impact, findings.help, findings.target, findings.html,
       findings.failure_summary, findings.help_url, findings.fingerprint
from findings
join pages on pages.id = findings.page_id
join runs on runs.id = findings.run_id
where findings.kind = 'violation'
order by runs.id, pages.url, findings.rule
"""

# Tables whose rows belong to one run, cleared of other runs when one run is exported.
RUN_TABLES = ("findings", "pages", "documents", "frontier", "scores", "resources")


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


def json_or(v: str | None, default: Any) -> Any:
    """A stored JSON column's value, or ``default`` when it is empty or not JSON."""
    if v is None:
        return default
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return default


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

    def page_states(self, run_id: int) -> list[dict]:
        """Every URL of a run with its ``status`` and ``reason_code`` only (no facts): for
        coverage and the league's figures, cheap on runs of many pages."""
        return list(self.db.query("select url, status, reason_code from pages where run_id = ? order by id", [run_id]))

    def page_links(self, run_id: int) -> list[tuple[str, str]]:
        """``(page url, link)`` for every link found in the run's audited pages (as the browser
        saw them, absolute and not normalised)."""
        return [(r["url"], r["link"]) for r in self.db.query(
            """select pages.url as url, links.value as link from pages, json_each(pages.facts, '$.links') as links
               where pages.run_id = ? and pages.status = 'audited' and json_valid(pages.facts)
               order by pages.id, links.key""", [run_id])]

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
        """Findings of one kind in a run (in the order stored), each with its page's ``url`` and
        ``page_title``."""
        return list(self.db.query(
            """select findings.*, pages.url as url, pages.title as page_title from findings
               join pages on pages.id = findings.page_id
               where findings.run_id = ? and findings.kind = ? order by findings.id""",
            [run_id, kind],
        ))

    def finding_table(self, run_id: int) -> list[dict]:
        """One flat row per failing element (violation) of a run, with its site, run, page URL
        and title, in page URL then rule order: the CSV export's rows before formatting."""
        return list(self.db.query(
            """select runs.site, runs.id as run, pages.url as page_url, pages.title as page_title, findings.rule,
                      findings.impact, findings.tags, findings.target, findings.html, findings.help,
                      findings.help_url, findings.fingerprint, findings.failure_summary
               from findings join pages on pages.id = findings.page_id join runs on runs.id = findings.run_id
               where findings.run_id = ? and findings.kind = 'violation'
               order by pages.url, findings.rule, findings.id""",
            [run_id],
        ))

    # -- summaries (the terminal summary's figures) ---------------------------------------------
    def impact_summary(self, run_id: int) -> dict[str, dict[str, int]]:
        """Per impact: failing elements (``nodes``) and distinct rules (``rules``)."""
        return {impact: {"nodes": nodes, "rules": rules} for impact, nodes, rules in self.db.execute(
            "select impact, count(*), count(distinct rule) from findings where run_id = ? and kind = 'violation' "
            "group by impact", [run_id])}

    def top_rules(self, run_id: int, limit: int) -> list[dict]:
        """The rules failing on most pages: rule, worst impact, pages, nodes, help."""
        return [
            {"rule": r, "impact": i, "pages": p, "nodes": n, "help": h}
            for r, i, p, n, h in self.db.execute(
                """select rule,
                          case min(case impact when 'critical' then 0 when 'serious' then 1
                                               when 'moderate' then 2 when 'minor' then 3 else 4 end)
                               when 0 then 'critical' when 1 then 'serious' when 2 then 'moderate'
                               when 3 then 'minor' end,
                          count(distinct page_id) as pages, count(*) as nodes, min(help)
                   from findings where run_id = ? and kind = 'violation'
                   group by rule order by pages desc, nodes desc, rule limit ?""",
                [run_id, limit],
            )
        ]

    def worst_pages(self, run_id: int, limit: int) -> list[dict]:
        """Audited pages with the most failing rules."""
        return [
            {"url": u, "title": t, "violations": v, "nodes": n}
            for u, t, v, n in self.db.execute(
                """select url, title, violations, violation_nodes from pages
                   where run_id = ? and status = 'audited' and violations > 0
                   order by violations desc, violation_nodes desc, url limit ?""",
                [run_id, limit],
            )
        ]

    def reason_counts(self, run_id: int) -> list[dict]:
        """Pages not audited, counted by status and reason code, most common first."""
        return [
            {"status": s, "reason_code": c, "count": n}
            for s, c, n in self.db.execute(
                "select status, reason_code, count(*) from pages where run_id = ? and status != 'audited' "
                "group by status, reason_code order by count(*) desc",
                [run_id],
            )
        ]

    def statement_facts(self, run_id: int) -> list[dict]:
        """Audited pages' statement facts only (url, title, facts with ``statement_links`` and
        ``statement_text``), without decoding every page's full facts in Python."""
        rows = self.db.execute(
            "select url, title, json_extract(facts, '$.statement_links'), json_extract(facts, '$.statement_text') "
            "from pages where run_id = ? and status = 'audited' and json_valid(facts) order by id", [run_id])
        # "recorded": the page's facts have statement links at all (runs stored before statements
        # were checked have none, which is not the same as a site without a statement)
        return [{"url": u, "title": t, "recorded": links is not None,
                 "facts": {"statement_links": json.loads(links) if links else [], "statement_text": text}}
                for u, t, links, text in rows]

    SITE_FACT_KEYS = ("nav_blocks", "search", "sitemap_links", "text_scripts", "lang_parts", "text_sample", "lang",
                      "links")

    def site_facts(self, run_id: int, links_of: str | None = None) -> list[dict]:
        """Audited pages with the facts the cross-page checks read (``url``, ``final_url``,
        ``title``, ``facts`` with :attr:`SITE_FACT_KEYS`), in the order audited, without decoding
        the rest of every page's facts; ``links`` (up to 5,000 a page) only for the page at
        ``links_of`` (the start URL) and the pages the crawl started from (depth 0)."""
        cols = ", ".join(f"json_extract(facts, '$.{k}')" if k != "links" else
                         "case when url = :home or depth = 0 then json_extract(facts, '$.links') end"
                         for k in self.SITE_FACT_KEYS)
        rows = self.db.execute(
            f"select url, final_url, title, {cols} from pages where run_id = :run and status = 'audited' "
            "and json_valid(facts) order by id", {"run": run_id, "home": links_of}).fetchall()
        out = []
        for url, final_url, title, *values in rows:
            facts = {}
            for k, v in zip(self.SITE_FACT_KEYS, values):
                # json_extract gives arrays and objects as JSON text, numbers and strings as they are
                facts[k] = json_or(v, None) if k not in ("lang", "text_sample", "search") and isinstance(v, str) else v
            facts["search"] = facts["search"] == 1 or facts["search"] is True
            out.append({"url": url, "final_url": final_url, "title": title, "facts": facts})
        return out

    def frame_urls(self, run_id: int) -> dict[int, dict]:
        """Pages of a run whose audited frames were recorded: ``{page id: {"url", "final_url",
        "frame_urls"}}`` (see :mod:`audits.analysis.thirdparty`)."""
        rows = self.db.execute(
            "select id, url, final_url, json_extract(facts, '$.frame_urls') from pages where run_id = ? "
            "and json_valid(facts) and json_type(facts, '$.frame_urls') = 'array'", [run_id]).fetchall()
        return {pid: {"url": url, "final_url": final, "frame_urls": json_or(frames, [])}
                for pid, url, final, frames in rows}

    def violation_count_with_tags(self, run_id: int, tags: Iterable[str]) -> int:
        """Failing elements of a run whose rule carries any of ``tags`` (such as wcag2a, wcag2aa)."""
        tags = list(tags)
        marks = ", ".join("?" for _ in tags)
        return self.db.execute(
            f"select count(*) from findings where run_id = ? and kind = 'violation' and json_valid(tags) and exists "
            f"(select 1 from json_each(findings.tags) where value in ({marks}))", [run_id, *tags]).fetchone()[0]

    def clean_page_count(self, run_id: int) -> int:
        return self.db.execute(
            "select count(*) from pages where run_id = ? and status = 'audited' and violations = 0", [run_id]
        ).fetchone()[0]

    def document_count(self, run_id: int) -> int:
        return self.db.execute("select count(*) from documents where run_id = ?", [run_id]).fetchone()[0]

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

    def has_rules(self, axe_version: str) -> bool:
        return self.db.execute("select 1 from rules where axe_version = ? limit 1", [axe_version]).fetchone() is not None

    def rule_tags(self, axe_version: str) -> set[str]:
        """Every tag some rule of ``axe_version`` carries."""
        known: set[str] = set()
        for (raw,) in self.db.execute("select tags from rules where axe_version = ?", [axe_version]):
            known.update(json.loads(raw or "[]"))
        return known

    def rules(self, axe_version: str | None) -> list[dict]:
        """Rule metadata; where a rule is stored for several axe-core versions, ``axe_version``'s
        row comes last (so a dict built from the rows keeps it)."""
        return list(self.db.query(
            "select rule, description, help, help_url, tags, axe_version = ? as exact from rules order by exact",
            [axe_version or ""]))

    def save_document(self, run_id: int, doc: dict) -> None:
        """One linked document (once per run and URL); ``checks`` (a list of dicts) is stored as JSON."""
        row = {"run_id": run_id, **doc}
        if "checks" in row and not isinstance(row["checks"], (str, type(None))):
            row["checks"] = json.dumps(row["checks"])
        with self.db.conn:
            self.db["documents"].insert(row, ignore=True)

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

    def copy_to(self, path: str, run_id: int | None = None) -> None:
        """Write a compact copy of the database to the new file ``path`` (``VACUUM INTO``), with only
        ``run_id``'s rows when given, in rollback-journal mode and with the ``failing_elements``
        view, so that Datasette opens it as it is. Raises :class:`sqlite3.Error`."""
        self.db.execute("vacuum into ?", [path])
        db = sqlite_utils.Database(path)
        try:
            db.execute("pragma journal_mode = delete")
            if run_id is not None:
                with db.conn:
                    db.execute("pragma foreign_keys = off")
                    for table in RUN_TABLES:
                        if table in db.table_names():
                            db.execute(f"delete from [{table}] where run_id != ?", [run_id])
                    db.execute("delete from runs where id != ?", [run_id])
            db.create_view("failing_elements", FAILING_ELEMENTS_VIEW, replace=True)
            db.vacuum()
        finally:
            db.close()

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
        try:
            version = _schema_version(db)
        except ValueError as exc:  # the meta table holds something no a11ycrawl wrote
            db.close()
            raise StoreError(f"{path} is not an a11ycrawl database, or it is damaged: its stored schema version is "
                             f"{exc}, not a whole number; pass another --db PATH") from None
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
    """The stored schema version (0 for a new database); ValueError if it is not a whole number >= 0."""
    if "meta" not in db.table_names():
        return 0
    row = db.execute("select value from meta where key = 'schema_version'").fetchone()
    if row is None:
        return 0
    value = row[0]
    try:
        version = int(value) if isinstance(value, (int, str)) else -1
    except ValueError:
        version = -1
    if version < 0:
        shown = repr(value)
        raise ValueError(shown if len(shown) <= 40 else shown[:40] + "...")
    return version
