"""Stored results, analysed: the library calls that read a run from the :class:`~audits.store.Store`
and hand plain data to the pure functions of :mod:`audits.analysis` (scores, history and league,
the gate, diffs). The engine and the reports call these; neither writes SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import replace
from typing import Any, Iterable, Mapping

from audits.analysis.crosspage import SiteFinding, check_site
from audits.analysis.fingerprint import Diff, compare_findings, finding_fingerprint, page_key
from audits.analysis.gate import (
    Baseline, BaselineEntry, CheckReport, Finding, Ignore, PageOutcome, RunInfo, Thresholds, baseline_entries, evaluate,
)
from audits.analysis.history import LeagueRow, SiteGoals, SiteHistory, history_rows, rank_sites, site_history
from audits.analysis.thirdparty import ThirdPartyGroup, group_by_vendor, page_origin, third_party_origin
from audits.analysis.scoring import (
    MODEL_VERSION, MODELS, SCORABLE_RUN_STATUSES, Coverage, DocumentInput, Failure, PageInput, RescoreReport,
    ScoreChange, SiteCheck, SiteScore, StatementInput, coverage_of, score_pages, wcag_criteria, wcag_level,
)
from audits.analysis.statement import check_statement, find_statement
from audits.config import run_scope
from audits.errors import StoreError
from audits.store import json_or

__all__ = [
    "baseline_from_run", "check_stored_run", "diff_runs", "document_inputs", "finding_origins", "history", "league",
    "page_inputs", "rescore_all", "rule_texts", "run_coverage", "run_figures", "run_findings", "run_info", "run_pages",
    "score_run", "score_stored_run", "site_checks", "site_findings", "statement_input", "statement_report",
    "stored_score", "third_party",
]


def _tupled(v: Any) -> Any:
    return tuple(_tupled(x) for x in v) if isinstance(v, list) else v


# -- scores ----------------------------------------------------------------------------------------

def page_inputs(store, run_id: int) -> list[PageInput]:
    """The pages of a stored run as :class:`PageInput` (violations only; "needs review" results
    do not count). URLs still queued in the run's frontier count as unfinished."""
    failures: dict[int, list[Failure]] = defaultdict(list)
    for f in store.findings(run_id, kind="violation"):
        tags = json.loads(f["tags"]) if f["tags"] else []
        failures[f["page_id"]].append(Failure(rule=f["rule"], impact=f["impact"], level=wcag_level(tags),
                                              criteria=tuple(wcag_criteria(tags))))
    pages = [PageInput(url=p["url"], status=p["status"], reason_code=p["reason_code"],
                       failures=tuple(failures.get(p["id"], ()))) for p in store.pages(run_id)]
    seen = {p.url for p in pages}
    pages += [PageInput(url=q["url"], status="skipped", reason_code="interrupted")
              for q in store.pending(run_id) if q["url"] not in seen]
    return pages


LEVEL_A_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")


def statement_report(store, run_id: int) -> dict:
    """The accessibility statement found among the run's audited pages and what it says (see
    :mod:`audits.analysis.statement`), derived from stored page facts and findings. A run stored
    before statement facts were recorded has ``"recorded": false`` (and no statement found)."""
    run = store.get_run(run_id)
    pages = store.statement_facts(run_id)
    failures = store.violation_count_with_tags(run_id, LEVEL_A_AA_TAGS)
    try:
        run_date = dt.datetime.fromisoformat(run["started_at"]).date()
    except (TypeError, ValueError):
        run_date = dt.datetime.now(dt.timezone.utc).date()
    report = check_statement(find_statement(pages, run["start_url"]), run_date, failures)
    return {**report, "recorded": any(p.get("recorded", True) for p in pages)}


def statement_input(report: Mapping, searched: bool = True) -> StatementInput | None:
    """A :func:`statement_report` as model 3 scores it. None (the part does not apply) when the
    run did not record statement facts, or when it did not look for the statement (``searched``
    false: it audited a list of URLs or a sitemap without following links, its crawl stayed in the
    start URL's directory, or the statement was linked but left out by the page budget) and found
    none."""
    if not report.get("recorded", True):
        return None
    if not searched and not any(r["id"] == "exists" and r["status"] == "met" for r in report.get("requirements") or ()):
        return None
    return StatementInput(tuple((str(r["id"]), str(r["status"])) for r in report.get("requirements") or ()))


def document_inputs(store, run_id: int) -> list[DocumentInput]:
    """The run's checked PDFs with their stored checks' outcomes (documents not fetched, not
    readable or not PDFs are not scored)."""
    return [DocumentInput(url=d["url"], checks=tuple((str(c.get("id")), str(c.get("status")))
                                                     for c in json_or(d.get("checks"), []) if isinstance(c, dict)))
            for d in store.documents(run_id) if d.get("check_status") == "checked"]


