"""The audit commands: ``audit`` (crawl, audit, store and summarise sites) and ``demo``."""

from __future__ import annotations

import sys

import click

from reports.cli.common import (
    EXIT_TOOL, add_budget_options, add_scope_options, audit_flags, config_option, db_option, open_results,
    progress_option, run_audits, stderr_console, write_json,
)


@click.command()
@click.argument("url", required=False)
@db_option
@config_option
@click.option("--name", help="Site name used in history and league tables (default: the host).")
@add_budget_options
@add_scope_options
@click.option("--allow-host", "allowed_hosts", multiple=True, help="Extra host to crawl besides the start URL's (repeatable). Login secrets are never sent to it; "
              "from a public start URL a loopback, private or link-local host is refused.")
@click.option("--subdomains/--no-subdomains", "include_subdomains", default=None, help="Also crawl subdomains of the allowed hosts.")
@click.option("--robots/--no-robots", "obey_robots", default=None, help="Obey robots.txt (default: obey).")
@click.option("--sitemaps/--no-sitemaps", default=None, help="Read robots.txt sitemaps and /sitemap.xml (default: yes).")
@click.option("--max-documents", type=click.IntRange(min=0), default=None,
              help="Linked PDFs to fetch and check for accessibility (tags, title, language, text, alt text...) "
                   "in this run; 0 lists them without fetching (default 50).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True), help="Write the run as JSON to FILE ('-' for stdout).")
@click.option("--all", "all_sites", is_flag=True, help="Audit every site in the site list (--sites).")
@click.option("--sites", "sites_file", type=click.Path(dir_okay=False), help="Site list TOML for --all (default: the config's [[sites]]).")
@click.option("--parallel", type=click.IntRange(1, 16), default=1, show_default=True,
              help="With --all: audit this many sites at once, over one browser (or one set of --browser-endpoint "
                   "servers) and one database; each site keeps its own --concurrency, budgets and run.")
@click.option("--browser-endpoint", "browser_endpoints", multiple=True, metavar="WS_URL",
              help="Playwright browser server to audit in, ws://HOST:PORT/ as 'playwright run-server' prints it "
                   "(repeatable: pages are spread over them). See README, 'Remote browsers'.")
@click.option("--remote-network-fenced", is_flag=True, default=None,
              help="With --browser-endpoint and a public URL: the browser servers' own network blocks "
                   "loopback, private and link-local addresses (this machine's address fence cannot reach them).")
@click.option("--webdriver", metavar="URL",
              help="Selenium Grid 4 to audit in, http://HOST:4444 (its router or hub): one WebDriver session "
                   "per --concurrency page, queued while the Grid is full. See README, 'Selenium Grid'.")
@click.option("--egress-host", metavar="ADDRESS",
              help="With --webdriver on other machines and a public URL: an address of this machine that the "
                   "Grid's nodes reach, where the address fence's proxy listens (default 127.0.0.1).")
@click.option("--resume", is_flag=True, help="Continue the site's last interrupted run instead of starting a new one.")
@click.option("--full", is_flag=True, help="Re-render every page even if unchanged since the last run.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
@progress_option
@click.option("-v", "--verbose", is_flag=True, help="Show the crawler's log on stderr (login secrets masked as ***).")
def audit(url, db, config_file, name, max_pages, max_depth, max_time, concurrency, page_timeout, tags, scope, include,
          exclude, allowed_hosts, include_subdomains, obey_robots, sitemaps, chromium, json_file, all_sites,
          sites_file, parallel, browser_endpoints, remote_network_fenced, webdriver, egress_host, resume, full, quiet, progress_interval, verbose, max_documents):
    """Crawl URL, audit every page found with axe-core, store and summarise the run.

    \b
    Examples:
      a11ycrawl audit https://www.example.gov.uk/
      a11ycrawl audit https://www.example.gov.uk/ --max-pages 100 --exclude '/search' --json run.json
      a11ycrawl audit https://www.example.gov.uk/planning/   # only /planning/ and below
      a11ycrawl audit https://www.example.gov.uk/planning/index.html --scope host   # the whole host
      a11ycrawl audit https://www.example.gov.uk/ --resume      # after Ctrl-C or a crash
      a11ycrawl audit --all --sites config/sites.example.toml   # every site in a list
      a11ycrawl audit --all --parallel 3                        # three sites at a time
      a11ycrawl audit http://intranet.local/ --browser-endpoint ws://10.0.0.5:3000/ --browser-endpoint ws://10.0.0.6:3000/
      a11ycrawl audit https://www.example.gov.uk/ --webdriver http://grid:4444 --egress-host 10.0.0.2 --concurrency 8

    A start URL below / keeps the crawl in its directory (as wget --no-parent:
    https://host/before/home.html covers https://host/before/ and below, https://host/a/b
    covers /a/); --scope host takes the whole host. --allow-host hosts and --subdomains are
    whole-host; --include/--exclude narrow what is in scope, never widen it.

    Progress and the summary go to stderr: on a terminal a live line (pages done, failures,
    rate, time left); otherwise (CI logs, cron mail) a plain line every 30 s (--progress-interval).
    --json - writes the run's JSON to stdout. After Ctrl-C the JSON is still written, with every
    URL known to the run (those not audited marked "interrupted").
    The JSON is written also when the start URL cannot be audited (the run, failed, with the
    reason; exit code 2).

    Besides axe-core's results per page, the summary and the JSON give checks across pages
    (consistent navigation and identification, multiple ways, empty and duplicate titles,
    language) and group failures inside other origins' frames (a chat widget, a payment form) by
    supplier. Such frames are loaded and audited with their page; the crawler never follows them.
    """
    from audits.config import load_config
    from audits.sites import load_sites

    flags = audit_flags(
        start_url=url, db=db, name=name, max_pages=max_pages, max_depth=max_depth, max_time=max_time,
        concurrency=concurrency, page_timeout=page_timeout, tags=tags,
        scope=scope, include=include, exclude=exclude, allowed_hosts=list(allowed_hosts) or None,
        include_subdomains=include_subdomains, obey_robots=obey_robots, sitemaps=sitemaps, chromium=chromium,
        full=full or None, browser_endpoints=list(browser_endpoints) or None,
        remote_network_fenced=remote_network_fenced or None, max_documents=max_documents,
        webdriver=webdriver, egress_host=egress_host,
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
    if json_file and json_file != "-":
        from reports.files import prepare_output

        prepare_output(json_file, "--json")  # before an hour of auditing, not after
    from audits.engine.runtime import Interrupted
    from audits.errors import CrawlError
    from audits.store import open_store

    try:
        outcomes = run_audits(cfgs, cfgs[0].db, quiet=quiet, verbose=verbose, resume=resume, keep_going=all_sites,
                              progress_interval=progress_interval, parallel=parallel)
    except Interrupted as exc:
        if json_file and getattr(exc, "run_ids", None):
            write_json(open_store(cfgs[0].db), [], json_file, run_ids=exc.run_ids)
        raise
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
              help="Serve the sites as they are, or 'after' a round of fixes (pages, PDFs, Eastmarsh's "
                   "statement; and one new failure).")
@click.option("--serve", is_flag=True, help="Only serve the three sites on 127.0.0.1 until Ctrl-C, to try 'audit' by hand.")
@click.option("--concurrency", type=int, help="Browser pages audited at once (default 2).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True), help="Write the runs as JSON to FILE.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summaries on stderr.")
def demo(db, variant, serve, concurrency, json_file, quiet):
    """Audit three fictional council websites served on 127.0.0.1 and compare them.

    Northbrook (good), Eastmarsh (middling) and Westfold (poor) each have 40-odd pages:
    services A-Z, news, forms, tables, committee papers as PDFs (tagged, untagged, untitled,
    scanned: Northbrook's are clean), a web-chat iframe, and an accessibility statement
    (Northbrook's complete, Eastmarsh's incomplete, Westfold has none). Works offline. Results
    go to the database like any audit, so 'history', 'league', 'diff' and 'report' (with its
    Documents and Accessibility statement sections) work on them afterwards.

    \b
    Examples:
      a11ycrawl demo                      # audit all three, print each summary and the league
      a11ycrawl demo --variant after      # audit them again after some fixes, then:
      a11ycrawl league                    #   ranks, score and rank changes (climbers gain places)
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




@click.command("close")
@click.argument("run_id", type=int)
@db_option
def close_cmd(run_id, db):
    """Close a run that was killed and is still marked running (a power cut, the OOM killer,
    kill -9): it becomes incomplete, like a run stopped with Ctrl-C. What it audited is kept and
    scored, the URLs it did not reach count as not audited, and 'a11ycrawl audit URL --resume'
    can still continue it.

    \b
    Examples:
      a11ycrawl history www.example.gov.uk     # run 12: running (for days)
      a11ycrawl close 12
    """
    from audits.errors import StoreError
    from audits.results import score_run

    store = open_results(db)
    run = store.get_run(run_id)
    if run["status"] != "running":
        raise StoreError(f"run {run_id} of {run['site']} is {run['status']}, not running: nothing to close")
    store.finish_run(run_id, "incomplete", error="interrupted: closed with 'a11ycrawl close' (the run had been killed)")
    score = score_run(store, run_id)
    run = store.get_run(run_id)
    stderr_console().print(
        f"Closed run {run_id} of {run['site']}: incomplete, {run['pages_audited']} page(s) audited; score "
        + ("none" if score.score is None else f"{score.score:.1f}") + f". Continue it with: a11ycrawl audit "
        f"{run['start_url']} --resume", soft_wrap=True, highlight=False)
