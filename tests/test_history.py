"""History, league table, baselines and targets, and their commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.cli import cli as a11ycrawl
from audits.errors import ConfigError, StoreError
from audits.analysis.history import (
    SiteGoals, Target, climbers, competition_ranks, load_goals, target_progress,
)
from audits.analysis.scoring import MODEL_1, MODEL_2, MODEL_VERSION
from audits.results import history, league, rescore_all, score_run
from helpers import history_store, make_run, violation

TODAY = dt.date(2027, 1, 1)
HOME = "https://c.example/"
PAGES = [HOME, HOME + "a/", HOME + "b/", HOME + "c/"]


def scored_run(store, site, bad_pages, when, impact="critical", axe="4.12.1", status="complete"):
    """A four-page run where ``bad_pages`` of the pages fail one Level A rule; scored."""
    pages = {u: [violation("image-alt", impact)] if i < bad_pages else [] for i, u in enumerate(PAGES)}
    run = make_run(store, site, pages, axe=axe, status=status, started_at=f"2026-{when}T09:00:00+00:00")
    score_run(store, run)
    return run


# -- history ------------------------------------------------------------------------------------

def test_history_shows_each_run_with_change_and_violations(store):
    first = scored_run(store, "Northbrook", 4, "01-05")
    second = scored_run(store, "Northbrook", 1, "02-05")
    scored_run(store, "Eastmarsh", 0, "02-05")
    h = history(store, "Northbrook", today=TODAY)
    assert [r.run_id for r in h.rows] == [first, second]
    assert h.rows[0].change is None
    assert h.rows[1].score > h.rows[0].score
    assert h.rows[1].change == round(h.rows[1].score - h.rows[0].score, 1)
    assert h.rows[0].violations == {"critical": 4} and h.rows[1].violations == {"critical": 1}
    assert h.rows[1].model_version == MODEL_VERSION and h.rows[1].axe_version == "4.12.1"
    assert h.rows[0].components["lost"] == 1.1  # image-alt on every page: 0.1 + 1.0
    assert h.rows[1].components["lost"] == 0.3  # on one page of four: 0.1 + floor(10/4) tenths
    assert (h.rows[0].score, h.rows[1].score, h.rows[1].change) == (8.9, 9.7, 0.8)
    assert h.latest.run_id == second


def test_history_flags_a_change_of_axe_core_and_unscored_runs(store):
    scored_run(store, "Northbrook", 2, "01-05", axe="4.11.0")
    scored_run(store, "Northbrook", 2, "02-05")
    unscored = make_run(store, "Northbrook", {HOME: []}, failed=PAGES[1:], started_at="2026-03-05T09:00:00+00:00")
    score_run(store, unscored)
    rows = history(store, "Northbrook", today=TODAY).rows
    assert rows[1].note == "axe-core 4.11.0 -> 4.12.1"
    assert rows[2].score is None and "1 of 4 pages" in rows[2].reason


def test_history_of_an_unknown_site_is_a_store_error(store):
    scored_run(store, "Northbrook", 0, "01-05")
    with pytest.raises(StoreError, match="no runs of site 'Nowhere'.*Northbrook"):
        history(store, "Nowhere")


# -- baselines and targets ----------------------------------------------------------------------

def test_targets_met_open_and_missed(store):
    scored_run(store, "Northbrook", 4, "01-05")
    scored_run(store, "Northbrook", 1, "02-05")
    goals = SiteGoals(baseline=2.0, targets=[
        Target(score=9.8, by=dt.date(2027, 6, 30)), Target(score=5.0, by=dt.date(2026, 12, 31)),
        Target(no_critical=True, by=dt.date(2026, 12, 1)), Target(score=9.9, by=dt.date(2026, 6, 1)),
    ])
    h = history(store, "Northbrook", goals, today=TODAY)
    latest = h.rows[-1].score
    assert h.baseline.score == 2.0 and h.baseline.source == "site list"
    open_, met, missed_critical, missed = h.targets
    assert open_.status == "open" and open_.detail == f"needs +{9.8 - latest:.1f}, 180 days left"
    assert open_.progress == pytest.approx((latest - 2.0) / 7.8)
    assert met.status == "met" and met.progress == 1.0
    assert missed_critical.status == "missed" and missed_critical.detail == "1 critical element left"
    assert missed.status == "missed"


def test_baseline_from_a_run_or_the_first_scored_run(store):
    first = scored_run(store, "Northbrook", 4, "01-05")
    second = scored_run(store, "Northbrook", 2, "02-05")
    scored_run(store, "Northbrook", 0, "03-05")
    target = [Target(score=10.0, by=dt.date(2027, 6, 30))]
    h = history(store, "Northbrook", SiteGoals(targets=target), today=TODAY)
    assert h.baseline.source == f"run {first}, the first scored"
    h = history(store, "Northbrook", SiteGoals(baseline_run=second, targets=target), today=TODAY)
    assert h.baseline.source == f"run {second}" and h.baseline.score == h.rows[1].score
    assert h.targets[0].status == "met"
    with pytest.raises(StoreError, match="baseline_run 999"):
        history(store, "Northbrook", SiteGoals(baseline_run=999), today=TODAY)


# deadline=None on every @given: timings vary on a busy machine (browser tests run alongside)
@settings(deadline=None)
@given(st.floats(0, 10), st.floats(0, 10), st.floats(0, 10))
def test_progress_is_a_share_between_0_and_1(baseline, current, goal):
    from audits.analysis.history import HistoryRow, ScoreBaseline

    latest = HistoryRow(1, "2026-01-01", "complete", round(current, 1), None, 1, 0, {}, None, MODEL_VERSION,
                        "4.12.1", None, None)
    (p,) = target_progress(SiteGoals(targets=[Target(score=round(goal, 1), by=TODAY)]),
                           ScoreBaseline(round(baseline, 1), "site list"), latest, TODAY)
    assert p.progress is None or 0 <= p.progress <= 1
    assert (p.status == "met") == (latest.score >= round(goal, 1))


def test_goals_are_read_from_the_site_list(tmp_path, monkeypatch):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[sites]]\nname = "Northbrook"\nstart_url = "https://n.example/"\nbaseline = 4.2\n'
        'targets = [{ score = 8.0, by = 2027-03-31 }, { no_critical = true, by = "2027-01-31" }]\n'
        '[[sites]]\nstart_url = "https://www.e.example/"\nkey = "eastmarsh"\n'
    )
    goals = load_goals(sites)
    assert goals["Northbrook"].baseline == 4.2
    assert [t.describe() for t in goals["Northbrook"].targets] == [
        "score 8.0 by 2027-03-31", "no critical failures by 2027-01-31"]
    assert goals["www.e.example"].targets == []
    sites.write_text('[[sites]]\nname = "N"\nstart_url = "https://n.example/"\ntargets = [{ score = 8.0 }]\n')
    with pytest.raises(ConfigError, match=r"sites.toml: sites\[0\] \(N\): targets.0.by"):
        load_goals(sites)
    sites.write_text('[[sites]]\nname = "N"\nstart_url = "https://n.example/"\ntargets = [{ by = 2027-01-01 }]\n')
    with pytest.raises(ConfigError, match="either score"):
        load_goals(sites)
    monkeypatch.chdir(tmp_path)
    assert load_goals(None) == {}  # no a11ycrawl.toml: no targets


def test_the_shipped_site_lists_load():
    from audits.sites import load_sites

    for name, n in (("config/demo-sites.toml", 3), ("config/sites.example.toml", 4)):
        assert len(load_sites(name, {})) == n
        assert all(g.targets for g in load_goals(name).values())
    section = load_sites("config/sites.example.toml", {})[3]
    assert section.scope == "path" and section.start_url.endswith("/planning/")


# -- league -------------------------------------------------------------------------------------

def test_competition_ranking_shares_ranks_on_ties():
    assert competition_ranks({"a": 5.0, "b": 9.0, "c": 9.0, "d": 1.0, "e": 5.0}) == {
        "b": 1, "c": 1, "a": 3, "e": 3, "d": 5}
    assert competition_ranks({}) == {}


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=3), st.integers(0, 100).map(lambda i: i / 10), max_size=20))
def test_ranks_follow_scores(scores):
    ranks = competition_ranks(scores)
    for a in scores:
        assert ranks[a] == 1 + sum(s > scores[a] for s in scores.values())


def league_store(store):
    """Period 1: A 4 bad pages, B 2, C 1.  Period 2: A fixed everything, B and C unchanged."""
    for site, bad in (("A", 4), ("B", 2), ("C", 1)):
        scored_run(store, site, bad, "01-05")
    for site, bad in (("A", 0), ("B", 2), ("C", 1)):
        scored_run(store, site, bad, "02-05")


def test_league_ranks_latest_runs_with_rank_change_and_climbers(store):
    league_store(store)
    rows = league(store, today=TODAY)
    assert [(r.site, r.rank, r.previous_rank, r.rank_change) for r in rows] == [
        ("A", 1, 3, 2), ("C", 2, 1, -1), ("B", 3, 2, -1)]
    assert rows[0].change > 0 and rows[1].change == 0.0
    assert [r.site for r in climbers(rows)] == ["A"]


def test_league_over_sharded_databases_is_the_league_of_one(store, tmp_path, cli):
    """Sites split over two databases (two coordinators) rank as they do in one; a site in both
    is an error, and so is the command's --db repeated over overlapping shards."""
    from audits.store import open_store

    league_store(store)
    north, south = open_store(tmp_path / "north.db"), open_store(tmp_path / "south.db")
    for site, bad in (("A", 4), ("B", 2), ("C", 1)):
        scored_run(north if site == "A" else south, site, bad, "01-05")
    for site, bad in (("A", 0), ("B", 2), ("C", 1)):
        scored_run(north if site == "A" else south, site, bad, "02-05")
    one = [(r.site, r.rank, r.previous_rank, r.score) for r in league(store, today=TODAY)]
    assert [(r.site, r.rank, r.previous_rank, r.score) for r in league([north, south], today=TODAY)] == one
    res = CliRunner().invoke(a11ycrawl, ["league", "--db", north.path, "--db", south.path, "--format", "csv"])
    assert res.exit_code == 0 and [line.split(",")[1] for line in res.stdout.splitlines()[1:]] == ["A", "C", "B"], res.stdout
    with pytest.raises(StoreError, match="the site A is in both"):
        league([north, store], today=TODAY)
    res = cli("league", "--db", north.path, "--db", store.path)
    assert res.returncode == 2 and "the site A is in both" in res.stderr and "Traceback" not in res.stderr


