"""What a page does to the browser must not change what is audited, nor sink the page:
a meta refresh, a frame that cannot run axe, a very large page, and a previous page's own
navigation racing the next one. Most tests drive the auditor in-process; the CLI ones check what
a user sees (the JSON, the exit code)."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import pytest
from playwright.async_api import async_playwright

from audits.config import AuditConfig
from audits.engine.auditor import PageAuditor, classify_navigation_error, refresh_target
from audits.engine.axe import axe_options
from audits.engine.browser import BrowserKeeper, find_chromium
from audits.engine.static_server import LoopbackServer, Reply
from helpers import load_json, run_cli
from crawler.items import DiscoveredPage
from crawler.urls import Scope, normalise_url

pytestmark = pytest.mark.browser


def page(title, body="", head=""):
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><main><h1>{title}</h1>{body}</main></body></html>")


def images(n):
    return "".join(f'<img src="data:," class="i{i}">' for i in range(n))  # n image-alt failures


def item(url, fetched=True, status=200):
    """A page as the crawler hands it over: with its HTML (``fetched``), or without (the browser
    fetches it, so a slow server makes a slow navigation)."""
    body, headers = None, []
    if fetched:
        with urllib.request.urlopen(url) as r:
            body, headers = r.read(), [(k.lower(), v) for k, v in r.getheaders()]
    url = normalise_url(url)
    return DiscoveredPage(url=url, requested_url=url, depth=1, referrer=None, found_via="link", http_status=status,
                          content_type="text/html; charset=utf-8", headers=headers, body=body)


def audit(site: LoopbackServer, items, patch=None, **cfg):
    """Audit ``items`` in turn with one PageAuditor (one page, reused, as in a run)."""
    config = AuditConfig(start_url=site.origin + "/", **cfg)
    scope = Scope.for_start_url(config.start_url)

    async def main():
        async with async_playwright() as pw:
            keeper = BrowserKeeper(pw, find_chromium(), config.js_heap_mb)
            auditor = PageAuditor(keeper, config, scope, axe_options(config.tags))
            if patch:
                patch(auditor)
            try:
                return [await auditor.audit(i) for i in items]
            finally:
                await auditor.close()
                await keeper.close()

    return asyncio.run(main())


def rules(rec):
    return {v["id"]: len(v["nodes"]) for v in rec.violations}


# -- frames that cannot answer --------------------------------------------------------------------

SANDBOX_REMOVED = page("Frames", '<img src="/top.png"><iframe sandbox="" src="/frame" title="Quiet"></iframe>'
                       '<iframe src="/frame" title="Talks"></iframe>',
                       "<script>addEventListener('load', () => document.querySelector('iframe')"
                       ".removeAttribute('sandbox'));</script>")
FRAME = page("Frame", '<input type="text">')


def test_a_frame_that_cannot_answer_does_not_sink_the_page():
    """The first frame was sandboxed without allow-scripts when it loaded, and the attribute is
    gone by the time axe runs: only its own bounded wait can end it. The rest of the page stands."""
    with LoopbackServer({"/": Reply(body=SANDBOX_REMOVED), "/frame": Reply(body=FRAME)}) as site:
        t0 = time.monotonic()
        (rec,) = audit(site, [item(site.origin + "/")], page_timeout=20, frame_timeout=1)
        took = time.monotonic() - t0
    assert rec.status == "audited", (rec.reason_code, rec.reason)
    assert rules(rec) == {"image-alt": 1, "label": 1}  # the label is the second frame's
    assert rec.frames == 2
    (quiet,) = rec.facts["frames_unaudited"]
    assert quiet["src"] == site.origin + "/frame" and "without finishing" in quiet["reason"], quiet
    assert took < 15, took


def test_sandboxed_start_page_audits_and_the_json_lists_the_frame(tmp_path):
    """A page whose one frame is sandboxed without allow-scripts: audited at once (it used to
    fail after the whole page_timeout), the frame listed in the JSON with the reason."""
    routes = {"/": Reply(body=page("Sandboxed", '<iframe sandbox="" src="/frame" title="Form"></iframe>')),
              "/frame": Reply(body=FRAME), "/robots.txt": Reply(404)}
    with LoopbackServer(routes) as site:
        t0 = time.monotonic()
        res = run_cli("audit", site.origin + "/", "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
                      "--max-pages", "1", "--no-sitemaps", "--page-timeout", "20", cwd=tmp_path)
        took = time.monotonic() - t0
    assert res.returncode == 0, res.stderr[-2000:]
    (home,) = [p for p in load_json(tmp_path / "r.json")["pages"] if p["url"] == site.origin + "/"]
    assert home["status"] == "audited" and home["frames"] == 1
    assert home["frames_unaudited"] == [
        {"src": site.origin + "/frame", "reason": "sandboxed without allow-scripts: no script (axe's included) can run in it"}]
    assert took < 18, took


# -- large pages ----------------------------------------------------------------------------------

def test_a_large_page_gets_the_time_its_size_needs():
    """1500 failing images take axe longer than the 1 s page limit: scaled by its element count
    the page gets more; with no time per element it is cut, and the reason says after how long."""
    # each style lookup takes the page at least 0.5 ms, so axe needs well over 1 s on any machine
    slow = page("Big", images(1500), """<script>
