"""The HTML report: one self-contained file a manager can open offline and a team can act on.

Two steps, as everywhere in a11ycrawl: :func:`build_report` reads the store into a
:class:`Report` (plain dataclasses), and :func:`render_report` turns that into HTML with the
Jinja2 templates in ``reports/templates/`` (autoescaped: every title, URL, snippet and message
taken from an audited page is escaped). The file has no external scripts, fonts, styles or
images; its only script (optional: it opens every ``<details>`` before printing) is inline and
allowed by hash in the page's Content-Security-Policy, which forbids any other.

Sections: summary (score, rank, change, what to fix first by the model's gain, targets), trends
(inline SVG charts, each beside its data table, with changes of axe-core version or scoring
model marked), the league table when the store holds several sites, changes since the previous
run (new, fixed, still present), issues grouped by rule across pages (one template error once,
with its pages), what axe-core left for a person to review (never scored), a page-by-page
drill-down, linked documents (each PDF's checks with their WCAG criterion, PDF/UA clause and
Matterhorn condition), the accessibility statement (each requirement met or missing, with the
sentence found), and pages that could not be audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import jinja2

from audits.analysis.fingerprint import Diff, normalise_snippet, target_selectors
from audits.analysis.history import HistoryRow, LeagueRow, SiteGoals
from audits.analysis.scoring import MODEL_VERSION, MODELS, wcag_level
from audits.analysis.thirdparty import vendor_name
from audits.results import (
    diff_runs, finding_origins, history, league, rule_texts, score_stored_run, site_checks, third_party,
)

from reports.data import (
    FIX_FIRST, IMPACTS, PART_LABELS, FixFirst, ReviewGroup, json_or, fix_first, needs_review, page_settle, pick_run,
    run_broken_links, score_parts, wcag_criteria, wcag_label,
)
from audits.config import run_scope
from reports.files import write_text
from reports.documents import document_views, statement_view

TEMPLATES = Path(__file__).with_name("templates")
MAX_PATTERNS_PER_RULE = 25
MAX_ELEMENTS_PER_PAGE_RULE = 20
MAX_DIFF_ROWS = 200

PRINT_SCRIPT = (
    "addEventListener('beforeprint',function(){document.querySelectorAll('details:not([open])')"
    ".forEach(function(d){d.open=true;d.setAttribute('data-print-opened','')})});"
    "addEventListener('afterprint',function(){document.querySelectorAll('details[data-print-opened]')"
    ".forEach(function(d){d.open=false;d.removeAttribute('data-print-opened')})});"
)


# -- the report's data --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageRef:
    url: str
    title: str | None


@dataclass(frozen=True)
class ElementPattern:
    """One failing element as it repeats across pages (a template error is one pattern)."""

    selector: str
    html: str | None
    failure_summary: str | None
    pages: tuple[PageRef, ...]
    elements: int
    supplier: str | None = None  # inside another origin's frame: its supplier (third-party content)


@dataclass(frozen=True)
class IssueGroup:
    """One axe-core rule failing across the run's pages."""

    rule: str
    impact: str | None
    help: str
    description: str | None
    help_url: str | None
    level: str | None  # WCAG level: A, AA, AAA, or None (best practice)
    wcag: tuple[str, ...]  # "1.1.1 Non-text Content"
    pages: int
    elements: int
    patterns: tuple[ElementPattern, ...]
    more_patterns: int
    gain: float | None  # score points fixing it everywhere would add (from the stored components)


@dataclass(frozen=True)
class PageElement:
    selector: str
    html: str | None
    failure_summary: str | None
    supplier: str | None = None  # inside another origin's frame: its supplier


@dataclass(frozen=True)
class PageRule:
    rule: str
    impact: str | None
    help: str
    help_url: str | None
    elements: tuple[PageElement, ...]
    more: int


@dataclass(frozen=True)
class PageDetail:
    url: str
    title: str | None
    score: float | None
    elements: int
    rules: tuple[PageRule, ...]


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class ChartSeries:
    name: str
    css: str  # class name: colour, dash pattern
    marker: str  # circle | square | triangle | diamond
    path: str
    points: tuple[ChartPoint, ...]


