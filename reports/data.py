"""Read-side queries over the store, shared by every reporter. Reads only."""

from __future__ import annotations

import json
import re
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
        "axe_version": run["axe_version"], "browser": run.get("browser"), "config_hash": run["config_hash"],
        "error": run["error"],
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
            # frames axe could not run in (e.g. sandboxed without allow-scripts): {"src", "reason"}
            "frames_unaudited": (_loads(p["facts"], None) or {}).get("frames_unaudited") or [],
            "violations": list(groups["violation"].values()),
            "incomplete": list(groups["incomplete"].values()),
        })
    docs = [{"url": d["url"], "kind": d["kind"], "linked_from": d["page_url"]} for d in store.documents(run_id)]
    return {"run": run_out, "pages": pages_out, "documents": docs}


def run_summary(store, run_id: int, top: int = 10) -> dict:
    """Figures for the terminal summary: counts, violations by impact, top rules, worst pages."""
    run = store.get_run(run_id)
    by_impact = {i: {"nodes": 0, "rules": 0} for i in IMPACTS}
    by_impact.update({i: c for i, c in store.impact_summary(run_id).items() if i in by_impact})
    return {"run": run, "by_impact": by_impact, "top_rules": store.top_rules(run_id, top),
            "worst_pages": store.worst_pages(run_id, top), "reasons": store.reason_counts(run_id),
            "clean_pages": store.clean_page_count(run_id), "documents": store.document_count(run_id)}


# -- WCAG criteria, rule texts and flat findings (HTML report, CSV, CI outputs) ---------------------

# WCAG 2.2 success criteria at Levels A and AA (the ones axe-core's WCAG rules map to) and the
# Level AAA ones axe-core has rules for. Names as the W3C writes them.
WCAG_NAMES = {
    "1.1.1": "Non-text Content", "1.2.1": "Audio-only and Video-only (Prerecorded)",
    "1.2.2": "Captions (Prerecorded)", "1.2.3": "Audio Description or Media Alternative (Prerecorded)",
    "1.2.4": "Captions (Live)", "1.2.5": "Audio Description (Prerecorded)", "1.3.1": "Info and Relationships",
    "1.3.2": "Meaningful Sequence", "1.3.3": "Sensory Characteristics", "1.3.4": "Orientation",
    "1.3.5": "Identify Input Purpose", "1.4.1": "Use of Color", "1.4.2": "Audio Control",
    "1.4.3": "Contrast (Minimum)", "1.4.4": "Resize Text", "1.4.5": "Images of Text", "1.4.6": "Contrast (Enhanced)",
    "1.4.10": "Reflow", "1.4.11": "Non-text Contrast", "1.4.12": "Text Spacing", "1.4.13": "Content on Hover or Focus",
    "2.1.1": "Keyboard", "2.1.2": "No Keyboard Trap", "2.1.4": "Character Key Shortcuts", "2.2.1": "Timing Adjustable",
    "2.2.2": "Pause, Stop, Hide", "2.2.4": "Interruptions", "2.3.1": "Three Flashes or Below Threshold",
    "2.4.1": "Bypass Blocks", "2.4.2": "Page Titled", "2.4.3": "Focus Order", "2.4.4": "Link Purpose (In Context)",
    "2.4.5": "Multiple Ways", "2.4.6": "Headings and Labels", "2.4.7": "Focus Visible",
    "2.4.9": "Link Purpose (Link Only)", "2.4.11": "Focus Not Obscured (Minimum)", "2.5.1": "Pointer Gestures",
    "2.5.2": "Pointer Cancellation", "2.5.3": "Label in Name", "2.5.4": "Motion Actuation",
    "2.5.7": "Dragging Movements", "2.5.8": "Target Size (Minimum)", "3.1.1": "Language of Page",
    "3.1.2": "Language of Parts", "3.2.1": "On Focus", "3.2.2": "On Input", "3.2.3": "Consistent Navigation",
    "3.2.4": "Consistent Identification", "3.2.6": "Consistent Help", "3.3.1": "Error Identification",
    "3.3.2": "Labels or Instructions", "3.3.3": "Error Suggestion", "3.3.4": "Error Prevention (Legal, Financial, Data)",
    "3.3.7": "Redundant Entry", "3.3.8": "Accessible Authentication (Minimum)", "4.1.1": "Parsing",
    "4.1.2": "Name, Role, Value", "4.1.3": "Status Messages",
}

_CRITERION_TAG = re.compile(r"^wcag(\d)(\d)(\d{1,2})$")


def wcag_criteria(tags) -> list[str]:
    """WCAG success criteria from axe-core tags, in order: ``wcag111`` -> ``1.1.1``,
    ``wcag1410`` -> ``1.4.10`` (level tags such as ``wcag2aa`` are not criteria).

    >>> wcag_criteria(["cat.color", "wcag2aa", "wcag143", "wcag1411"])
    ['1.4.3', '1.4.11']
    """
    out = []
    for t in tags or ():
        m = _CRITERION_TAG.match(str(t))
        if m and (sc := ".".join(m.groups())) not in out:
            out.append(sc)
    return out


def wcag_label(criterion: str) -> str:
    """``"1.1.1 Non-text Content"`` (the number alone when the name is not known)."""
    name = WCAG_NAMES.get(criterion)
    return f"{criterion} {name}" if name else criterion


FINDING_COLUMNS = ("site", "run", "page_url", "page_title", "rule", "impact", "wcag", "target", "html",
                   "help", "help_url", "fingerprint")


def finding_rows(store, run_id: int) -> list[dict]:
    """One flat row per failing element of a run (the CSV export's rows), in page then rule order.
    ``wcag`` is the criteria joined by spaces; ``target`` the selector, frame levels joined by
    `` | ``."""
    out = []
    for r in store.finding_table(run_id):
        target = _loads(r["target"], [])
        r["target"] = " | ".join(" >>> ".join(map(str, t)) if isinstance(t, list) else str(t) for t in target)
        r["wcag"] = " ".join(wcag_criteria(_loads(r.pop("tags"), [])))
        out.append({k: r[k] for k in FINDING_COLUMNS})
    return out


def pick_run(store, site: str | None = None, run_id: int | None = None) -> dict:
    """The run a report is about: ``run_id``; else the latest complete run of ``site`` (else
    its latest run); else the latest complete run in the store."""
    from audits.errors import StoreError

    if run_id is not None:
        run = store.get_run(run_id)
        if site and run["site"] != site:
            raise StoreError(f"run {run_id} is of {run['site']!r}, not {site!r}")
        return run
    if site and not store.runs(site):
        known = ", ".join(store.sites()) or "none yet"
        raise StoreError(f"no runs of site {site!r} in {store.path} (sites: {known})")
    run = store.latest_run(site) or store.latest_run(site, statuses=("complete", "incomplete", "running", "failed"))
    if run is None:
        raise StoreError(f"no runs in {store.path} yet: run 'a11ycrawl audit URL' first")
    return run
