"""The bundled demo, end to end: three councils audited, every page found, and axe's findings on
each page exactly the defects the demo sites were built with (frames and script-inserted content
included). Then the same sites 'after' fixes: scores move the right way. The command runs in this
process (helpers.invoke), on the session's reactor."""

import sqlite3
from urllib.parse import urlsplit

import pytest

from audits.demo.councils import CHAT_WIDGET_PATH, DISALLOWED_PATH, expected_violations, html_paths
from helpers import invoke, load_json

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    res = invoke("demo", "--db", str(tmp / "demo.db"), "--json", str(tmp / "before.json"), cwd=tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    after = invoke("demo", "--variant", "after", "--db", str(tmp / "demo.db"), "--json", str(tmp / "after.json"),
                   "-q", cwd=tmp)
    assert after.returncode == 0, after.stderr[-3000:]
    return {"before": load_json(tmp / "before.json")["runs"], "after": load_json(tmp / "after.json")["runs"],
            "stderr": res.stderr, "db": tmp / "demo.db"}


def by_key(runs):
    names = {"Northbrook District Council": "northbrook", "Eastmarsh Borough Council": "eastmarsh",
             "Westfold County Council": "westfold"}
    return {names[r["run"]["site"]]: r for r in runs}


@pytest.mark.parametrize("variant", ["before", "after"])
def test_every_page_audited_with_its_known_defects(demo_runs, variant):
    for key, run in by_key(demo_runs[variant]).items():
        audited = {urlsplit(p["url"]).path: p for p in run["pages"] if p["status"] == "audited"}
        # every page but the widget (audited inside its iframe) and the robots.txt-disallowed one
        want_pages = set(html_paths(key, variant)) - {CHAT_WIDGET_PATH, DISALLOWED_PATH}
        missing = want_pages - set(audited)
        assert not missing, (key, missing)
        skipped = {urlsplit(p["url"]).path: p["reason_code"] for p in run["pages"] if p["status"] == "skipped"}
        assert skipped.get(DISALLOWED_PATH) == "robots_disallowed"
        expected = expected_violations(key, variant)
        wrong = {}
        for path, page in audited.items():
            got = {v["rule"] for v in page["violations"]}
            if got != set(expected.get(path, ())):
                wrong[path] = (sorted(expected.get(path, ())), sorted(got))
        assert not wrong, (key, variant, wrong)


def test_comparison_and_order(demo_runs):
    err = demo_runs["stderr"]
    assert "Comparison" in err
    assert err.index("Northbrook") < err.index("Westfold")


def test_scores_rank_the_councils_and_move_with_fixes(demo_runs):
    con = sqlite3.connect(demo_runs["db"])
    scores = {}
    for site, run_id, score in con.execute(
            "select r.site, r.id, s.score from runs r join scores s on s.run_id = r.id order by r.id"):
        scores.setdefault(site, []).append(score)
    north, east, west = (scores[n] for n in ("Northbrook District Council", "Eastmarsh Borough Council",
                                             "Westfold County Council"))
    assert north[0] > east[0] > west[0]
    assert north[1] >= north[0]          # contrast fixed
    assert west[1] > west[0]             # lang added everywhere
    assert len(east) == 2                # fixes and one new failure: scored again
