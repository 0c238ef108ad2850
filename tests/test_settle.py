"""The settle wait: a page is audited once the work its scripts scheduled at or after load has had
its turn (load handlers, timers, promises, fetch/XHR and their bodies, inserted scripts, animation
frames), however busy the machine; a page that never settles is audited at the cap and says so.

The fixture site (tests/settle_site.py) finishes each page in a different way after load, and the
demo councils' home pages build their "Latest news" box from a fetched JSON feed (issue 15: on a
busy machine one was audited before the box existed). Under two CPU-bound processes, every run
must give exactly the findings of a run on a quiet machine.
"""

import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from audits.demo.councils import DEMO_KEYS, expected_violations, serve_demo_sites
from helpers import load_json, run_cli
from settle_site import EXPECTED, WAITED_FOR, routes
from audits.engine.static_server import LoopbackServer

pytestmark = pytest.mark.browser

FIXTURE = "Settle fixture"
REPEATS = 3  # audits under CPU contention


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The fixture site and the demo councils ('after', as in the issue), served for the module, and
    a site list auditing all of the first and the home page of each council."""
    tmp = tmp_path_factory.mktemp("settle")
    with LoopbackServer(routes()) as server, serve_demo_sites(DEMO_KEYS, variant="after") as demo:
        entries = [f'[[sites]]\nname = "{FIXTURE}"\nstart_url = "{server.url}"\nsitemaps = false\n']
        entries += [f'[[sites]]\nname = "{s.key}"\nstart_url = "{s.url}"\nmax_pages = 1\nsitemaps = false\n'
                    for s in demo]
        (tmp / "sites.toml").write_text("\n".join(entries))
        yield tmp


def audit(tmp, name, *extra):
    res = run_cli("audit", "--all", "--sites", str(tmp / "sites.toml"), "--db", str(tmp / f"{name}.db"),
                  "--json", str(tmp / f"{name}.json"), *extra, cwd=tmp, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    pages = {}
    for run in load_json(tmp / f"{name}.json")["runs"]:
        for p in run["pages"]:
            if p["status"] == "audited":
                pages[(run["run"]["site"], urlsplit(p["url"]).path)] = p
    return {"pages": pages, "stderr": res.stderr, "db": tmp / f"{name}.db", "runs": load_json(tmp / f"{name}.json")["runs"]}


def findings(page):
    """Every failing element, as (rule, target): what must not change between runs."""
    return {(v["rule"], repr(n["target"])) for v in page["violations"] for n in v["nodes"]}


def expected(site, path):
    return EXPECTED[path] if site == FIXTURE else set(expected_violations(site, "after").get(path, ()))


@pytest.fixture(scope="module")
def quiet(sites):
    """One audit on this machine as it is, with nothing of ours competing."""
    return audit(sites, "quiet")


@pytest.fixture
def cpu_hogs():
    """Two CPU-bound processes (this machine has two cores), always stopped afterwards."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def test_script_inserted_content_is_audited(quiet):
    got = {key: {v["rule"] for v in p["violations"]} for key, p in quiet["pages"].items()}
    want = {(FIXTURE, path) for path in EXPECTED} | {(key, "/") for key in DEMO_KEYS}
    assert set(got) == want, set(got) ^ want
    wrong = {key: (sorted(expected(*key)), sorted(rules)) for key, rules in got.items() if rules != expected(*key)}
    assert not wrong, "\n".join(f"{k}: want {w}, got {g}" for k, (w, g) in sorted(wrong.items()))


def test_each_page_records_how_it_settled(quiet):
    pages = quiet["pages"]
    for path, kinds in WAITED_FOR.items():
        s = pages[(FIXTURE, path)]["settle"]
        assert s["settled"] is True and s["pending"] == [], (path, s)
        assert kinds <= set(s["waited_for"]), (path, s)
    for key in DEMO_KEYS:
        assert pages[(key, "/")]["settle"]["settled"] is True, pages[(key, "/")]["settle"]
    # no scripts: settled at once, without waiting for anything
    home = pages[(FIXTURE, "/")]["settle"]
    assert home["settled"] is True and home["waited_for"] == [] and home["ms"] <= 20, home


def test_a_page_that_never_settles_is_audited_at_the_cap_and_marked_partial(quiet, sites):
    busy = quiet["pages"][(FIXTURE, "/busy")]
    s = busy["settle"]
    assert s["settled"] is False and s["pending"] == ["dom"] and s["ms"] >= 3000, s
    run = next(r for r in quiet["runs"] if r["run"]["site"] == FIXTURE)
    assert run["run"]["counts"]["unsettled"] == 1
    assert "Audited before they settled" in quiet["stderr"] and "/busy" in quiet["stderr"]
    out = sites / "report.html"
    res = run_cli("report", "--db", str(quiet["db"]), "--site", FIXTURE, "-o", str(out), cwd=sites)
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    assert 'id="unsettled"' in html and "/busy" in html and "1 audited before it settled" in html


def test_an_unsettled_page_is_rendered_again_on_a_re_audit(quiet, sites):
    # same database: unchanged pages are carried over, except one audited before it settled
    again = audit(sites, "quiet")
    pages = {path: p for (site, path), p in again["pages"].items() if site == FIXTURE}
    assert pages["/about"]["reused"] and pages["/news-box"]["reused"]
    assert not pages["/busy"]["reused"] and pages["/busy"]["settle"]["settled"] is False


def test_same_findings_on_a_busy_machine(quiet, sites, cpu_hogs):
    want = {key: findings(p) for key, p in quiet["pages"].items()}
    for i in range(REPEATS):
        busy = audit(sites, f"busy{i}")
        got = {key: findings(p) for key, p in busy["pages"].items()}
        diff = {key: (sorted(want.get(key, ())), sorted(got.get(key, ()))) for key in set(want) | set(got)
                if want.get(key) != got.get(key)}
        assert not diff, (i, diff)
        wrong = {key: sorted(rules) for key, p in busy["pages"].items()
                 if (rules := {v["rule"] for v in p["violations"]}) != expected(*key)}
        assert not wrong, (i, wrong)
        unsettled = sorted(key for key, p in busy["pages"].items() if not p["settle"]["settled"])
        assert unsettled == [(FIXTURE, "/busy")], (i, unsettled)
        assert all(p.poll() is None for p in cpu_hogs), "the competing processes stopped early"
