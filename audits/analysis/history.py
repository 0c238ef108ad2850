"""Scores over time: a site's history, the league table of many sites, baselines and targets.

Pure functions over runs and their stored scores (read from the store by :mod:`audits.results`):
a run's score is the one under the chosen model (by default the current one,
:data:`~audits.analysis.scoring.MODEL_VERSION`) where stored, else the latest under any model;
every row says which model its score is under.

Baselines and targets are read from the site list (``[[sites]]`` in ``a11ycrawl.toml``, or
``--sites FILE``), the one place managers edit them, in version control::

    [[sites]]
    name = "Northbrook District Council"
    start_url = "https://www.northbrook.example.gov.uk/"
    baseline = 4.2                # a score; or baseline_run = 17 (that run's score)
    targets = [
      { score = 8.0, by = 2027-03-31 },
      { no_critical = true, by = 2027-01-31 },
    ]

Without a baseline, progress is measured from the site's first scored run.
"""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Hashable, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audits.errors import ConfigError, StoreError
from audits.analysis.scoring import MODEL_VERSION

GOAL_KEYS = ("baseline", "baseline_run", "targets")


# -- baselines and targets --------------------------------------------------------------------

class Target(BaseModel):
    """One target: a score to reach, or no critical failures left, by a date."""

    model_config = ConfigDict(extra="forbid")
    by: dt.date
    score: float | None = Field(None, ge=0, le=10)
    no_critical: bool = False

    @model_validator(mode="after")
    def _one_goal(self) -> "Target":
        if (self.score is None) == (not self.no_critical):
            raise ValueError("give a target either score = 8.0 or no_critical = true (with by = YYYY-MM-DD)")
        return self

    def describe(self) -> str:
        goal = f"score {self.score:.1f}" if self.score is not None else "no critical failures"
        return f"{goal} by {self.by.isoformat()}"


class SiteGoals(BaseModel):
    """A site's baseline and targets, from its entry in the site list."""

    model_config = ConfigDict(extra="forbid")
    baseline: float | None = Field(None, ge=0, le=10, description="the score progress is measured from")
    baseline_run: int | None = Field(None, ge=1, description="a run whose score is the baseline")
    targets: list[Target] = Field(default_factory=list)


def load_goals(path: str | Path | None = None) -> dict[str, SiteGoals]:
    """Baselines and targets per site name from a site list (default: ``[[sites]]`` in the
    config file, if there is one; no site list means no targets)."""
    from audits.config import AuditConfig, find_config_file
    from audits.sites import read_site_entries

    if path is None:
        found = find_config_file()
        if not found or "sites" not in found[1]:
            return {}
    source, entries = read_site_entries(path)
    goals = {}
    for i, entry in enumerate(entries):
        name = AuditConfig.model_construct(start_url=entry["start_url"], name=entry.get("name")).site_name()
        try:
            goals[name] = SiteGoals.model_validate({k: entry[k] for k in GOAL_KEYS if k in entry})
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "?"
            msg = err["msg"].removeprefix("Value error, ")
            raise ConfigError(f"{source}: sites[{i}] ({name}): {key}: {msg}") from None
    return goals


@dataclass(frozen=True)
class ScoreBaseline:
    score: float
    source: str  # "site list" | "run 12" | "run 3, the first scored"


@dataclass(frozen=True)
class TargetProgress:
    goal: str  # "score 8.0 by 2027-03-31"
    by: dt.date
    status: str  # met | open | missed
    current: float | None  # the latest score, or the latest number of critical elements
    progress: float | None  # score targets: share of the way from the baseline (0-1)
    detail: str


def target_progress(goals: SiteGoals | None, baseline: ScoreBaseline | None, latest: "HistoryRow | None",
                    today: dt.date) -> tuple[TargetProgress, ...]:
    """Where a site stands against each of its targets, judged on its latest scored run."""
    out = []
    for t in goals.targets if goals else ():
        if t.score is not None:
            current = latest.score if latest else None
            met = current is not None and current >= t.score
            progress = None
            if current is not None and baseline is not None and t.score > baseline.score:
                progress = min(1.0, max(0.0, (current - baseline.score) / (t.score - baseline.score)))
            detail = ("no scored run yet" if current is None else
                      f"{current:.1f} reached" if met else f"needs +{t.score - current:.1f}")
        else:
            current = latest.violations.get("critical", 0) if latest else None
            met, progress = current == 0, None
            detail = ("no scored run yet" if current is None else
                      "none left" if met else f"{current} critical element{'s' if current != 1 else ''} left")
        status = "met" if met else "missed" if today > t.by else "open"
        if status == "open":
            days = (t.by - today).days
            detail += f", {days} day{'s' if days != 1 else ''} left"
        out.append(TargetProgress(goal=t.describe(), by=t.by, status=status, current=current,
                                  progress=progress, detail=detail))
    return tuple(out)


