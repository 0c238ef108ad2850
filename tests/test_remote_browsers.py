"""Remote browsers: audits run in Playwright browser servers (``playwright run-server``) give the
same results page by page as the local browser, spread pages over the servers, and lose no page
when a server goes away mid-run.

The servers run here on 127.0.0.1, started with ``--unsafe`` so that they launch Debian's Chromium
(``executablePath``) with a11ycrawl's own flags, as the README says to run them.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from audits.engine.browser import RemoteBrowserPool, find_chromium
from audits.errors import BrowserError, ConfigError
from audits.engine.static_server import Reply
from fixture_site import page, routes
from helpers import kill_process_tree, process_descendants, run

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrowserServer:
    """``python -m playwright run-server`` on 127.0.0.1, in its own process group (the driver and
    every Chromium it launches), so that :meth:`kill` takes the whole machine's worth down."""

    def __init__(self):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1", "--port", str(self.port),
             "--unsafe"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        assert "Listening on" in line, line
        self.endpoint = f"ws://127.0.0.1:{self.port}/"

    def descendants(self) -> list[int]:
        """Every process under the server (Playwright starts Chromium in a session of its own)."""
        return process_descendants(self.proc.pid)

    def chromium_processes(self) -> int:
        """Chromium processes this server has launched."""
        n = 0
        for pid in self.descendants():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    n += b"chrom" in f.read()
            except OSError:
                pass
        return n

    def kill(self) -> None:
        """The machine goes away: the server and every browser it started, at once."""
        kill_process_tree(self.proc)


@pytest.fixture
def servers():
    started = [BrowserServer(), BrowserServer()]
    yield started
    for s in started:
        s.kill()


def _by_page(store, run_id):
    pages = {}
    for p in store.pages(run_id):
        pages[p["url"]] = (p["status"], p["reason_code"])
    return pages


def _violated_rules(store, run_id) -> dict[str, set[str]]:
    from audits.results import run_findings

    rules: dict[str, set[str]] = {p["url"]: set() for p in store.pages(run_id) if p["status"] == "audited"}
    for f in run_findings(store, run_id):
        rules[f.url].add(f.rule)
    return rules


def test_pool_spreads_browsers_round_robin_and_fence_session_works(servers, playwright):
    """Each get() hands out the next server's browser; a CDP session (the document fence) opens
    over the connection; each server runs Debian's Chromium with a11ycrawl's GC hook."""
    pool = RemoteBrowserPool(playwright, [s.endpoint for s in servers], find_chromium(), 512)

    async def go():
        got = [await pool.get() for _ in range(4)]
        try:
            assert got[0] is got[2] and got[1] is got[3] and got[0] is not got[1]
            for browser in got[:2]:
                ctx = await browser.new_context()
                pg = await ctx.new_page()
                session = await ctx.new_cdp_session(pg)
                version = await session.send("Browser.getVersion")
                await pg.goto("data:text/html,<p>x</p>")
                gc = await pg.evaluate("typeof __a11ycrawlGC")
                await ctx.close()
                assert version["product"].startswith("HeadlessChrome/")
                assert gc == "function"  # our --js-flags reached the server's Chromium
            desc = await pool.describe()
        finally:
            await pool.close()
        return desc

    desc = run(go())
    assert desc.startswith("remote chromium ") and all(s.endpoint in desc for s in servers)


def test_remote_audit_matches_local_page_by_page(servers, audit, tmp_path, serve):
    site = serve(routes(slow_seconds=0.2))
    local_store, local = audit(site.url, db=tmp_path / "local.db", page_timeout=10)
    remote_store, remote = audit(site.url, db=tmp_path / "remote.db", page_timeout=10, chromium=find_chromium(),
                                 browser_endpoints=[s.endpoint for s in servers])
    assert local.status == remote.status == "complete"
    assert _by_page(remote_store, remote.run_id) == _by_page(local_store, local.run_id)
    remote_rules = _violated_rules(remote_store, remote.run_id)
    assert remote_rules == _violated_rules(local_store, local.run_id)
    assert any(remote_rules.values())  # the fixture site has known violations: the comparison means something
    browser = remote_store.get_run(remote.run_id)["browser"]
    assert browser.startswith("remote chromium") and servers[1].endpoint in browser


def _many_pages(n: int, delay: float) -> dict:
    links = "".join(f'<li><a href="/p{i}">Page {i}</a></li>' for i in range(n))
    r = {"/": Reply(body=page("Home", f"<ul>{links}</ul>"))}
    for i in range(n):
        # every page has one known violation (an image without alt) and takes a moment to load
        r[f"/p{i}"] = Reply(body=page(f"Page {i}", f'<p>Page {i}</p><img src="/img{i}.png">'))
        r[f"/img{i}.png"] = Reply(body=b"", ctype="image/png", delay=delay)
    return r


