"""What every command shares: exit codes, the stderr console, one-line errors, and the option
groups declared once (datasette's ``add_common_...`` style) and attached with a decorator.

Exit codes (a contract, also in the README):
  0  the command did its job (for ``check``: the gate passed)
  1  ``check``: the gate failed
  2  the tool could not do its job: bad usage, bad config, no browser, site unreachable
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from typing import Callable, NoReturn

import click
from rich.console import Console

EXIT_OK, EXIT_GATE, EXIT_TOOL = 0, 1, 2


def stderr_console() -> Console:
    """People's output (progress, summaries, messages) goes to stderr; stdout is for machines."""
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    """What a command exists to produce (a league table, a history) goes to stdout, so that it
    can be redirected. Piped to a file, tables keep their natural width (nothing wrapped or left
    out) unless COLUMNS says otherwise; on a terminal they fit its width."""
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=1000)
    return console


def fail(message: str) -> NoReturn:
    """Print ``a11ycrawl: error: MESSAGE`` on one line and exit 2."""
    from rich.markup import escape

    stderr_console().print(f"[bold red]a11ycrawl: error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(EXIT_TOOL)


db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="SQLite results database (default: a11ycrawl.db in the current directory, or A11YCRAWL_DB).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Write JSON to stdout instead of the tables.")
sites_option = click.option(
    "--sites", "sites_file", type=click.Path(dir_okay=False),
    help="Site list TOML with baselines and targets (default: [[sites]] in a11ycrawl.toml, if any).",
)
config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False),
    help="TOML config file (default: ./a11ycrawl.toml or [tool.a11ycrawl] in ./pyproject.toml). "
         "A11YCRAWL_<KEY> environment variables override it (lists comma-separated), and flags override both.",
)
site_option = click.option("--site", help="Site name (as 'a11ycrawl league' lists them); default: the latest run's site.")
run_option = click.option("--run", "run_id", type=int, help="Run id (see 'a11ycrawl history SITE'); default: the site's latest complete run.")


def _compose(*decorators: Callable) -> Callable:
    def apply(f: Callable) -> Callable:
        for d in reversed(decorators):
            f = d(f)
        return f
    return apply


#: Budget and browser options shared by ``audit`` and ``check`` (declared once here).
add_budget_options = _compose(
    click.option("--max-pages", type=int, help="Page budget (default 500)."),
    click.option("--max-depth", type=int, help="Link depth from the start URL (default 10)."),
    click.option("--concurrency", type=int, help="Browser pages audited at once (default 2, for 2 cores)."),
    click.option("--page-timeout", type=float, help="Seconds per page for loading and axe (default 30; a large page's axe run gets more, see axe_ms_per_element and axe_timeout_max)."),
    click.option("--tags", help="Comma-separated axe-core tags (default: wcag2a,wcag2aa,wcag21a,wcag21aa,wcag22aa)."),
    click.option("--chromium", help="Path to the Chromium/Chrome binary (else A11YCRAWL_CHROMIUM, then the usual paths, Chromium's headless shell first)."),
)


#: Scope and time budget shared by ``audit`` and ``check`` (declared once here).
add_scope_options = _compose(
    click.option("--max-time", type=float, help="Time budget for the run, in seconds (default: none)."),
    click.option("--scope", "scope", type=click.Choice(["path", "host"]), default=None,
                 help="What the start URL covers. path (default): its directory and below, as wget --no-parent "
                      "(https://host/before/home.html -> https://host/before/); host: the whole host."),
    click.option("--include", multiple=True, help="Regex a URL must match to be in scope (repeatable; narrows the scope, never widens it)."),
    click.option("--exclude", multiple=True, help="Regex that puts a URL out of scope (repeatable)."),
)


def audit_flags(**kw) -> dict:
    """Options the user gave, as config keys (None and empty tuples are "not given")."""
    for key in ("include", "exclude"):
        if isinstance(kw.get(key), tuple):
            kw[key] = list(kw[key]) or None
    if isinstance(kw.get("tags"), str):
        kw["tags"] = [t.strip() for t in kw["tags"].split(",") if t.strip()] or None
    return {k: v for k, v in kw.items() if v is not None and v != () and v != []}


def open_results(db: str | None, create: bool = False):
    """The results database named by --db, A11YCRAWL_DB or the config file (it must exist unless
    ``create``)."""
    from audits.config import load_config
    from audits.store import open_store

    return open_store(load_config({"db": db} if db else {}).db, create=create)


