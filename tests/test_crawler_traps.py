"""crawler.traps: URL templates, caps that hold exactly, random segments, near-identical pages;
and the spider's use of them, driven with hand-made responses (no reactor, no network)."""

import random
import string
from collections import deque

import pytest
import scrapy
from scrapy.http import HtmlResponse

from crawler.failures import Fenced
from crawler.items import DiscoveredPage, SkippedUrl
from crawler.spider import SiteSpider
from crawler.traps import (
    NearDuplicates, TrapGuard, is_random_token, repeated_segments, simhash, text_features, url_template,
)
from crawler.urls import Scope, normalise_url

BASE = "http://example.org"

# -- url_template ----------------------------------------------------------------------------


@pytest.mark.parametrize("a, b", [
    ("/calendar/2026/11", "/calendar/2027/1"),
    ("/calendar/2026/11/", "/calendar/1999/12/"),
    ("/calendar?month=2026-11", "/calendar?month=2027-01"),
    ("/events/next?d=2026-11-01", "/events/next?d=2026-12-01"),
    ("/calendar/november-2026", "/calendar/December-2027"),
    ("/calendar/nov-2026", "/calendar/sept-2026"),
    ("/calendar/2026/november", "/calendar/2026/may"),
    ("/calendar/2026nov", "/calendar/2027jan"),
    ("/events/monday-22nd-november-2026", "/events/sat-1st-may-2027"),
    ("/events/3rd-of-june", "/events/21st-of-july"),
    ("/missing/x7Gk29Qa", "/missing/Zp31kQ8v"),
    ("/missing/3f2a9c1b7e", "/missing/b9x2r4lm6q"),
    ("/item/d4c1e5a0-8b8e-4f0e-9c3b-2a7f1e6d9c00", "/item/0b6f2a4c-1d3e-4a5b-8c7d-9e0f1a2b3c4d"),
    ("/session/QUJDREVGR0hJSktMTU5PUA2", "/session/ZXhhbXBsZS5vcmcvYWJj1"),
    ("/News/Page-2", "/news/page-3"),
])
def test_url_template_folds_variants_together(a, b):
    assert url_template(BASE + a) == url_template(BASE + b)


@pytest.mark.parametrize("a, b", [
    ("/calendar/2026/11", "/calendar/2026/11/"),  # another shape of path
    ("/calendar/2026/11", "/calendar/2026-11"),
    ("/calendar?month=1", "/calendar?day=1"),  # other query keys
    ("/about", "/contact"),
    ("/covid19", "/covid20-update"),
    ("/news/a11y", "/news/i18n"),
])
def test_url_template_keeps_shapes_apart(a, b):
    assert url_template(BASE + a) != url_template(BASE + b)


def test_url_template_is_per_host():
    assert url_template("http://a.example.org/x/1") != url_template("http://b.example.org/x/1")
    assert url_template("http://Example.org/x/1") == url_template("http://example.org/x/2")


@pytest.mark.parametrize("token", [
    "x7Gk29Qa", "k3x9q2m7z4", "3f2a9c1b7e", "deadbeef12", "d4c1e5a0-8b8e-4f0e-9c3b-2a7f1e6d9c00",
    "QUJDREVGR0hJSktMTU5PUA2", "AbCdEfG1",
])
def test_random_tokens(token):
    assert is_random_token(token)


@pytest.mark.parametrize("token", [
    "covid19", "a11y", "i18n", "page2", "2026nov", "22nd", "november", "20261122", "mp3player", "x86", "h264",
    "bakomu", "Cafe", "deadbeef", "abc",
])
def test_words_and_numbers_are_not_random(token):
    assert not is_random_token(token)


def test_repeated_segments():
    assert repeated_segments(BASE + "/a/a/a")
    assert repeated_segments(BASE + "/a/b/a/b/a/b")
    assert repeated_segments(BASE + "/x/a/b/y/a/b/z/a/b")
    assert not repeated_segments(BASE + "/a/b/a/b")
    assert not repeated_segments(BASE + "/a/b/c/d/e")


