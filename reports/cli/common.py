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
import sys
from pathlib import Path
from typing import Callable, NoReturn

import click
from rich.console import Console

EXIT_OK, EXIT_GATE, EXIT_TOOL = 0, 1, 2


def stderr_console() -> Console:
    """People's output (progress, summaries, messages) goes to stderr; stdout is for machines."""
    return Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """Print ``a11ycrawl: error: MESSAGE`` on one line and exit 2."""
    from rich.markup import escape

    stderr_console().print(f"[bold red]a11ycrawl: error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(EXIT_TOOL)


db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="SQLite results database (default: a11ycrawl.db in the current directory, or A11YCRAWL_DB).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Write JSON to stdout instead of tables to stderr.")
sites_option = click.option(
    "--sites", "sites_file", type=click.Path(dir_okay=False),
    help="Site list TOML with baselines and targets (default: [[sites]] in a11ycrawl.toml, if any).",
)
config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False),
    help="TOML config file (default: ./a11ycrawl.toml or [tool.a11ycrawl] in ./pyproject.toml).",
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


def audit_flags(**kw) -> dict:
    """Options the user gave, as config keys (None and empty tuples are "not given")."""
    if isinstance(kw.get("tags"), str):
        kw["tags"] = [t.strip() for t in kw["tags"].split(",") if t.strip()] or None
    return {k: v for k, v in kw.items() if v is not None and v != () and v != []}


def open_results(db: str | None, create: bool = False):
    """The results database named by --db, A11YCRAWL_DB or the config file (it must exist unless
    ``create``)."""
    from audits.config import load_config
    from audits.store import open_store

    return open_store(load_config({"db": db} if db else {}).db, create=create)


def run_audits(cfgs, db, quiet=False, verbose=False, resume=False, keep_going=False):
    """Audit configs with progress and summaries on stderr; returns the outcomes."""
    from audits.engine.pipeline import NullProgress
    from audits.engine.runner import audit_sites
    from audits.store import open_store
    from reports.terminal import RunProgress, print_summary

    console = stderr_console()
    store = open_store(db)

    def progress(label: str):
        if quiet:
            return contextlib.nullcontext(NullProgress())
        return RunProgress(console, label)

    def after(outcome):
        if quiet:
            return
        if outcome.status == "failed":
            from rich.markup import escape

            console.print(f"[bold red]{escape(outcome.site)}:[/] {escape(outcome.error or '')}")
        else:
            print_summary(console, store, outcome.run_id)

    if verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    return audit_sites(cfgs, store, progress=progress, resume=resume, keep_going=keep_going,
                       log_level="INFO" if verbose else None, after_run=after)


def write_json(store, outcomes, json_file) -> None:
    """Write the runs' JSON documents (one run: the document itself; several: ``{"runs": [...]}``).

    ``outcomes`` are anything with a ``run_id``: run outcomes, or the CrawlError of a run that failed.
    """
    from reports.data import run_document

    docs = [run_document(store, o.run_id) for o in outcomes if o.run_id]
    payload = docs[0] if len(docs) == 1 else {"runs": docs}
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if json_file == "-":
        click.echo(text)
    else:
        Path(json_file).write_text(text + "\n", encoding="utf-8")
