"""The discovery spider: start URL + robots.txt + sitemaps + links, inside a scope and a budget.

Every URL the spider meets ends in exactly one item: a :class:`DiscoveredPage` (to be audited),
a :class:`Document`, or a :class:`SkippedUrl` with a reason code. Robots.txt, retries, redirects,
throttling, depth limits and size limits are Scrapy's own middlewares, configured in
:mod:`crawler.settings`; this module adds scope, traps, budgets and the bookkeeping.
"""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError
from twisted.internet.defer import CancelledError
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from .failures import Fenced, classify_failure, state_of
from .items import DiscoveredPage, Document, SkippedUrl
from .traps import TrapGuard, url_template
from .urls import MAX_URL_LENGTH, Scope, document_kind, is_asset, normalise_url, origin_host, shorten, too_long

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Answers that make a link broken (the site says the page is not there), not an audit failure.
BROKEN_LINK_STATUSES = (404, 410)


def _content_type(response: Response) -> str | None:
    ct = response.headers.get(b"Content-Type")
    return ct.decode("latin-1") if ct else None


def _visible_text(response: Response) -> str:
    """The text a reader sees (title and body, without scripts and styles)."""
    if not isinstance(response, TextResponse):
        return ""
    try:
        return " ".join(response.xpath(
            "//title//text() | //body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
            " or ancestor::template)]").getall())
    except Exception:  # not parseable as HTML or XML
        return ""


def _is_html(response: Response) -> bool:
    ct = (_content_type(response) or "").split(";")[0].strip().lower()
    if ct in HTML_TYPES:
        return True
    if not ct:  # missing content type: sniff
        head = response.body[:512].lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head
    return False