def test_server_killed_mid_run_loses_no_page(servers, tmp_path, serve, monkeypatch):
    """One of two servers dies with pages in flight: those pages are audited again on the other,
    and every page of the site ends up audited."""
    from audits.config import load_config
    from audits.engine.pipeline import NullProgress
    from audits.engine.runner import audit_sites_async
    from audits.store import open_store

    n = 14
    site = serve(_many_pages(n, delay=0.4))
    monkeypatch.chdir(tmp_path)
    cfg = load_config({"start_url": site.url, "db": str(tmp_path / "k.db"), "page_timeout": 10, "concurrency": 4,
                       "chromium": find_chromium(), "browser_endpoints": [s.endpoint for s in servers],
                       "sitemaps": False})
    store = open_store(cfg.db)
    killed = {}

    class KillOnThird(NullProgress):
        def update(self, **counts):
            if counts.get("audited", 0) >= 3 and not killed:
                killed["at"] = counts["audited"]
                killed["procs"] = servers[0].chromium_processes()
                servers[0].kill()

    (outcome,) = run(audit_sites_async([cfg], store, progress=lambda _label: contextlib.nullcontext(KillOnThird())))
    assert killed and killed["at"] < n  # the server died mid-run
    assert killed["procs"] > 0  # ...and it was auditing pages at the time
    pages = _by_page(store, outcome.run_id)
    site_pages = {u: v for u, v in pages.items() if re.fullmatch(r"/(p\d+)?", urlsplit(u).path)}
    assert len(site_pages) == n + 1
    assert all(v == ("audited", None) for v in site_pages.values()), site_pages
    rules = _violated_rules(store, outcome.run_id)
    assert all("image-alt" in rules[u] for u in site_pages if urlsplit(u).path != "/")
    assert outcome.status == "complete"
    store.close()


def test_endpoint_down_at_start_is_one_line_error(cli, tmp_path, serve):
    site = serve(routes(slow_seconds=0.2))
    dead = f"ws://127.0.0.1:{_free_port()}/"
    res = cli("audit", site.url, "--db", str(tmp_path / "d.db"), "--browser-endpoint", dead)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert f"cannot connect to browser endpoint {dead}" in lines[0]


def test_public_start_url_needs_a_fenced_remote_network(audit):
    # 8.8.8.8 is never contacted: the refusal comes before any browser or crawl
    dead = f"ws://127.0.0.1:{_free_port()}/"
    with pytest.raises(ConfigError, match="remote-network-fenced"):
        audit("http://8.8.8.8/", browser_endpoints=[dead])
    # with the flag, the run goes on to the browser (here: no server there)
    with pytest.raises(BrowserError, match="cannot connect to browser endpoint"):
        audit("http://8.8.8.8/", browser_endpoints=[dead], remote_network_fenced=True)


def test_endpoint_must_be_a_websocket_url(cli, tmp_path):
    res = cli("audit", "http://127.0.0.1:9/", "--db", str(tmp_path / "e.db"), "--browser-endpoint", "http://x:1/")
    assert res.returncode == 2
    assert "ws://HOST:PORT/" in res.stderr


# -- sites side by side (audit --all --parallel N) --------------------------------------------------

def test_sites_side_by_side_share_one_browser(serve, tmp_path, monkeypatch):
    """Three sites audited at once: they overlap in time, one Chromium serves all three, and each
    run is whole (every page audited, its known violations found, scored, complete)."""
    import audits.engine.browser as browser_mod
    from audits.config import load_config
    from audits.engine.runner import audit_sites_async
    from audits.store import open_store

    sites = [serve(_many_pages(4, delay=0.3)) for _ in range(3)]
    monkeypatch.chdir(tmp_path)
    cfgs = [load_config({"start_url": s.url, "db": str(tmp_path / "p.db"), "page_timeout": 10, "sitemaps": False})
            for s in sites]
    store = open_store(cfgs[0].db)
    launches = []
    real_launch = browser_mod.launch_browser

    async def counting_launch(*a, **kw):
        launches.append(1)
        return await real_launch(*a, **kw)

    monkeypatch.setattr(browser_mod, "launch_browser", counting_launch)
    active, most, finished = [0], [0], []

    @contextlib.contextmanager
    def progress(label):
        active[0] += 1
        most[0] = max(most[0], active[0])
        try:
            yield NullProgressForTests()
        finally:
            active[0] -= 1

    outcomes = run(audit_sites_async(cfgs, store, progress=progress, parallel=3,
                                     after_run=lambda o: finished.append(o.site)))
    assert [o.site for o in outcomes] == [c.site_name() for c in cfgs]  # in the list's order
    assert sorted(finished) == sorted(o.site for o in outcomes)
    assert most[0] == 3  # all three at once
    assert len(launches) == 1  # one browser for the three
    for o in outcomes:
        assert o.status == "complete"
        pages = _by_page(store, o.run_id)
        ours = {u: v for u, v in pages.items() if re.fullmatch(r"/(p\d+)?", urlsplit(u).path)}
        assert len(ours) == 5 and all(v == ("audited", None) for v in ours.values()), ours
        rules = _violated_rules(store, o.run_id)
        assert all("image-alt" in rules[u] for u in ours if urlsplit(u).path != "/")
        assert store.get_run(o.run_id)["site"] == o.site
    store.close()