@dataclass(frozen=True)
class Chart:
    """An SVG line chart laid out in Python, drawn by the template."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str, str], ...]  # x, date, "run 12"
    series: tuple[ChartSeries, ...]
    markers: tuple[tuple[float, str], ...]  # x, "axe-core 4.11.0 → 4.12.1"


@dataclass(frozen=True)
class DiffSummary:
    previous_run: int
    previous_date: str
    pages_compared: int
    new: tuple[Any, ...]
    fixed: tuple[Any, ...]
    still_present: int
    still_by_rule: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Report:
    site: str
    run: dict
    generated_at: str
    tool_version: str
    model_version: str  # the current model
    score_model: str | None  # the model the score shown is under (the current one once rescored)
    score: float | None
    score_reason: str | None
    change: float | None
    previous_scored: HistoryRow | None
    components: dict | None
    rank: int | None
    rank_change: int | None
    ranked_sites: int
    targets: tuple
    baseline: Any
    by_impact: dict[str, dict[str, int]]
    audited: int
    clean: int
    not_audited: tuple[dict, ...]
    history: tuple[HistoryRow, ...]
    charts: tuple[Chart, ...]
    league: tuple[LeagueRow, ...]
    issues: tuple[IssueGroup, ...]
    pages: tuple[PageDetail, ...]
    diff: DiffSummary | None
    documents: int
    fix_first: tuple[FixFirst, ...] = ()  # every failing rule, ranked; the summary shows the first FIX_FIRST
    needs_review: tuple[ReviewGroup, ...] = ()
    document_list: tuple = ()  # reports.documents.DocumentView, failing ones first
    statement: Any = None  # reports.documents.StatementView
    notes: tuple[str, ...] = field(default_factory=tuple)
    unsettled: tuple[dict, ...] = ()  # audited before they settled: url, title, ms, pending
    to_audit: int | None = None  # pages the run set out to audit (audited + failed + unfinished)
    broken_links: tuple[dict, ...] = ()  # linked URLs answering 404/410: url, http_status, linked_from_pages
    scope: dict = field(default_factory=dict)  # what the crawl covered (audits.config.run_scope)
    parts: tuple[dict, ...] = ()  # model 3: how the score is made (reports.data.score_parts)
    site_checks: tuple = ()  # audits.analysis.crosspage.SiteFinding, one per check
    third_party: tuple = ()  # audits.analysis.thirdparty.ThirdPartyGroup, by supplier


# -- building it from the store ------------------------------------------------------------------------

def _date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%-d %b %Y %H:%M")
    except ValueError:
        return iso[:16].replace("T", " ")


def _short_date(iso: str | None) -> str:
    try:
        return dt.datetime.fromisoformat(iso or "").strftime("%-d %b")
    except ValueError:
        return (iso or "")[:10]


def _impact_rank(impact: str | None) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)


def _worst(impacts: Iterable[str | None]) -> str | None:
    known = [i for i in impacts if i in IMPACTS]
    return min(known, key=IMPACTS.index) if known else None


def _selector(target: Any) -> str:
    return " | ".join(" >>> ".join(map(str, t)) if isinstance(t, list) else str(t) for t in (target or []))


def _issue_groups(rows: list[dict], texts: dict[str, dict], gains: dict[str, float]) -> list[IssueGroup]:
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_rule[r["rule"]].append(r)
    groups = []
    for rule, items in by_rule.items():
        patterns: dict[tuple, list[dict]] = defaultdict(list)
        for r in items:
            patterns[(target_selectors(r["target"]), normalise_snippet(r["html"]))].append(r)
        pats = []
        for members in patterns.values():
            pages: dict[str, PageRef] = {}
            for m in members:
                pages.setdefault(m["url"], PageRef(m["url"], m["page_title"]))
            first = members[0]
            pats.append(ElementPattern(selector=_selector(json_or(first["target"], [])), html=first["html"],
                                       failure_summary=first["failure_summary"],
                                       pages=tuple(sorted(pages.values(), key=lambda p: p.url)), elements=len(members),
                                       supplier=first.get("supplier")))
        pats.sort(key=lambda p: (-len(p.pages), -p.elements, p.selector))
        text = texts.get(rule, {})
        tags = json_or(items[0]["tags"], []) or text.get("tags") or []
        groups.append(IssueGroup(
            rule=rule, impact=_worst(r["impact"] for r in items), help=text.get("help") or items[0]["help"] or rule,
            description=text.get("description"), help_url=text.get("help_url") or items[0]["help_url"],
            level=wcag_level(tags), wcag=tuple(wcag_label(c) for c in wcag_criteria(tags)),
            pages=len({r["url"] for r in items}), elements=len(items),
            patterns=tuple(pats[:MAX_PATTERNS_PER_RULE]), more_patterns=max(0, len(pats) - MAX_PATTERNS_PER_RULE),
            gain=gains.get(rule),
        ))
    groups.sort(key=lambda g: (_impact_rank(g.impact), -g.pages, -g.elements, g.rule))
    return groups


def _page_details(rows: list[dict], pages: list[dict], page_scores: dict[str, float]) -> list[PageDetail]:
    by_page: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_page[r["url"]][r["rule"]].append(r)
    out = []
    for p in pages:
        rules = by_page.get(p["url"])
        if not rules:
            continue
        prs = []
        for rule, items in rules.items():
            prs.append(PageRule(
                rule=rule, impact=_worst(i["impact"] for i in items), help=items[0]["help"] or rule,
                help_url=items[0]["help_url"],
                elements=tuple(PageElement(_selector(json_or(i["target"], [])), i["html"], i["failure_summary"],
                                           i.get("supplier"))
                               for i in items[:MAX_ELEMENTS_PER_PAGE_RULE]),
                more=max(0, len(items) - MAX_ELEMENTS_PER_PAGE_RULE)))
        prs.sort(key=lambda r: (_impact_rank(r.impact), -len(r.elements), r.rule))
        out.append(PageDetail(url=p["url"], title=p["title"], score=page_scores.get(p["url"]),
                              elements=sum(len(v) for v in rules.values()), rules=tuple(prs)))
    out.sort(key=lambda d: (d.score if d.score is not None else 11, -d.elements, d.url))
    return out


def nice_scale(v: float) -> tuple[float, float]:
    """An axis top and a whole-number step for counts up to ``v``: 4-ish ticks of 1, 2, 2.5 (from
    25 up), 5 times a power of ten.

    >>> nice_scale(6), nice_scale(84), nice_scale(1200)
    ((6, 2), (100, 25), (1500, 500))
    """
    if v <= 4:
        return 4, 1
    raw = v / 4
    mag = 10 ** math.floor(math.log10(raw))
    for m in ((1, 2, 2.5, 5, 10) if mag >= 10 else (1, 2, 5, 10)):
        step = m * mag
        if step >= raw:
            break
    step = int(step) if step == int(step) else step
    return math.ceil(v / step) * step, step


def _fmt(v: float) -> str:
    return f"{v:g}"


def line_chart(chart_id: str, title: str, desc: str, rows: list[HistoryRow], series: list[tuple[str, str, str, list]],
               y_max: float | None = None, y_step: float | None = None, width: int = 480, height: int = 260) -> Chart:
    """Lay out a line chart over runs: ``series`` is (name, css class, marker, values per row,
    None for a gap). Changes of axe-core version or scoring model between runs become markers."""
    left, right, top, bottom = 40.0, 12.0, 28.0, 50.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(rows), 1)
    xs = [left + (i + 0.5) * plot_w / n for i in range(n)]
    values = [v for _, _, _, vals in series for v in vals if v is not None]
    if y_max is None or y_step is None:
        y_max, y_step = nice_scale(max(values, default=0))
    y = lambda v: top + plot_h * (1 - v / y_max)  # noqa: E731
    ticks = tuple((round(y(k * y_step), 1), _fmt(round(k * y_step, 2))) for k in range(int(round(y_max / y_step)) + 1))
    every = max(1, math.ceil(n / 10))
    labels = tuple((round(xs[i], 1), _short_date(r.started_at), f"run {r.run_id}")
                   for i, r in enumerate(rows) if i % every == 0 or i == n - 1)
    out_series = []
    for name, css, marker, vals in series:
        points, path, pen_down = [], [], False
        for i, v in enumerate(vals):
            if v is None:
                pen_down = False
                continue
            px, py = round(xs[i], 1), round(y(v), 1)
            path.append(f"{'L' if pen_down else 'M'}{px} {py}")
            pen_down = True
            points.append(ChartPoint(px, py, v, f"{name}: {_fmt(v)} (run {rows[i].run_id})"))
        out_series.append(ChartSeries(name, css, marker, " ".join(path), tuple(points)))
    markers = []
    for i in range(1, len(rows)):
        a, b = rows[i - 1], rows[i]
        notes = []
        if a.axe_version != b.axe_version and a.axe_version and b.axe_version:
            notes.append(f"axe-core {a.axe_version} → {b.axe_version}")
        if a.model_version != b.model_version and a.model_version and b.model_version:
            notes.append(f"model {b.model_version}")
        if notes:
            markers.append((round((xs[i - 1] + xs[i]) / 2, 1), "; ".join(notes)))
    return Chart(chart_id, title, desc, width, height, left, right, top, bottom, ticks, labels,
                 tuple(out_series), tuple(markers))


IMPACT_STYLE = {"critical": ("i-critical", "square"), "serious": ("i-serious", "triangle"),
                "moderate": ("i-moderate", "diamond"), "minor": ("i-minor", "circle")}


def _charts(rows: list[HistoryRow]) -> tuple[Chart, ...]:
    if not rows:
        return ()
    scored = [r for r in rows if r.score is not None]
    if len(scored) >= 2:
        trend = f"The score went from {scored[0].score:.1f} (run {scored[0].run_id}) to {scored[-1].score:.1f} (run {scored[-1].run_id})"
    elif scored:
        trend = f"One scored run so far: {scored[0].score:.1f}"
    else:
        trend = "No scored run yet"
    score = line_chart("chart-score", "Score over time (0 to 10)", f"{trend} over {len(rows)} run(s).", rows,
                       [("score", "s-score", "circle", [r.score for r in rows])], y_max=10, y_step=2)
    last = rows[-1].violations
    impact = line_chart(
        "chart-impact", "Failing elements by impact", "Failing elements per run by impact; latest run: "
        + ", ".join(f"{last.get(i, 0)} {i}" for i in IMPACTS) + ".", rows,
        [(i, IMPACT_STYLE[i][0], IMPACT_STYLE[i][1], [r.violations.get(i, 0) for r in rows]) for i in IMPACTS])
    return (score, impact)


def _diff_summary(store, run: dict) -> DiffSummary | None:
    prev = [r for r in store.runs(run["site"]) if r["id"] < run["id"] and r["status"] in ("complete", "incomplete")]
    if not prev:
        return None
    p = prev[-1]
    d: Diff = diff_runs(store, p["id"], run["id"])
    still: dict[str, int] = defaultdict(int)
    for f in d.unchanged:
        still[f.rule] += 1
    order = lambda f: (_impact_rank(f.impact), f.rule, f.url)  # noqa: E731
    return DiffSummary(previous_run=p["id"], previous_date=_date(p["started_at"]), pages_compared=d.pages_compared,
                       new=tuple(sorted(d.new, key=order)), fixed=tuple(sorted(d.fixed, key=order)),
                       still_present=len(d.unchanged),
                       still_by_rule=tuple(sorted(still.items(), key=lambda kv: (-kv[1], kv[0]))))


def build_report(store, site: str | None = None, run_id: int | None = None,
                 goals: dict[str, SiteGoals] | None = None, today: dt.date | None = None,
                 now: dt.datetime | None = None) -> Report:
    """Read everything the report shows about one run of one site (and the league) from the store."""
    from audits import __version__

    run = pick_run(store, site, run_id)
    site = run["site"]
    goals = goals or {}
    now = now or dt.datetime.now(dt.timezone.utc)
    h = history(store, site, goals.get(site), today or now.date())
    rows = list(h.rows)
    this = next(r for r in rows if r.run_id == run["id"])
    scored_before = [r for r in rows if r.run_id < run["id"] and r.score is not None]
    notes = []
    lg = league(store, goals, today or now.date()) if len(store.sites()) > 1 else []
    mine = next((r for r in lg if r.site == site), None)
    if mine is not None and mine.run_id != run["id"]:
        notes.append(f"The league position is that of this site's latest complete scored run (run {mine.run_id}).")
    finding_rows = sorted(store.findings_with_urls(run["id"]), key=lambda f: f["url"])
    origins = finding_origins(store, run["id"])
    for r in finding_rows:
        r["supplier"] = vendor_name(origins[r["id"]]) if r["id"] in origins else None
    texts = rule_texts(store, run["axe_version"])
    gains = {c["rule"]: c["gain"] for c in (this.components or {}).get("rules") or []}
    pages = store.pages(run["id"])
    # page scores under the model of the site score shown (the current one once rescored)
    page_model = this.model_version if this.model_version in MODELS else MODEL_VERSION
    page_scores = {p.url: p.score for p in score_stored_run(store, run["id"], page_model).pages}
    by_impact = {i: {"elements": 0, "rules": 0} for i in IMPACTS}
    rules_by_impact: dict[str, set] = defaultdict(set)
    for r in finding_rows:
        if r["impact"] in by_impact:
            by_impact[r["impact"]]["elements"] += 1
            rules_by_impact[r["impact"]].add(r["rule"])
    for i in IMPACTS:
        by_impact[i]["rules"] = len(rules_by_impact[i])
    audited = [p for p in pages if p["status"] == "audited"]
    failing_urls = {r["url"] for r in finding_rows}
    # failed pages only: broken links (skipped, the site's own 404/410) have a section of their own
    not_audited = tuple({"url": p["url"], "status": p["status"], "reason_code": p["reason_code"], "reason": p["reason"]}
                        for p in pages if p["status"] == "failed")
    unsettled = tuple({"url": p["url"], "title": p["title"], "ms": st["ms"], "pending": st["pending"]}
                      for p in store.unsettled_pages(run["id"]) if (st := page_settle(p["facts"])) is not None)
    skipped = sum(p["status"] == "skipped" for p in pages)
    if skipped:
        notes.append(f"{skipped} URL(s) were skipped on purpose (outside the scope, disallowed by robots.txt, "
                     "duplicates, or over the page budget); 'a11ycrawl export --format json' lists them with reasons.")
    return Report(
        site=site, run=run, generated_at=_date(now.isoformat(timespec="seconds")), tool_version=__version__,
        model_version=MODEL_VERSION, score_model=this.model_version, score=this.score,
        score_reason=this.reason if this.score is None else None,
        change=this.change, previous_scored=scored_before[-1] if scored_before else None,
        components=this.components, rank=mine.rank if mine else None, rank_change=mine.rank_change if mine else None,
        ranked_sites=sum(r.rank is not None for r in lg), targets=h.targets, baseline=h.baseline,
        by_impact=by_impact, audited=len(audited), clean=len([p for p in audited if p["url"] not in failing_urls]),
        not_audited=not_audited, history=tuple(rows), charts=_charts(rows), league=tuple(lg),
        issues=tuple(_issue_groups(finding_rows, texts, gains)),
        pages=tuple(_page_details(finding_rows, audited, page_scores)),
        **document_views(store, run["id"]), **statement_view(store, run["id"]),
        diff=_diff_summary(store, run), documents=len(store.documents(run["id"])),
        # page rules under "Fix first"; model 3's other fixes under "How the score is made" (parts)
        fix_first=tuple(f for f in fix_first(this.components, limit=None) if f.part == "pages"),
        parts=tuple(score_parts(this.components)), needs_review=tuple(needs_review(store, run["id"])),
        notes=tuple(notes), unsettled=unsettled, broken_links=tuple(run_broken_links(store, run["id"])),
        scope=run_scope(json_or(run["config"], {}), run["start_url"]), to_audit=this.pages_to_audit,
        site_checks=tuple(site_checks(store, run["id"])), third_party=tuple(third_party(store, run["id"])),
    )


# -- rendering ----------------------------------------------------------------------------------------

def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _score_text(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def _change_text(v: float | None) -> str:
    if v is None:
        return ""
    return "no change" if v == 0 else f"{'up' if v > 0 else 'down'} {abs(v):.1f}"


def _signed(v: float | None) -> str:
    if v is None:
        return ""
    return "±0.0" if v == 0 else f"{v:+.1f}".replace("-", "−")


def _places(v: int | None, ranked: bool) -> str:
    if not ranked:
        return ""
    if v is None:
        return "new"
    if v == 0:
        return "no change"
    return f"up {v}" if v > 0 else f"down {-v}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value from an audited page is text, never markup
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(score=_score_text, change=_change_text, signed=_signed, date=_date, short_date=_short_date,
                       href=safe_href, places=_places, wcag=wcag_label)
    env.globals.update(IMPACTS=IMPACTS, wcag_level=wcag_level, FIX_FIRST=FIX_FIRST, PART_LABELS=PART_LABELS,
                       together=FixFirst.together)
    return env


def render_report(report: Report) -> str:
    """The report as one HTML document (a string)."""
    digest = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"
    return _environment().get_template("report.html.j2").render(
        r=report, csp=csp, print_script=PRINT_SCRIPT, issues_by_rule={g.rule: g for g in report.issues})


def write_report(store, path: str | Path, **kw) -> Report:
    """Build and write the report for one run; returns what it showed."""
    report = build_report(store, **kw)
    write_text(path, render_report(report))  # all or nothing; missing folders created
    return report


def report_json(report: Report) -> str:  # handy when debugging a template
    from dataclasses import asdict

    return json.dumps(asdict(report), default=str, indent=1)
