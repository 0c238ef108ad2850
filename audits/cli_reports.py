"""The report commands: ``report`` (HTML), ``export`` (JSON, CSV, SQLite) and ``check`` (the CI
gate).

Registered on the ``a11ycrawl`` group by :mod:`audits.cli` (``register(cli)``). Each command
parses its options, calls the library (:mod:`reports.html`, :mod:`reports.export`,
:mod:`audits.gate`, :mod:`reports.ci`) and picks an exit code. People's output goes to stderr;
stdout carries machine output only (an export to ``-``, GitHub Actions workflow commands).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console

from .cli_scores import _open_store, db_option, sites_option

EXIT_OK, EXIT_GATE, EXIT_TOOL = 0, 1, 2


def _console() -> Console:
    return Console(stderr=True, highlight=False)


site_option = click.option("--site", help="Site name (as 'a11ycrawl league' lists them); default: the latest run's site.")
run_option = click.option("--run", "run_id", type=int, help="Run id (see 'a11ycrawl history SITE'); default: the site's latest complete run.")


@click.command("report")
@db_option
@site_option
@run_option
@sites_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="a11ycrawl-report.html", show_default=True,
              help="HTML file to write.")
def report_cmd(db, site, run_id, sites_file, output):
    """Write one self-contained HTML report of a run: score, rank, change since the last run and
    progress against targets; trend charts; the league table (when several sites are stored);
    new, fixed and still-present failures; issues grouped by rule across pages with WCAG
    criteria and how to fix them; and a page-by-page drill-down.

    The file has no external scripts, fonts or styles: open it offline, mail it, print it.

    \b
    Examples:
      a11ycrawl report -o report.html
      a11ycrawl report --site "Northbrook District Council" --sites config/sites.example.toml -o northbrook.html
      a11ycrawl report --run 12 -o run-12.html
    """
    from reports.html import write_report

    from .history import load_goals

    store = _open_store(db)
    others = store.sites()
    rep = write_report(store, output, site=site, run_id=run_id, goals=load_goals(sites_file))
    console = _console()
    console.print(f"Wrote {output}: {rep.site}, run {rep.run['id']}, score "
                  f"{'—' if rep.score is None else f'{rep.score:.1f}'}, {len(rep.issues)} failing rule(s) "
                  f"on {len(rep.pages)} page(s).")
    if not site and run_id is None and len(others) > 1:
        console.print(f"[dim]{len(others)} sites are stored; this report is about the latest run's site. "
                      f"Choose another with --site NAME ('a11ycrawl league' lists them).[/]")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "sqlite"]), required=True,
              help="json: the run (the documented contract); csv: one row per failing element; "
                   "sqlite: a copy of the database that Datasette opens as it is.")
@db_option
@site_option
@click.option("--run", "run_id", type=int, help="Run id; default: the latest complete run (for sqlite: every run).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write ('-' for stdout, json and csv only).")
def export_cmd(fmt, db, site, run_id, output):
    """Export stored results as JSON, CSV or SQLite.

    \b
    Examples:
      a11ycrawl export --format json -o run.json
      a11ycrawl export --format csv --site "Westfold County Council" -o westfold.csv
      a11ycrawl export --format sqlite -o results.db && datasette results.db
    """
    from reports.data import pick_run
    from reports.export import write_export

    store = _open_store(db)
    if fmt == "sqlite" and run_id is None and not site:
        chosen = None
    else:
        chosen = pick_run(store, site, run_id)["id"]
    text = write_export(store, fmt, output, chosen)
    if text:
        click.echo(text, nl=False)
    else:
        what = "every run" if chosen is None else f"run {chosen}"
        _console().print(f"Wrote {output} ({fmt}, {what}).")


def _read_url_list(path: str) -> list[str]:
    from crawler.urls import is_http_url

    from .errors import ConfigError

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--urls {path}: cannot read it: {exc.strerror}") from None
    urls = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not is_http_url(line):
            raise ConfigError(f"--urls {path}: line {n}: {line[:80]!r} is not an http(s) URL")
        urls.append(line)
    if not urls:
        raise ConfigError(f"--urls {path}: no URLs in it (one http(s) URL a line; # starts a comment)")
    return urls


def _target_flags(target, urls_file, sitemap, directory) -> tuple[dict, str | None]:
    """What to audit, as config flags, and the directory to serve (if any)."""
    if target and not (urls_file or sitemap or directory) and "://" not in target:
        if Path(target).is_dir():
            directory, target = target, None
        elif Path(target).is_file():
            urls_file, target = target, None
    if len([x for x in (target, urls_file, sitemap, directory) if x]) != 1:
        raise click.UsageError("give exactly one thing to check: URL, --urls FILE, --sitemap URL or --dir PATH")
    if urls_file:
        urls = _read_url_list(urls_file)
        hosts = sorted({urlsplit(u).netloc for u in urls[1:]} - {urlsplit(urls[0]).netloc})
        return {"start_url": urls[0], "urls": urls[1:], "follow_links": False, "sitemaps": False,
                "allowed_hosts": [h.split(":")[0] for h in hosts] or None}, None
    if sitemap:
        parts = urlsplit(sitemap)
        return {"start_url": f"{parts.scheme}://{parts.netloc}/", "sitemap_urls": [sitemap], "follow_links": False,
                "sitemaps": False}, None
    if directory:
        return {}, directory
    return {"start_url": target}, None


@click.command("check")
@click.argument("target", required=False)
@click.option("--urls", "urls_file", type=click.Path(dir_okay=False), help="Audit exactly the URLs in FILE (one a line).")
@click.option("--sitemap", help="Audit exactly the URLs of this sitemap (and the site's home page).")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Serve this directory of built static files on 127.0.0.1 and crawl it.")
@db_option
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file (default: ./a11ycrawl.toml or [tool.a11ycrawl] in ./pyproject.toml).")
@click.option("--name", help="Site name the run is stored under (default: the host; for --dir, the directory's name).")
@click.option("--max-pages", type=int, help="Page budget (default 500).")
@click.option("--max-depth", type=int, help="Link depth from the start URL (default 10).")
@click.option("--concurrency", type=int, help="Browser pages audited at once (default 2).")
@click.option("--page-timeout", type=float, help="Seconds per page for loading and axe (default 30).")
@click.option("--tags", help="Comma-separated axe-core tags (default: WCAG 2.0-2.2 A and AA).")
@click.option("--chromium", help="Path to the Chromium/Chrome binary.")
@click.option("--min-score", type=click.FloatRange(0, 10), help="Fail below this score (0-10).")
@click.option("--max-critical", type=click.IntRange(0), help="Fail with more critical failing elements than this.")
@click.option("--max-serious", type=click.IntRange(0), help="Fail with more serious failing elements than this.")
@click.option("--max-moderate", type=click.IntRange(0), help="Fail with more moderate failing elements than this.")
@click.option("--max-minor", type=click.IntRange(0), help="Fail with more minor failing elements than this.")
@click.option("--baseline", help="Fail on failures not in this baseline: a file (see --write-baseline) or a stored run id.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Write this run's failures to FILE as a baseline to commit.")
@click.option("--ignore-file", type=click.Path(dir_okay=False), help="TOML file with [[ignore]] tables (added to the config file's).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Write JUnit XML to FILE.")
@click.option("--sarif", "sarif_file", type=click.Path(dir_okay=False), help="Write SARIF 2.1.0 to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the HTML report of the run to FILE.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when the gate fails (scheduled runs); tool failures still exit 2.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr (the verdict is still printed).")
def check_cmd(target, urls_file, sitemap, directory, db, config_file, name, max_pages, max_depth, concurrency,
              page_timeout, tags, chromium, min_score, max_critical, max_serious, max_moderate, max_minor, baseline,
              write_baseline, ignore_file, junit_file, sarif_file, html_file, exit_zero, quiet):
    """Audit a site for CI and apply a gate: exit 0 if it passes, 1 if it fails.

    TARGET is a URL to crawl; or use --urls FILE (a URL list), --sitemap URL, or --dir PATH (a
    directory of built static files, served by a11ycrawl on 127.0.0.1 while it is audited). A
    directory or file given as TARGET is taken as --dir or --urls.

    The gate: --min-score, --max-critical/--max-serious/--max-moderate/--max-minor (failing
    elements), and --baseline ("no new failures", matched by finding fingerprint). With none
    of them, any failing element fails the gate. [[ignore]] tables in a11ycrawl.toml (or
    --ignore-file) leave elements out of the gate, each with a reason:

    \b
      [[ignore]]
      rule = "color-contrast"          # and/or selector = "...", url = "regex"
      selector = ".legacy-footer *"
      reason = "Old footer, replaced in the March release (TICKET-123)"

    Under GitHub Actions (GITHUB_ACTIONS=true) failures are printed as ::error annotations on
    stdout, and a Markdown summary is appended to $GITHUB_STEP_SUMMARY.

    \b
    Examples:
      a11ycrawl check https://staging.example.gov.uk/ --max-critical 0 --junit a11y.xml
      a11ycrawl check --dir public/ --baseline a11y-baseline.json --sarif a11y.sarif
      a11ycrawl check --dir public/ --write-baseline a11y-baseline.json --exit-zero
      a11ycrawl check --urls key-pages.txt --min-score 8 --max-serious 0
      a11ycrawl check --sitemap https://www.example.gov.uk/sitemap.xml --baseline 41

    \b
    Exit codes: 0 the gate passed (or --exit-zero), 1 the gate failed,
                2 the tool could not do its job (bad usage or config, no browser, site unreachable).
    """
    import contextlib

    from reports.ci import github_annotations, junit_xml, markdown_summary, sarif_json

    from .cli import run_audits
    from .config import load_config
    from .gate import Thresholds, check_stored_run, load_ignores, read_baseline, write_baseline as save_baseline
    from .gate import baseline_from_run, dom_selector_matches, run_findings, selector_candidates, split_ignored
    from .static_server import serve_directory
    from .store import open_store

    flags, serve_dir = _target_flags(target, urls_file, sitemap, directory)
    ignores = load_ignores(ignore_file, config_file)
    thresholds = Thresholds(min_score=min_score, max_critical=max_critical, max_serious=max_serious,
                            max_moderate=max_moderate, max_minor=max_minor)
    base_file = None
    if baseline is not None and not (baseline.isdigit() and not Path(baseline).exists()):
        base_file = read_baseline(baseline)  # read before the audit: a bad file fails fast
    flags.update({k: v for k, v in dict(db=db, name=name, max_pages=max_pages, max_depth=max_depth,
                                          concurrency=concurrency, page_timeout=page_timeout, chromium=chromium,
                                          tags=[t.strip() for t in tags.split(",") if t.strip()] if tags else None,
                                          ).items() if v is not None})
    console = _console()
    files: dict[str, str] = {}
    with (serve_directory(serve_dir) if serve_dir else contextlib.nullcontext()) as server:
        if server is not None:
            flags["start_url"] = server.url
            flags.setdefault("name", Path(serve_dir).resolve().name or "site")
        cfg = load_config(flags, config_file)
        if not cfg.start_url:
            raise click.UsageError("missing TARGET (example: a11ycrawl check https://staging.example.gov.uk/)")
        outcome = run_audits([cfg], cfg.db, quiet=quiet)[0]
        store = open_store(cfg.db)
        if server is not None:
            for p in store.pages(outcome.run_id):
                f = server.file_for(p["url"])
                if f is not None:
                    files[p["url"]] = os.path.relpath(f)
        # selector ignores are checked against the live page, while --dir is still served
        pairs = selector_candidates(run_findings(store, outcome.run_id), ignores)
        dom = dom_selector_matches(pairs, cfg.chromium, cfg.page_timeout) if pairs else frozenset()
    if baseline is not None and base_file is None:
        base_file = baseline_from_run(store, int(baseline))
    report = check_stored_run(store, outcome.run_id, thresholds=thresholds, baseline=base_file, ignores=ignores,
                              files=files, dom_matches=dom)
    outputs = [(junit_file, junit_xml), (sarif_file, sarif_json)]
    for path, render in outputs:
        if path:
            Path(path).write_text(render(report), encoding="utf-8")
    if html_file:
        from reports.html import write_report

        write_report(store, html_file, run_id=outcome.run_id)
    if write_baseline:
        counted, _ = split_ignored(run_findings(store, outcome.run_id), ignores, dom)
        n = save_baseline(write_baseline, counted)
        console.print(f"Wrote baseline {write_baseline}: {n} failing element(s).")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        click.echo(github_annotations(report), nl=False)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(markdown_summary(report))
    _print_verdict(console, report)
    if not report.gate.passed and not exit_zero:
        sys.exit(EXIT_GATE)


def _print_verdict(console: Console, report) -> None:
    from reports.ci import verdict_line
    from rich.markup import escape

    g = report.gate
    for c in g.checks:
        mark = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
        console.print(f"  {mark} {c.name}: {escape(c.detail)}", soft_wrap=True)
    new = g.new or ()
    for f in new[:10]:
        console.print(f"  [red]new:[/] {escape(f'{f.rule} ({f.impact}) on {f.url}: {f.selector}')}", soft_wrap=True)
    if len(new) > 10:
        console.print(f"  ...and {len(new) - 10} more new failing elements")
    if g.ignored:
        console.print(f"  {len(g.ignored)} failing element(s) ignored by configuration")
    style = "bold green" if g.passed else "bold red"
    console.print(f"[{style}]{escape(verdict_line(report))}[/]", soft_wrap=True)


def register(cli: click.Group) -> None:
    """Add the report commands to the ``a11ycrawl`` group."""
    for command in (report_cmd, export_cmd, check_cmd):
        cli.add_command(command)