def test_league_ties_share_a_rank(store):
    for site, bad in (("A", 1), ("B", 1), ("C", 0), ("D", 3)):
        scored_run(store, site, bad, "01-05")
    assert [(r.site, r.rank) for r in league(store, today=TODAY)] == [("C", 1), ("A", 2), ("B", 2), ("D", 4)]


def test_league_flags_sites_scored_with_another_axe_core_or_model(store):
    league_store(store)
    scored_run(store, "D", 0, "02-06", axe="4.10.0")
    e = scored_run(store, "E", 0, "02-06")
    for old in (MODEL_1, MODEL_2):  # as if only a model older than both had scored it
        store.db["scores"].delete((e, old))
    store.db["scores"].update((e, MODEL_VERSION), {"model_version": "a11ycrawl-score/0"})
    make_run(store, "F", {}, failed=[HOME], status="failed", started_at="2026-02-06T09:00:00+00:00")
    rows = {r.site: r for r in league(store, today=TODAY)}
    assert rows["D"].rank is None and not rows["D"].comparable and "axe-core 4.10.0" in rows["D"].note
    assert rows["E"].rank is None and "a11ycrawl-score/0" in rows["E"].note
    assert rows["F"].rank is None and "no complete scored run" in rows["F"].note
    assert [r.site for r in league(store, today=TODAY)][-3:] == ["D", "E", "F"]
    assert rescore_all(store).changed  # rescoring brings E back under the current model
    assert league_row(store, "E").rank == 1


