"""Issue 3: budgets and politeness: page, depth and time budgets end bounded and accounted for;
per-host concurrency is respected; the crawler identifies itself."""

import sqlite3
import threading
import time

import pytest

from helpers import load_json
from fixture_site import page
from audits.engine.static_server import Reply

pytestmark = pytest.mark.browser


class Tracker:
    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.agents = set()

    def route(self, body, delay=0.0):
        def handler(h):
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
                self.agents.add(h.headers.get("User-Agent"))
            try:
                time.sleep(delay)
                return Reply(body=body)
            finally:
                with self.lock:
                    self.now -= 1
        return handler


def chain_site(tracker, n=40, delay=0.05):
    """Home links to 40 pages; page i links to page i+1 (depth grows)."""
    r = {"/": tracker.route(page("Home", "".join(f'<a href="/p{i}">{i}</a>' for i in range(n)) + '<a href="/d1">deep</a>'), delay)}
    for i in range(n):
        r[f"/p{i}"] = tracker.route(page(f"P{i}", "<p>x</p>"), delay)
    for d in range(1, 8):
        r[f"/d{d}"] = tracker.route(page(f"D{d}", f'<a href="/d{d + 1}">deeper</a>'), delay)
    r["/robots.txt"] = Reply(404)
    return r


def test_per_host_concurrency_and_user_agent(cli, serve, tmp_path):
    tracker = Tracker()
    server = serve(chain_site(tracker, delay=0.2))
    (tmp_path / "a11ycrawl.toml").write_text("crawl_concurrency = 2\n")
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert tracker.peak <= 2, tracker.peak
    assert all(a and a.startswith("a11ycrawl/") and "+http" in a for a in tracker.agents), tracker.agents


def test_page_budget_is_accounted_for(cli, serve, tmp_path):
    server = serve(chain_site(Tracker()))
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
              "--max-pages", "10", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    pages = load_json(tmp_path / "r.json")["pages"]
    assert sum(p["status"] == "audited" for p in pages) == 10
    # every other page it met is recorded: over budget (or the template's dead nav links)
    codes = [p["reason_code"] for p in pages if p["status"] != "audited"]
    assert set(codes) <= {"page_budget", "broken_link"} and codes.count("page_budget") >= 20, codes
    assert len(pages) >= 30


def test_depth_budget(cli, serve, tmp_path):
    server = serve(chain_site(Tracker(), n=2))
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
              "--max-depth", "2", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    audited = {p["url"].rsplit("/", 1)[1] for p in load_json(tmp_path / "r.json")["pages"] if p["status"] == "audited"}
    assert audited == {"", "p0", "p1", "d1", "d2"}, audited
    cut = {p["url"].rsplit("/", 1)[1]: p["reason_code"] for p in load_json(tmp_path / "r.json")["pages"]
           if p["status"] == "skipped"}
    assert cut.get("d3") == "depth_limit", cut


def test_time_budget(cli, serve, tmp_path):
    server = serve(chain_site(Tracker(), n=60, delay=0.3))
    t0 = time.monotonic()
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
              "--max-time", "6", "--concurrency", "1", "-q", cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert elapsed < 25, elapsed
    doc = load_json(tmp_path / "r.json")
    assert doc["run"]["status"] == "incomplete" and "time budget" in doc["run"]["error"]
    pages = doc["pages"]
    assert 0 < sum(p["status"] == "audited" for p in pages) < 60
    assert any(p["reason_code"] == "time_budget" for p in pages)
    # what was audited before the budget ran out is in the database
    con = sqlite3.connect(tmp_path / "a.db")
    assert con.execute("select count(*) from pages where status = 'audited'").fetchone()[0] == sum(
        p["status"] == "audited" for p in pages)
