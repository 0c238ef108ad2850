"""Selenium Grid 4 backend (``--webdriver``): a real Grid on 127.0.0.1 (a hub and two nodes
driving Debian's Chromium, see tests/grid.py) gives the same results page by page as the local
browser, handles the hostile site the same way, keeps public audits inside the address fence,
loses no page when a node dies mid-run, and a Grid that is down is a one-line error.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from audits.engine.axe import FACTS_VERSION
from audits.engine.static_server import LoopbackServer, Reply
from audits.results import site_checks
from fixture_site import page, routes
from helpers import invoke, load_json
from hostile_site import routes as hostile_routes

pytestmark = pytest.mark.browser

TESTS = Path(__file__).parent


def _violated(store, run_id) -> dict[str, tuple]:
    """url -> (status, reason code, violated rules, frames audited)."""
    from audits.results import run_findings

    rules: dict[str, set[str]] = {}
    for f in run_findings(store, run_id):
        rules.setdefault(f.url, set()).add(f.rule)
    return {p["url"]: (p["status"], p["reason_code"], frozenset(rules.get(p["url"], ())), p["frames"])
            for p in store.pages(run_id)}


def test_same_results_page_by_page_as_the_local_browser(selenium_grid, audit, tmp_path):
    with LoopbackServer(routes(slow_seconds=2)) as site:
        local_store, local = audit(site.url, db=tmp_path / "local.db", page_timeout=10)
        grid_store, grid = audit(site.url, db=tmp_path / "grid.db", page_timeout=10, webdriver=selenium_grid.url,
                                 concurrency=3)
    want, got = _violated(local_store, local.run_id), _violated(grid_store, grid.run_id)
    assert got == want
    # the fixture's known findings, inside its frame too, and the Grid's browser recorded
    assert {"image-alt", "label"} <= want[site.url + "services/"][2] and want[site.url + "services/"][3] == 2
    run = grid_store.get_run(grid.run_id)
    assert run["browser"].startswith("selenium grid chrome ") and selenium_grid.url in run["browser"]
    assert run["axe_version"] == local_store.get_run(local.run_id)["axe_version"]
    # the facts the cross-page checks and third-party attribution read: the same as locally
    assert [(f.check, f.status) for f in site_checks(grid_store, grid.run_id)] == \
        [(f.check, f.status) for f in site_checks(local_store, local.run_id)]

    def frames(store, run_id):
        return {p["url"]: [(f["target"], f["url"]) for f in p["frame_urls"]]
                for p in store.frame_urls(run_id).values()}
    assert frames(grid_store, grid.run_id) == frames(local_store, local.run_id) != {}
    assert {json.loads(p["facts"]).get("facts_version") for p in grid_store.pages(grid.run_id)
            if p["status"] == "audited"} == {FACTS_VERSION}


HOSTILE_CONFIG = """
max_pages = 200
per_pattern_cap = 5
query_variants_cap = 4
page_timeout = 6
max_response_bytes = 2_000_000
js_heap_mb = 128
"""


def test_hostile_site_is_handled_as_locally(selenium_grid, tmp_path):
    """Every hazard of the hostile site ends in the state the local browser gives it (the
    expectations of test_hostile.py), and the out-of-scope host receives nothing but the request
    for the frame it serves (a third-party widget, audited with its page)."""
    (tmp_path / "a11ycrawl.toml").write_text(HOSTILE_CONFIG)
    with LoopbackServer({"/": Reply(body="other")}) as other:
        r, expected, _flaky = hostile_routes(other.origin)
        with LoopbackServer(r) as site:
            res = invoke("audit", site.url, "--webdriver", selenium_grid.url, "--concurrency", "4",
                         "--db", str(tmp_path / "h.db"), "--json", str(tmp_path / "h.json"), cwd=tmp_path)
            site_requests = dict(site.requests)
        other_requests = dict(other.requests)
    assert res.returncode == 0, res.stderr[-3000:]
    pages = {}
    for p in load_json(tmp_path / "h.json")["pages"]:
        key = p["url"][len(site.url):] if p["url"].startswith(site.url) else p["url"].replace(other.origin, "OTHER")
        pages[key] = p
    wrong = {}
    for path, state in expected.items():
        got = pages.get(path)
        if got is None or (got["status"], got["reason_code"]) != state:
            wrong[path[:40]] = (state, got and (got["status"], got["reason_code"], got["reason"]))
    assert not wrong, wrong
    # popups, meta refreshes and script navigations fenced; its frame is part of the page (as locally)
    assert other_requests == {"/frame": 1}, other_requests
    assert site_requests["/about"] == 1  # the crawler's response is handed to the Grid's browser
    assert "meta-refresh" in {v["rule"] for v in pages["meta-later"]["violations"]}
    assert [f["reason"][:33] for f in pages["sandboxed"]["frames_unaudited"]] == ["sandboxed without allow-scripts: "]


PUBLIC_PAGE = """<p>Public page.</p>
<img src="http://127.0.0.1:{port}/img.png" alt=""> <img src="http://intranet.test:{port}/i.png" alt="">
<img src="http://localhost:{port}/l.png" alt="">
<iframe src="http://intranet.test:{port}/frame" title="frame"></iframe>
<script>
fetch("http://127.0.0.1:{port}/api").catch(() => 0);
fetch("http://intranet.test:{port}/api2").catch(() => 0);
try {{ new WebSocket("ws://127.0.0.1:{port}/ws"); }} catch (e) {{}}
</script>"""


@pytest.mark.parametrize("start_host", ["127.0.0.2", "127.0.0.1"])
def test_public_start_url_reaches_no_internal_address(selenium_grid, tmp_path, start_host):
    """Through as_public.py (127.0.0.2 counts as public, intranet.test resolves to 127.0.0.1): the
    Grid's Chromium reaches nothing on 127.0.0.1 from the public start URL, each request refused
    by the coordinator's proxy; from a loopback start URL (not fenced) the same page does reach
    it, so the silence means something."""
    with LoopbackServer({"/": Reply(body="internal")}) as victim:
        port = victim.server_address[1]
        site_routes = {"/": Reply(body=page("Public", PUBLIC_PAGE.format(port=port))), "/robots.txt": Reply(404)}
        with LoopbackServer(site_routes, host=start_host) as site:
            args = ["audit", site.url, "-v", "--webdriver", selenium_grid.url, "--allow-host", f"intranet.test:{port}",
                    "--allow-host", f"127.0.0.1:{port}", "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json")]
            res = subprocess.run([sys.executable, str(TESTS / "as_public.py"), *args], cwd=tmp_path,
                                 capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        connections = victim.connections
    assert res.returncode == 0, res.stderr[-3000:]
    pages = load_json(tmp_path / "r.json")["pages"]
    assert [p["status"] for p in pages if p["url"].rstrip("/") == site.url.rstrip("/")] == ["audited"]
    if start_host == "127.0.0.2":
        assert connections == 0
        assert "the browser asked for 127.0.0.1" in res.stderr and "the browser asked for intranet.test" in res.stderr
        assert "the browser asked for localhost" in res.stderr
    else:
        assert connections >= 3


SLOW_PAGE = """<p>Page {i}.</p><img src="/x.png"><div id="late"></div>
<script>setTimeout(() => {{ document.getElementById('late').textContent = 'filled'; }}, 1200);</script>"""


def test_node_killed_mid_run_loses_no_page(selenium_grid, audit, tmp_path, caplog):
    """A node dies (its Java, chromedrivers and Chromiums at once) with pages in flight: each of
    them is audited again on a session the Grid places on the other node, and the run completes
    with every page audited."""
    n = 16
    site_routes = {"/": Reply(body=page("Home", "".join(f'<a href="/p{i}">Page {i}</a>' for i in range(n))))}
    for i in range(n):
        site_routes[f"/p{i}"] = Reply(body=page(f"Page {i}", SLOW_PAGE.format(i=i)))
    killed = []

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if site.requests.get("/x.png", 0) < 3:  # pages are being audited
                time.sleep(0.05)
                continue
            node = selenium_grid.node_with_session()
            busy = node is not None and sum(1 for p in _in_flight(selenium_grid) if p == node.uri) >= 1
            if busy and len(selenium_grid.up_nodes()) == 2:
                time.sleep(0.8)  # mid-page: the settle wait holds each page 1.2 s
                node.kill()
                killed.append(node)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_when_busy)
    caplog.set_level(logging.WARNING, logger="a11ycrawl")
    try:
        with LoopbackServer(site_routes) as site:
            killer.start()
            store, outcome = audit(site.url, webdriver=selenium_grid.url, concurrency=4, page_timeout=15,
                                   sitemaps=False)
            killer.join()
        pages = {p["url"]: (p["status"], p["reason_code"]) for p in store.pages(outcome.run_id)}
        assert killed, "no node had a session to kill"
        assert outcome.status == "complete"
        ours = {u: state for u, state in pages.items() if u.rstrip("/") == site.url.rstrip("/") or "/p" in u}
        assert len(ours) == n + 1 and set(ours.values()) == {("audited", None)}, ours
        assert outcome.seconds < 90, outcome.seconds
        retried = [r.getMessage() for r in caplog.records if "auditing it again on another browser" in r.getMessage()]
        assert retried, "no page was in flight on the node that died"
    finally:
        killer.join()
        if killed:  # the next test gets two nodes again
            selenium_grid.nodes.remove(killed[0])
            selenium_grid.add_node()
            selenium_grid.wait_ready(2)


def _in_flight(grid) -> list[str]:
    """The URI of the node of every session running now."""
    out = []
    for n in grid.up_nodes():
        out += [n.get("uri") for slot in n.get("slots", []) if slot.get("session")]
    return out


def test_grid_down_is_a_one_line_error(cli, serve):
    site = serve({"/": Reply(body=page("Home", "<p>x</p>"))})
    res = cli("audit", site.url, "--webdriver", "http://127.0.0.1:9/")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Selenium Grid at http://127.0.0.1:9 is not reachable" in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_login_with_grid_is_a_config_error(cli, serve, tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text('[login]\nheaders_env = { "X-Token" = "TOKEN" }\n')
    site = serve({"/": Reply(body=page("Home", "<p>x</p>"))})
    res = cli("audit", site.url, "--webdriver", "http://127.0.0.1:9/", env={"TOKEN": "secret-value"})
    assert res.returncode == 2 and "not supported with Selenium Grid" in res.stderr, res.stderr
