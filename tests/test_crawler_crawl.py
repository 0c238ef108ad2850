"""Crawl-level tests of ``crawler/`` (no browser): the trap site of ``crawler_trap_site.py`` on
127.0.0.1, crawled by the real spider and Scrapy engine in a subprocess (one reactor per process),
counting what the server was asked for."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler_trap_site import MAX, long_path, routes
from audits.engine.static_server import LoopbackServer

HERE = Path(__file__).parent


def crawl(sections: tuple[str, ...], **options) -> dict:
    with LoopbackServer({}) as site:
        site.app.update(routes(site.origin, sections))
        config = {"start_url": site.url, "max_pages": 300, **options}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        res = subprocess.run([sys.executable, str(HERE / "crawler_harness.py"), json.dumps(config)],
                             capture_output=True, text=True, timeout=180, env=env, cwd=HERE.parent)
        requests = dict(site.requests)
    assert res.returncode == 0, res.stderr[-3000:]
    items = [json.loads(line) for line in res.stdout.splitlines()]
    base = site.origin
    return dict(base=base, requests=requests, items=items,
                by_path={i["url"][len(base):]: i for i in items if i["url"].startswith(base)})


def fetched(result: dict, pattern: str) -> dict[str, int]:
    return {p: n for p, n in result["requests"].items() if re.fullmatch(pattern, p)}


CAP = 5


@pytest.fixture(scope="module")
def long_urls():
    return crawl(("long",))


def test_no_url_over_2048_characters_is_requested(long_urls):
    base, requests, by_path = long_urls["base"], long_urls["requests"], long_urls["by_path"]
    assert max(len(base) + len(p) for p in requests) == MAX
    # exactly 2048 characters: fetched, as a link and from the sitemap
    assert requests.get(long_path(base, MAX, "a")) == 1
    assert requests.get(long_path(base, MAX, "c")) == 1
    # one more: recorded, not fetched
    for path in (long_path(base, MAX + 1, "b"), long_path(base, MAX + 1, "d")):
        assert path not in requests
        assert by_path[path]["reason_code"] == "url_too_long"
    # a redirect to 2,062 characters and sitemap URLs of 2049 and 5,000 are not followed
    assert long_path(base, 2062, "e") not in requests
    assert by_path["/long-redirect"]["reason_code"] == "url_too_long"
    assert requests.get("/sitemap-index.xml") == 1
    assert not any(p.startswith(("/fff", "/ggg")) for p in requests)


def test_reasons_never_carry_a_whole_long_url(long_urls):
    assert all(len(i["reason"] or "") < 300 for i in long_urls["items"] if i["type"] == "SkippedUrl")


def test_a_redirect_chain_is_too_many_redirects_not_a_trap():
    result = crawl(("chain",), per_template_cap=3)
    assert result["by_path"]["/chain/0"]["reason_code"] == "too_many_redirects"
    assert len(fetched(result, r"/chain/\d+")) == 11  # the link and Scrapy's 10 redirects


def test_scrapy_url_length_limit_is_ours():
    """Scrapy drops requests from callbacks over URLLENGTH_LIMIT (2083 by default): ours, 2048."""
    from crawler.run import CrawlOptions
    from crawler.settings import build_settings
    from crawler.urls import Scope

    opts = CrawlOptions(start_url="http://example.org/", scope=Scope.for_start_url("http://example.org/"))
    assert build_settings(opts, sink=None)["URLLENGTH_LIMIT"] == MAX


@pytest.fixture(scope="module")
def caps():
    # near-duplicate detection out of the way: the template caps alone must hold
    return crawl(("nf", "calendar", "diary", "cal", "events"), per_template_cap=CAP, query_variants_cap=100,
                 near_duplicate_cap=10_000)


@pytest.mark.parametrize("pattern", [
    r"/calendar/\d+/\d+",  # next and previous as paths
    r"/diary/[a-z]+-\d+",  # months written as words
    r"/cal\?month=\d+-\d+",  # the month in the query string
    r"/events/\d+/\d+",  # reached through /events/next?from=... redirects
])
def test_calendar_cap_holds_exactly(caps, pattern):
    got = fetched(caps, pattern)
    assert len(got) == CAP, sorted(got)
    assert set(got.values()) == {1}, got  # and each page once: no redirect fetches one again


def test_calendar_pages_over_the_cap_are_recorded(caps):
    trapped = [p for p, i in caps["by_path"].items() if i.get("reason_code") == "trap_limit"]
    for prefix in ("/calendar/", "/diary/", "/cal?", "/events/next"):
        assert any(p.startswith(prefix) for p in trapped), prefix
    hop = next(i for p, i in caps["by_path"].items()
               if p.startswith("/events/next") and i.get("reason_code") == "trap_limit")
    assert hop["status"] == "skipped" and hop["reason"].startswith("redirects to ") and "template" in hop["reason"]
    assert hop["final_url"].startswith(caps["base"] + "/events/")


def test_redirects_to_pages_seen_already_are_duplicates(caps):
    hops = [i for p, i in caps["by_path"].items() if p.startswith(("/events/prev", "/events/next"))]
    assert {i["reason_code"] for i in hops} == {"duplicate", "trap_limit"}
    # "previous" leads back to a page fetched already: recorded without fetching it again
    assert any(i["reason_code"] == "duplicate" and i["http_status"] is None for i in hops)


def test_random_segments_share_one_template(caps):
    # /nf/start, then made-up /nf/<token> links: one template, capped
    assert len(fetched(caps, r"/nf/.*")) == 1 + CAP


@pytest.fixture(scope="module")
def soft404():
    return crawl(("lost", "app"), per_template_cap=50, near_duplicate_cap=3)


def test_soft_404_is_fetched_a_few_times_only(soft404):
    lost = fetched(soft404, r"/lost/.*")
    # the group is a trap at its 4th page leading somewhere new; each led to two more
    assert 4 <= len(lost) <= 1 + 2 * (3 + 1), sorted(lost)
    trapped = [i for p, i in soft404["by_path"].items()
               if p.startswith("/lost/") and i.get("reason_code") == "trap_limit"]
    assert trapped and all("near-identical" in i["reason"] and i["status"] == "skipped" for i in trapped)


def test_app_shell_is_not_a_trap(soft404):
    app = {p: i for p, i in soft404["by_path"].items() if p.startswith("/app/")}
    assert sorted(app) == ["/app/"] + [f"/app/{r}" for r in "abcdefgh"]
    assert {i["type"] for i in app.values()} == {"DiscoveredPage"}


# -- scope by path -------------------------------------------------------------------------------


def crawl_scope_site(start: str, **options) -> dict:
    from scope_site import routes as scope_routes

    with LoopbackServer({}) as site:
        site.app.update(scope_routes(site.origin))
        config = {"start_url": site.origin + start, "max_pages": 100, **options}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        res = subprocess.run([sys.executable, str(HERE / "crawler_harness.py"), json.dumps(config)],
                             capture_output=True, text=True, timeout=180, env=env, cwd=HERE.parent)
        requests = dict(site.requests)
    assert res.returncode == 0, res.stderr[-3000:]
    items = [json.loads(line) for line in res.stdout.splitlines()]
    base = site.origin
    return dict(requests=requests, by_path={i["url"][len(base):]: i for i in items if i["url"].startswith(base)})


def test_a_start_url_below_the_root_keeps_the_crawl_in_its_directory():
    result = crawl_scope_site("/before/home.html")
    by_path, requests = result["by_path"], result["requests"]
    pages = {p for p, i in by_path.items() if i["type"] == "DiscoveredPage"}
    assert pages == {"/before/home.html", "/before/page2.html", "/before/sub/deep.html", "/before/",
                     "/before/moved.html", "/before/sitemapped.html"}
    # links, the sitemap and a redirect out of the directory: out of scope, never fetched
    for path in ("/after/home.html", "/", "/other/page.html", "/after/sitemapped.html"):
        assert by_path[path]["reason_code"] == "out_of_scope", path
        assert path not in requests, path
    assert by_path["/before/out-redirect"]["reason_code"] == "out_of_scope"
    assert "/after/moved.html" not in requests
    assert not any(p.startswith("/after/") for p in requests)
    # the sitemap itself is read from the root: it is not a page
    assert requests.get("/sitemap.xml") == 1


def test_scope_host_crawls_the_whole_host():
    result = crawl_scope_site("/before/home.html", scope="host")
    by_path = result["by_path"]
    for path in ("/after/home.html", "/after/x.html", "/after/sitemapped.html", "/", "/other/page.html",
                 "/after/moved.html"):
        assert by_path[path]["type"] == "DiscoveredPage", path
