"""The CI gate: ``a11ycrawl check``. Audits a URL, a URL list, a sitemap or a built directory,
applies thresholds, a baseline and ignores, and writes JUnit, SARIF, annotations and a summary.

Exit codes: 0 the gate passed, 1 it failed, 2 the tool could not do its job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console

from reports.cli.common import (
    EXIT_GATE, add_budget_options, add_scope_options, audit_flags, config_option, db_option, progress_option,
    run_audits, stderr_console,
)


def _read_url_list(path: str) -> list[str]:
    from audits.config import validate_url
    from audits.errors import ConfigError

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"--urls {path}: cannot read it: {exc.strerror}") from None
    urls = []
    for n, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise ConfigError(f"--urls {path}: line {n}: byte 0x{raw[exc.start]:02x} (column {exc.start + 1}) is not "
                              "UTF-8; save the file as UTF-8, one http(s) URL a line") from None
        if not line or line.startswith("#"):
            continue
        try:
            urls.append(validate_url(line))
        except ValueError as exc:
            raise ConfigError(f"--urls {path}: line {n}: {exc}") from None
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
        elif target.startswith(("/", ".", "~")) or ("/" in target and "." not in target.split("/")[0]):
            # a path, not a host name: say so rather than "not an http(s) URL"
            from audits.errors import ConfigError
            raise ConfigError(f"{target}: no such file or directory (a directory is checked as --dir, a file "
                              "as --urls; a site by its URL, e.g. https://www.example.gov.uk/)")
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
@click.option("--urls", "urls_file", type=click.Path(dir_okay=False), help="Audit exactly the URLs in FILE (UTF-8, one a line, # comments).")
@click.option("--sitemap", help="Audit exactly the URLs of this sitemap (and the site's home page).")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Serve this directory of built static files on 127.0.0.1 and crawl it.")
@db_option
@config_option
@click.option("--name", help="Site name the run is stored under (default: the host; for --dir, the directory's name).")
@add_budget_options
@add_scope_options
@click.option("--min-score", type=click.FloatRange(0, 10),
              help="Fail below this score (0-10, the default model a11ycrawl-score/3: pages, linked PDFs, the "
                   "accessibility statement and cross-page checks; a --urls or --sitemap run that did not include "
                   "the statement is not scored on it).")
@click.option("--max-critical", type=click.IntRange(0), help="Fail with more critical failing elements than this.")
@click.option("--max-serious", type=click.IntRange(0), help="Fail with more serious failing elements than this.")
@click.option("--max-moderate", type=click.IntRange(0), help="Fail with more moderate failing elements than this.")
@click.option("--max-minor", type=click.IntRange(0), help="Fail with more minor failing elements than this.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=90, show_default=True,
              help="Fail when fewer than this percentage of the pages the run set out to audit were audited "
                   "(the rest failed: HTTP errors, timeouts, the site down; broken links, 404/410, do not "
                   "count here). 0 turns it off.")
@click.option("--max-broken-links", type=click.IntRange(0), default=0, show_default=True,
              help="Fail with more linked URLs answering 404 or 410 than this (they are listed apart from "
                   "coverage).")
@click.option("--baseline", help="Fail on failures not in this baseline: a file (see --write-baseline) or a stored run id.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Write this run's failures to FILE as a baseline to commit.")
@click.option("--ignore-file", type=click.Path(dir_okay=False), help="TOML file with [[ignore]] tables (added to the config file's).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Write JUnit XML to FILE.")
@click.option("--sarif", "sarif_file", type=click.Path(dir_okay=False), help="Write SARIF 2.1.0 to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the HTML report of the run to FILE.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the run as JSON to FILE ('-' for stdout), as 'audit --json' does.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when the gate fails (scheduled runs); tool failures still exit 2.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr (the verdict is still printed).")
@progress_option
def check_cmd(target, urls_file, sitemap, directory, db, config_file, name, max_pages, max_depth, concurrency,
              page_timeout, tags, chromium, max_time, scope, include, exclude, min_score, max_critical, max_serious,
              max_moderate, max_minor, min_coverage, max_broken_links, baseline, write_baseline, ignore_file, junit_file, sarif_file, html_file,
              json_file, exit_zero, quiet, progress_interval):
    """Audit a site for CI and apply a gate: exit 0 if it passes, 1 if it fails.

    TARGET is a URL to crawl; or use --urls FILE (a URL list), --sitemap URL, or --dir PATH (a
    directory of built static files, served by a11ycrawl on 127.0.0.1 while it is audited). A
    directory or file given as TARGET is taken as --dir or --urls.

    The gate: --min-coverage (default 90: at least 90% of the pages the run set out to audit
    were audited; broken links do not count against it), --max-broken-links (default 0: a link
    to a page that answers 404 or 410 fails the gate), --min-score, --max-critical/--max-serious/--max-moderate/--max-minor
    (failing elements), and --baseline ("no new failures", matched by finding fingerprint).
    With none of the last three, any failing element fails the gate. A --sitemap (or config
    sitemap_urls) that gives no page to audit, or an empty --urls file, is an error (exit 2).

    [[ignore]] tables in a11ycrawl.toml (or --ignore-file) leave elements out of the gate, each
    with a reason. A selector must be one cssselect can read (else exit 2); it ignores an element
    when axe-core's selector for it proves the match, or else when the page itself says the
    element matches (Chromium's element.matches()):

    \b
      [[ignore]]
      rule = "color-contrast"          # and/or selector = "...", url = "regex"
      selector = ".legacy-footer *"
      reason = "Old footer, replaced in the March release (TICKET-123)"

    Under GitHub Actions (GITHUB_ACTIONS=true) failures are printed as ::error annotations on
    stdout, and a Markdown summary is appended to $GITHUB_STEP_SUMMARY.

    For --dir, every output names pages by their path on the site (/contact.html), never by
    the temporary server's port, and JUnit and SARIF hold no time or run id: checking the same
    build twice gives byte-identical files. Everything that can be checked before the audit
    (baseline file or run, ignore file, output paths) is checked first.

    \b
    Examples:
      a11ycrawl check https://staging.example.gov.uk/ --max-critical 0 --junit a11y.xml
      a11ycrawl check --dir public/ --baseline a11y-baseline.json --sarif a11y.sarif
      a11ycrawl check --dir public/ --write-baseline a11y-baseline.json --exit-zero
      a11ycrawl check --urls key-pages.txt --min-score 8 --max-serious 0
      a11ycrawl check --sitemap https://www.example.gov.uk/sitemap.xml --baseline 41
      a11ycrawl check https://www.example.gov.uk/ --exclude '/search' --max-time 1800 --json run.json

    \b
    Exit codes: 0 the gate passed (or --exit-zero), 1 the gate failed,
                2 the tool could not do its job (bad usage or config, no browser, site unreachable).
    """
    import contextlib

    from reports.ci import github_annotations, junit_xml, markdown_summary, sarif_json

    from audits.config import load_config
    from audits.analysis.gate import Thresholds, check_sitemaps, load_ignores, read_baseline, selector_candidates, split_ignored
    from audits.analysis.gate import write_baseline as save_baseline
    from audits.engine.dom_match import dom_selector_matches
    from audits.results import baseline_from_run, check_stored_run, run_findings, run_pages
    from audits.engine.static_server import serve_directory
    from audits.store import open_store

    from audits.engine.runtime import Interrupted
    from reports.ci import with_site_paths
    from reports.files import prepare_output, write_text

    flags, serve_dir = _target_flags(target, urls_file, sitemap, directory)
    ignores = load_ignores(ignore_file, config_file)
    thresholds = Thresholds(min_score=min_score, max_critical=max_critical, max_serious=max_serious,
                            max_moderate=max_moderate, max_minor=max_minor, min_coverage=min_coverage or None,
                            max_broken_links=max_broken_links)
    base_file = None
    if baseline is not None and not (baseline.isdigit() and not Path(baseline).exists()):
        base_file = read_baseline(baseline)  # read before the audit: a bad file fails fast
    for option, path in (("--junit", junit_file), ("--sarif", sarif_file), ("--html", html_file),
                         ("--json", json_file), ("--write-baseline", write_baseline)):
        if path and path != "-":
            prepare_output(path, option)  # a typo in a path fails now, not after an hour of auditing
    flags.update(audit_flags(db=db, name=name, max_pages=max_pages, max_depth=max_depth, concurrency=concurrency,
                             page_timeout=page_timeout, chromium=chromium, tags=tags, max_time=max_time,
                             scope=scope, include=include, exclude=exclude))
    console = stderr_console()
    files: dict[str, str] = {}
    root = None
    with (serve_directory(serve_dir) if serve_dir else contextlib.nullcontext()) as server:
        if server is not None:
            flags["start_url"] = root = server.url
            flags.setdefault("name", Path(serve_dir).resolve().name or "site")
        cfg = load_config(flags, config_file)
        if not cfg.start_url:
            raise click.UsageError("missing TARGET (example: a11ycrawl check https://staging.example.gov.uk/)")
        if baseline is not None and base_file is None:
            # a stored run as the baseline: it must exist before we audit
            baseline_from_run(open_store(cfg.db, create=False), int(baseline))
        try:
            outcome = run_audits([cfg], cfg.db, quiet=quiet, progress_interval=progress_interval)[0]
        except Interrupted as exc:
            if json_file and getattr(exc, "run_ids", None):
                _write_run_json(open_store(cfg.db), exc.run_ids[-1], json_file, root)
            raise
        store = open_store(cfg.db)
        check_sitemaps(run_pages(store, outcome.run_id), cfg.sitemap_urls)  # fails closed: exit 2
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
    report = with_site_paths(report, root)  # --dir: /contact.html, not the temporary port; pages in order
    outputs = [(junit_file, junit_xml), (sarif_file, sarif_json)]
    for path, render in outputs:
        if path:
            write_text(path, render(report))
    if html_file:
        from reports.html import write_report

        write_report(store, html_file, run_id=outcome.run_id)
    if json_file:
        _write_run_json(store, outcome.run_id, json_file, root)
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


def _write_run_json(store, run_id: int, json_file: str, root: str | None) -> None:
    """The run's JSON document (``audit --json``'s), for --dir with pages named by their path."""
    import json

    from reports.data import run_document, with_site_paths
    from reports.files import write_text

    doc = run_document(store, run_id)
    if root:
        doc = with_site_paths(doc, root)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if json_file == "-":
        click.echo(text, nl=False)
    else:
        write_text(json_file, text)


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
