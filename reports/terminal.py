"""Rich terminal output: live progress while a run goes on, then the summary tables."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from reports.data import FIX_FIRST, IMPACTS, PART_LABELS, FixFirst, run_summary

IMPACT_STYLE = {"critical": "bold red", "serious": "red", "moderate": "yellow", "minor": "cyan"}


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _duration(seconds: float | None) -> str:
    """``42s``, ``4m12s``, ``1h05m``; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _rate(per_second: float) -> str:
    return f"{per_second:.2f}/s" if per_second < 1 else f"{per_second:.1f}/s"


class ProgressFigures:
    """What a progress display shows, from the pipeline's counts and the clock: pages done (audited
    or failed) of those known so far (capped by the page budget), the rate over the last minute
    and an estimate of the time left. Pure: the clock is passed in."""

    WINDOW = 60.0  # seconds of history behind the rate

    def __init__(self, start: float, budget: int | None = None):
        self.start = start
        self.budget = budget
        self.counts: dict[str, int] = {}
        self.samples: list[tuple[float, int]] = [(start, 0)]

    def update(self, now: float, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        self.samples.append((now, self.done))
        while len(self.samples) > 2 and now - self.samples[1][0] > self.WINDOW:
            self.samples.pop(0)

    @property
    def done(self) -> int:
        return self.counts.get("audited", 0) + self.counts.get("failed", 0)

    @property
    def total(self) -> int:
        known = max(self.counts.get("discovered", 0), self.done, 1)
        return min(known, max(self.budget, self.done)) if self.budget else known

    def rate(self, now: float) -> float:
        t0, d0 = self.samples[0]
        if now - t0 < 1e-6:
            return 0.0
        return max(self.done - d0, 0) / (now - t0)

    def eta(self, now: float) -> float | None:
        left = self.total - self.done
        if left <= 0:
            return 0.0
        r = self.rate(now)
        return left / r if r > 0 else None

    def plain(self, label: str, now: float) -> str:
        """One line for logs: every figure, no colour."""
        c = self.counts
        return (f"a11ycrawl: {label}: {self.done}/{self.total} pages done ({c.get('audited', 0)} audited, "
                f"{c.get('failed', 0)} failed, {c.get('reused', 0)} reused; {c.get('skipped', 0)} skipped, "
                f"{c.get('documents', 0)} documents), {_rate(self.rate(now))}, ETA {_duration(self.eta(now))}, "
                f"elapsed {_duration(now - self.start)}")

    def line(self, label: str, now: float, width: int) -> Text:
        """The live line, fitted to ``width``: counts, failures, rate and ETA always; then the
        elapsed time, skipped URLs, the site's name (shortened) and a bar, as room allows."""
        c = self.counts
        spinner = SPINNER[int(now * 10) % len(SPINNER)]
        core = [(f"{self.done}/{self.total} pages", "bold")]
        if c.get("failed"):
            core.append((f"{c['failed']} failed", "red"))
        core += [(_rate(self.rate(now)), ""), (f"ETA {_duration(self.eta(now))}", "bold")]
        extra = [(f"{_duration(now - self.start)} elapsed", "dim")]
        if c.get("skipped"):
            extra.append((f"{c['skipped']} skipped", "dim"))
        sep = " · "

        def length(parts) -> int:
            return sum(len(t) for t, _ in parts) + len(sep) * (len(parts) - 1)

        parts = list(core)
        room = width - 2 - length(parts) - 1
        name = ""
        if room >= 8:
            cap = min(room, 24)
            name = label if len(label) <= cap else label[:cap - 1] + "…"
        for e in extra:
            if 2 + (len(name) + 1 if name else 0) + length(parts + [e]) <= width:
                parts.append(e)
        room = width - 2 - (len(name) + 1 if name else 0) - length(parts)
        bar = room - 1 if room >= 11 else 0
        text = Text(spinner + " ")
        if name:
            text.append(name + " ", style="bold")
        if bar:
            filled = round(bar * self.done / max(self.total, 1))
            text.append("━" * filled, style="green")
            text.append("━" * (bar - filled) + " ", style="grey37")
        for i, (t, style) in enumerate(parts):
            if i:
                text.append(sep, style="dim")
            text.append(t, style=style)
        return text


class RunProgress:
    """Progress of one site's run on stderr. On a terminal, a live line fitted to its width
    (counts, failures, rate and ETA, then more as room allows); otherwise (CI logs, cron mail)
    one plain line every ``interval`` seconds with the same figures. ``--quiet`` uses no
    RunProgress at all."""

    def __init__(self, console: Console, label: str, clock=time.monotonic, interval: float = 30.0,
                 budget: int | None = None, live: bool | None = None):
        self.console = console
        self.label = label
        self.clock = clock
        self.interval = interval
        self.figures = ProgressFigures(clock(), budget)
        self.live_mode = console.is_terminal if live is None else live
        self.last: dict[str, int] = {}
        self.next_line = self.figures.start + interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live = None

    def __rich_console__(self, console: Console, options):
        yield self.figures.line(self.label, self.clock(), options.max_width)

    def __enter__(self):
        if self.live_mode:
            from rich.live import Live

            self._live = Live(self, console=self.console, transient=True, refresh_per_second=4)
            self._live.start()
        else:  # the first line after one interval: a quick run, or one that fails at once, prints none
            self._thread = threading.Thread(target=self._beat, name="a11ycrawl-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._live is not None:
            self._live.stop()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _beat(self) -> None:
        while not self._stop.wait(min(self.interval, 1.0)):
            self.tick()

    def tick(self) -> bool:
        """Print the plain line if one is due (not on a terminal); True if it printed."""
        if self.live_mode:
            return False
        now = self.clock()
        with self._lock:
            if now < self.next_line:
                return False
            self.next_line = now + self.interval
            line = self.figures.plain(self.label, now)
        self.console.print(Text(line), soft_wrap=True)
        return True

    def update(self, **counts: int) -> None:
        self.last = counts
        with self._lock:
            self.figures.update(self.clock(), counts)
        self.tick()


def print_summary(console: Console, store, run_id: int, top: int = 10) -> None:
    s = run_summary(store, run_id, top)
    run = s["run"]
    console.print()
    console.rule(f"[bold]{escape(run['site'])}[/] — run {run['id']} ({run['status']})")
    t = Table(title="Coverage", show_header=True, header_style="bold")
    for col in ("to audit", "audited", "unsettled", "clean", "failed", "skipped", "documents"):
        t.add_column(col, justify="right")
    unsettled = s["unsettled"]
    cov = s["coverage"]  # the score's count: to audit = audited + failed + unfinished (budget, Ctrl-C)
    t.add_row(str(cov.audited + cov.failed + cov.unfinished), str(cov.audited),
              f"[yellow]{len(unsettled)}[/]" if unsettled else "0", str(s["clean_pages"]),
              str(cov.failed), str(run["pages_skipped"]), str(s["documents"]))
    console.print(t)
    if s["scope"]["text"]:
        console.print(Text(f"Scope: {s['scope']['text']}"), soft_wrap=True)
    if unsettled:
        t = Table(title="Audited before they settled (partial results: the page was still busy at the settle cap)",
                  header_style="bold")
        t.add_column("page", overflow="fold")
        t.add_column("waited", justify="right")
        t.add_column("still pending", overflow="fold")
        for p in unsettled[:top]:
            st = p["settle"] or {}
            t.add_row(escape(p["url"]), f"{st.get('ms') or 0} ms", ", ".join(st.get("pending") or []))
        console.print(t)
        if len(unsettled) > top:
            console.print(f"[dim]… and {len(unsettled) - top} more ('a11ycrawl export --format json' lists them).[/]")
    dc = s["document_checks"]
    if dc["checked"] or dc["unparsed"] or dc["fetch_failed"]:
        console.print(Text(
            f"PDFs: {dc['checked']} checked, {dc['with_failures']} with accessibility failures, "
            f"{dc['unparsed']} unreadable, {dc['fetch_failed']} not fetched, "
            f"{dc['possibly_exempt']} possibly exempt (before 23 September 2018)"), soft_wrap=True)
    st = s["statement"]
    if st["url"] is None:
        console.print(Text("Accessibility statement: not found among the audited pages"), soft_wrap=True)
    else:
        missing = [r["id"] for r in st["requirements"] if r["status"] == "missing"]
        console.print(Text(f"Accessibility statement: {st['url']} "
                           f"({len(st['requirements']) - len(missing)} of {len(st['requirements'])} requirements met"
                           + (f"; missing: {', '.join(missing)}" if missing else "") + ")"), soft_wrap=True)
    across_pages(console, s["site_checks"])
    third_party_table(console, s["third_party"])
    t = Table(title="Violations by impact (axe-core " + (run["axe_version"] or "?") + ")", header_style="bold")
    t.add_column("impact")
    t.add_column("rules", justify="right")
    t.add_column("elements", justify="right")
    for i in IMPACTS:
        t.add_row(f"[{IMPACT_STYLE[i]}]{i}[/]", str(s["by_impact"][i]["rules"]), str(s["by_impact"][i]["nodes"]))
    console.print(t)
    if s["top_rules"]:
        t = Table(title="Top rules", header_style="bold")
        for col, j in (("rule", "left"), ("impact", "left"), ("pages", "right"), ("elements", "right"), ("what", "left")):
            t.add_column(col, justify=j, overflow="fold")
        for r in s["top_rules"]:
            t.add_row(r["rule"], f"[{IMPACT_STYLE.get(r['impact'], '')}]{r['impact']}[/]", str(r["pages"]), str(r["nodes"]), escape(r["help"] or ""))
        console.print(t)
    if s["worst_pages"]:
        t = Table(title="Worst pages", header_style="bold")
        t.add_column("page", overflow="fold")
        t.add_column("rules failed", justify="right")
        t.add_column("elements", justify="right")
        for p in s["worst_pages"]:
            t.add_row(escape(p["url"]), str(p["violations"]), str(p["nodes"]))
        console.print(t)
    if s["reasons"]:
        t = Table(title="Not audited", header_style="bold")
        t.add_column("state")
        t.add_column("reason")
        t.add_column("URLs", justify="right")
        for r in s["reasons"]:
            t.add_row(r["status"], r["reason_code"] or "", str(r["count"]))
        console.print(t)
    broken = s["broken_links"]
    if broken:
        t = Table(title=f"Broken links ({len(broken)}: linked URLs answering 404 or 410; not counted against "
                        "coverage)", header_style="bold")
        t.add_column("URL", overflow="fold")
        t.add_column("status", justify="right")
        t.add_column("linked from", overflow="fold")
        for b in broken[:10]:
            t.add_row(escape(b["url"]), str(b["http_status"] or ""), escape(b["linked_from"] or ""))
        if len(broken) > 10:
            t.add_row(f"...and {len(broken) - 10} more (see --json or 'a11ycrawl export')", "", "")
        console.print(t)
    score = s["score"]
    if score is not None:
        if score["score"] is None:
            console.print(f"[bold]Score:[/] none — {escape(score['reason'] or '')}")
        else:
            console.print(f"[bold]Score: {score['score']:.1f}/10[/] ({score['model_version']}, axe-core "
                          f"{score['axe_version']}): {score_explanation(s['components'])}")
        parts_table(console, s["parts"])
        fix_first_table(console, s["fix_first"])
    review = s["needs_review"]
    if review:
        pages = len({url for g in review for p in g.patterns for url, _ in p.pages})
        elements = sum(g.elements for g in review)
        console.print(
            f"[bold]Needs review:[/] {elements} element{'s' if elements != 1 else ''} on {pages} "
            f"page{'s' if pages != 1 else ''} ({len(review)} rule{'s' if len(review) != 1 else ''}: "
            f"{escape(', '.join(g.rule for g in review))}) that axe-core could not decide on; not scored, "
            "check them by hand ('a11ycrawl report' lists them).")
    if run.get("error"):
        console.print(f"[yellow]note:[/] {escape(run['error'])}")


def across_pages(console: Console, checks) -> None:
    """The cross-page checks: a line saying how many passed, and each failing one with its WCAG
    criteria, the number of pages and the evidence sentence."""
    if not checks:
        return
    failing = [f for f in checks if f.status == "fail"]
    judged = [f for f in checks if f.status != "not-applicable"]
    console.print(Text(f"Across pages: {len(judged) - len(failing)} of {len(judged)} checks passed"
                       + (f" ({len(checks) - len(judged)} not applicable)" if len(judged) < len(checks) else "")),
                  soft_wrap=True)
    if failing:
        t = Table(title="Across pages (failing checks)", header_style="bold")
        t.add_column("check")
        t.add_column("WCAG")
        t.add_column("pages", justify="right")
        t.add_column("evidence", overflow="fold")
        for f in failing:
            t.add_row(f.check, ", ".join(f.criteria), str(len(f.pages)), escape(f.detail))
        console.print(t)


def third_party_table(console: Console, groups) -> None:
    """Failing elements inside frames from other origins, by supplier (they count in the score)."""
    if not groups:
        return
    t = Table(title="Third-party content (failing elements in other origins' frames; counted in the score)",
              header_style="bold")
    t.add_column("supplier", overflow="fold")
    t.add_column("pages", justify="right")
    t.add_column("elements", justify="right")
    t.add_column("rules", overflow="fold")
    for g in groups:
        t.add_row(escape(g.vendor), str(len(g.pages)), str(g.elements),
                  escape(", ".join(f"{r} ({n})" for r, n in g.rules)))
    console.print(t)


def score_explanation(c: dict) -> str:
    """What a stored score's components say, in a sentence (model 3: its parts' points; model 2:
    points lost; model 1: page shares and the impact factor)."""
    if c.get("parts"):
        scored = [p for p in c["parts"] if p["status"] == "scored"]
        left = [PART_LABELS.get(p["name"], p["name"]) for p in c["parts"] if p["status"] != "scored"]
        return (" + ".join(f"{PART_LABELS.get(p['name'], p['name'])} {p['points']:.2f}" for p in scored)
                + (f" ({', '.join(left)}: not applicable, weight shared out)" if left else "")
                + "; fixing anything never lowers it")
    if c.get("lost") is not None:
        n = len(c.get("rules") or [])
        return (f"{c['lost']:.1f} point{'s' if c['lost'] != 1 else ''} lost to {n} failing WCAG A/AA "
                f"rule{'s' if n != 1 else ''}; fixing a rule everywhere gains what it costs")
    return (f"{c.get('free_a', 0):.0%} of pages free of Level A failures, {c.get('free_aa', 0):.0%} free of A and AA; "
            f"impact factor {c.get('impact', 0):.2f}")


def fix_first_table(console: Console, items, title: str = "Fix first") -> None:
    """Render :func:`reports.data.fix_first`'s ranked list (the same list everywhere): the first
    :data:`~reports.data.FIX_FIRST` rules, and how many more there are."""
    if not items:
        return
    items, rest = items[:FIX_FIRST], items[FIX_FIRST:]
    only_rules = all(f.part == "pages" for f in items + rest)
    t = Table(title=f"{title}: what fixing each rule on every page adds to the score" if only_rules else
              f"{title}: what each fix adds to the score (a rule fixed on every page, a PDF check passed on every "
              "PDF failing it, a statement requirement met, a cross-page check passed), each alone",
              header_style="bold",
              caption=None if not rest else
              (f"and {len(rest)} more failing rule{'s' if len(rest) != 1 else ''}, worth about "
               f"+{FixFirst.together(rest):.1f} in all" if only_rules else
               f"and {len(rest)} more fix{'es' if len(rest) != 1 else ''}, each worth +{max(f.gain for f in rest):.1f} "
               "or less"))
    for col, j in (("#", "right"), ("rule" if only_rules else "fix", "left"), ("gain", "right"),
                   ("pages" if only_rules else "where", "right"), ("impact", "left"), ("WCAG", "left")):
        t.add_column(col, justify=j, overflow="fold")
    for i, f in enumerate(items, 1):
        t.add_row(str(i), escape(f.label), f"+{f.gain:.1f}", f.where,
                  (f"[{IMPACT_STYLE.get(f.impact, '')}]{f.impact}[/]" + (f" (Level {f.level})" if f.level else ""))
                  if f.part == "pages" else "", escape("; ".join(f.wcag)))
    console.print(t)


def parts_table(console: Console, parts, title: str = "How the score is made") -> None:
    """Model 3: each part of the score with its weight, its own score and the points it adds (they
    add up to the score, to rounding); nothing for an older model's score."""
    if not parts:
        return
    t = Table(title=f"{title} (points add up to the score, to rounding)", header_style="bold")
    for col, j in (("part", "left"), ("weight", "right"), ("part score", "right"), ("points", "right"),
                   ("detail", "left")):
        t.add_column(col, justify=j, overflow="fold")
    for p in parts:
        if p["status"] == "scored":
            weight = f"{p['weight']:.2f}" + (f" → {p['applied_weight']:.3f}"
                                             if abs(p["applied_weight"] - p["weight"]) > 1e-9 else "")
            t.add_row(PART_LABELS.get(p["name"], p["name"]), weight, f"{p['score']:.2f}/10", f"{p['points']:.2f}",
                      escape(p["detail"]))
        else:
            t.add_row(PART_LABELS.get(p["name"], p["name"]), f"{p['weight']:.2f} → 0", "—", "—", escape(p["detail"]))
    console.print(t)


def print_comparison(console: Console, store, run_ids: list[int]) -> None:
    """One row per run, best score first: what the demo prints at the end."""
    rows = []
    for rid in run_ids:
        s = run_summary(store, rid, top=1)
        rows.append((s, s["score"]["score"] if s["score"] else None))
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0)))
    t = Table(title="Comparison", header_style="bold")
    t.add_column("site", overflow="fold", min_width=12)
    for col in ("score", "pages", "clean", "failed", "crit.", "ser.", "mod.", "minor"):  # fits 80 columns
        t.add_column(col, justify="right", no_wrap=True)
    for s, score in rows:
        run = s["run"]
        t.add_row(escape(run["site"]), "-" if score is None else f"{score:.1f}", str(run["pages_audited"]), str(s["clean_pages"]),
                  str(run["pages_failed"]), *(str(s["by_impact"][i]["nodes"]) for i in IMPACTS))
    console.print()
    console.print(t)
    models = sorted({s["score"]["model_version"] for s, _ in rows if s["score"]})
    console.print(f"[dim]Score out of 10 ({', '.join(models) or 'not scored'}); failing elements per impact "
                  "(critical, serious, moderate, minor). "
                  "Next: 'a11ycrawl league', 'a11ycrawl history SITE', 'a11ycrawl demo --variant after' then "
                  "'a11ycrawl diff A B'.[/]")


def print_reuse(console: Console, store, run_id: int) -> None:
    """After a re-audit: how many pages were carried over unchanged from the previous run."""
    run = store.get_run(run_id)
    reused = run.get("pages_reused") or 0
    audited = run.get("pages_audited") or 0
    if reused:
        console.print(f"Reused {reused} of {audited} audited pages unchanged from the previous comparable run "
                      f"(not rendered again); {audited - reused} rendered and audited. --full renders every page.")
