"""Terminal and JSON output for scores over time: history, league, diff and rescore.

The data comes from :mod:`audits.analysis.history`, :mod:`audits.analysis.fingerprint` and :mod:`audits.analysis.scoring`;
these functions only render it. Colour is never the only signal: changes carry a sign, rank
moves an arrow and a number, target states a word.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any, Iterable

from audits.analysis.scoring import LOAD_HALF
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.markup import escape
from rich.text import Text

from reports.data import IMPACTS, fix_first, score_parts
from reports.terminal import IMPACT_STYLE, fix_first_table, parts_table


def to_json(obj: Any) -> str:
    """A dataclass (or a dict of them) as indented JSON; dates as ISO strings."""

    def plain(o: Any) -> Any:
        if is_dataclass(o):
            return asdict(o)
        if isinstance(o, dict):
            return {k: plain(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [plain(v) for v in o]
        return o

    return json.dumps(plain(obj), indent=2, ensure_ascii=False, default=str)


def fmt_score(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"


def fmt_change(change: float | None) -> str:
    if change is None:
        return ""
    style = "green" if change > 0 else "red" if change < 0 else ""
    text = f"{change:+.1f}" if change else "±0.0"
    return f"[{style}]{text}[/]" if style else text


def fmt_rank_change(change: int | None, has_rank: bool) -> str:
    if not has_rank:
        return ""
    if change is None:
        return "new"
    if change == 0:
        return "= 0"
    return f"[green]▲ {change}[/]" if change > 0 else f"[red]▼ {-change}[/]"


def _date(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def fmt_pages(audited: int | None, to_audit: int | None) -> str:
    """Pages audited "of" the pages the run set out to audit (audited + failed + unfinished, the
    score's coverage), as the summary, ``history``, the league and the report all count them.

    >>> fmt_pages(42, 43), fmt_pages(42, 42), fmt_pages(None, None)
    ('42 of 43', '42', '')
    """
    if audited is None:
        return ""
    return f"{audited} of {to_audit}" if to_audit is not None and to_audit != audited else str(audited)


def _targets_summary(targets) -> str:
    if not targets:
        return ""
    met = sum(t.status == "met" for t in targets)
    missed = sum(t.status == "missed" for t in targets)
    return f"{met}/{len(targets)} met" + (f", {missed} missed" if missed else "")


TARGET_STYLE = {"met": "green", "open": "yellow", "missed": "bold red"}


def print_targets(console: Console, baseline, targets) -> None:
    if not targets:
        return
    title = "Targets" + (f" (baseline {baseline.score:.1f}, {baseline.source})" if baseline else "")
    t = Table(title=title, header_style="bold")
    for col in ("target", "status", "where it stands", "progress from baseline"):
        t.add_column(col)
    for p in targets:
        progress = "" if p.progress is None else f"{p.progress:.0%}"
        t.add_row(p.goal, f"[{TARGET_STYLE[p.status]}]{p.status}[/]", p.detail, progress)
    console.print(t)


def print_components(console: Console, row) -> None:
    """The parts behind one run's score, and what to fix first (by the model's gain)."""
    c = row.components
    if not c or (c.get("free_a") is None and c.get("lost") is None):
        return
    parts_table(console, score_parts(c), title=f"How score {fmt_score(row.score)} of run {row.run_id} is made "
                                               f"({row.model_version})")
    cov = c["coverage"]
    wanted = cov["audited"] + cov["failed"] + cov["unfinished"]
    t = Table(title=f"Score {fmt_score(row.score)} of run {row.run_id}: components ({row.model_version})",
              header_style="bold", show_header=True)
    t.add_column("component")
    t.add_column("value", justify="right")
    if c.get("parts"):
        t.add_row("pages: points lost to failing rules (pages score = 10 − points lost, not below 0)",
                  f"{c['lost']:.1f}")
        t.add_row("failing WCAG A/AA rules", str(len(c.get("rules") or [])))
        t.add_row("score before rounding to one decimal", f"{c['exact']:.4f}")
    elif c.get("lost") is not None:
        t.add_row("points lost to failing rules (score = 10 − points lost, not below 0)", f"{c['lost']:.1f}")
        t.add_row("failing WCAG A/AA rules", str(len(c.get("rules") or [])))
    else:
        t.add_row("pages free of Level A failures", f"{c['free_a']:.0%}")
        t.add_row("pages free of Level A and AA failures", f"{c['free_aa']:.0%}")
        t.add_row(f"impact factor 1/(1 + load/{LOAD_HALF:g})", f"{c['impact']:.2f} (load {c['load']:.2f})")
    t.add_row("coverage", f"{cov['audited']} of {wanted} pages audited")
    console.print(t)
    fix_first_table(console, fix_first(c, limit=None), title=f"Fix first (run {row.run_id})")


def wide_table(title: str | None, columns, rows, caption: str | None = None) -> Table:
    """A table with many columns: light rules and two spaces between columns, so that more fits
    in 80 columns (see :func:`print_fitted`). ``columns``: (header, justify) pairs."""
    t = Table(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1),
              collapse_padding=True, show_edge=False, pad_edge=False)
    for header, justify in columns:
        t.add_column(header, justify=justify)
    for row in rows:
        t.add_row(*row)
    return t


def _column_range(console: Console, column) -> tuple[int, int]:
    """The narrowest width (the longest word) and the natural width of a column's header and cells."""
    sizes = [Measurement.get(console, console.options, c) for c in (column.header, *column.cells)]
    return max(m.minimum for m in sizes), max(m.maximum for m in sizes)