# -- TrapGuard ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1, 2, 5, 50])
def test_template_cap_is_exact(cap):
    guard = TrapGuard(per_template=cap)
    results = [guard.check(f"{BASE}/calendar/{2000 + i // 12}/{i % 12 + 1}") for i in range(cap + 10)]
    assert results[:cap] == [None] * cap
    assert all(r and "more than" in r and "{n}/{n}" in r for r in results[cap:])


def test_template_cap_counts_every_form_of_a_date():
    guard = TrapGuard(per_template=3)
    months = ["november-2026", "dec-2026", "January-2027", "feb-2027"]
    assert [guard.check(f"{BASE}/diary/{m}") is None for m in months] == [True, True, True, False]


def test_admitting_twice_counts_once():
    guard = TrapGuard(per_template=2)
    assert guard.check(BASE + "/c/1") is None
    assert guard.check(BASE + "/c/1") is None
    assert guard.check(BASE + "/c/2") is None
    assert guard.check(BASE + "/c/3") is not None


def test_forced_urls_count_towards_the_cap():
    guard = TrapGuard(per_template=2)
    assert guard.check(BASE + "/c/1", force=True) is None  # the start URL
    assert guard.check(BASE + "/c/2") is None
    assert guard.check(BASE + "/c/3") is not None
    assert guard.check(BASE + "/c/4", force=True) is None  # a resumed URL goes through regardless


def test_query_variants_cap_is_exact():
    guard = TrapGuard(per_path_queries=3)
    results = [guard.check(f"{BASE}/search?q=term{i}") for i in range(5)]
    assert results[:3] == [None] * 3 and all("query strings for /search" in r for r in results[3:])
    assert guard.check(BASE + "/search?q=term1") is None  # an admitted variant stays admitted
    assert guard.check(BASE + "/other?q=1") is None


def test_deep_and_repeating_paths():
    guard = TrapGuard(max_path_segments=4)
    assert guard.check(BASE + "/a/b/c/d") is None
    assert "deeper than 4" in guard.check(BASE + "/a/b/c/d/e")
    assert guard.check(BASE + "/x/x/x") == "repeating path segments"


def test_random_segments_share_one_budget():
    guard = TrapGuard(per_template=5)
    rng = random.Random(3)
    tokens = ["".join(rng.choice(string.ascii_lowercase) + rng.choice(string.digits) for _ in range(4))
              for _ in range(20)]
    admitted = [t for t in tokens if guard.check(f"{BASE}/nf/{t}") is None]
    assert len(admitted) == 5


def test_a_long_template_is_shortened_in_the_reason():
    guard = TrapGuard(per_template=1)
    guard.check(BASE + "/" + "a" * 1500 + "/1")
    reason = guard.check(BASE + "/" + "a" * 1500 + "/2")
    assert reason and len(reason) < 200 and reason.endswith("\u2026")


# -- near-identical pages ----------------------------------------------------------------------

NOT_FOUND = "Page not found. Sorry, we could not find the page you asked for. It may have moved. Try {}."
ARTICLE = ("The library on {} Street opens at nine every weekday. Children's reading groups meet on "
           "Tuesdays, and the computers can be booked at the front desk or online.")


def test_text_features_fold_numbers_and_random_tokens():
    assert text_features("Request 7Hk2x9Qw3 failed at 12:04") == ["request", "#", "failed", "at", "#", "#"]


def test_simhash_tells_texts_apart():
    a = text_features(NOT_FOUND.format("x7Gk29Qa"))
    assert simhash(a) == simhash(list(a)) == simhash(text_features(NOT_FOUND.format("Zp31kQ8v")))
    for other in (ARTICLE.format("High"), NOT_FOUND.format("again, or ask us at the front desk")):
        assert bin(simhash(a) ^ simhash(text_features(other))).count("1") > 3