progress_option = click.option(
    "--progress-interval", type=click.FloatRange(min=1), envvar="A11YCRAWL_PROGRESS_INTERVAL", default=30.0,
    show_default=True, help="When stderr is not a terminal (CI logs, cron mail): seconds between progress lines "
                            "(or A11YCRAWL_PROGRESS_INTERVAL). On a terminal the progress line is live.")


def warn_stuck_runs(console, store, cfgs) -> None:
    """Say so when a site's latest run is still marked ``running``: killed (power cut, OOM
    killer, SIGKILL), or another a11ycrawl is auditing the site right now. A new audit starts a
    new run either way; the message says how to resume or close the old one."""
    from rich.markup import escape

    from audits.engine.runner import find_resumable

    for cfg in cfgs:
        run = find_resumable(store, cfg)
        if run is None or run["status"] != "running":
            continue
        console.print(
            f"[yellow]note:[/] run {run['id']} of {escape(run['site'])} (started {escape(run['started_at'])}) is still "
            f"marked running: it was killed, or another a11ycrawl is auditing the site now. This audit starts a new run. "
            f"To continue run {run['id']} instead: a11ycrawl audit {escape(run['start_url'])} --resume; to close it: "
            f"a11ycrawl close {run['id']}.", soft_wrap=True)


def run_audits(cfgs, db, quiet=False, verbose=False, resume=False, keep_going=False, progress_interval=30.0,
               parallel=1):
    """Audit configs with progress and summaries on stderr; returns the outcomes. With
    ``parallel`` > 1 sites are audited side by side, each with its own plain progress line (a
    terminal's live line shows one run at a time).

    On Ctrl-C, :class:`~audits.engine.runtime.Interrupted` propagates with ``run_ids``: the runs
    this command started or resumed (finished or stopped), so that callers can still write them.
    """
    from audits.engine.pipeline import NullProgress
    from audits.engine.runner import audit_sites
    from audits.engine.runtime import Interrupted
    from audits.store import open_store, utcnow
    from reports.terminal import RunProgress, print_reuse, print_summary

    console = stderr_console()
    store = open_store(db)
    budgets = {cfg.site_name(): cfg.max_pages for cfg in cfgs}
    labels: list[str] = []
    done: list[int] = []
    if not resume:
        warn_stuck_runs(console, store, cfgs)

    def progress(label: str):
        labels.append(label)
        if quiet:
            return contextlib.nullcontext(NullProgress())
        live = False if parallel > 1 and len(cfgs) > 1 else None
        return RunProgress(console, label, interval=progress_interval, budget=budgets.get(label), live=live)

    def after(outcome):
        if outcome.run_id:
            done.append(outcome.run_id)
        if quiet:
            return
        if outcome.status == "failed":
            from rich.markup import escape

            console.print(f"[bold red]{escape(outcome.site)}:[/] {escape(outcome.error or '')}")
        else:
            print_summary(console, store, outcome.run_id)
            print_reuse(console, store, outcome.run_id)

    if verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    began = utcnow()
    try:
        return audit_sites(cfgs, store, progress=progress, resume=resume, keep_going=keep_going,
                           log_level="INFO" if verbose else None, after_run=after, parallel=parallel)
    except Interrupted as exc:
        in_flight = labels if parallel > 1 else labels[-1:]
        exc.run_ids = done + [r for r in _runs_touched_since(store, in_flight, began) if r not in done]
        raise


def _runs_touched_since(store, sites, began: str) -> list[int]:
    """Runs of ``sites`` started or resumed at or after ``began`` (an ISO time, seconds)."""
    out = []
    for site in sites:
        for run in store.runs(site):
            if (run["started_at"] or "") >= began or (run.get("resumed_at") or "") >= began:
                out.append(run["id"])
    return out


def write_json(store, outcomes, json_file, run_ids=None) -> None:
    """Write the runs' JSON documents (one run: the document itself; several: ``{"runs": [...]}``).
    ``outcomes`` are anything with a ``run_id``: run outcomes, or the CrawlError of a run that
    failed. ``run_ids`` instead of ``outcomes``: after Ctrl-C, the runs started (see
    :func:`run_audits`)."""
    from reports.data import run_document

    ids = list(run_ids) if run_ids is not None else [o.run_id for o in outcomes if o.run_id]
    docs = [run_document(store, r) for r in ids]
    payload = docs[0] if len(docs) == 1 else {"runs": docs}
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if json_file == "-":
        click.echo(text)
    else:
        from reports.files import write_text

        write_text(json_file, text + "\n")