def print_fitted(console: Console, title: str | None, columns, rows, drop: Iterable[str] = (),
                 caption: str | None = None) -> list[str]:
    """Print a :func:`wide_table` within the console's width without breaking a word or cropping
    a column: while its longest words do not fit, the columns named in ``drop`` are left out, in
    that order, and a line says which. Columns then get at least their longest word, and the
    room left goes to those that would wrap (rich's own squeezing can split words). Returns
    the headers left out."""
    width = console.width
    unbounded = console.options.update_width(10 ** 6)
    columns, rows = list(columns), [list(r) for r in rows]
    left_out: list[str] = []
    drop = list(drop)
    while True:
        table = wide_table(title, columns, rows, caption)
        ranges = [_column_range(console, c) for c in table.columns]
        gaps = console.measure(table, options=unbounded).maximum - sum(hi for _, hi in ranges)
        if sum(lo for lo, _ in ranges) + gaps <= width or not drop:
            break
        name = drop.pop(0)
        headers = [h for h, _ in columns]
        if name in headers:
            i = headers.index(name)
            del columns[i]
            for r in rows:
                del r[i]
            left_out.append(name)
    if sum(hi for _, hi in ranges) + gaps > width:
        widths = [lo for lo, _ in ranges]
        spare = width - gaps - sum(widths)
        while spare > 0 and any(w < hi for w, (_, hi) in zip(widths, ranges)):
            for i, (_, hi) in enumerate(ranges):
                if spare > 0 and widths[i] < hi:
                    widths[i] += 1
                    spare -= 1
        for column, w in zip(table.columns, widths):
            column.width = w
    console.print(table)
    if left_out:
        console.print(f"[dim]Left out at {width} columns: {', '.join(left_out)} "
                      "(widen the terminal, or use --json).[/]")
    return left_out


#: short headers for the violation columns of wide tables (explained in a line under them)
IMPACT_HEADERS = {"critical": "crit.", "serious": "ser.", "moderate": "mod.", "minor": "minor"}


