"""Read-side queries over the store, shared by every reporter. Reads only."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

IMPACTS = ("critical", "serious", "moderate", "minor")


def _loads(v: str | None, default: Any) -> Any:
    if v is None:
        return default
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return default


def run_document(store, run_id: int) -> dict:
    """The run as the documented JSON contract (see README, "JSON output")."""
    run = store.get_run(run_id)
    run_out = {
        "id": run["id"], "site": run["site"], "start_url": run["start_url"], "status": run["status"],
        "started_at": run["started_at"], "finished_at": run["finished_at"], "tool_version": run["tool_version"],
        "axe_version": run["axe_version"], "config_hash": run["config_hash"], "error": run["error"],
        "config": _loads(run["config"], {}),
        "counts": {"discovered": run["pages_discovered"], "audited": run["pages_audited"],
                   "failed": run["pages_failed"], "skipped": run["pages_skipped"], "reused": run["pages_reused"]},
    }
    findings_by_page: dict[int, list[dict]] = defaultdict(list)
    for f in store.findings(run_id):
        findings_by_page[f["page_id"]].append(f)
    pages_out = []
    for p in store.pages(run_id):
        groups: dict[str, dict[str, dict]] = {"violation": {}, "incomplete": {}}
        for f in findings_by_page.get(p["id"], []):
            g = groups[f["kind"]].setdefault(
                f["rule"],
                {"rule": f["rule"], "impact": None, "help": f["help"], "help_url": f["help_url"],
                 "tags": _loads(f["tags"], []), "nodes": []},
            )
            g["nodes"].append({"target": _loads(f["target"], []), "html": f["html"], "impact": f["impact"],
                               "failure_summary": f["failure_summary"], "fingerprint": f["fingerprint"]})
        for kind in groups.values():
            for g in kind.values():
                impacts = [n["impact"] for n in g["nodes"] if n["impact"]]
                g["impact"] = min(impacts, key=IMPACTS.index) if impacts else None
        pages_out.append({
            "url": p["url"], "final_url": p["final_url"], "status": p["status"],
            "reason_code": p["reason_code"], "reason": p["reason"], "http_status": p["http_status"],
            "content_type": p["content_type"], "title": p["title"], "depth": p["depth"],
            "referrer": p["referrer"], "found_via": p["found_via"], "load_ms": p["load_ms"],
            "audit_ms": p["audit_ms"], "frames": p["frames"], "reused": p["reused_from"] is not None,
            "violations": list(groups["violation"].values()),
            "incomplete": list(groups["incomplete"].values()),
        })
    docs = [{"url": d["url"], "kind": d["kind"], "linked_from": d["page_url"]} for d in store.documents(run_id)]
    return {"run": run_out, "pages": pages_out, "documents": docs}


def run_summary(store, run_id: int, top: int = 10) -> dict:
    """Figures for the terminal summary: counts, violations by impact, top rules, worst pages."""
    db = store.db
    run = store.get_run(run_id)
    by_impact = {i: {"nodes": 0, "rules": 0} for i in IMPACTS}
    for impact, nodes, rules in db.execute(
        "select impact, count(*), count(distinct rule) from findings where run_id = ? and kind = 'violation' group by impact",
        [run_id],
    ):
        if impact in by_impact:
            by_impact[impact] = {"nodes": nodes, "rules": rules}
    top_rules = [
        {"rule": r, "impact": i, "pages": p, "nodes": n, "help": h}
        for r, i, p, n, h in db.execute(
            """select rule, min(impact), count(distinct page_id) as pages, count(*) as nodes, min(help)
               from findings where run_id = ? and kind = 'violation'
               group by rule order by pages desc, nodes desc, rule limit ?""",
            [run_id, top],
        )
    ]
    worst = [
        {"url": u, "title": t, "violations": v, "nodes": n}
        for u, t, v, n in db.execute(
            """select url, title, violations, violation_nodes from pages
               where run_id = ? and status = 'audited' and violations > 0
               order by violations desc, violation_nodes desc, url limit ?""",
            [run_id, top],
        )
    ]
    reasons = [
        {"status": s, "reason_code": c, "count": n}
        for s, c, n in db.execute(
            "select status, reason_code, count(*) from pages where run_id = ? and status != 'audited' group by status, reason_code order by count(*) desc",
            [run_id],
        )
    ]
    clean = db.execute(
        "select count(*) from pages where run_id = ? and status = 'audited' and violations = 0", [run_id]
    ).fetchone()[0]
    return {"run": run, "by_impact": by_impact, "top_rules": top_rules, "worst_pages": worst,
            "reasons": reasons, "clean_pages": clean,
            "documents": db.execute("select count(*) from documents where run_id = ?", [run_id]).fetchone()[0]}