class NullProgressForTests:
    def update(self, **counts):
        pass


def test_cli_all_parallel(cli, serve, tmp_path):
    sites = [serve(_many_pages(2, delay=0.1)) for _ in range(2)]
    (tmp_path / "sites.toml").write_text("".join(
        f'[[sites]]\nname = "Site {i}"\nstart_url = "{s.url}"\nsitemaps = false\n\n' for i, s in enumerate(sites)))
    res = cli("audit", "--all", "--sites", "sites.toml", "--parallel", "2", "--db", str(tmp_path / "c.db"),
              "--page-timeout", "10", "--json", "out.json")
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    runs = doc["runs"]
    assert [r["run"]["site"] for r in runs] == ["Site 0", "Site 1"]
    assert all(r["run"]["status"] == "complete" for r in runs)
    assert "Site 0" in res.stderr and "Site 1" in res.stderr


def test_stopping_side_by_side_runs_marks_each_incomplete(serve, tmp_path, monkeypatch):
    """Ctrl-C (the task cancelled) with two sites in flight: both runs are stored as stopped
    (incomplete, resumable), none looks clean."""
    import asyncio

    from audits.config import load_config
    from audits.engine.runner import audit_sites_async
    from audits.store import open_store

    sites = [serve(_many_pages(10, delay=0.5)) for _ in range(2)]
    monkeypatch.chdir(tmp_path)
    cfgs = [load_config({"start_url": s.url, "db": str(tmp_path / "s.db"), "page_timeout": 10, "sitemaps": False})
            for s in sites]
    store = open_store(cfgs[0].db)
    audited: dict[str, int] = {}

    class Watch(NullProgressForTests):
        def __init__(self, label):
            self.label = label

        def update(self, **counts):
            audited[self.label] = counts.get("audited", 0)

    async def go():
        task = asyncio.ensure_future(audit_sites_async(
            cfgs, store, progress=lambda label: contextlib.nullcontext(Watch(label)), parallel=2))
        while not (len(audited) == 2 and all(audited.values())) and not task.done():
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    run(go())
    runs = [store.latest_run(c.site_name(), statuses=("running", "incomplete", "complete", "failed")) for c in cfgs]
    assert [r["status"] for r in runs] == ["incomplete", "incomplete"], runs
    for r in runs:
        assert any(p["status"] == "audited" for p in store.pages(r["id"]))
    store.close()


def test_endpoint_tokens_are_not_stored(tmp_path, monkeypatch):
    from audits.config import load_config

    monkeypatch.chdir(tmp_path)
    cfg = load_config({"start_url": "http://127.0.0.1:9/", "browser_endpoints": ["wss://u:secret@10.0.0.5:3000/pw?token=abc"]})
    assert cfg.browser_endpoints == ["wss://u:secret@10.0.0.5:3000/pw?token=abc"]  # used as given
    stored = json.dumps(cfg.public_dict())
    assert "secret" not in stored and "abc" not in stored
    assert cfg.public_dict()["browser_endpoints"] == ["wss://10.0.0.5:3000/pw"]


def test_endpoints_from_the_environment(tmp_path, monkeypatch):
    from audits.config import load_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("A11YCRAWL_BROWSER_ENDPOINTS", '["ws://10.0.0.5:3000/", "ws://10.0.0.6:3000/"]')
    cfg = load_config({"start_url": "http://127.0.0.1:9/"})
    assert cfg.browser_endpoints == ["ws://10.0.0.5:3000/", "ws://10.0.0.6:3000/"]