def site_findings(store, run_id: int) -> list[SiteCheck]:
    """The run's cross-page findings as model 3 scores them: :func:`site_checks`, or none (the
    part not applicable) for a run stored before the browser gathered the facts they need
    (navigation blocks, searches, site maps): scoring its titles alone would weigh two checks as
    the whole part."""
    run = store.get_run(run_id)
    pages = store.site_facts(run_id, links_of=run["start_url"])
    if not any(isinstance(p["facts"].get("nav_blocks"), list) for p in pages):
        return []
    return list(check_site(pages, run["start_url"]))


def score_stored_run(store, run_id: int, model: str = MODEL_VERSION) -> SiteScore:
    """Compute (without saving) the score of a stored run under ``model`` (default: the current
    model). Runs still running (or killed) and failed runs get no score."""
    return _score(store.get_run(run_id), page_inputs(store, run_id), model, _extras(store, run_id))


def _extras(store, run_id: int) -> dict:
    """What model 3 scores besides the pages: the checked PDFs, the statement, the cross-page findings."""
    run = store.get_run(run_id)
    config = json_or(run["config"], {}) or {}
    # the statement was looked for only by a crawl over the whole host: a list of URLs, a sitemap
    # without following links, or a crawl kept in the start URL's directory (the statement is
    # usually outside it) that found none is not scored on it
    searched = config.get("follow_links") is not False and run_scope(config, run["start_url"])["mode"] != "path"
    report = statement_report(store, run_id)
    if searched and report.get("url") is None and any(p["reason_code"] == "page_budget" for p in store.page_states(run_id)):
        # linked from an audited page but left out by the page budget: not looked at, not missing
        searched = not any(p["facts"]["statement_links"] for p in store.statement_facts(run_id))
    return {"documents": document_inputs(store, run_id),
            "statement": statement_input(report, searched),
            "site_checks": site_findings(store, run_id)}


def _score(run: dict, pages: list[PageInput], model: str, extras: dict) -> SiteScore:
    result = score_pages(pages, model, **extras)
    if run["status"] not in SCORABLE_RUN_STATUSES:
        why = (f"the run failed: {run['error']}" if run["status"] == "failed"
               else f"the run has not finished (status {run['status']}); resume it with 'a11ycrawl audit --resume'")
        result = replace(result, score=None, reason=why)
    return result


def score_run(store, run_id: int) -> SiteScore:
    """Score a stored run under every model (:data:`~audits.analysis.scoring.MODELS`) and save
    each score with its model and the run's axe-core version; returns the score under the
    current model, :data:`MODEL_VERSION`. Everything is read from the store (pages, findings,
    documents' checks, statement facts), so rescoring never needs a new crawl. Raises
    :class:`~audits.errors.StoreError` for an unknown run."""
    run = store.get_run(run_id)
    pages = page_inputs(store, run_id)
    extras = _extras(store, run_id)
    results = {model: _score(run, pages, model, extras) for model in MODELS}
    for model, result in results.items():
        store.save_score(run_id, model, run["axe_version"], result.score, result.components(), result.reason)
    return results[MODEL_VERSION]


def rescore_all(store) -> RescoreReport:
    """Recompute every stored run's score under every model (the older ones reproduce the
    figures they gave; each is stored beside the others).

    A run counts as changed when its new score under the current model differs from the score
    shown for it before: the one stored under the current model, else the latest stored under
    any model, else none.
    """
    changed = []
    runs = store.runs()
    for run in runs:
        before = stored_score(store, run["id"])  # the score shown before: the newest model stored
        after = score_run(store, run["id"]).score
        # the values are compared: a run without a score before and none after (a failed run, a
        # run with no page audited) has not changed, whatever was stored for it; a score shown
        # under an older model that now stands under the current one has (the league compares it)
        value = before["score"] if before else None
        if value != after or (after is not None and before["model_version"] != MODEL_VERSION):
            changed.append(ScoreChange(run_id=run["id"], site=run["site"], after=after,
                                       before=before["score"] if before else None,
                                       before_model=before["model_version"] if before else None))
    return RescoreReport(model_version=MODEL_VERSION, runs=len(runs), changed=tuple(changed), models=MODELS)


# -- history and league ----------------------------------------------------------------------------

def stored_score(store, run_id: int, model: str = MODEL_VERSION) -> dict | None:
    """The score shown for a run: under ``model`` (default: the current model) if stored, else
    the one under the newest model stored for it (its ``model_version`` says which: a database
    last rescored before model 3 shows model 2, never model 1 saved in the same second)."""
    for m in (model, *reversed(MODELS)):
        row = store.score(run_id, m)
        if row is not None:
            return row
    return store.score(run_id)  # a model this version does not know


