"""The score commands: ``history``, ``league``, ``diff`` and ``rescore``.

Registered on the ``a11ycrawl`` group by :mod:`audits.cli` (``register(cli)``). Like every
command, each parses its options, calls one library function and renders: people's output goes
to stderr, ``--json`` writes machine output to stdout. Errors are :mod:`audits.errors`
exceptions, which the CLI's ``main`` turns into one line and exit code 2.

This module does not import :mod:`audits.cli` (which imports it), so the ``--db`` option is
declared here too.
"""

from __future__ import annotations

import click
from rich.console import Console

db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="SQLite results database (default: a11ycrawl.db in the current directory, or A11YCRAWL_DB).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Write JSON to stdout instead of tables to stderr.")
sites_option = click.option(
    "--sites", "sites_file", type=click.Path(dir_okay=False),
    help="Site list TOML with baselines and targets (default: [[sites]] in a11ycrawl.toml, if any).",
)


def _console() -> Console:
    return Console(stderr=True, highlight=False)


def _open_store(db: str | None):
    """The results database named by --db, A11YCRAWL_DB or the config file; it must exist."""
    from .config import load_config
    from .store import open_store

    return open_store(load_config({"db": db} if db else {}).db, create=False)


@click.command("history")
@click.argument("site")
@db_option
@sites_option
@json_option
def history_cmd(site, db, sites_file, as_json):
    """Show every run of SITE: date, score, change since the previous run, pages, violations by
    impact, scoring model and axe-core version; then the latest score's components and the
    site's progress against its baseline and targets.

    SITE is the name runs are stored under ('a11ycrawl league' lists them).

    \b
    Examples:
      a11ycrawl history "Northbrook District Council"
      a11ycrawl history www.example.gov.uk --sites config/sites.example.toml
      a11ycrawl history www.example.gov.uk --json > history.json
    """
    from reports.history import print_history, to_json

    from .history import history, load_goals

    goals = load_goals(sites_file)
    h = history(_open_store(db), site, goals.get(site))
    if as_json:
        click.echo(to_json(h))
    else:
        print_history(_console(), h)


@click.command("league")
@db_option
@sites_option
@json_option
def league_cmd(db, sites_file, as_json):
    """Rank every site by the score of its latest complete scored run, with the change in score
    and places since each site's previous run, the biggest climbers and progress against targets.

    Ties share a rank (1, 2, 2, 4). A site whose latest run used another scoring model or
    axe-core version than most sites is listed as not comparable, without a rank.

    \b
    Examples:
      a11ycrawl league
      a11ycrawl league --sites config/sites.example.toml
      a11ycrawl league --json > league.json
    """
    from reports.history import print_league, to_json

    from .history import climbers, league, load_goals
    from .scoring import MODEL_VERSION

    rows = league(_open_store(db), load_goals(sites_file))
    up = climbers(rows)
    if as_json:
        click.echo(to_json({"model_version": MODEL_VERSION, "sites": rows, "climbers": [r.site for r in up]}))
    else:
        print_league(_console(), rows, up)


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
    from reports.history import print_diff, to_json

    from .fingerprint import diff_runs

    d = diff_runs(_open_store(db), run_a, run_b)
    if as_json:
        click.echo(to_json(d))
    else:
        print_diff(_console(), d)


@click.command("rescore")
@db_option
@json_option
def rescore_cmd(db, as_json):
    """Recompute the score of every stored run under the current scoring model, and report how
    many changed. Raw results are never changed; older models' scores stay stored beside the new.

    \b
    Examples:
      a11ycrawl rescore
      a11ycrawl rescore --db results/councils.db --json
    """
    from reports.history import print_rescore, to_json

    from .scoring import rescore_all

    report = rescore_all(_open_store(db))
    if as_json:
        click.echo(to_json(report))
    else:
        print_rescore(_console(), report)


def register(cli: click.Group) -> None:
    """Add the score commands to the ``a11ycrawl`` group."""
    for command in (history_cmd, league_cmd, diff_cmd, rescore_cmd):
        cli.add_command(command)