# -- history ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryRow:
    """One run of a site, with its score."""

    run_id: int
    started_at: str
    status: str
    score: float | None
    reason: str | None  # why there is no score
    pages_audited: int
    pages_failed: int
    violations: dict[str, int]  # failing elements by impact
    change: float | None  # since the previous scored run
    model_version: str | None
    axe_version: str | None
    note: str | None  # model or axe-core changed since the previous scored run, or an old model
    components: dict | None
    # the pages the run set out to audit (audited + failed + unfinished: the score's coverage)
    pages_to_audit: int | None = None
    broken_links: int = 0  # linked URLs answering 404 or 410
    budget_reached: bool = False  # URLs were left out because the page budget was used up
    max_pages: int | None = None
    scope: str | None = None  # "path" (the start URL's directory) or "host"
    rule_set: str | None = None  # axe tags (and disabled rules) the run audited with; None: not recorded


@dataclass(frozen=True)
class SiteHistory:
    site: str
    rows: tuple[HistoryRow, ...]
    baseline: ScoreBaseline | None
    targets: tuple[TargetProgress, ...]

    @property
    def latest(self) -> HistoryRow | None:
        """The latest complete, scored run: the one league tables and targets judge."""
        return latest_scored(self.rows)


def latest_scored(rows: Iterable[HistoryRow]) -> HistoryRow | None:
    scored = [r for r in rows if r.status == "complete" and r.score is not None]
    return scored[-1] if scored else None


def _engine(row: HistoryRow) -> tuple[str | None, str | None]:
    return row.model_version, row.axe_version


def _engine_note(prev: HistoryRow | None, row: HistoryRow, model: str = MODEL_VERSION) -> str | None:
    notes = []
    if row.model_version and row.model_version != model:
        notes.append(f"scored by {row.model_version}: run 'a11ycrawl rescore'")
    if prev is not None and prev.model_version != row.model_version:
        notes.append(f"model {prev.model_version} -> {row.model_version}")
    if prev is not None and prev.axe_version != row.axe_version:
        notes.append(f"axe-core {prev.axe_version} -> {row.axe_version}")
    return "; ".join(notes) or None


def unscored_reason(run: Mapping) -> str:
    """Why a run has no stored score, saying what can help: rescoring only helps a finished run
    with audited pages (a failed run, one still running and one with no page audited get no
    score from rescoring either)."""
    if run["status"] == "failed":
        return f"the run failed: {run.get('error') or 'no reason recorded'}"
    if run["status"] not in ("complete", "incomplete"):
        return f"the run has not finished (status {run['status']}); resume it with 'a11ycrawl audit --resume'"
    if not run.get("pages_audited"):
        return "no page could be audited"
    return "not scored yet: run 'a11ycrawl rescore'"


def history_rows(runs: list[dict], scores: Mapping[int, dict | None],
                 impacts: Mapping[int, dict[str, int]], model: str = MODEL_VERSION,
                 figures: Mapping[int, Mapping] | None = None) -> tuple[HistoryRow, ...]:
    """One :class:`HistoryRow` per run (oldest first), with the change since the previous scored
    run; ``scores``, ``impacts`` and ``figures`` (see :func:`audits.results.run_figures`) are keyed
    by run id. A score under another model than ``model`` (the one asked for) is noted."""
    rows: list[HistoryRow] = []
    prev: HistoryRow | None = None
    for run in runs:
        s = scores.get(run["id"])
        f = (figures or {}).get(run["id"]) or {}
        cov = f.get("coverage")
        row = HistoryRow(
            run_id=run["id"], started_at=run["started_at"], status=run["status"],
            score=s["score"] if s else None,
            reason=(s["reason"] if s else unscored_reason(run)),
            pages_audited=cov.audited if cov else run["pages_audited"] or 0,
            pages_failed=cov.failed if cov else run["pages_failed"] or 0,
            violations=dict(impacts.get(run["id"]) or {}), change=None,
            model_version=s["model_version"] if s else None, axe_version=run["axe_version"],
            note=None, components=json.loads(s["components"]) if s and s["components"] else None,
            pages_to_audit=(cov.audited + cov.failed + cov.unfinished) if cov else None,
            broken_links=f.get("broken_links", 0), budget_reached=bool(f.get("budget_reached")),
            max_pages=f.get("max_pages", run.get("max_pages")), scope=f.get("scope"), rule_set=f.get("rule_set"),
        )
        if row.score is not None:
            change = round(row.score - prev.score, 1) if prev is not None else None
            row = replace(row, change=change, note=_engine_note(prev, row, model))
            prev = row
        rows.append(row)
    return tuple(rows)