const style = window.getComputedStyle;
window.getComputedStyle = function (...args) {
  const t = performance.now(); while (performance.now() - t < 0.5) {}
  return style.apply(this, args);
};
</script>""")
    with LoopbackServer({"/big": Reply(body=slow)}) as site:
        scaled, = audit(site, [item(site.origin + "/big")], page_timeout=1, axe_ms_per_element=30)
        flat, = audit(site, [item(site.origin + "/big")], page_timeout=1, axe_ms_per_element=0, settle_cap_ms=0)
    assert scaled.status == "audited", (scaled.reason_code, scaled.reason)
    assert rules(scaled) == {"image-alt": 1500}
    assert (flat.status, flat.reason_code) == ("failed", "audit_timeout")
    assert "axe ran" in flat.reason and "1508 elements" in flat.reason, flat.reason


def test_a_large_page_that_hangs_is_still_cut():
    """A page large enough for 30 s of axe, which hangs once axe has started (its
    getComputedStyle loops forever after a while): cut at the ceiling, axe_timeout_max."""
    hangs = page("Big and stuck", images(3000), """<script>
const style = window.getComputedStyle; let calls = 0;
window.getComputedStyle = function (...args) { if (++calls > 200) for (;;) {} return style.apply(this, args); };
</script>""")
    with LoopbackServer({"/stuck": Reply(body=hangs)}) as site:
        t0 = time.monotonic()
        (rec,) = audit(site, [item(site.origin + "/stuck")], page_timeout=2, axe_ms_per_element=10, axe_timeout_max=4)
        took = time.monotonic() - t0
    assert (rec.status, rec.reason_code) == ("failed", "audit_timeout"), rec.reason
    assert "3008 elements" in rec.reason and "its limit was 4 s" in rec.reason, rec.reason
    assert took < 15, took


# -- meta refresh ---------------------------------------------------------------------------------

def test_refresh_after_a_delay_is_stopped_and_audited():
    """A refresh comes due a second after the page has loaded, here while the page is still
    settling (its DOM changes for 1.5 s): the page stays, is audited with axe's meta-refresh
    failure, and the refresh's target is a link to crawl."""
    busy = """<meta http-equiv="refresh" content="1; url=/elsewhere"><script>
addEventListener('load', () => { const t0 = Date.now(); const timer = setInterval(() => {
  document.getElementById('clock').textContent = Date.now() - t0;
  if (Date.now() - t0 > 1500) clearInterval(timer); }, 20); });</script>"""
    routes = {
        "/refresh": Reply(body=page("Refreshes", '<p id="clock">0</p>', busy)),
        "/elsewhere": Reply(body=page("Elsewhere", '<img src="/e.png">')),
    }
    with LoopbackServer(routes) as site:
        (rec,) = audit(site, [item(site.origin + "/refresh")])
        requests = dict(site.requests)
    assert rec.status == "audited", (rec.reason_code, rec.reason)
    assert rec.final_url == site.origin + "/refresh" and rec.title == "Refreshes"
    assert rec.facts["settle_ms"] > 1000  # the refresh came due while the page settled
    assert "meta-refresh" in rules(rec) and "image-alt" not in rules(rec)
    assert rec.facts["meta_refresh_target"] == site.origin + "/elsewhere"
    assert site.origin + "/elsewhere" in rec.facts["links"]
    assert "/elsewhere" not in requests  # stopped in the browser: answered 204, never fetched