def test_a_page_echoing_its_url_is_still_the_same_page():
    nd = NearDuplicates()
    ids = {nd.group("example.org", f"No page at /lost/{w}. Sorry, it may have moved.", f"{BASE}/lost/{w}")
           for w in ("bakomu", "tiravo", "melu")}
    assert len(ids) == 1
    assert nd.group("example.org", "No page at /lost/bakomu. Sorry, it may have moved.", f"{BASE}/x") not in ids


def test_near_duplicates_group_soft_404s_and_not_real_pages():
    nd = NearDuplicates(cap=3)
    soft = [nd.group("example.org", NOT_FOUND.format(tok)) for tok in ("x7Gk29Qa", "Zp31kQ8v", "b9Xr2Lm4qq")]
    assert len(set(soft)) == 1 and nd.size(soft[0]) == 3
    real = {nd.group("example.org", ARTICLE.format(s)) for s in ("High", "Mill", "Church")}
    assert soft[0] not in real
    assert nd.group("other.example.org", NOT_FOUND.format("x7Gk29Qa")) != soft[0]  # counted per site
    assert nd.group("example.org", "Loading") is None  # too little text to compare


def test_pages_of_a_real_looking_site_are_not_near_identical():
    """The benchmark's synthetic council site: shared header, menus and footer, one small
    vocabulary, 120 different pages; none may be taken for another."""
    import sys
    from pathlib import Path

    from crawler.spider import _visible_text

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from sitegen import build_site

    nd = NearDuplicates()
    groups = {}
    for path, body in build_site(120, seed=3).pages.items():
        url = BASE + path
        response = HtmlResponse(url, body=body if isinstance(body, bytes) else body.encode(), encoding="utf-8")
        groups.setdefault(nd.group("example.org", _visible_text(response), url), []).append(path)
    assert None not in groups
    assert [paths for paths in groups.values() if len(paths) > 1] == []


def test_near_duplicates_become_a_trap_only_when_they_keep_leading_somewhere_new():
    nd = NearDuplicates(cap=2)
    gid = nd.group("example.org", NOT_FOUND.format("x"))
    for n in range(3):
        assert not nd.is_trap(gid)
        nd.led_to_new_urls(gid, f"/page{n}")
    assert nd.is_trap(gid)
    nd.led_to_new_urls(gid, "/page0")  # the same page again changes nothing
    assert len(nd._groups[gid].generative) == 3
    assert not nd.is_trap(None)


# -- the spider, with hand-made responses -----------------------------------------------------


def make_spider(**guard):
    return SiteSpider(start_url=BASE + "/", scope=Scope.for_start_url(BASE + "/"), max_pages=10_000,
                      trap_guard=TrapGuard(**guard))