def print_history(console: Console, h) -> None:
    """``a11ycrawl history``: one row per run, then the latest score's components and targets."""
    columns = [("run", "right"), ("date", "left"), ("status", "left"), ("score", "right"), ("change", "right"),
               ("pages", "right"), *((IMPACT_HEADERS[i], "right") for i in IMPACTS), ("model / axe-core", "left"),
               ("note", "left")]
    rows = []
    for r in h.rows:
        note = r.note or ("" if r.score is not None else r.reason or "")
        rows.append((
            str(r.run_id), _date(r.started_at), r.status, fmt_score(r.score), fmt_change(r.change),
            fmt_pages(r.pages_audited, r.pages_to_audit),
            *(str(r.violations.get(i, 0)) for i in IMPACTS),
            f"{r.model_version or '—'} / {r.axe_version or '?'}", escape(note),
        ))
    print_fitted(console, f"History of {escape(h.site)}", columns, rows, drop=("model / axe-core", "date", "note"),
                 caption="crit., ser., mod., minor: failing elements by impact")
    latest = h.latest
    if latest is not None:
        print_components(console, latest)
    print_targets(console, h.baseline, h.targets)


def print_league(console: Console, rows: Iterable, top_climbers: Iterable) -> None:
    """``a11ycrawl league``: rank, score, change since the previous period, targets; the title
    names the scoring model and axe-core version of the ranked scores."""

    rows = list(rows)
    engines = sorted({(r.model_version, r.axe_version) for r in rows if r.rank is not None})
    under = "; ".join(f"{m}, axe-core {a}" for m, a in engines)
    broken = any(r.broken_links for r in rows)
    columns = [("rank", "right"), ("mark", "left"), ("site", "left"), ("score", "right"), ("change", "right"),
               ("places", "right"), ("pages", "right"), *((("broken links", "right"),) if broken else ()),
               ("run", "right"), ("date", "left"), ("targets", "left"), ("note", "left")]
    table_rows = [(
        str(r.rank) if r.rank is not None else "—", fmt_marks(r.marks), escape(r.site), fmt_score(r.score),
        fmt_change(r.change), fmt_rank_change(r.rank_change, r.rank is not None),
        "" if r.pages_audited is None else str(r.pages_audited),
        *(("" if r.broken_links is None else str(r.broken_links),) if broken else ()),
        "" if r.run_id is None else str(r.run_id), _date(r.started_at), _targets_summary(r.targets),
        escape(r.note or ""),
    ) for r in rows]
    print_fitted(console, "League table" + (f" (scores under {under})" if under else ""), columns, table_rows,
                 drop=("run", "date", "pages", "targets", "broken links", "note"))
    for line in mark_legend(rows):
        console.print(Text(line), soft_wrap=True)
    up = list(top_climbers)
    if up:
        console.print("[bold]Biggest climbers:[/] " + "; ".join(
            f"{escape(r.site)} ▲ {r.rank_change} ({r.previous_rank} → {r.rank})" for r in up))


def _finding_table(title: str, findings) -> Table:
    t = Table(title=title, header_style="bold")
    for col in ("rule", "impact", "page", "element"):
        t.add_column(col, overflow="fold")
    for f in findings:
        target = " | ".join(map(str, f.target)) if isinstance(f.target, list) else str(f.target or "")
        t.add_row(escape(f.rule), f"[{IMPACT_STYLE.get(f.impact, '')}]{f.impact}[/]", Text(f.url), Text(target))
    return t


def print_diff(console: Console, d) -> None:
    """``a11ycrawl diff``: the findings new in run B and fixed since run A."""
    if d.site_a != d.site_b:
        console.print(f"[yellow]note:[/] run {d.run_a} is of {escape(d.site_a)} and run {d.run_b} of "
                      f"{escape(d.site_b)}")
    console.print(f"[bold]Run {d.run_a} → run {d.run_b}[/] ({escape(d.site_b)}): [red]{len(d.new)} new[/], "
                  f"[green]{len(d.fixed)} fixed[/], {len(d.unchanged)} still present, on {d.pages_compared} pages "
                  "audited in both runs")
    if d.new:
        console.print(_finding_table("New", d.new))
    if d.fixed:
        console.print(_finding_table("Fixed", d.fixed))
    for run, urls in ((d.run_a, d.pages_only_a), (d.run_b, d.pages_only_b)):
        if urls:
            console.print(f"{len(urls)} page(s) audited only in run {run}, not compared: " + escape(", ".join(urls[:5]))
                          + (" ..." if len(urls) > 5 else ""))


