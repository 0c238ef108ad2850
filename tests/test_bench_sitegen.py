"""Quick checks of the benchmark's synthetic site generator (no browser)."""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import deque
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from sitegen import MAX_PAGE_BYTES, MIN_PAGE_BYTES, SiteServer, build_site  # noqa: E402

PAGES = 40


@pytest.fixture(scope="module")
def site():
    return build_site(PAGES, seed=7)


def _links(body: bytes) -> set[str]:
    return {h.split("#")[0] for h in re.findall(r'<a [^>]*href="(/[^"]*)"', body.decode())}


def test_deterministic():
    a, b = build_site(PAGES, seed=7), build_site(PAGES, seed=7)
    assert a.pages == b.pages
    assert {k: v.body for k, v in a.assets.items()} == {k: v.body for k, v in b.assets.items()}
    assert a.digest() == b.digest()
    assert build_site(PAGES, seed=8).digest() != a.digest()


def test_page_count_and_sizes(site):
    assert len(site.pages) == PAGES
    for path, body in site.pages.items():
        assert MIN_PAGE_BYTES <= len(body) <= MAX_PAGE_BYTES, (path, len(body))


def test_bigger_sites_plan_exactly():
    for n in (30, 300):
        assert len(build_site(n).pages) == n


def test_every_page_reachable_from_home(site):
    seen, todo = {"/"}, deque(["/"])
    depth = {"/": 0}
    while todo:
        p = todo.popleft()
        for link in _links(site.pages[p]):
            if link in site.pages and link not in seen:
                seen.add(link)
                depth[link] = depth[p] + 1
                todo.append(link)
    assert seen == set(site.pages)
    assert max(depth.values()) <= 4
    # no dangling internal links
    for p, body in site.pages.items():
        for link in _links(body):
            assert link in site.pages or link in site.assets or link == "/search", (p, link)


def test_no_digits_in_page_paths_except_news_pager(site):
    for p in site.pages:
        assert not re.search(r"\d", p) or p.startswith("/news/page/"), p


def test_known_violations_planted(site):
    rules = {r for v in site.expected.values() for r in v}
    assert {"image-alt", "color-contrast", "link-name"} <= rules
    for path, expected in site.expected.items():
        body = site.pages[path].decode()
        if "image-alt" in expected:
            assert re.search(r"<img (?![^>]*alt=)[^>]*>", body), path


def test_sitemap_lists_all_pages(site):
    xml = site.sitemap("http://127.0.0.1:1")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(xml).findall("s:url/s:loc", ns)]
    assert locs == ["http://127.0.0.1:1" + p for p in site.pages]


def test_server_serves_pages_assets_and_caching():
    site = build_site(PAGES, seed=7)
    with SiteServer(site) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        robots = urllib.request.urlopen(srv.origin + "/robots.txt", timeout=10).read().decode()
        assert f"Sitemap: {srv.origin}/sitemap.xml" in robots
        sm = urllib.request.urlopen(srv.origin + "/sitemap.xml", timeout=10).read().decode()
        assert sm.count("<loc>") == PAGES
        for url in srv.page_urls():
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/html")
                assert resp.read() == site.pages[url[len(srv.origin):]]
        with urllib.request.urlopen(srv.origin + "/assets/site.js", timeout=10) as resp:
            assert "max-age" in resp.headers["Cache-Control"]
            etag = resp.headers["ETag"]
        req = urllib.request.Request(srv.origin + "/assets/site.js", headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=10)
        assert exc.value.code == 304
        for path in site.assets:
            assert urllib.request.urlopen(srv.origin + path, timeout=10).status == 200
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(srv.origin + "/no-such-page", timeout=10)
        assert exc.value.code == 404
        assert srv.snapshot()["page_requests_other"] == PAGES


def test_mutations_change_content_and_name_affected_pages():
    site = build_site(PAGES, seed=7)
    before = site.digest()
    page = site.paths[5]
    old = site.pages[page]
    info = site.mutate("page", page)
    assert info["affected"] == [page] and site.pages[page] != old
    pristine = build_site(PAGES, seed=7).pages
    assert sum(1 for p in site.pages if site.pages[p] != pristine[p]) == 1
    js = site.assets["/assets/site.js"].body
    info = site.mutate("script")
    assert site.assets["/assets/site.js"].body != js and len(info["affected"]) == PAGES
    info = site.mutate("forms-script")
    assert set(info["affected"]) == {p for p, s in site.scripts_of.items() if "/assets/forms.js" in s}
    assert site.mutate("style")["affected"] and site.digest() != before


def test_tree_monitor_keeps_cpu_of_exited_children():
    """The benchmark's sampler must count CPU of a child that exits before its parent."""
    import subprocess
    import time

    from bench import TreeMonitor

    burn = "import time\nt=time.process_time()\nwhile time.process_time()-t<0.6: pass"
    parent = f"import subprocess,sys,time\nsubprocess.run([sys.executable,'-c',{burn!r}])\ntime.sleep(0.5)"
    proc = subprocess.Popen([sys.executable, "-c", parent])
    mon = TreeMonitor(proc.pid, "t", interval=0.1, report_every=0, echo=False, pss_every=0.2)
    mon.start()
    proc.wait(timeout=60)
    time.sleep(0.2)
    mon.finish()
    assert len({pid for pid, _ in mon.cpu}) >= 2  # parent and child seen
    assert mon.cpu_total >= 0.45  # the child's burn, measured after it exited
    assert mon.peak_rss > 0 and mon.peak_pss > 0
