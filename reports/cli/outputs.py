"""The output commands: ``report`` (HTML) and ``export`` (JSON, CSV, SQLite).

Each parses its options, calls the library (:mod:`reports.html`, :mod:`reports.export`) and
renders; messages go to stderr, an export to ``-`` to stdout.
"""

from __future__ import annotations


import click
from rich.text import Text

from reports.cli.common import db_option, open_results, run_option, site_option, sites_option, stderr_console

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

    from audits.analysis.history import load_goals

    store = open_results(db)
    others = store.sites()
    rep = write_report(store, output, site=site, run_id=run_id, goals=load_goals(sites_file))
    console = stderr_console()
    console.print(Text(f"Wrote {output}: {rep.site}, run {rep.run['id']}, score "
                  f"{'—' if rep.score is None else f'{rep.score:.1f}'}, {len(rep.issues)} failing rule(s) "
                  f"on {len(rep.pages)} page(s)."))
    if not site and run_id is None and len(others) > 1:
        console.print(f"[dim]{len(others)} sites are stored; this report is about the latest run's site. "
                      f"Choose another with --site NAME ('a11ycrawl league' lists them).[/]")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "sqlite"]), required=True,
              help="json: the run (the documented contract); csv: one row per failing element, then one "
                   "per page of each failing cross-page check (rule site:CHECK); "
                   "sqlite: a copy of the database that Datasette opens as it is.")
@db_option
@site_option
@click.option("--run", "run_id", type=int, help="Run id; default: the latest complete run (for sqlite: every run).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write ('-' for stdout, json and csv only).")
@click.option("--csv", "csv_kind", type=click.Choice(["findings", "documents", "statement"]), default="findings",
              show_default=True,
              help="What the CSV lists: findings (one row per failing element), documents (one row per check "
                   "of each linked PDF, with WCAG criterion, PDF/UA clause and Matterhorn condition) or "
                   "statement (one row per requirement of the accessibility statement, with its evidence).")
def export_cmd(fmt, db, site, run_id, output, csv_kind):
    """Export stored results as JSON, CSV or SQLite.

    \b
    Examples:
      a11ycrawl export --format json -o run.json
      a11ycrawl export --format csv --site "Westfold County Council" -o westfold.csv
      a11ycrawl export --format csv --csv documents -o documents.csv
      a11ycrawl export --format csv --csv statement -o statement.csv
      a11ycrawl export --format sqlite -o results.db && datasette results.db
    """
    from reports.data import pick_run
    from reports.export import write_export

    store = open_results(db)
    if fmt == "sqlite" and run_id is None and not site:
        chosen = None
    else:
        chosen = pick_run(store, site, run_id)["id"]
    if csv_kind != "findings" and fmt != "csv":
        raise click.UsageError("--csv documents/statement goes with --format csv")
    text = write_export(store, fmt, output, chosen, csv_kind)
    if text:
        click.echo(text, nl=False)
    else:
        what = "every run" if chosen is None else f"run {chosen}"
        stderr_console().print(f"Wrote {output} ({fmt}, {what}).")