def run_coverage(store, run_id: int) -> Coverage:
    """The pages a run set out to audit, and how many were audited, failed or left unfinished:
    the one count the score, the summary, ``history``, the league and the report use (see
    :func:`audits.analysis.scoring.coverage_of`). URLs still queued in the run's frontier count
    as unfinished, as for the score."""
    states = store.page_states(run_id)
    seen = {p["url"] for p in states}
    pages = [PageInput(url=p["url"], status=p["status"], reason_code=p["reason_code"]) for p in states]
    pages += [PageInput(url=q["url"], status="skipped", reason_code="interrupted")
              for q in store.pending(run_id) if q["url"] not in seen]
    return coverage_of(pages)


def run_figures(store, run: dict) -> dict[str, Any]:
    """What the league compares a run on besides its score, from the store: its coverage, its
    broken links (linked URLs answering 404/410), whether it stopped at its page budget (URLs
    left out for ``page_budget``), its page budget, its scope mode and its rule set (axe tags and
    disabled rules; None when the run did not record them)."""
    states = store.page_states(run["id"])
    config = json_or(run.get("config"), {}) or {}
    tags = config.get("tags")
    rule_set = None
    if tags:
        rule_set = ",".join(sorted(tags)) + "".join(f" -{r}" for r in sorted(config.get("disable_rules") or []))
    return {
        "coverage": run_coverage(store, run["id"]),
        "broken_links": sum(p["reason_code"] == "broken_link" for p in states),
        "budget_reached": any(p["reason_code"] == "page_budget" for p in states),
        "max_pages": run.get("max_pages"),
        "scope": run_scope(config, run["start_url"])["mode"],
        "rule_set": rule_set,
    }


def history(store, site: str, goals: SiteGoals | None = None, today: dt.date | None = None,
            model: str = MODEL_VERSION) -> SiteHistory:
    """Every run of ``site``, oldest first, with scores (under ``model`` where stored),
    violations by impact, change since the previous scored run, and progress against the
    site's baseline and targets.

    Raises :class:`~audits.errors.StoreError` when the store has no run of ``site``.
    """
    runs = store.runs(site)
    if not runs:
        known = ", ".join(store.sites()) or "none yet"
        raise StoreError(f"no runs of site {site!r} in {store.path} (sites: {known})")
    rows = history_rows(runs, {r["id"]: stored_score(store, r["id"], model) for r in runs},
                        {r["id"]: store.impact_counts(r["id"]) for r in runs}, model=model,
                        figures={r["id"]: run_figures(store, r) for r in runs})
    return site_history(site, rows, goals, today, source=str(store.path))


def league(store, goals: Mapping[str, SiteGoals] | None = None, today: dt.date | None = None,
           model: str = MODEL_VERSION) -> list[LeagueRow]:
    """Rank every site in the store by the score (under ``model`` where stored) of its latest
    complete scored run (see :func:`audits.analysis.history.rank_sites`).

    ``store`` may be a list of stores: the databases of several coordinators, each auditing its
    own share of the sites, ranked as one league. A site found in more than one of them is a
    :class:`StoreError` (the shards overlap), never silently one or the other."""
    goals = goals or {}
    stores = store if isinstance(store, (list, tuple)) else [store]
    where: dict[str, object] = {}
    for s in stores:
        for site in s.sites():
            if site in where:
                raise StoreError(f"the site {site} is in both {where[site].path} and {s.path}: give each site's "
                                 "runs in one database only")
            where[site] = s
    return rank_sites((history(s, site, goals.get(site), today, model) for site, s in sorted(where.items())),
                      never_audited=[site for site in goals if site not in where])


# -- the gate --------------------------------------------------------------------------------------

def run_findings(store, run_id: int) -> list[Finding]:
    """The violations of a stored run as :class:`Finding` (with page URLs and titles)."""
    out = []
    for r in store.findings_with_urls(run_id):
        fp = r["fingerprint"] or finding_fingerprint(r, r)
        out.append(Finding(
            fingerprint=fp, rule=r["rule"], impact=r["impact"], url=r["url"],
            target=_tupled(json_or(r["target"], [])), html=r["html"], help=r["help"], help_url=r["help_url"],
            tags=tuple(json_or(r["tags"], [])), failure_summary=r["failure_summary"], page_title=r["page_title"],
        ))
    return out


def run_pages(store, run_id: int) -> list[PageOutcome]:
    return [PageOutcome(url=p["url"], status=p["status"], title=p["title"], reason_code=p["reason_code"],
                        reason=p["reason"], found_via=p.get("found_via")) for p in store.pages(run_id)]