def fmt_marks(marks) -> str:
    """A league row's marks as their symbols ("B P"), in the order of :data:`MARKS`."""
    return " ".join(m.symbol for m in marks)


def mark_legend(rows) -> list[str]:
    """The footnote under a league table: each mark used, what it means, and every marked
    site's reasons."""
    from audits.analysis.history import MARKS

    rows = list(rows)
    used = {m.code for r in rows for m in r.marks}
    if not used:
        return []
    lines = ["Marks (ranked all the same; compare with care): " + "; ".join(
        f"{symbol} {meaning}" for code, (symbol, meaning) in MARKS.items() if code in used)]
    for r in rows:
        if r.marks:
            lines.append(f"  {fmt_marks(r.marks)} {r.site}: " + "; ".join(m.reason for m in r.marks))
    return lines


def print_rescore(console: Console, report) -> None:
    """``a11ycrawl rescore``: how many runs got a different score under the current model."""
    console.print(f"Rescored {report.runs} run(s) under {', '.join(report.models[:-1]) + ' and ' if len(report.models) > 1 else ''}{report.models[-1]}; under {report.model_version}, "
                  f"the one shown, {len(report.changed)} changed.")
    if report.changed:
        t = Table(header_style="bold")
        for col, j in (("run", "right"), ("site", "left"), ("before", "right"), ("model before", "left"),
                       ("after", "right")):
            t.add_column(col, justify=j)
        for c in report.changed:
            t.add_row(str(c.run_id), c.site, fmt_score(c.before), c.before_model or "not scored", fmt_score(c.after))
        console.print(t)


LEAGUE_CSV_COLUMNS = ("rank", "site", "score", "change", "previous_rank", "rank_change", "pages_audited",
                      "broken_links", "run_id", "started_at", "model_version", "axe_version", "comparable", "marks",
                      "targets", "note")
#: League CSV cells that hold text (names, notes, reasons): neutralised against spreadsheet formulas.
LEAGUE_CSV_TEXT = ("site", "started_at", "model_version", "axe_version", "marks", "targets", "note")


def league_csv(rows: Iterable) -> str:
    """The league table as CSV (RFC 4180, a header row): one row per site, best first, the
    figures unformatted (scores to one decimal as shown, empty where there is none); ``marks``
    holds each mark's reason (joined by "; "). Text cells go through
    :func:`reports.export.csv_cell`, so a site name or note starting with = + - @ opens as text."""
    import csv
    import io

    from reports.export import csv_cell

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(LEAGUE_CSV_COLUMNS)
    for r in rows:
        values = {
            "rank": r.rank, "site": r.site, "score": None if r.score is None else f"{r.score:.1f}",
            "change": None if r.change is None else f"{r.change:+.1f}", "previous_rank": r.previous_rank,
            "rank_change": r.rank_change, "pages_audited": r.pages_audited, "run_id": r.run_id,
            "started_at": r.started_at, "model_version": r.model_version, "axe_version": r.axe_version,
            "comparable": "yes" if r.comparable else "no", "targets": _targets_summary(r.targets), "note": r.note,
            "broken_links": r.broken_links,
            "marks": "; ".join(f"{m.symbol}: {m.reason}" for m in r.marks) or None,
        }
        writer.writerow(["" if values[c] is None else csv_cell(values[c]) if c in LEAGUE_CSV_TEXT else values[c]
                         for c in LEAGUE_CSV_COLUMNS])
    return buf.getvalue()