def respond(req: scrapy.Request, body: str, url: str | None = None) -> HtmlResponse:
    return HtmlResponse(url=url or req.url, body=body.encode(), encoding="utf-8", request=req,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def html(title: str, body: str) -> str:
    return f"<!doctype html><html lang=en><title>{title}</title><body><main><h1>{title}</h1>{body}</main></body></html>"


def crawl(spider: SiteSpider, site, start_links: list[str], limit: int = 2000):
    """A breadth-first stand-in for Scrapy's engine: answers every request with ``site(path)``."""
    items, fetched = [], []
    home = spider._request(BASE + "/", 0, None, "start", force=True)
    queue = deque([(home, html("Home", "".join(f'<a href="{u}">{u}</a>' for u in start_links)))])
    while queue and len(fetched) < limit:
        req, body = queue.popleft()
        fetched.append(req.url[len(BASE):])
        for out in spider.parse_page(respond(req, body)):
            if isinstance(out, scrapy.Request):
                queue.append((out, site(out.url[len(BASE):])))
            else:
                items.append(out)
    return fetched, items


def test_soft_404_stops_after_a_few_near_identical_pages():
    rng = random.Random(5)

    def word():  # letters only: no URL template folds these
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    def site(path):
        return html("Page not found", f'<p>Sorry, we could not find that page.</p><a href="{word()}">Try this</a> '
                                      f'<a href="{word()}">or this</a>')

    cap = 3
    spider = make_spider(near_duplicate_cap=cap)
    fetched, items = crawl(spider, site, ["/lost/start"])
    lost = [p for p in fetched if p.startswith("/lost/")]
    # the group becomes a trap at its (cap + 1)th page that leads somewhere new; each led to 2 pages
    assert cap + 1 <= len(lost) <= 1 + 2 * (cap + 1), len(lost)
    trapped = [i for i in items if isinstance(i, SkippedUrl) and i.reason_code == "trap_limit"]
    assert trapped and all("near-identical" in i.reason and i.status == "skipped" for i in trapped)
    audited = [i for i in items if isinstance(i, DiscoveredPage) and i.url.startswith(BASE + "/lost/")]
    assert len(audited) <= cap + 1 + 1


def test_links_of_a_trapped_group_are_not_followed_from_anywhere():
    rng = random.Random(7)

    def body():
        w = lambda: "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))  # noqa: E731
        return html("Page not found", f'<p>Sorry.</p><a href="{w()}">Try this</a> <a href="{w()}">or this</a>')

    spider = make_spider(near_duplicate_cap=2)
    crawl(spider, lambda path: body(), ["/lost/start"])
    # the same page reached from the home page (not from one like it): audited, links not followed
    req = spider._request(BASE + "/other/missing", 1, BASE + "/", "link")
    out = list(spider.parse_page(respond(req, body())))
    assert [type(o) for o in out] == [DiscoveredPage]
    # nor its links found in the rendered page
    assert spider.feed([BASE + "/other/new-link"], 2, BASE + "/other/missing") == []
    assert BASE + "/other/new-link" not in spider.seen


def test_soft_404_without_near_duplicate_detection_runs_away():
    """The guard above is what stops it: with a cap too high to matter, the crawl runs on."""
    rng = random.Random(5)

    def site(path):
        w = lambda: "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))  # noqa: E731
        return html("Page not found", f'<p>Sorry.</p><a href="{w()}">Try this</a> <a href="{w()}">or this</a>')

    fetched, _ = crawl(make_spider(near_duplicate_cap=10_000), site, ["/lost/start"], limit=300)
    assert len(fetched) == 300


def test_app_shell_pages_are_near_identical_but_not_a_trap():
    routes = [f"/app/{r}" for r in "abcdefghij"]
    shell = html("Council app", "<nav>" + "".join(f'<a href="{r}">{r}</a>' for r in routes) + "</nav>"
                 "<div id=app>Loading the app, please wait.</div>")
    spider = make_spider(near_duplicate_cap=2)
    fetched, items = crawl(spider, lambda path: shell, routes[:1])
    assert sorted(p for p in fetched if p.startswith("/app/")) == routes
    assert not [i for i in items if isinstance(i, SkippedUrl)]
    assert len([i for i in items if isinstance(i, DiscoveredPage)]) == 11


def test_calendar_cap_holds_exactly_through_links():
    def site(path):
        y, m = map(int, path.split("/")[2:4])
        return html(f"Calendar {y} {m}", f'<a href="/calendar/{y + (m == 12)}/{m % 12 + 1}">Next</a>'
                                         f'<a href="/calendar/{y - (m == 1)}/{(m - 2) % 12 + 1}">Previous</a>')

    spider = make_spider(per_template=7, near_duplicate_cap=10_000)
    fetched, items = crawl(spider, site, ["/calendar/2026/6"])
    assert len([p for p in fetched if p.startswith("/calendar/")]) == 7
    assert {i.reason_code for i in items if isinstance(i, SkippedUrl)} == {"trap_limit"}


def test_the_start_url_counts_towards_its_template():
    spider = SiteSpider(start_url=BASE + "/calendar/2026/1", scope=Scope.for_start_url(BASE + "/"), max_pages=100,
                        trap_guard=TrapGuard(per_template=2))
    assert spider._request(BASE + "/calendar/2026/1", 0, None, "start", force=True) is not None
    out = list(spider.follow(BASE + "/calendar/2026/2", 1, BASE + "/calendar/2026/1", "link"))
    assert isinstance(out[0], scrapy.Request)
    out = list(spider.follow(BASE + "/calendar/2026/3", 1, BASE + "/calendar/2026/2", "link"))
    assert isinstance(out[0], SkippedUrl) and out[0].reason_code == "trap_limit"


def hop(spider, source: str, target: str, times: int = 1) -> scrapy.Request:
    """The request Scrapy's RedirectMiddleware makes for a redirect from ``source`` to ``target``."""
    req = spider._request(BASE + source, 1, BASE + "/", "link")
    return req.replace(url=BASE + target, meta={**req.meta, "redirect_urls": [BASE + source], "redirect_times": times})


def test_redirect_hops_count_towards_the_cap():
    spider = make_spider(per_template=3)
    for month in (1, 2, 3):
        spider.check_redirect(hop(spider, f"/events/next?from={month}", f"/events/2026/{month}"))
    with pytest.raises(Fenced) as exc:
        spider.check_redirect(hop(spider, "/events/next?from=4", "/events/2026/4"))
    assert exc.value.reason_code == "trap_limit" and "template" in exc.value.reason
    assert exc.value.final_url == BASE + "/events/2026/4"


def test_redirect_to_a_page_recorded_already_is_not_fetched_again():
    spider = make_spider()
    spider._request(BASE + "/about", 1, BASE + "/", "link")
    with pytest.raises(Fenced) as exc:
        spider.check_redirect(hop(spider, "/old-about", "/about"))
    assert exc.value.reason_code == "duplicate"


def test_redirect_loops_are_left_to_scrapy():
    spider = make_spider()
    spider.check_redirect(hop(spider, "/loop", "/loop"))  # no exception: the redirect limit ends it


def test_a_redirect_chain_within_one_template_takes_one_place():
    spider = make_spider(per_template=2)
    req = next(iter(spider.follow(BASE + "/r/0", 1, BASE + "/", "link")))
    assert isinstance(req, scrapy.Request)
    chain = [BASE + "/r/0"]
    for n in range(1, 15):  # left to Scrapy's redirect limit: too_many_redirects
        req = req.replace(url=f"{BASE}/r/{n}", meta={**req.meta, "redirect_urls": list(chain), "redirect_times": n})
        spider.check_redirect(req)
        chain.append(req.url)
    assert spider.traps.check(BASE + "/r/99") is None  # one place taken by the whole chain, one left


def test_redirect_fences_scope_and_length():
    spider = SiteSpider(start_url=BASE + "/", scope=Scope.for_start_url(BASE + "/", exclude=["/private/"]),
                        max_pages=100)
    with pytest.raises(Fenced) as exc:
        spider.check_redirect(hop(spider, "/a", "/private/x"))
    assert exc.value.reason_code == "out_of_scope"
    with pytest.raises(Fenced) as exc:
        spider.check_redirect(hop(spider, "/b", "/" + "x" * 2100))
    assert exc.value.reason_code == "url_too_long" and len(exc.value.reason) < 200


def test_final_url_over_the_limit_after_a_redirect_is_url_too_long():
    spider = make_spider()
    req = spider._request(BASE + "/short", 1, BASE + "/", "link")
    long_url = BASE + "/" + "y" * 2100
    items = list(spider.parse_page(respond(req, html("Long", "<p>x</p>"), url=long_url)))
    assert [(i.reason_code, i.url) for i in items] == [("url_too_long", normalise_url(BASE + "/short"))]
    assert len(items[0].reason) < 200