def run_info(store, run_id: int) -> RunInfo:
    """The run and its score (under the current model if stored)."""
    run = store.get_run(run_id)
    s = stored_score(store, run_id)
    return RunInfo(run_id=run["id"], site=run["site"], start_url=run["start_url"], status=run["status"],
                   started_at=run["started_at"], axe_version=run["axe_version"], tool_version=run["tool_version"],
                   score=s["score"] if s else None,
                   score_reason=(s["reason"] if s else "not scored"))


def baseline_from_run(store, run_id: int) -> Baseline:
    """A stored run's violations as a baseline. Raises StoreError for an unknown run."""
    store.get_run(run_id)
    return Baseline(tuple(BaselineEntry(**e) for e in baseline_entries(run_findings(store, run_id))),
                    source=f"run {run_id}")


def rule_texts(store, axe_version: str | None) -> dict[str, dict]:
    """axe-core's description, help, help URL and tags per rule (of ``axe_version`` if stored)."""
    rows = store.rules(axe_version)
    return {r["rule"]: {"description": r["description"], "help": r["help"], "help_url": r["help_url"],
                        "tags": json_or(r["tags"], [])} for r in rows}


def check_stored_run(store, run_id: int, *, thresholds: Thresholds = Thresholds(), baseline: Baseline | None = None,
                     ignores: Iterable[Ignore] = (), files: dict[str, str] | None = None,
                     dom_matches: frozenset = frozenset()) -> CheckReport:
    """Apply the gate to a stored run: the library call behind ``a11ycrawl check``."""
    info = run_info(store, run_id)
    pages = tuple(run_pages(store, run_id))
    result = evaluate(run_findings(store, run_id), score=info.score, score_reason=info.score_reason,
                      thresholds=thresholds, baseline=baseline, ignores=ignores, dom_matches=dom_matches, pages=pages)
    return CheckReport(run=info, pages=pages, gate=result,
                       rules=rule_texts(store, info.axe_version), files=dict(files or {}))


# -- diffs -----------------------------------------------------------------------------------------

def diff_runs(store, run_a: int, run_b: int) -> Diff:
    """Compare the violations of two runs (usually of one site): new, fixed and unchanged.

    Raises :class:`~audits.errors.StoreError` when either run is not in the store.
    """
    a, b = store.get_run(run_a), store.get_run(run_b)
    pages_a = {page_key(u): u for u in store.audited_urls(run_a)}
    pages_b = {page_key(u): u for u in store.audited_urls(run_b)}
    both = pages_a.keys() & pages_b.keys()
    rows_a = [r for r in store.findings_with_urls(run_a) if page_key(r["url"]) in both]
    rows_b = [r for r in store.findings_with_urls(run_b) if page_key(r["url"]) in both]
    new, fixed, unchanged = compare_findings(rows_a, rows_b)
    return Diff(
        run_a=run_a, run_b=run_b, site_a=a["site"], site_b=b["site"], new=tuple(new), fixed=tuple(fixed),
        unchanged=tuple(unchanged), pages_compared=len(both),
        pages_only_a=tuple(sorted(pages_a[k] for k in pages_a.keys() - both)),
        pages_only_b=tuple(sorted(pages_b[k] for k in pages_b.keys() - both)),
    )


# -- across pages, and third-party content -----------------------------------------------------------

def site_checks(store, run_id: int) -> list[SiteFinding]:
    """The cross-page checks of a stored run (:func:`audits.analysis.crosspage.check_site`),
    recomputed from its audited pages' stored facts: one finding per check, pass, fail or
    not applicable. Runs stored before the facts were gathered get ``not-applicable`` for the
    checks that need them. Raises :class:`~audits.errors.StoreError` for an unknown run."""
    run = store.get_run(run_id)
    return check_site(store.site_facts(run_id, links_of=run["start_url"]), run["start_url"])


def finding_origins(store, run_id: int) -> dict[int, str]:
    """``{finding id: origin}`` for the findings (violations and "needs review") of a stored run
    that are inside a frame from another origin than their page (third-party content)."""
    pages = store.frame_urls(run_id)
    if not pages:
        return {}
    out = {}
    for f in store.findings(run_id):
        page = pages.get(f["page_id"])
        if page is None:
            continue
        target = json_or(f["target"], None)
        origin = third_party_origin(target, page["frame_urls"], page_origin(page))
        if origin:
            out[f["id"]] = origin
    return out


def third_party(store, run_id: int) -> list[ThirdPartyGroup]:
    """The failing elements (violations) of a run inside other origins' frames, by supplier
    (:func:`audits.analysis.thirdparty.group_by_vendor`). They count in the score like any other."""
    origins = finding_origins(store, run_id)
    if not origins:
        return []
    return group_by_vendor({"origin": origins.get(f["id"]), "url": f["url"], "rule": f["rule"]}
                           for f in store.findings_with_urls(run_id) if f["id"] in origins)
