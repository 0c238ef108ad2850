"""Read-side queries over the store, shared by every reporter. Reads only."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from audits.analysis.scoring import impact_weight, wcag_criteria
from audits.analysis.scoring import IMPACTS
from audits.config import run_scope
from audits.results import (  # noqa: F401 (statement_report: re-exported)
    finding_origins, run_coverage, site_checks, statement_report, stored_score, third_party,
)
from audits.store import json_or
from crawler.urls import normalise_url

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
        # what the crawl covered: the start URL's directory (mode "path") or whole hosts
        "scope": run_scope(json_or(run["config"], {}), run["start_url"]),
        "counts": {"discovered": run["pages_discovered"], "audited": run["pages_audited"],
                   "failed": run["pages_failed"], "skipped": run["pages_skipped"], "reused": run["pages_reused"]},
    }
    findings_by_page: dict[int, list[dict]] = defaultdict(list)
    origins = finding_origins(store, run_id)
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
                               "failure_summary": f["failure_summary"], "fingerprint": f["fingerprint"],
                               # the origin of the frame it is in, when not the page's own (third party)
                               "origin": origins.get(f["id"])})
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
    cov = run_coverage(store, run_id)
    # the pages the run set out to audit (the score's coverage): audited + failed + unfinished
    run_out["counts"]["to_audit"] = cov.audited + cov.failed + cov.unfinished
    run_out["counts"]["unfinished"] = cov.unfinished
    docs = [document_out(d) for d in store.documents(run_id)]
    return {"run": run_out, "pages": pages_out, "broken_links": broken_links(pages_out, store.page_links(run_id)),
            "documents": docs, "statement": statement_report(store, run_id),
            "site_checks": [f.as_dict() for f in site_checks(store, run_id)],
            "third_party": [g.as_dict() for g in third_party(store, run_id)],
            "score": score_out(stored_score(store, run_id))}


def pages_linking(links: Iterable[tuple[str, str]], targets: set[str]) -> dict[str, list[str]]:
    """For each of ``targets`` (stored URLs, normalised as the crawl stores them), the pages whose
    links lead to it, in the order of ``links`` (``(page, link)`` pairs as the browser saw them,
    see :meth:`audits.store.Store.page_links`): a link is compared once normalised, so
    ``?v=2&file=a.pdf``, a fragment or a tracking parameter still find ``?file=a.pdf&v=2``."""
    out: dict[str, list[str]] = {}
    if not targets:
        return out
    for page, link in links:
        try:
            target = normalise_url(str(link))
        except ValueError:
            continue
        if target in targets and page not in out.setdefault(target, []):
            out[target].append(page)
    return out


def broken_links(pages, links: Iterable[tuple[str, str]] = ()) -> list[dict]:
    """The linked URLs that answered 404 or 410 (reason ``broken_link``), in URL order, each with
    the page the crawl first found it on (``linked_from``) and every audited page that links it
    (``linked_from_pages``, from ``links``: ``(page, link)`` pairs, see
    :meth:`audits.store.Store.page_links`): the JSON's ``broken_links``, the summary's table, the
    HTML report's section and the league's figure, so they all count alike."""
    broken = {p["url"]: {"url": p["url"], "http_status": p["http_status"], "linked_from": p["referrer"],
                         "linked_from_pages": {p["referrer"]} if p["referrer"] else set()}
              for p in pages if p["reason_code"] == "broken_link"}
    for target, linking in pages_linking(links, set(broken)).items():
        broken[target]["linked_from_pages"].update(linking)
    return [dict(b, linked_from_pages=sorted(b["linked_from_pages"])) for _, b in sorted(broken.items())]


def run_broken_links(store, run_id: int) -> list[dict]:
    """:func:`broken_links` of a stored run."""
    return broken_links(store.pages(run_id), store.page_links(run_id))


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
    return {"run": run, "scope": run_scope(json_or(run["config"], {}), run["start_url"]),
            "coverage": run_coverage(store, run_id), "by_impact": by_impact, "top_rules": store.top_rules(run_id, top),
            "worst_pages": store.worst_pages(run_id, top), "reasons": store.reason_counts(run_id),
            "clean_pages": store.clean_page_count(run_id), "documents": store.document_count(run_id),
            "document_checks": document_counts(store, run_id), "statement": statement_report(store, run_id),
            "score": score, "components": components, "fix_first": fix_first(components, limit=None),
            "parts": score_parts(components),
            "needs_review": needs_review(store, run_id),
            "site_checks": site_checks(store, run_id), "third_party": third_party(store, run_id),
            "unsettled": [{"url": p["url"], "title": p["title"], "settle": page_settle(p["facts"])}
                          for p in store.unsettled_pages(run_id)],
            "broken_links": run_broken_links(store, run_id)}


# -- what to fix first ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixFirst:
    """One fix, with what it adds to the score: a rule fixed on every page or, under model 3,
    a document check passed on every PDF failing it, a statement requirement met, or a
    cross-page check passed (``part`` says which)."""

    rule: str  # the rule, or the document check, statement requirement or cross-page check
    gain: float  # the model's gain: the score with it fixed (everywhere), minus the score
    pages: int  # audited pages it fails on (documents: PDFs failing the check; 1 otherwise)
    prevalence: float  # their share of the audited pages (0 outside the pages)
    impact: str | None
    level: str | None
    wcag: tuple[str, ...]  # "1.4.3 Contrast (Minimum)"
    cost: float | None  # points it costs (model 2)
    part: str = "pages"  # model 3: pages | documents | statement | crosspage
    points: float | None = None  # model 3: what the unrounded score gains (2 decimals)

    @staticmethod
    def together(fixes) -> float:
        """What ``fixes`` (page rules) add together, to show as "+X in all": under model 3 the sum
        of their unrounded ``points`` (each rule's shown gain is rounded alone, and several
        worth +0.0 each can add up to +0.3), else the sum of their gains."""
        fixes = list(fixes)
        if fixes and all(f.points is not None for f in fixes):
            return round(sum(f.points for f in fixes), 1)
        return round(sum(f.gain for f in fixes), 1)

    @property
    def label(self) -> str:
        """The fix as a reader names it: the rule, or ``statement: enforcement``."""
        return self.rule if self.part == "pages" else f"{PART_LABELS.get(self.part, self.part)}: {self.rule}"

    @property
    def where(self) -> str:
        """Where it fails: ``4 (100%)`` pages, ``3 PDFs``, ``the statement``, ``across pages``."""
        if self.part == "pages":
            return f"{self.pages} ({self.prevalence:.0%})"
        if self.part == "documents":
            return f"{self.pages} PDF{'s' if self.pages != 1 else ''}"
        return "the statement" if self.part == "statement" else "across pages"


PART_LABELS = {"pages": "pages", "documents": "PDFs", "statement": "statement", "crosspage": "cross-page"}


def fix_first(components: Mapping | None, limit: int | None = FIX_FIRST) -> list[FixFirst]:
    """What to fix first, from a score's stored components: the scored failing rules and, under
    model 3, the document checks, statement requirements and cross-page checks to meet, largest
    gain first (then most unrounded points, most points lost, most pages, worst impact, name),
    at most ``limit``.

    The one list the terminal summary and ``a11ycrawl history`` show (the HTML report shows its
    page rules under "Fix first" and the rest under "How the score is made"), so they agree.
    """
    c = components or {}
    out = [FixFirst(rule=r["rule"], gain=r["gain"], pages=r["pages"], prevalence=r["prevalence"],
                    impact=r.get("impact"), level=r.get("level"),
                    wcag=tuple(wcag_label(x) for x in r.get("wcag") or ()), cost=r.get("cost"), points=r.get("points"))
           for r in c.get("rules") or []]
    out += [FixFirst(rule=f["item"], gain=f["gain"], pages=f["count"], prevalence=0.0, impact=None, level=None,
                     wcag=(), cost=None, part=f["part"], points=f["points"]) for f in c.get("fixes") or []]
    out.sort(key=lambda f: (-f.gain, -(f.points or 0), -(f.cost or 0), -f.pages, -impact_weight(f.impact),
                            f.part != "pages", f.rule))
    return out[:limit]


def score_parts(components: Mapping | None) -> list[dict]:
    """Model 3: the parts of the score as stored (name, status, weight, applied_weight, score,
    points, detail), each with the fixes (``fixes``: item, gain, points, count) that raise it.
    Empty for a score under an older model."""
    c = components or {}
    fixes = c.get("fixes") or []
    return [{**p, "fixes": [f for f in fixes if f.get("part") == p["name"]]} for p in c.get("parts") or []]


def score_out(score: Mapping | None) -> dict | None:
    """A stored score in the JSON contract: ``score``, ``exact`` (before rounding; model 3),
    ``model_version``, ``axe_version``, ``reason``, ``components`` (model 3's parts with their
    weights, points and status; empty under an older model) and ``fix_first`` (every fix, ranked:
    ``part``, ``item``, ``gain``, ``points``, ``count``: pages or PDFs it fails on, else 1)."""
    if not score:
        return None
    c = json_or(score["components"], {}) if isinstance(score.get("components"), (str, type(None))) \
        else score["components"]
    return {"score": score["score"], "exact": c.get("exact"), "model_version": score["model_version"],
            "axe_version": score["axe_version"], "reason": score["reason"],
            "components": [{k: p[k] for k in ("name", "status", "weight", "applied_weight", "score", "points", "detail")}
                           for p in c.get("parts") or []],
            "fix_first": [{"part": f.part, "item": f.rule, "gain": f.gain, "points": f.points, "count": f.pages}
                          for f in fix_first(c, limit=None)]}


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


def site_check_rows(store, run_id: int) -> list[dict]:
    """One CSV row (columns :data:`FINDING_COLUMNS`) per page of each failing cross-page check:
    ``rule`` is ``site:`` and the check's id, ``wcag`` its criteria, ``help`` the evidence
    sentence; ``target``, ``html`` and ``fingerprint`` are empty."""
    run = store.get_run(run_id)
    titles = {p["url"]: p["title"] for p in store.pages(run_id)}
    return [{"site": run["site"], "run": run["id"], "page_url": url, "page_title": titles.get(url),
             "rule": f"site:{f.check}", "impact": None, "wcag": " ".join(f.criteria), "target": "", "html": "",
             "help": f.detail, "help_url": None, "fingerprint": None}
            for f in site_checks(store, run_id) if f.status == "fail" for url in f.pages]


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
    temporary server) written as its path on the site, ``/contact.html``, wherever it appears (a
    value, or inside a sentence such as the scope's or a check's detail), so that it is the same
    on every run; pages in URL order."""
    server = re.compile(re.escape(root.rstrip("/")) + r"(?!\d)/?")  # not a longer port's prefix

    def names(v):
        if isinstance(v, dict):
            return {k: names(x) for k, x in v.items()}
        if isinstance(v, list):
            return [names(x) for x in v]
        return server.sub("/", v) if isinstance(v, str) else v

    out = names(doc)
    out["pages"] = sorted(out["pages"], key=lambda p: p["url"] or "")
    return out