def league_row(store, site):
    return next(r for r in league(store, today=TODAY) if r.site == site)


def test_league_judges_the_latest_complete_run(store):
    scored_run(store, "A", 0, "01-05")
    scored_run(store, "A", 4, "02-05", status="incomplete")
    scored_run(store, "B", 1, "01-05")
    assert [(r.site, r.rank) for r in league(store, today=TODAY)] == [("A", 1), ("B", 2)]


# -- commands -----------------------------------------------------------------------------------

def test_history_league_and_rescore_commands(store, tmp_path):
    league_store(store)
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "A"\nstart_url = "https://a.example/"\nbaseline = 3.0\n'
                     'targets = [{ score = 9.0, by = 2099-01-01 }]\n')
    runner = CliRunner(env={"COLUMNS": "200"})
    db = ["--db", store.path]
    res = runner.invoke(a11ycrawl, ["history", "A", *db, "--sites", str(sites), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [r["score"] for r in doc["rows"]] == [r.score for r in history(store, "A").rows]
    assert doc["baseline"]["score"] == 3.0 and doc["targets"][0]["status"] == "met"
    res = runner.invoke(a11ycrawl, ["history", "A", *db, "--sites", str(sites)])
    assert res.exit_code == 0 and res.stderr == ""  # the tables are what it exists for: stdout
    assert "History of A" in res.stdout and "components" in res.stdout and "score 9.0 by 2099-01-01" in res.stdout

    res = runner.invoke(a11ycrawl, ["league", *db, "--json"])
    doc = json.loads(res.stdout)
    assert [(s["site"], s["rank"], s["rank_change"]) for s in doc["sites"]] == [("A", 1, 2), ("C", 2, -1), ("B", 3, -1)]
    assert doc["climbers"] == ["A"] and doc["model_version"] == MODEL_VERSION
    res = runner.invoke(a11ycrawl, ["league", *db, "--sites", str(sites)])
    assert "League table" in res.stdout and "Biggest climbers" in res.stdout and "1/1 met" in res.stdout
    assert res.stderr == ""
    res = runner.invoke(a11ycrawl, ["league", *db, "--sites", str(sites), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["site"], r["rank"], r["rank_change"], r["targets"]) for r in rows] == [
        ("A", "1", "2", "1/1 met"), ("C", "2", "-1", ""), ("B", "3", "-1", "")]
    assert res.stdout.startswith("rank,site,score,") and res.stderr == ""
    assert json.loads(runner.invoke(a11ycrawl, ["league", *db, "--format", "json"]).stdout)["climbers"] == ["A"]

    res = runner.invoke(a11ycrawl, ["rescore", *db, "--json"])
    assert json.loads(res.stdout)["changed"] == [] and json.loads(res.stdout)["runs"] == 6
    res = runner.invoke(a11ycrawl, ["rescore", *db])
    assert "Rescored 6 run(s)" in res.stdout and "0 changed" in res.stdout


def test_command_errors_are_one_line_and_exit_2(cli, store, tmp_path):
    """Through the entry point function (reports.cli.main): one line on stderr, exit code 2."""
    scored_run(store, "A", 0, "01-05")
    res = cli("history", "Nowhere", "--db", store.path, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "a11ycrawl: error: no runs of site 'Nowhere'" in res.stderr
    res = cli("league", "--db", str(tmp_path / "missing.db"), cwd=tmp_path)
    assert res.returncode == 2 and "no database at" in res.stderr


# -- models ---------------------------------------------------------------------------------------

def test_history_and_league_under_either_model_say_which(store):  # noqa: F811
    league_store(store)
    for model in (MODEL_VERSION, MODEL_1):
        h = history(store, "B", today=TODAY, model=model)
        assert {r.model_version for r in h.rows} == {model} and not any(r.note for r in h.rows)
        assert [r.score for r in h.rows] == [store.score(r.run_id, model)["score"] for r in h.rows]
        assert {r.model_version for r in league(store, today=TODAY, model=model)} == {model}
    assert history(store, "B", today=TODAY).rows[0].score == 9.4  # two pages of four: 0.1 + 0.5
    assert history(store, "B", today=TODAY, model=MODEL_1).rows[0].score == 6.5
    # a run scored only under model 1 (stored before model 2 existed) shows that, and says so
    run = history(store, "B", today=TODAY).rows[-1].run_id
    for newer in (MODEL_2, MODEL_VERSION):
        store.db["scores"].delete((run, newer))
    row = history(store, "B", today=TODAY).rows[-1]
    assert row.model_version == MODEL_1 and "scored by a11ycrawl-score/1: run 'a11ycrawl rescore'" in row.note
    assert league_row(store, "B").rank is None and "not comparable" in league_row(store, "B").note


def test_history_and_league_commands_name_the_model(store):  # noqa: F811
    league_store(store)
    runner = CliRunner(env={"COLUMNS": "220"})
    res = runner.invoke(a11ycrawl, ["history", "A", "--db", store.path, "--model", MODEL_1, "--json"])
    assert res.exit_code == 0, res.output
    assert {r["model_version"] for r in json.loads(res.stdout)["rows"]} == {MODEL_1}
    res = runner.invoke(a11ycrawl, ["league", "--db", store.path])
    assert f"scores under {MODEL_VERSION}, axe-core 4.12.1" in res.stdout
    res = runner.invoke(a11ycrawl, ["league", "--db", store.path, "--model", MODEL_1, "--json"])
    assert json.loads(res.stdout)["model_version"] == MODEL_1
    assert {s["model_version"] for s in json.loads(res.stdout)["sites"]} == {MODEL_1}
    res = runner.invoke(a11ycrawl, ["history", "B", "--db", store.path])
    assert "Fix first (run" in res.stdout and "points lost" in res.stdout and "1.1.1 Non-text Content" in res.stdout
    res = runner.invoke(a11ycrawl, ["history", "A", "--db", store.path, "--model", "a11ycrawl-score/9"])
    assert res.exit_code == 2 and "a11ycrawl-score/9" in res.output


def test_tables_fit_80_columns_without_splitting_a_word(tmp_path):
    """League and history at 80 columns: every line fits, every site name and header is whole
    (rich alone squeezed 'Council' into 'Counci' / 'l'), and what was left out is said."""
    from rich.console import Console

    from audits.analysis.history import climbers
    from reports.tables import print_history, print_league
    store = history_store(tmp_path / "h.db")
    out = io.StringIO()
    console = Console(file=out, width=80, highlight=False)
    rows = league(store)
    print_league(console, rows, climbers(rows))
    for site in store.sites():
        print_history(console, history(store, site))
    text = out.getvalue()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = {w for line in lines for w in line.split()}
    for name in ("Northbrook", "District", "Council", "Eastmarsh", "Borough", "Westfold", "complete",
                 "places", "targets", "change", "crit.", "minor", "axe-core"):
        assert name in words, (name, text)
    assert "Left out at 80 columns: model / axe-core, date" in " ".join(text.split())
    wide = io.StringIO()
    print_league(Console(file=wide, width=200), rows, climbers(rows))
    assert "Northbrook District Council" in wide.getvalue() and "Left out" not in wide.getvalue()
    store.close()


def test_league_redirected_to_a_file_is_the_table(cli, tmp_path):
    """Through the real entry point: `a11ycrawl league > league.txt` holds the table (stdout)."""
    history_store(tmp_path / "h.db").close()
    with open(tmp_path / "league.txt", "w") as fh:
        import subprocess
        import sys

        res = subprocess.run([sys.executable, "-m", "reports.cli", "league", "--db", str(tmp_path / "h.db")],
                             stdout=fh, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 0 and res.stderr == ""
    text = (tmp_path / "league.txt").read_text()
    assert "League table" in text and "Northbrook District Council" in text  # natural width in a file
    assert "\x1b[" not in text  # no terminal colour codes in a file


# -- a league that compares like with like --------------------------------------------------------

DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def configured_run(store, site, when, bad_pages=0, max_pages=500, scope="host", tags=DEFAULT_TAGS,
                   budget_cut=0, broken=0, failed=0, base=None, status="complete"):
    """A scored run of four pages as the engine stores it: its config (budget, scope, tags),
    ``budget_cut`` URLs left out for the page budget, ``broken`` linked URLs answering 404 (each
    linked from the home page and from a/), ``failed`` pages that timed out."""
    from audits.analysis.fingerprint import finding_fingerprint
    from audits.store import PageRecord

    base = base or f"https://{site.lower().replace(' ', '-')}.example/"
    urls = [base, base + "a/", base + "b/", base + "c/"]
    broken_urls = [f"{base}gone-{i}" for i in range(broken)]
    run = store.create_run(site=site, start_url=base + ("section/" if scope == "path" else ""), tool_version="0.1.0",
                           axe_version="4.12.1", config={"max_pages": max_pages, "scope": scope, "tags": tags},
                           config_hash="c", max_pages=max_pages)
    for i, url in enumerate(urls):
        links = broken_urls if i < 2 else []
        store.save_page(run, PageRecord(url=url, status="audited", facts={"links": links},
                                        violations=[violation("image-alt")] if i < bad_pages else []),
                        fingerprint=finding_fingerprint)
    for u in broken_urls:
        store.save_page(run, PageRecord(url=u, status="skipped", reason_code="broken_link", http_status=404,
                                        reason="HTTP 404: a broken link", referrer=base))
    for i in range(budget_cut):
        store.save_page(run, PageRecord(url=f"{base}more-{i}", status="skipped", reason_code="page_budget",
                                        reason=f"page budget of {max_pages} reached"))
    for i in range(failed):
        store.save_page(run, PageRecord(url=f"{base}slow-{i}", status="failed", reason_code="timeout", reason="slow"))
    store.finish_run(run, status)
    store.db["runs"].update(run, {"started_at": f"2026-{when}T09:00:00+00:00"})
    score_run(store, run)
    return run


def test_league_marks_runs_not_like_most_and_keeps_their_rank(store):
    for site in ("A", "B", "C", "D"):
        configured_run(store, site, "01-05")
    configured_run(store, "Budget", "01-05", max_pages=20, budget_cut=7)
    configured_run(store, "Section", "01-05", scope="path")
    configured_run(store, "Strict", "01-05", tags=["wcag2a"])
    rows = {r.site: r for r in league(store, today=TODAY)}
    assert all(rows[s].marks == () for s in "ABCD")
    assert [m.code for m in rows["Budget"].marks] == ["budget_reached", "budget"]
    assert "stopped at its page budget of 20 pages" in rows["Budget"].marks[0].reason
    assert rows["Budget"].marks[1].reason == "page budget 20; most sites: 500"
    assert [(m.code, m.symbol) for m in rows["Section"].marks] == [("scope", "S")]
    assert "the start URL's directory; most sites: the whole host" in rows["Section"].marks[0].reason
    assert [m.code for m in rows["Strict"].marks] == ["rules"]
    assert all(r.rank == 1 for r in rows.values())  # marked, still ranked: all clean, all tie

    runner = CliRunner(env={"COLUMNS": "200"})
    doc = json.loads(runner.invoke(a11ycrawl, ["league", "--db", store.path, "--json"]).stdout)
    marks = {s["site"]: [m["reason"] for m in s["marks"]] for s in doc["sites"]}
    assert marks["A"] == [] and marks["Section"] == [rows["Section"].marks[0].reason]
    out = runner.invoke(a11ycrawl, ["league", "--db", store.path]).stdout
    assert "mark" in out and "B P" in out
    assert "B stopped at its page budget" in out and "S audited another scope" in out
    assert "Budget: stopped at its page budget of 20 pages; page budget 20; most sites: 500" in " ".join(out.split())
    csv_rows = {r["site"]: r for r in csv.DictReader(io.StringIO(
        runner.invoke(a11ycrawl, ["league", "--db", store.path, "--format", "csv"]).stdout))}
    assert csv_rows["Strict"]["marks"].startswith("R: rule set wcag2a; most sites: ")
    assert csv_rows["A"]["marks"] == ""


def test_league_marks_every_site_when_no_budget_is_shared_by_most(store):
    configured_run(store, "A", "01-05", max_pages=20)
    configured_run(store, "B", "01-05", max_pages=500)
    rows = {r.site: r for r in league(store, today=TODAY)}
    assert rows["A"].marks[0].reason == "page budget 20; the sites differ: 20, 500"
    assert [m.code for m in rows["B"].marks] == ["budget"]


def test_league_lists_sites_never_audited(store, tmp_path):
    configured_run(store, "A", "01-05")
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "A"\nstart_url = "https://a.example/"\n\n'
                     '[[sites]]\nname = "Newtown Council"\nstart_url = "https://newtown.example/"\n')
    runner = CliRunner(env={"COLUMNS": "200"})
    db = ["--db", store.path, "--sites", str(sites)]
    doc = json.loads(runner.invoke(a11ycrawl, ["league", *db, "--json"]).stdout)
    assert [(s["site"], s["rank"], s["note"]) for s in doc["sites"]] == [
        ("A", 1, None), ("Newtown Council", None, "never audited: no run of this site is stored")]
    assert "Newtown Council" in runner.invoke(a11ycrawl, ["league", *db]).stdout
    rows = list(csv.DictReader(io.StringIO(runner.invoke(a11ycrawl, ["league", *db, "--format", "csv"]).stdout)))
    assert rows[-1]["site"] == "Newtown Council" and rows[-1]["note"].startswith("never audited")


def test_failed_runs_do_not_advise_rescoring_and_rescore_counts_real_changes(store):
    configured_run(store, "A", "01-05")
    # a failed run never scored (the engine stops before scoring when the start URL fails)
    run = store.create_run(site="F", start_url="https://f.example/", tool_version="0.1.0", axe_version="4.12.1",
                           config={}, config_hash="c", max_pages=500)
    store.finish_run(run, "failed", error="the start URL could not be audited: http_error: HTTP 500")
    note = league_row(store, "F").note
    assert "rescore" not in note and "HTTP 500" in note
    assert "rescore" not in history(store, "F").rows[0].reason
    report = rescore_all(store)
    assert report.changed == ()  # F's score was empty and stays empty; A's did not move
    assert league_row(store, "F").note == note


def test_broken_links_figure_agrees_with_the_summary_json_and_report(store):
    from reports.data import run_document, run_summary
    from reports.html import build_report, render_report

    configured_run(store, "A", "01-05", broken=3)
    configured_run(store, "B", "01-05")
    run = configured_run(store, "A", "01-06", broken=2)
    rows = {r.site: r for r in league(store, today=TODAY)}
    assert (rows["A"].broken_links, rows["B"].broken_links) == (2, 0)
    assert len(run_document(store, run)["broken_links"]) == 2 == len(run_summary(store, run)["broken_links"])
    report = build_report(store, site="A", now=NOW_2027)
    assert len(report.broken_links) == 2
    html = render_report(report)
    assert '<th scope="col" class="num">Broken links</th>' in html  # the league column
    runner = CliRunner(env={"COLUMNS": "200"})
    out = runner.invoke(a11ycrawl, ["league", "--db", store.path]).stdout
    assert "broken links" in out
    csv_rows = {r["site"]: r for r in csv.DictReader(io.StringIO(
        runner.invoke(a11ycrawl, ["league", "--db", store.path, "--format", "csv"]).stdout))}
    assert (csv_rows["A"]["broken_links"], csv_rows["B"]["broken_links"]) == ("2", "0")


NOW_2027 = dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_pages_counted_alike_by_the_summary_history_json_and_report(store):
    """One definition: the pages a run set out to audit are those audited, failed or left
    unfinished (the score's coverage); 42 audited and 1 failed read "42 of 43" everywhere."""
    from rich.console import Console

    from reports.data import run_document
    from reports.html import build_report, render_report
    from reports.terminal import print_summary

    run = configured_run(store, "A", "01-05", failed=1, broken=2, budget_cut=1)
    console = Console(record=True, width=200)
    print_summary(console, store, run)
    summary = console.export_text()
    assert "to audit" in summary and "discovered" not in summary
    table = [line for line in summary.splitlines() if line.strip().startswith("│")][0]
    cells = [c.strip() for c in table.strip().strip("│").split("│")]
    assert cells[:2] == ["5", "4"] and cells[4] == "1"  # to audit, audited, ..., failed
    doc = run_document(store, run)["run"]["counts"]
    assert (doc["to_audit"], doc["audited"], doc["failed"]) == (5, 4, 1)
    row = history(store, "A").rows[-1]
    assert (row.pages_audited, row.pages_to_audit, row.pages_failed) == (4, 5, 1)
    out = CliRunner(env={"COLUMNS": "200"}).invoke(a11ycrawl, ["history", "A", "--db", store.path]).stdout
    assert "4 of 5" in out
    html = render_report(build_report(store, site="A", now=NOW_2027))
    assert '<p class="big">4 <small>of 5</small></p>' in html


def test_league_csv_neutralises_formula_cells(store):
    """Site names come from site lists and notes from audited sites: a spreadsheet must show them
    as text (as every other CSV a11ycrawl writes, through reports.export.csv_cell)."""
    names = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "Plain Council"]
    for name in names:
        configured_run(store, name, "01-05", base=f"https://s{names.index(name)}.example/")
    out = CliRunner().invoke(a11ycrawl, ["league", "--db", store.path, "--format", "csv"]).stdout
    sites = [r["site"] for r in csv.DictReader(io.StringIO(out, newline=""))]
    assert sorted(sites) == sorted(["'" + n for n in names[:-1]] + ["Plain Council"])
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert all(r["score"] == "10.0" and r["rank"] == "1" for r in rows)  # figures stay numbers


def test_history_prints_a_failed_runs_note_with_brackets_as_text(store):
    """A failed run's error can hold a URL with square brackets (``?f[0]=[/x]``): ``history``
    prints it as it is, with no markup error."""
    run = store.create_run(site="[b]Brk", start_url="https://b.example/?f[0]=[/x]", tool_version="0.1.0",
                           axe_version="4.12.1", config={}, config_hash="c", max_pages=5)
    store.finish_run(run, "failed", error="the start URL could not be audited: https://b.example/?f[0]=[/x] HTTP 500")
    res = CliRunner().invoke(a11ycrawl, ["history", "[b]Brk", "--db", store.path], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "?f[0]=[/x]" in res.stdout and "History of [b]Brk" in res.stdout
