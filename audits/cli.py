"""The ``a11ycrawl`` command line: a thin layer over the library.

Exit codes (a contract, also in the README):
  0  the command did its job (for ``check``: the gate passed)
  1  ``check``: the gate failed
  2  the tool could not do its job: bad usage, bad config, no browser, site unreachable
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from rich.console import Console

from . import __version__
from .errors import A11yCrawlError, ConfigError
from .runtime import Interrupted

EXIT_OK, EXIT_GATE, EXIT_TOOL = 0, 1, 2


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str) -> "NoReturn":  # noqa: F821
    from rich.markup import escape

    stderr_console().print(f"[bold red]a11ycrawl: error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(EXIT_TOOL)


db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="SQLite results database (default: a11ycrawl.db in the current directory, or A11YCRAWL_DB).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="a11ycrawl")
def cli() -> None:
    """a11ycrawl: crawl a website, audit every page with axe-core in headless Chromium,
    keep every result in SQLite, and score sites 0-10 over time.

    \b
    Examples:
      a11ycrawl demo                                 # three sample council sites, offline
      a11ycrawl audit https://www.example.gov.uk/ --max-pages 200
      a11ycrawl audit https://www.example.gov.uk/ --json run.json

    \b
    Exit codes: 0 done (check: gate passed), 1 check: gate failed,
                2 the tool could not do its job (bad usage, config, browser, site).
    """


def _audit_flags(**kw) -> dict:
    return {k: v for k, v in kw.items() if v is not None and v != ()}


@cli.command()
@click.argument("url", required=False)
@db_option
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file (default: ./a11ycrawl.toml or [tool.a11ycrawl] in ./pyproject.toml).")
@click.option("--name", help="Site name used in history and league tables (default: the host).")
@click.option("--max-pages", type=int, help="Page budget (default 500).")
@click.option("--max-depth", type=int, help="Link depth from the start URL (default 10).")
@click.option("--max-time", type=float, help="Time budget for the run, in seconds (default: none).")
@click.option("--concurrency", type=int, help="Browser pages audited at once (default 2, for 2 cores).")
@click.option("--page-timeout", type=float, help="Seconds per page for loading and axe (default 30).")
@click.option("--tags", help="Comma-separated axe-core tags (default: wcag2a,wcag2aa,wcag21a,wcag21aa,wcag22aa).")
@click.option("--include", multiple=True, help="Regex a URL must match to be in scope (repeatable).")
@click.option("--exclude", multiple=True, help="Regex that puts a URL out of scope (repeatable).")
@click.option("--allow-host", "allowed_hosts", multiple=True, help="Extra host to crawl besides the start URL's (repeatable).")
@click.option("--subdomains/--no-subdomains", "include_subdomains", default=None, help="Also crawl subdomains of the allowed hosts.")
@click.option("--robots/--no-robots", "obey_robots", default=None, help="Obey robots.txt (default: obey).")
@click.option("--sitemaps/--no-sitemaps", default=None, help="Read robots.txt sitemaps and /sitemap.xml (default: yes).")
@click.option("--chromium", help="Path to the Chromium/Chrome binary (else A11YCRAWL_CHROMIUM, then the usual paths, Chromium's headless shell first).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True), help="Write the run as JSON to FILE ('-' for stdout).")
@click.option("--all", "all_sites", is_flag=True, help="Audit every site in the site list (--sites).")
@click.option("--sites", "sites_file", type=click.Path(dir_okay=False), help="Site list TOML for --all (default: the config's [[sites]]).")
@click.option("--resume", is_flag=True, help="Continue the site's last interrupted run instead of starting a new one.")
@click.option("--full", is_flag=True, help="Re-render every page even if unchanged since the last run.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Show the crawler's log on stderr.")
def audit(url, db, config_file, name, max_pages, max_depth, max_time, concurrency, page_timeout, tags, include,
          exclude, allowed_hosts, include_subdomains, obey_robots, sitemaps, chromium, json_file, all_sites,
          sites_file, resume, full, quiet, verbose):
    """Crawl URL, audit every page found with axe-core, store and summarise the run.

    \b
    Examples:
      a11ycrawl audit https://www.example.gov.uk/
      a11ycrawl audit https://www.example.gov.uk/ --max-pages 100 --exclude '/search' --json run.json
      a11ycrawl audit https://www.example.gov.uk/ --resume      # after Ctrl-C or a crash
      a11ycrawl audit --all --sites config/sites.example.toml   # every site in a list

    Progress and the summary go to stderr; --json - writes the run's JSON to stdout.
    """
    from .config import load_config
    from .sites import load_sites

    flags = _audit_flags(
        start_url=url, db=db, name=name, max_pages=max_pages, max_depth=max_depth, max_time=max_time,
        concurrency=concurrency, page_timeout=page_timeout,
        tags=[t.strip() for t in tags.split(",") if t.strip()] if tags else None,
        include=list(include) or None, exclude=list(exclude) or None, allowed_hosts=list(allowed_hosts) or None,
        include_subdomains=include_subdomains, obey_robots=obey_robots, sitemaps=sitemaps, chromium=chromium,
        full=full or None,
    )
    if all_sites:
        if url:
            raise click.UsageError("give either URL or --all, not both")
        cfgs = load_sites(sites_file, flags, config_file)
    else:
        if not url:
            base = load_config(flags, config_file)
            if not base.start_url:
                raise click.UsageError("missing URL (example: a11ycrawl audit https://www.example.gov.uk/)")
            cfgs = [base]
        else:
            cfgs = [load_config(flags, config_file)]
    outcomes = run_audits(cfgs, cfgs[0].db, quiet=quiet, verbose=verbose, resume=resume, keep_going=all_sites)
    from .store import open_store

    store = open_store(cfgs[0].db)
    if json_file:
        _write_json(store, outcomes, json_file)
    if any(o.error and o.status == "failed" for o in outcomes):
        sys.exit(EXIT_TOOL)


@cli.command()
@db_option
@click.option("--variant", type=click.Choice(["before", "after"]), default="before", show_default=True,
              help="Serve the sites as they are, or 'after' a round of fixes (and one new failure).")
@click.option("--serve", is_flag=True, help="Only serve the three sites on 127.0.0.1 until Ctrl-C, to try 'audit' by hand.")
@click.option("--concurrency", type=int, help="Browser pages audited at once (default 2).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True), help="Write the runs as JSON to FILE.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summaries on stderr.")
def demo(db, variant, serve, concurrency, json_file, quiet):
    """Audit three fictional council websites served on 127.0.0.1 and compare them.

    Northbrook (good), Eastmarsh (middling) and Westfold (poor) each have 40-odd pages:
    services A-Z, news, forms, tables, committee papers as PDFs, a web-chat iframe and an
    accessibility statement. Works offline. Results go to the database like any audit,
    so 'history', 'league' and 'diff' work on them afterwards.

    \b
    Examples:
      a11ycrawl demo                      # audit all three, print each summary and the league
      a11ycrawl demo --variant after      # audit them again after some fixes, then:
      a11ycrawl league                    #   ranks, rank changes and the biggest climber
      a11ycrawl demo --serve              # just serve them, e.g. for 'a11ycrawl audit URL'
    """
    import time

    from .demo import demo_configs, demo_sites

    console = stderr_console()
    with demo_sites(variant) as sites:
        if serve:
            for s in sites:
                click.echo(f"{s.name}: {s.url}")
            console.print("[dim]Serving until Ctrl-C.[/]")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return
        cfgs = demo_configs(sites, _audit_flags(db=db, concurrency=concurrency))
        outcomes = run_audits(cfgs, cfgs[0].db, quiet=quiet, keep_going=True)
    from .store import open_store

    store = open_store(cfgs[0].db)
    if not quiet:
        from reports.terminal import print_comparison

        print_comparison(console, store, [o.run_id for o in outcomes if o.run_id])
    if json_file:
        _write_json(store, outcomes, json_file)
    if any(o.status == "failed" for o in outcomes):
        sys.exit(EXIT_TOOL)


def _write_json(store, outcomes, json_file) -> None:
    from reports.data import run_document

    docs = [run_document(store, o.run_id) for o in outcomes if o.run_id]
    payload = docs[0] if len(docs) == 1 else {"runs": docs}
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if json_file == "-":
        click.echo(text)
    else:
        Path(json_file).write_text(text + "\n", encoding="utf-8")


def run_audits(cfgs, db, quiet=False, verbose=False, resume=False, keep_going=False):
    """Audit configs with progress and summaries on stderr; returns the outcomes."""
    from reports.terminal import RunProgress, print_summary

    from .api import audit_sites
    from .store import open_store

    console = stderr_console()
    store = open_store(db)

    def progress(label: str):
        if quiet:
            import contextlib

            from .pipeline import NullProgress

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
    outcomes = audit_sites(cfgs, store, progress=progress, resume=resume, keep_going=keep_going,
                           log_level="INFO" if verbose else None, after_run=after)
    return outcomes


from .cli_scores import register; register(cli)  # noqa: E402,E702  history, league, diff, rescore
from .cli_reports import register as register_reports; register_reports(cli)  # noqa: E402,E702  report, export, check


def main(argv=None) -> None:
    """Console entry point: usage errors and our own errors become one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="a11ycrawl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see 'a11ycrawl {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.info_name != "a11ycrawl" else " (see 'a11ycrawl --help')"
        fail(exc.format_message() + hint)
    except click.Abort:
        fail("aborted")
    except A11yCrawlError as exc:
        fail(str(exc))
    except Interrupted:
        stderr_console().print("[yellow]a11ycrawl: interrupted; what was audited is saved. Continue with --resume.[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        stderr_console().print("[yellow]a11ycrawl: interrupted.[/]")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:  # e.g. --json into a folder that does not exist
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:  # a bug: still one line, with what to report
        fail(f"internal error ({type(exc).__name__}: {exc}); please report it with the command you ran")
    sys.exit(0)


if __name__ == "__main__":
    main()
