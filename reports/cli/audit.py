"""The audit commands: ``audit`` (crawl, audit, store and summarise sites) and ``demo``."""

from __future__ import annotations

import sys

import click

from reports.cli.common import (
    EXIT_TOOL, add_budget_options, audit_flags, config_option, db_option, run_audits, stderr_console, write_json,
)


@click.command()
@click.argument("url", required=False)
@db_option
@config_option
@click.option("--name", help="Site name used in history and league tables (default: the host).")
@add_budget_options
@click.option("--max-time", type=float, help="Time budget for the run, in seconds (default: none).")
@click.option("--include", multiple=True, help="Regex a URL must match to be in scope (repeatable).")
@click.option("--exclude", multiple=True, help="Regex that puts a URL out of scope (repeatable).")
@click.option("--allow-host", "allowed_hosts", multiple=True, help="Extra host to crawl besides the start URL's (repeatable).")
@click.option("--subdomains/--no-subdomains", "include_subdomains", default=None, help="Also crawl subdomains of the allowed hosts.")
@click.option("--robots/--no-robots", "obey_robots", default=None, help="Obey robots.txt (default: obey).")
@click.option("--sitemaps/--no-sitemaps", default=None, help="Read robots.txt sitemaps and /sitemap.xml (default: yes).")
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

    Progress and the summary go to stderr; --json - writes the run's JSON to stdout, also when
    the start URL cannot be audited (the run, failed, with the reason; exit code 2).
    """
    from audits.config import load_config
    from audits.sites import load_sites

    flags = audit_flags(
        start_url=url, db=db, name=name, max_pages=max_pages, max_depth=max_depth, max_time=max_time,
        concurrency=concurrency, page_timeout=page_timeout, tags=tags,
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
    from audits.errors import CrawlError
    from audits.store import open_store

    try:
        outcomes = run_audits(cfgs, cfgs[0].db, quiet=quiet, verbose=verbose, resume=resume, keep_going=all_sites)
    except CrawlError as exc:
        # the run is stored as failed, with the reason: --json still gets it before exit 2
        if json_file and exc.run_id:
            write_json(open_store(cfgs[0].db), [exc], json_file)
        raise
    store = open_store(cfgs[0].db)
    if json_file:
        write_json(store, outcomes, json_file)
    if any(o.error and o.status == "failed" for o in outcomes):
        sys.exit(EXIT_TOOL)


@click.command()
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

    from audits.demo import demo_configs, demo_sites

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
        cfgs = demo_configs(sites, audit_flags(db=db, concurrency=concurrency))
        outcomes = run_audits(cfgs, cfgs[0].db, quiet=quiet, keep_going=True)
    from audits.store import open_store

    store = open_store(cfgs[0].db)
    if not quiet:
        from reports.terminal import print_comparison

        print_comparison(console, store, [o.run_id for o in outcomes if o.run_id])
    if json_file:
        write_json(store, outcomes, json_file)
    if any(o.status == "failed" for o in outcomes):
        sys.exit(EXIT_TOOL)


