"""Read-side queries over the store, shared by every reporter. Reads only."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any, Mapping

from audits.analysis.scoring import impact_weight, wcag_criteria
from audits.analysis.statement import check_statement, find_statement
from audits.analysis.scoring import IMPACTS
from audits.results import stored_score
from audits.store import json_or

FIX_FIRST = 5  # rules listed under "fix first" by the terminal summary, history and the HTML report


def page_settle(facts: str | dict | None) -> dict | None:
    """How an audited page settled before axe ran, from its stored facts: ``ms`` waited,
    ``settled`` (false: the wait hit its cap and the page was audited while still busy, so its
    results may be partial; null: not known), ``waited_for`` (what the wait saw pending:
    ``load``, ``network``, ``script``, ``timer``, ``animation-frame``, ``idle-callback``, ``dom``)
    and ``pending`` (what was still pending at the cap). None for a page stored without them."""
    f = facts if isinstance(facts, dict) else json_or(facts, None)
    if not isinstance(f, dict) or "settle_ms" not in f:
        return None
    return {"ms": f.get("settle_ms"), "settled": f.get("settled"),
            "waited_for": list(f.get("settle_waited_for") or []), "pending": list(f.get("settle_pending") or [])}


def run_document(store, run_id: int) -> dict:
    """The run as the documented JSON contract (see README, "JSON output")."""
    run = store.get_run(run_id)
    run_out = {
        "id": run["id"], "site": run["site"], "start_url": run["start_url"], "status": run["status"],
        "started_at": run["started_at"], "finished_at": run["finished_at"], "tool_version": run["tool_version"],
        "axe_version": run["axe_version"], "browser": run.get("browser"), "config_hash": run["config_hash"],
        "error": run["error"],
        "config": json_or(run["config"], {}),
        "counts": {"discovered": run["pages_discovered"], "audited": run["pages_audited"],
                   "failed": run["pages_failed"], "skipped": run["pages_skipped"], "reused": run["pages_reused"]},
    }
    findings_by_page: dict[int, list[dict]] = defaultdict(list)
    for f in store.findings(run_id):
        findings_by_page[f["page_id"]].append(f)
    pages_out = []
    unsettled = 0
    for p in store.pages(run_id):
        settle = page_settle(p["facts"]) if p["status"] == "audited" else None
        unsettled += settle is not None and settle["settled"] is False
        groups: dict[str, dict[str, dict]] = {"violation": {}, "incomplete": {}}
        for f in findings_by_page.get(p["id"], []):
            g = groups[f["kind"]].setdefault(
                f["rule"],
                {"rule": f["rule"], "impact": None, "help": f["help"], "help_url": f["help_url"],
                 "tags": json_or(f["tags"], []), "nodes": []},
            )
            g["nodes"].append({"target": json_or(f["target"], []), "html": f["html"], "impact": f["impact"],
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
            "settle": settle,
            # frames axe could not run in (e.g. sandboxed without allow-scripts): {"src", "reason"}
            "frames_unaudited": (json_or(p["facts"], None) or {}).get("frames_unaudited") or [],
            "violations": list(groups["violation"].values()),
            "incomplete": list(groups["incomplete"].values()),
        })
    run_out["counts"]["unsettled"] = unsettled
    unfinished = unfinished_pages(store, run_id, {p["url"] for p in pages_out})
    pages_out += unfinished
    run_out["counts"]["skipped"] = (run_out["counts"]["skipped"] or 0) + len(unfinished)
    docs = [document_out(d) for d in store.documents(run_id)]
    return {"run": run_out, "pages": pages_out, "broken_links": broken_links(pages_out), "documents": docs,
            "statement": statement_report(store, run_id)}


def broken_links(pages) -> list[dict]:
    """The linked URLs that answered 404 or 410 (reason ``broken_link``), each with the page that
    links it: the JSON's ``broken_links`` and the summary's table."""
    return [{"url": p["url"], "http_status": p["http_status"], "linked_from": p["referrer"]}
            for p in pages if p["reason_code"] == "broken_link"]


LEVEL_A_AA_TAGS = {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"}


def statement_report(store, run_id: int) -> dict:
    """The accessibility statement found among the run's audited pages and what it says (see
    :mod:`audits.analysis.statement`), derived from stored page facts and findings."""
    run = store.get_run(run_id)
    pages = store.statement_facts(run_id)
    failures = store.violation_count_with_tags(run_id, sorted(LEVEL_A_AA_TAGS))
    try:
        run_date = datetime.fromisoformat(run["started_at"]).date()
    except (TypeError, ValueError):
        run_date = datetime.now(timezone.utc).date()
    return check_statement(find_statement(pages, run["start_url"]), run_date, failures)


def document_out(d: dict) -> dict:
    """One linked document in the JSON contract: where it is linked from and, for a checked PDF,
    its checks (each with its WCAG criterion, PDF/UA clause and Matterhorn condition)."""
    checks = json_or(d.get("checks"), [])
    return {"url": d["url"], "kind": d["kind"], "linked_from": d["page_url"],
            "check_status": d.get("check_status"), "check_reason": d.get("check_reason"),
            "pages": d.get("pages"), "created": d.get("created"),
            "possibly_exempt": bool(d.get("possibly_exempt")),
            "failed": [c["id"] for c in checks if c.get("status") == "fail"], "checks": checks}


def document_counts(store, run_id: int) -> dict:
    """Linked documents by check outcome, for the summary line."""
    out = {"listed": 0, "checked": 0, "with_failures": 0, "unparsed": 0, "fetch_failed": 0, "possibly_exempt": 0}
    for d in store.documents(run_id):
        out["listed"] += 1
        status = d.get("check_status")
        if status in out:
            out[status] += 1
        if status == "checked":
            out["possibly_exempt"] += bool(d.get("possibly_exempt"))
            out["with_failures"] += any(c.get("status") == "fail" for c in json_or(d.get("checks"), []))
    return out


def unfinished_pages(store, run_id: int, listed: set[str]) -> list[dict]:
    """URLs the run had queued for the browser but never finished (it was stopped with Ctrl-C, or
    killed), as page rows marked ``interrupted``, so that a stopped run's JSON lists every URL it
    knew of. Empty for a run that finished."""
    from audits.reasons import REASONS

    out = []
    for q in store.pending(run_id):
        if q["url"] in listed:
            continue
        out.append({
            "url": q["url"], "final_url": None, "status": "skipped", "reason_code": "interrupted",
            "reason": REASONS["interrupted"][1], "http_status": None, "content_type": None, "title": None,
            "depth": q["depth"], "referrer": q["referrer"], "found_via": q["found_via"], "load_ms": None,
            "audit_ms": None, "frames": None, "reused": False, "violations": [], "incomplete": [],
        })
    return out


def run_summary(store, run_id: int, top: int = 10) -> dict:
    """Figures for the terminal summary: counts, violations by impact, top rules, worst pages,
    the score shown (under the current model where stored) with what to fix first, and the
    "needs review" results."""
    run = store.get_run(run_id)
    by_impact = {i: {"nodes": 0, "rules": 0} for i in IMPACTS}
    by_impact.update({i: c for i, c in store.impact_summary(run_id).items() if i in by_impact})
    score = stored_score(store, run_id)
    components = json_or(score["components"], {}) if score else {}
    return {"run": run, "by_impact": by_impact, "top_rules": store.top_rules(run_id, top),
            "worst_pages": store.worst_pages(run_id, top), "reasons": store.reason_counts(run_id),
            "clean_pages": store.clean_page_count(run_id), "documents": store.document_count(run_id),
            "document_checks": document_counts(store, run_id), "statement": statement_report(store, run_id),
            "score": score, "components": components, "fix_first": fix_first(components, limit=None),
            "needs_review": needs_review(store, run_id),
            "unsettled": [{"url": p["url"], "title": p["title"], "settle": page_settle(p["facts"])}
                          for p in store.unsettled_pages(run_id)],
            "broken_links": broken_links(store.pages(run_id))}


# -- what to fix first ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixFirst:
    """One rule to fix, with what fixing it on every page adds to the score."""

    rule: str
    gain: float  # the model's gain: the score with the rule fixed everywhere, minus the score
    pages: int  # audited pages it fails on
    prevalence: float  # their share of the audited pages
    impact: str | None
    level: str | None
    wcag: tuple[str, ...]  # "1.4.3 Contrast (Minimum)"
    cost: float | None  # points it costs (model 2)


def fix_first(components: Mapping | None, limit: int | None = FIX_FIRST) -> list[FixFirst]:
    """What to fix first, from a score's stored components: the scored failing rules, largest
    gain first (then most points lost, most pages, worst impact, name), at most ``limit``.

    The one list the terminal summary, ``a11ycrawl history`` and the HTML report show, so they
    always agree.
    """
    rules = list((components or {}).get("rules") or [])
    rules.sort(key=lambda r: (-r["gain"], -(r.get("cost") or 0), -r["pages"], -impact_weight(r.get("impact")),
                              r["rule"]))
    return [FixFirst(rule=r["rule"], gain=r["gain"], pages=r["pages"], prevalence=r["prevalence"],
                     impact=r.get("impact"), level=r.get("level"),
                     wcag=tuple(wcag_label(c) for c in r.get("wcag") or ()), cost=r.get("cost"))
            for r in rules[:limit]]


# -- needs review (axe's incomplete results; never scored) -------------------------------------------

@dataclass(frozen=True)
class ReviewPattern:
    """One element axe could not decide on, as it repeats across pages."""

    selector: str
    html: str | None
    message: str | None  # axe's summary of what to check
    pages: tuple[tuple[str, str | None], ...]  # (url, title)
    elements: int


@dataclass(frozen=True)
class ReviewGroup:
    """One rule whose result axe-core left to a person ("needs review")."""

    rule: str
    impact: str | None
    help: str
    help_url: str | None
    wcag: tuple[str, ...]
    pages: int
    elements: int
    patterns: tuple[ReviewPattern, ...]


def _selector(target: Any) -> str:
    return " | ".join(" >>> ".join(map(str, t)) if isinstance(t, list) else str(t) for t in (target or []))


def needs_review(store, run_id: int) -> list[ReviewGroup]:
    """axe-core's "needs review" (incomplete) results of a run, by rule (most pages first), each
    element shown once with the pages it is on. They are never scored."""
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for f in store.findings_with_urls(run_id, kind="incomplete"):
        by_rule[f["rule"]].append(f)
    groups = []
    for rule, items in by_rule.items():
        patterns: dict[tuple, list[dict]] = defaultdict(list)
        for f in items:
            patterns[(f["target"], f["html"])].append(f)
        pats = []
        for members in patterns.values():
            pages = {m["url"]: m["page_title"] for m in members}
            first = members[0]
            pats.append(ReviewPattern(selector=_selector(json_or(first["target"], [])), html=first["html"],
                                      message=first["failure_summary"], pages=tuple(sorted(pages.items())),
                                      elements=len(members)))
        pats.sort(key=lambda p: (-len(p.pages), -p.elements, p.selector))
        impacts = [f["impact"] for f in items if f["impact"] in IMPACTS]
        groups.append(ReviewGroup(
            rule=rule, impact=min(impacts, key=IMPACTS.index) if impacts else None,
            help=items[0]["help"] or rule, help_url=items[0]["help_url"],
            wcag=tuple(wcag_label(c) for c in wcag_criteria(json_or(items[0]["tags"], []))),
            pages=len({f["url"] for f in items}), elements=len(items), patterns=tuple(pats),
        ))
    groups.sort(key=lambda g: (-g.pages, -g.elements, g.rule))
    return groups


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

# wcag_criteria (axe tags -> "1.4.3") lives with the score, which carries each rule's criteria.


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
        target = json_or(r["target"], [])
        r["target"] = " | ".join(" >>> ".join(map(str, t)) if isinstance(t, list) else str(t) for t in target)
        r["wcag"] = " ".join(wcag_criteria(json_or(r.pop("tags"), [])))
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


def with_site_paths(doc: dict, root: str) -> dict:
    """A run document (:func:`run_document`) with every URL under ``root`` (``check --dir``'s
    temporary server) written as its path on the site, ``/contact.html``, so that it is the same
    on every run; pages in URL order."""
    def name(url):
        return "/" + url[len(root):] if isinstance(url, str) and url.startswith(root) else url

    run = dict(doc["run"], start_url=name(doc["run"]["start_url"]))
    if isinstance(run.get("config"), dict) and "start_url" in run["config"]:
        run["config"] = dict(run["config"], start_url=name(run["config"]["start_url"]))
    pages = [dict(p, url=name(p["url"]), final_url=name(p["final_url"]), referrer=name(p["referrer"]))
             for p in doc["pages"]]
    docs = [dict(d, url=name(d["url"]), linked_from=name(d["linked_from"])) for d in doc["documents"]]
    out = {**doc, "run": run, "pages": sorted(pages, key=lambda p: p["url"]), "documents": docs}
    if doc.get("statement"):
        st = doc["statement"]
        out["statement"] = dict(st, url=name(st["url"]),
                                requirements=[dict(r, evidence=name(r["evidence"])) for r in st["requirements"]])
    return out
