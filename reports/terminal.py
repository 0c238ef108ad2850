"""Rich terminal output: live progress while a run goes on, then the summary tables."""

from __future__ import annotations

import json
import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from reports.data import IMPACTS, run_summary

IMPACT_STYLE = {"critical": "bold red", "serious": "red", "moderate": "yellow", "minor": "cyan"}


class RunProgress:
    """A live progress display for one site: discovered, audited, failed, skipped, rate."""

    def __init__(self, console: Console, label: str, clock=time.monotonic):
        self.console = console
        self.clock = clock
        self.start = clock()
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} pages"), TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
        )
        self.task = self.progress.add_task(label, total=1, detail="starting")
        self.last: dict[str, int] = {}

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def update(self, **counts: int) -> None:
        self.last = counts
        done = counts.get("audited", 0) + counts.get("failed", 0)
        total = max(counts.get("discovered", 0), done, 1)
        elapsed = max(self.clock() - self.start, 1e-6)
        detail = (f"[green]{counts.get('audited', 0)} audited[/] [red]{counts.get('failed', 0)} failed[/] "
                  f"{counts.get('skipped', 0)} skipped {counts.get('documents', 0)} docs "
                  f"{counts.get('audited', 0) / elapsed:.1f}/s")
        self.progress.update(self.task, completed=done, total=total, detail=detail)


def print_summary(console: Console, store, run_id: int, top: int = 10) -> None:
    s = run_summary(store, run_id, top)
    run = s["run"]
    console.print()
    console.rule(f"[bold]{escape(run['site'])}[/] — run {run['id']} ({run['status']})")
    t = Table(title="Coverage", show_header=True, header_style="bold")
    for col in ("discovered", "audited", "unsettled", "clean", "failed", "skipped", "documents"):
        t.add_column(col, justify="right")
    unsettled = s["unsettled"]
    t.add_row(str(run["pages_discovered"]), str(run["pages_audited"]),
              f"[yellow]{len(unsettled)}[/]" if unsettled else "0", str(s["clean_pages"]),
              str(run["pages_failed"]), str(run["pages_skipped"]), str(s["documents"]))
    console.print(t)
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
    score = store.score(run_id)
    if score is not None:
        if score["score"] is None:
            console.print(f"[bold]Score:[/] none — {score['reason']}")
        else:
            c = json.loads(score["components"] or "{}")
            console.print(
                f"[bold]Score: {score['score']:.1f}/10[/] ({score['model_version']}, axe-core {score['axe_version']}): "
                f"{c.get('free_a', 0):.0%} of pages free of Level A failures, {c.get('free_aa', 0):.0%} free of A and AA; "
                f"impact factor {c.get('impact', 0):.2f}"
            )
    if run.get("error"):
        console.print(f"[yellow]note:[/] {escape(run['error'])}")


def print_comparison(console: Console, store, run_ids: list[int]) -> None:
    """One row per run, best score first: what the demo prints at the end."""
    rows = []
    for rid in run_ids:
        s = run_summary(store, rid, top=1)
        score = store.score(rid)
        rows.append((s, score["score"] if score else None))
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0)))
    t = Table(title="Comparison", header_style="bold")
    t.add_column("site", overflow="fold", min_width=12)
    for col in ("score", "pages", "clean", "failed", "crit.", "serious", "mod.", "minor"):
        t.add_column(col, justify="right", no_wrap=True)
    for s, score in rows:
        run = s["run"]
        t.add_row(escape(run["site"]), "-" if score is None else f"{score:.1f}", str(run["pages_audited"]), str(s["clean_pages"]),
                  str(run["pages_failed"]), *(str(s["by_impact"][i]["nodes"]) for i in IMPACTS))
    console.print()
    console.print(t)
    console.print("[dim]Score out of 10; failing elements per impact. Next: 'a11ycrawl league', 'a11ycrawl history SITE', "
                  "'a11ycrawl demo --variant after' then 'a11ycrawl diff A B'.[/]")
