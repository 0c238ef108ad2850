"""The score commands: ``history``, ``league``, ``diff`` and ``rescore``.

Like every
command, each parses its options, calls one library function and renders. What the command
exists to produce (its tables, or ``--json``) goes to stdout, so that it can be redirected;
messages go to stderr. Errors are :mod:`audits.errors`
exceptions, which the CLI's ``main`` turns into one line and exit code 2.

"""

from __future__ import annotations

import click

from audits.analysis.scoring import MODEL_VERSION, MODELS
from reports.cli.common import db_option, json_option, open_results, sites_option, stdout_console

model_option = click.option(
    "--model", type=click.Choice(MODELS), default=MODEL_VERSION, show_default=True,
    help="Scoring model whose stored scores to show ('a11ycrawl rescore' stores every model's); a run "
         "without a score under it shows its latest, with the model noted.",
)


@click.command("history")
@click.argument("site")
@db_option
@sites_option
@model_option
@json_option
def history_cmd(site, db, sites_file, model, as_json):
    """Show every run of SITE: date, score, change since the previous run, pages, violations by
    impact, scoring model and axe-core version; then how the latest score is made (under
    a11ycrawl-score/3: the pages, PDFs, statement and cross-page parts with their weights and
    points), its components, what to fix first (every fix with what it adds to the score: a rule
    fixed on every page, with the pages it fails on and its WCAG criteria; a PDF check; a
    statement requirement; a cross-page check) and the site's progress against its baseline and
    targets.

    SITE is the name runs are stored under ('a11ycrawl league' lists them).

    \b
    Examples:
      a11ycrawl history "Northbrook District Council"
      a11ycrawl history www.example.gov.uk --sites config/sites.example.toml
      a11ycrawl history www.example.gov.uk --json > history.json
      a11ycrawl history www.example.gov.uk --model a11ycrawl-score/2   # the pages alone
    """
    from reports.tables import print_history, to_json

    from audits.analysis.history import load_goals
    from audits.results import history

    goals = load_goals(sites_file)
    h = history(open_results(db), site, goals.get(site), model=model)
    if as_json:
        click.echo(to_json(h))
    else:
        print_history(stdout_console(), h)


@click.command("league")
@click.option("--db", "dbs", type=click.Path(dir_okay=False), multiple=True,
              help="SQLite results database (default: a11ycrawl.db in the current directory, or A11YCRAWL_DB); "
                   "repeat it to rank the sites of several databases (one per coordinator) as one league.")
@sites_option
@model_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="table (default), csv (one row per site) or json; written to stdout alone.")
@json_option
def league_cmd(dbs, sites_file, model, fmt, as_json):
    """Rank every site by the score of its latest complete scored run, with the change in score
    and places since each site's previous run, the biggest climbers and progress against targets.

    Ties share a rank (1, 2, 2, 4). The title names the scoring model and axe-core version of the
    ranked scores; a site whose latest run was scored under another model or audited with another
    axe-core version than most sites is listed as not comparable, without a rank.

    A site whose run is not like most sites' keeps its rank with a mark, explained under the
    table (and as "marks" with reasons in JSON and CSV): B stopped at its page budget, P another
    page budget, S another scope (one directory or the whole host), R another rule set (axe
    tags). Each site's broken links (linked URLs answering 404/410) are counted. Sites named in
    --sites FILE that were never audited are listed as such.

    \b
    Examples:
      a11ycrawl league
      a11ycrawl league --sites config/sites.example.toml
      a11ycrawl league > league.txt
      a11ycrawl league --format csv > league.csv
      a11ycrawl league --format json > league.json     # same as --json
      a11ycrawl league --model a11ycrawl-score/1
      a11ycrawl league --db north.db --db south.db     # sites sharded over two coordinators
    """
    from reports.tables import league_csv, print_league, to_json

    from audits.analysis.history import climbers, load_goals
    from audits.results import league

    stores = [open_results(db) for db in dbs] or [open_results(None)]
    rows = league(stores, load_goals(sites_file), model=model)
    up = climbers(rows)
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"give --format {fmt} or --json, not both")
    fmt = "json" if as_json else fmt or "table"
    if fmt == "json":
        click.echo(to_json({"model_version": model, "sites": rows, "climbers": [r.site for r in up]}))
    elif fmt == "csv":
        click.echo(league_csv(rows), nl=False)
    else:
        print_league(stdout_console(), rows, up)


@click.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@db_option
@json_option
def diff_cmd(run_a, run_b, db, as_json):
    """Compare the violations of two runs: new in RUN_B, fixed since RUN_A, still present.

    Findings are matched by fingerprint (rule, normalised URL, stable selector, normalised
    snippet), so small DOM changes do not make a finding look fixed and new. Only pages audited
    in both runs are compared. Run ids are shown by 'a11ycrawl history SITE'.

    \b
    Examples:
      a11ycrawl diff 12 15
      a11ycrawl diff 12 15 --json | jq '.new[].rule'
    """
    from reports.tables import print_diff, to_json

    from audits.results import diff_runs

    d = diff_runs(open_results(db), run_a, run_b)
    if as_json:
        click.echo(to_json(d))
    else:
        print_diff(stdout_console(), d)


@click.command("rescore")
@db_option
@json_option
def rescore_cmd(db, as_json):
    """Recompute the score of every stored run under every scoring model (the current one,
    a11ycrawl-score/3; a11ycrawl-score/2, its pages part; and a11ycrawl-score/1, which reproduces
    the figures it gave), store each beside the others, and report how many runs' shown scores
    (under the current model) changed: a score whose value differs, or one shown under an older
    model that now stands under the current one. A run with no score before and none after (a
    failed run, or one with no page audited, which rescoring cannot help) has not changed.
    Everything is read from the database (pages, findings, the PDFs' checks, the statement's page
    facts): nothing is crawled again and raw results are never changed.

    \b
    Examples:
      a11ycrawl rescore
      a11ycrawl rescore --db results/councils.db --json
    """
    from reports.tables import print_rescore, to_json

    from audits.results import rescore_all

    report = rescore_all(open_results(db))
    if as_json:
        click.echo(to_json(report))
    else:
        print_rescore(stdout_console(), report)