class SiteSpider(scrapy.Spider):
    """Crawl one site. Arguments come from :func:`crawler.run.crawl` (see there)."""

    name = "a11ycrawl"

    def __init__(
        self,
        start_url: str,
        scope: Scope,
        max_pages: int,
        use_sitemaps: bool = True,
        max_depth: int = 10,
        trap_guard: TrapGuard | None = None,
        seen: Iterable[str] = (),
        pages_so_far: int = 0,
        resume_urls: Iterable[tuple[str, int, str | None, str]] = (),
        keep_alive=None,
        done: Iterable[str] | set[str] = (),
        cookies: dict[str, str] | None = None,
        seeds: Iterable[str] = (),
        sitemap_urls: Iterable[str] = (),
        follow_links: bool = True,
        resume_links: Iterable[tuple[str, int, str]] = (),
        max_documents: int = 0,
        max_document_bytes: int = 20 * 1024 * 1024,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.start_url = start_url
        self.scope = scope
        self.max_pages = max_pages
        self.max_depth = max_depth
        self.use_sitemaps = use_sitemaps
        self.traps = trap_guard or TrapGuard()
        self.keep_alive = keep_alive
        # pages already recorded in this run (resume): crawled for their links, not audited again
        self.done = done if isinstance(done, set) else set(done)
        self.cookies = cookies or {}
        self.seeds = list(seeds)  # more URLs to audit besides the start URL (a URL list)
        self.explicit_sitemaps = list(sitemap_urls)
        self.follow_links = follow_links
        self.resume_links = list(resume_links)  # (url, depth, referrer) found in rendered pages before
        self.max_documents = max_documents  # linked PDFs fetched (their own budget, not max_pages)
        self.max_document_bytes = max_document_bytes
        self.documents_fetched = 0
        # normalised URLs already given a state (or queued): the run's de-duplication set
        self.seen: set[str] = set(seen)
        self.final_seen: set[str] = set()
        self.pages = pages_so_far
        self.resume_urls = list(resume_urls)
        self.queued: dict[str, dict] = {}  # url -> meta, requested but no answer yet
        self.sitemaps_requested: set[str] = set()
        self.page_groups: dict[str, int] = {}  # page URL -> its group of near-identical pages
        self.link_extractor = LinkExtractor(tags=("a", "area"), attrs=("href",), deny_extensions=[], unique=True, strip=True)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._on_robots, signal=signals.robots_parsed)
        return spider

    # -- start -----------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        if self.resume_urls:
            for url, depth, referrer, via in self.resume_urls:
                req = self._request(url, depth, referrer, via, force=True)
                if req is not None:
                    yield req
        else:
            req = self._request(self.start_url, 0, None, "start", force=True)
            if req is not None:
                yield req
        for url in self.seeds:
            for out in self.follow(url, 0, None, "list"):
                yield out
        if self.follow_links:
            for url, depth, referrer in self.resume_links:
                for out in self.follow(url, depth, referrer, "rendered"):
                    yield out
        for req in self._sitemap_requests(self.explicit_sitemaps):
            yield req
        if self.use_sitemaps:
            root = urljoin(self.start_url, "/")
            if not self.settings.getbool("ROBOTSTXT_OBEY"):
                # with robots.txt obeyed, Scrapy fetches it once and _on_robots reads its sitemaps
                yield scrapy.Request(urljoin(root, "/robots.txt"), callback=self.parse_sitemap, errback=self._ignore,
                                     meta={"sitemap": True, "dont_obey_robotstxt": True}, priority=-1)
            self.sitemaps_requested.add(urljoin(root, "/sitemap.xml"))
            yield scrapy.Request(urljoin(root, "/sitemap.xml"), callback=self.parse_sitemap, errback=self._ignore,
                                 meta={"sitemap": True}, priority=-1)

    # -- scheduling ------------------------------------------------------------------------
    def _request(self, url: str, depth: int, referrer: str | None, via: str, force: bool = False) -> scrapy.Request | None:
        """A request for ``url``, or None (after emitting a SkippedUrl item where it deserves one)."""
        norm = normalise_url(url)
        if norm in self.seen and not force:
            return None
        if force:  # the start URL, a resumed URL: fetched whatever the caps, but counted
            self.traps.check(norm, force=True)
        self.seen.add(norm)
        self.queued[norm] = {"depth": depth, "referrer": referrer, "found_via": via}
        return scrapy.Request(
            norm,
            cookies=self.cookies or None,
            callback=self.parse_page,
            errback=self.on_error,
            # our own depth key: Scrapy's DepthMiddleware rewrites "depth" from the response chain
            meta={"a11y_depth": depth, "referrer": referrer, "found_via": via, "norm": norm},
            priority=-depth,
            dont_filter=True,  # we de-duplicate ourselves, on normalised and final URLs
        )

    def _document_request(self, norm: str, referrer: str | None) -> scrapy.Request:
        """Fetch a linked PDF once, within the document budget and size cap, after the pages."""
        self.documents_fetched += 1
        return scrapy.Request(norm, callback=self.parse_document, errback=self.on_document_error, priority=-100,
                              meta={"referrer": referrer, "norm": norm, "download_maxsize": self.max_document_bytes,
                                    "download_warnsize": 0},
                              cookies=self.cookies or None, dont_filter=True)

    def parse_document(self, response: Response) -> Iterable[Any]:
        norm, referrer = response.meta["norm"], response.meta["referrer"]
        ctype = _content_type(response)
        kind = document_kind(normalise_url(response.url), ctype) or "pdf"
        if response.status >= 400:
            yield Document(norm, kind, referrer, response.status, ctype, None, fetch_error=f"HTTP {response.status}")
            return
        yield Document(norm, kind, referrer, response.status, ctype, len(response.body), body=response.body)

    def on_document_error(self, failure) -> Iterable[Any]:
        meta = failure.request.meta
        code, reason = classify_failure(failure)
        if isinstance(failure.value, (DownloadCancelledError, CancelledError)) or "maxsize" in str(failure.value):
            reason = f"larger than {self.max_document_bytes} bytes (max_document_bytes): not downloaded"
        yield Document(meta["norm"], "pdf", meta["referrer"], fetch_error=f"{code}: {reason}")

    def follow(self, url: str, depth: int, referrer: str | None, via: str) -> Iterable[Any]:
        """Items and requests for one discovered link."""
        try:
            norm = normalise_url(url)
        except ValueError:
            norm = url
        if norm in self.seen:
            return
        code = self.scope.check(norm)
        if code is not None:
            self.seen.add(norm)
            msg = {
                "out_of_scope": "outside the audit's scope (its hosts, the start URL's directory, include/exclude patterns)",
                "non_http_scheme": f"not an http(s) link ({shorten(_scheme(url), 40) or 'no scheme'})",
                "url_too_long": f"URL longer than {MAX_URL_LENGTH} characters",
            }[code]
            yield SkippedUrl(norm, "skipped", code, msg, depth=depth, referrer=referrer, found_via=via)
            return
        kind = document_kind(norm)
        if kind:
            self.seen.add(norm)
            if kind == "pdf" and self.documents_fetched < self.max_documents:
                yield self._document_request(norm, referrer)
            else:
                yield Document(norm, kind, referrer)
            return
        if is_asset(norm):
            return
        if depth > self.max_depth:
            self.seen.add(norm)
            yield SkippedUrl(norm, "skipped", "depth_limit", f"more than {self.max_depth} links from the start URL",
                             depth=depth, referrer=referrer, found_via=via)
            return
        trap = self.traps.check(norm)
        if trap:
            self.seen.add(norm)
            yield SkippedUrl(norm, "skipped", "trap_limit", trap, depth=depth, referrer=referrer, found_via=via)
            return
        req = self._request(norm, depth, referrer, via)
        if req is not None:
            yield req

    def feed(self, urls: Iterable[str], depth: int, referrer: str | None, via: str = "rendered") -> list[Any]:
        """Schedule links found outside Scrapy (in the rendered DOM).

        Returns the items (skipped URLs, documents) that the links produced; the caller records
        them, since they do not pass through Scrapy's item pipelines.
        """
        items = []
        if self.pages >= self.max_pages or not self.follow_links:
            return items
        if referrer is not None and self.traps.similar.is_trap(self.page_groups.get(referrer)):
            return items  # a page like too many others that keep inventing links: not followed
        for item_or_req in (x for u in urls for x in self.follow(u, depth, referrer, via)):
            if isinstance(item_or_req, scrapy.Request):
                self.crawler.engine.crawl(item_or_req)
            else:
                items.append(item_or_req)
        return items

    # -- callbacks ---------------------------------------------------------------------------
    def _on_robots(self, robotparser, request) -> None:
        """Scrapy parsed a robots.txt: crawl the sitemaps it lists (once, in scope)."""
        if not self.use_sitemaps:
            return
        sitemaps = getattr(getattr(robotparser, "rp", None), "sitemaps", None) or []
        for req in self._sitemap_requests(list(sitemaps)):
            self.crawler.engine.crawl(req)

    def _sitemap_requests(self, urls: list[str]) -> Iterable[scrapy.Request]:
        for url in urls:
            if url in self.sitemaps_requested or not self.scope.url_host_allowed(url):
                continue
            if too_long(url):
                logger.info("ignoring sitemap URL longer than %d characters: %s", MAX_URL_LENGTH, shorten(url, 80))
                continue
            self.sitemaps_requested.add(url)
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self._ignore, meta={"sitemap": True}, priority=-1)

    def parse_sitemap(self, response: Response) -> Iterable[Any]:
        if response.status >= 400:
            return
        if response.url.endswith("/robots.txt"):
            yield from self._sitemap_requests(list(sitemap_urls_from_robots(response.body, base_url=response.url)))
            return
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except Exception:
                return
        try:
            sm = Sitemap(body)
        except Exception:
            logger.info("ignoring invalid sitemap %s", shorten(response.url))
            return
        if sm.type == "sitemapindex":
            yield from self._sitemap_requests([e["loc"] for e in sm if e.get("loc")])
        elif sm.type == "urlset":
            for entry in sm:
                if entry.get("loc"):
                    yield from self.follow(entry["loc"], 1, response.url, "sitemap")

    def parse_page(self, response: Response) -> Iterable[Any]:
        meta = response.meta
        norm = meta["norm"]
        self.queued.pop(norm, None)
        depth, referrer, via = meta["a11y_depth"], meta["referrer"], meta["found_via"]
        final = normalise_url(response.url)
        ctype = _content_type(response)
        common = dict(depth=depth, referrer=referrer, found_via=via, final_url=final,
                      http_status=response.status, content_type=ctype)
        if final != norm:
            code = self.scope.check(final)
            if code == "url_too_long":
                yield SkippedUrl(norm, "skipped", code, f"redirects to a URL longer than {MAX_URL_LENGTH} characters",
                                 **common)
                return
            if code:
                yield SkippedUrl(norm, "skipped", "out_of_scope", f"redirects out of scope to {shorten(final)}",
                                 **common)
                return
            # the requested URL is another name of the final page, which gets its own state below
            # (under its own URL) unless it has one already
            yield SkippedUrl(norm, "skipped", "duplicate", f"redirects to {shorten(final)}, audited once there",
                             **common)
            common.update(referrer=referrer, found_via=via)
        if final in self.final_seen:
            return  # this page is accounted for already (reached first through a redirect)
        self.final_seen.add(final)
        self.seen.add(final)
        url = final
        if final in self.done or norm in self.done:  # resumed run: recorded already, follow its links only
            if self.follow_links and response.status < 400 and isinstance(response, TextResponse) and _is_html(response):
                for link in self.link_extractor.extract_links(response):
                    yield from self.follow(link.url, depth + 1, final, "link")
            return
        if response.status in (401, 407):
            yield SkippedUrl(url, "skipped", "auth_required", f"HTTP {response.status}: a login is needed", **common)
            return
        if response.status in BROKEN_LINK_STATUSES:
            # the site's own answer, not a page we failed to audit: a broken link, listed apart
            yield SkippedUrl(url, "skipped", "broken_link", f"HTTP {response.status}: a broken link", **common)
            return
        if response.status >= 400:
            yield SkippedUrl(url, "failed", "http_error", f"HTTP {response.status}", **common)
            return
        disposition = (response.headers.get(b"Content-Disposition") or b"").decode("latin-1").lower()
        if disposition.startswith("attachment"):
            yield SkippedUrl(url, "skipped", "download", f"served as a download ({disposition[:80]})", **common)
            return
        kind = document_kind(final, ctype)
        if kind:
            body = None  # a PDF served without a .pdf name: already fetched, checked within the budget
            if kind == "pdf" and self.documents_fetched < self.max_documents and len(response.body) <= self.max_document_bytes:
                self.documents_fetched += 1
                body = response.body
            yield Document(url, kind, referrer, response.status, ctype, len(response.body), body=body)
            return
        if not _is_html(response):
            yield SkippedUrl(url, "skipped", "not_html", f"content type {shorten(ctype or 'unknown', 80)} is not HTML",
                             **common)
            return
        # near-identical pages (a "not found" page answered with 200) that keep inventing links:
        # once a group of them is a trap, pages reached through their links are not audited
        similar = self.traps.similar
        group = similar.group(origin_host(final), _visible_text(response), final)
        if similar.is_trap(group) and via == "link" and self.page_groups.get(referrer or "") == group:
            yield SkippedUrl(url, "skipped", "trap_limit",
                             f"near-identical to {similar.size(group) - 1} other pages of this site that keep linking "
                             "to new URLs (such as a 'not found' page answered with 200)", **common)
            return
        if group is not None:
            self.page_groups[final] = group
        if self.pages >= self.max_pages:
            yield SkippedUrl(url, "skipped", "page_budget", f"page budget of {self.max_pages} reached", **common)
            return
        self.pages += 1
        # one pair per header line: several Set-Cookie lines must stay separate
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        yield DiscoveredPage(
            url=final, requested_url=norm, depth=depth, referrer=referrer,
            found_via=via, http_status=response.status, content_type=ctype, headers=headers,
            body=response.body, redirected=final != norm,
        )
        if self.pages >= self.max_pages or not isinstance(response, TextResponse) or not self.follow_links:
            return
        if similar.is_trap(group):
            return  # its links are as made-up as those of the pages like it
        new_urls = 0
        for link in self.link_extractor.extract_links(response):
            for out in self.follow(link.url, depth + 1, final, "link"):
                new_urls += isinstance(out, scrapy.Request)
                yield out
        if new_urls and group is not None:
            similar.led_to_new_urls(group, final)

    def check_redirect(self, request: scrapy.Request) -> None:
        """Raise :class:`Fenced` when a redirect hop of a page request must not be followed:
        outside the include/exclude patterns, to a page recorded already, or over a trap cap.
        Called by :class:`crawler.middlewares.RedirectFenceMiddleware` once per hop."""
        try:
            target = normalise_url(request.url)
        except ValueError:
            target = request.url
        if too_long(target):
            raise Fenced("url_too_long", f"redirects to a URL longer than {MAX_URL_LENGTH} characters")
        chain = {normalise_url(u) for u in request.meta.get("redirect_urls", ())}
        if target in chain:
            return  # a loop: Scrapy's redirect limit ends it, recorded as redirect_loop
        code = self.scope.check(target)
        if code is not None:
            raise Fenced("out_of_scope", f"redirects out of scope to {shorten(target)}", final_url=target)
        if target in self.seen:
            raise Fenced("duplicate", f"redirects to {shorten(target)}, recorded under that URL", final_url=target)
        # a hop into another template takes a place in its budget; a hop within the template of
        # the URL that redirected (/r/1 -> /r/2) stays in the place that URL took, so a chain
        # ends in too_many_redirects, not in a trap
        previous = normalise_url(request.meta["redirect_urls"][-1])
        trap = self.traps.check(target) if url_template(previous) != url_template(target) else None
        if trap:
            raise Fenced("trap_limit", f"redirects to {shorten(target, 80)}: {trap}", final_url=target)

    def on_error(self, failure) -> Iterable[Any]:
        request = failure.request
        meta = request.meta
        norm = meta.get("norm", request.url)
        self.queued.pop(norm, None)
        code, reason = classify_failure(failure)
        final = failure.value.final_url if isinstance(failure.value, Fenced) else None
        yield SkippedUrl(norm, state_of(code), code, reason, depth=meta.get("a11y_depth"),
                         referrer=meta.get("referrer"), found_via=meta.get("found_via"), final_url=final)

    def _ignore(self, failure) -> None:
        return None

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_idle(self, spider) -> None:
        if spider is self and self.keep_alive is not None and self.keep_alive():
            raise DontCloseSpider

    def _on_closed(self, spider, reason) -> None:
        self.close_reason = reason

    def unanswered(self) -> dict[str, dict]:
        """URLs scheduled but never answered (the run stopped first)."""
        return dict(self.queued)


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""