def test_refresh_target_parsing():
    assert refresh_target("5; url=/next", "https://example.org/a/b") == "https://example.org/next"
    assert refresh_target("0;URL='news.html'", "https://example.org/a/b") == "https://example.org/a/news.html"
    assert refresh_target("30", "https://example.org/") is None  # reloads itself: no new page
    assert refresh_target(None, "https://example.org/") is None


# -- aborted navigations --------------------------------------------------------------------------

RESTLESS = page("Restless", "<p>Moves on by itself.</p>",
                "<script>setInterval(() => { location.href = '/elsewhere?' + Date.now(); }, 150);</script>")


def _restless_site():
    return LoopbackServer({"/restless": Reply(body=RESTLESS), "/slow": Reply(body=page("Slow", "<p>x</p>"), delay=1.5),
                       "/elsewhere": Reply(body=page("Elsewhere"))})


def test_a_previous_pages_navigation_does_not_abort_the_next():
    """The restless page keeps navigating (answered 204 while it is audited); the next page's
    navigation, slow to answer, used to be cancelled by it (net::ERR_ABORTED, recorded as a
    download). Every page is audited, with no retry needed, and no navigation left the page."""
    with _restless_site() as site:
        recs = audit(site, [item(site.origin + "/restless"), item(site.origin + "/slow", fetched=False),
                            item(site.origin + "/restless"), item(site.origin + "/slow", fetched=False)])
        requests = dict(site.requests)
    assert [(r.status, r.reason_code) for r in recs] == [("audited", None)] * 4, [r.reason for r in recs]
    assert all("navigation_retried" not in r.facts for r in recs)
    assert not any(path.startswith("/elsewhere") for path in requests), requests


def test_an_aborted_navigation_is_tried_once_more():
    """With the parking after each page switched off, the restless page aborts the next
    navigation: it is tried again, and the page audited."""
    def no_parking_after_pages(auditor):
        park = auditor._park
        calls = []

        async def park_only_to_retry():
            calls.append(1)
            if len(calls) > 1:  # the first is after the restless page; the second is the retry's
                await park()

        auditor._park = park_only_to_retry

    with _restless_site() as site:
        # no settle wait: during a long one the restless page's held navigations stop coming, so the
        # abort this test needs would not happen
        restless, slow = audit(site, [item(site.origin + "/restless"), item(site.origin + "/slow", fetched=False)],
                               patch=no_parking_after_pages, settle_cap_ms=0)
    assert restless.status == "audited"
    assert slow.status == "audited", (slow.reason_code, slow.reason)
    assert "ERR_ABORTED" in slow.facts["navigation_retried"]


def test_an_aborted_navigation_is_not_a_download():
    """A server that answers the browser with "204 No Content": Chromium aborts the navigation;
    tried twice, it is recorded as an aborted navigation, never as a download."""
    with LoopbackServer({"/nothing": Reply(204, b""), "/": Reply(body=page("Home"))}) as site:
        # the crawler saw a page, the browser gets "No Content"
        rec, told = audit(site, [item(site.origin + "/nothing", fetched=False),
                                 item(site.origin + "/nothing", fetched=False, status=204)])
        requests = dict(site.requests)
    assert (rec.status, rec.reason_code) == ("failed", "navigation_aborted"), rec.reason
    assert "ERR_ABORTED" in rec.reason and requests["/nothing"] == 2
    # when the crawler got the 204 itself, there is nothing to render: not even a navigation
    assert (told.status, told.reason_code) == ("skipped", "not_html"), told.reason
    assert classify_navigation_error("Page.goto: net::ERR_ABORTED; maybe frame was detached?") == "navigation_aborted"
    assert classify_navigation_error("Page.goto: Download is starting") == "download"


# -- the run's JSON when the start URL fails -----------------------------------------------------

def test_a_start_url_that_fails_still_writes_the_json(tmp_path):
    routes = {"/": Reply(500, page("Broken")), "/robots.txt": Reply(404)}
    with LoopbackServer(routes) as site:
        res = run_cli("audit", site.origin + "/", "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
                      "--no-sitemaps", cwd=tmp_path)
    assert res.returncode == 2
    assert "a11ycrawl: error: the start URL" in res.stderr and "http_error" in res.stderr
    doc = load_json(tmp_path / "r.json")
    assert doc["run"]["status"] == "failed"
    assert "could not be audited: http_error" in doc["run"]["error"]
    (start,) = doc["pages"]
    assert (start["status"], start["reason_code"]) == ("failed", "http_error")