def _baseline(goals: SiteGoals | None, rows: tuple[HistoryRow, ...], site: str, source: str) -> ScoreBaseline | None:
    if goals and goals.baseline is not None:
        return ScoreBaseline(goals.baseline, "site list")
    if goals and goals.baseline_run is not None:
        run = next((r for r in rows if r.run_id == goals.baseline_run and r.score is not None), None)
        if run is None:
            raise StoreError(f"baseline_run {goals.baseline_run} of {site} is not a scored run of that site in "
                             f"{source}; see 'a11ycrawl history {site}'")
        return ScoreBaseline(run.score, f"run {run.run_id}")
    first = next((r for r in rows if r.status == "complete" and r.score is not None), None)
    return ScoreBaseline(first.score, f"run {first.run_id}, the first scored") if first else None


def site_history(site: str, rows: tuple[HistoryRow, ...], goals: SiteGoals | None = None,
                 today: dt.date | None = None, source: str = "the store") -> SiteHistory:
    """A site's history from its rows (see :func:`history_rows`), with progress against its
    baseline and targets. ``source`` names the database in error messages."""
    baseline = _baseline(goals, rows, site, source)
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return SiteHistory(site=site, rows=rows, baseline=baseline,
                       targets=target_progress(goals, baseline, latest_scored(rows), today))


# -- the league table -------------------------------------------------------------------------

@dataclass(frozen=True)
class LeagueRow:
    """One site in the league table, judged on its latest complete scored run."""

    site: str
    run_id: int | None
    started_at: str | None
    score: float | None
    pages_audited: int | None
    rank: int | None  # None: not ranked (see note)
    previous_rank: int | None
    rank_change: int | None  # places climbed since the previous period (negative: fell)
    previous_score: float | None
    change: float | None
    model_version: str | None
    axe_version: str | None
    comparable: bool
    note: str | None
    targets: tuple[TargetProgress, ...]
    broken_links: int | None = None  # linked URLs answering 404 or 410 in the run ranked
    marks: tuple["Mark", ...] = ()  # why the run is not like most sites' runs (ranked all the same)


@dataclass(frozen=True)
class Mark:
    """Why a site's run is not like the others in its league: ``code`` for machines, ``symbol``
    for the table's mark column (explained under it), ``reason`` for people."""

    code: str  # budget_reached | budget | scope | rules
    symbol: str
    reason: str


#: The league's marks: code -> (symbol, what the legend under the table says).
MARKS = {
    "budget_reached": ("B", "stopped at its page budget: part of the site was not audited"),
    "budget": ("P", "audited with another page budget than most sites"),
    "scope": ("S", "audited another scope (one directory or the whole host) than most sites"),
    "rules": ("R", "audited with another rule set (axe tags, WCAG level) than most sites"),
}


def competition_ranks(scores: Mapping[Hashable, float]) -> dict[Hashable, int]:
    """Standard competition ranking ("1, 2, 2, 4"): highest score first, ties share a rank.

    >>> competition_ranks({"a": 9.1, "b": 7.0, "c": 7.0, "d": 3.2})
    {'a': 1, 'b': 2, 'c': 2, 'd': 4}
    """
    ordered = sorted(-s for s in scores.values())
    return {k: bisect_left(ordered, -s) + 1 for k, s in scores.items()}


def majority_engine(rows: Iterable[HistoryRow]) -> tuple[str | None, str | None] | None:
    """The (scoring model, axe-core version) most runs used; a tie goes to the most recent."""
    rows = list(rows)
    counts = Counter(_engine(r) for r in rows)
    if not counts:
        return None
    latest = {e: max(r.started_at for r in rows if _engine(r) == e) for e in counts}
    return max(counts, key=lambda e: (counts[e], latest[e]))


def _engine_label(engine: tuple[str | None, str | None] | None) -> str:
    model, axe = engine or (None, None)
    return f"{model or 'no model'}, axe-core {axe or '?'}"


def _majority(values: Iterable[Hashable]) -> Hashable | None:
    """The value most items share, or None when none is shared by more than any other."""
    counts = Counter(v for v in values if v is not None).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _mark(code: str, reason: str) -> Mark:
    return Mark(code=code, symbol=MARKS[code][0], reason=reason)


def league_marks(latest: Mapping[str, HistoryRow]) -> dict[str, tuple[Mark, ...]]:
    """Why each site's latest run is not like most sites': it stopped at its page budget, or
    its page budget, scope or rule set differs from the one most sites share (when no value is
    shared by most, every site whose value is known is marked). Values not recorded (runs stored
    before they were) are not compared."""
    out: dict[str, list[Mark]] = {site: [] for site in latest}
    for site, r in latest.items():
        if r.budget_reached:
            out[site].append(_mark("budget_reached", f"stopped at its page budget of {r.max_pages} pages"
                                   if r.max_pages else "stopped at its page budget"))
    for code, attr, label in (("budget", "max_pages", "page budget"), ("scope", "scope", "scope"),
                              ("rules", "rule_set", "rule set")):
        values = {site: getattr(r, attr) for site, r in latest.items()}
        if len({v for v in values.values() if v is not None}) < 2:
            continue
        common = _majority(values.values())
        shown = {"path": "the start URL's directory", "host": "the whole host"} if attr == "scope" else {}
        for site, v in values.items():
            if v is None or v == common:
                continue
            theirs = shown.get(v, v)
            most = (f"most sites: {shown.get(common, common)}" if common is not None else
                    "the sites differ: " + ", ".join(str(shown.get(x, x)) for x in sorted({
                        x for x in values.values() if x is not None}, key=str)))
            out[site].append(_mark(code, f"{label} {theirs}; {most}"))
    return {site: tuple(marks) for site, marks in out.items()}


def rank_sites(histories: Iterable[SiteHistory], never_audited: Iterable[str] = ()) -> list[LeagueRow]:
    """Rank sites by the score of their latest complete scored run.

    Sites whose latest run used another scoring model or axe-core version than most sites are
    flagged as not comparable and not ranked. Sites ranked whose runs are not like most sites'
    (stopped at the page budget; another budget, scope or rule set) keep their rank and carry
    :class:`Mark` s saying why (:func:`league_marks`). Rank change compares with the ranks of each
    site's previous scored run ("the previous period"). Ranked rows come first, by rank; sites
    in ``never_audited`` (named in a site list, with no run stored) are listed last, unranked.
    """
    histories = list(histories)
    latest = {h.site: h.latest for h in histories if h.latest}
    engine = majority_engine(latest.values())
    ranks = competition_ranks({s: r.score for s, r in latest.items() if _engine(r) == engine})
    previous = {}
    for h in histories:
        scored = [r for r in h.rows if r.status == "complete" and r.score is not None]
        if h.site in ranks and len(scored) > 1:
            previous[h.site] = scored[-2]
    prev_engine = majority_engine(previous.values())
    prev_ranks = competition_ranks({s: r.score for s, r in previous.items() if _engine(r) == prev_engine})
    marks = league_marks({s: r for s, r in latest.items() if s in ranks})
    rows = []
    for h in histories:
        cur, prev = latest.get(h.site), previous.get(h.site)
        rank, prev_rank = ranks.get(h.site), prev_ranks.get(h.site)
        if cur is None:
            last = h.rows[-1]
            note = f"not ranked: no complete scored run (run {last.run_id}: {last.reason or last.status})"
        elif rank is None:
            note = f"not comparable: {_engine_label(_engine(cur))}; most sites: {_engine_label(engine)}"
        else:
            note = cur.note if prev is not None and _engine(prev) != _engine(cur) else None
        rows.append(LeagueRow(
            site=h.site, run_id=cur.run_id if cur else None, started_at=cur.started_at if cur else None,
            score=cur.score if cur else None, pages_audited=cur.pages_audited if cur else None,
            rank=rank, previous_rank=prev_rank,
            rank_change=prev_rank - rank if rank is not None and prev_rank is not None else None,
            previous_score=prev.score if prev else None,
            change=round(cur.score - prev.score, 1) if cur and prev else None,
            model_version=cur.model_version if cur else None, axe_version=cur.axe_version if cur else None,
            comparable=rank is not None, note=note, targets=h.targets,
            broken_links=cur.broken_links if cur else None, marks=marks.get(h.site, ()),
        ))
    listed = {r.site for r in rows}
    for site in never_audited:
        if site not in listed:
            listed.add(site)
            rows.append(LeagueRow(
                site=site, run_id=None, started_at=None, score=None, pages_audited=None, rank=None,
                previous_rank=None, rank_change=None, previous_score=None, change=None, model_version=None,
                axe_version=None, comparable=False, note="never audited: no run of this site is stored", targets=(),
            ))
    return sorted(rows, key=lambda r: (r.rank is None, r.run_id is None, r.rank or 0, r.site))


def climbers(rows: Iterable[LeagueRow], limit: int = 3) -> list[LeagueRow]:
    """The sites that climbed most places since the previous period, biggest first."""
    up = [r for r in rows if r.rank_change and r.rank_change > 0]
    return sorted(up, key=lambda r: (-r.rank_change, r.rank, r.site))[:limit]
