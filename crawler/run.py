"""Run a discovery crawl inside the caller's event loop (Scrapy's asyncio reactor)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from .credentials import Credentials
from .traps import TrapGuard
from .urls import Scope, origin


@dataclass
class CrawlOptions:
    """What discovery needs to know; built by the caller from its own configuration."""

    start_url: str
    scope: Scope
    max_pages: int = 500
    max_depth: int = 10
    obey_robots: bool = True
    use_sitemaps: bool = True
    user_agent: str = "a11ycrawl"
    concurrency_per_host: int = 4
    delay: float = 0.0
    autothrottle: bool = True
    timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    per_template_cap: int = 50
    query_variants_cap: int = 10
    near_duplicate_cap: int = 5  # near-identical pages that may each lead to new URLs (soft 404s)
    # login secrets (repr=False: never in a log line or a traceback): headers and cookies go to
    # the start URL's origin and ``login_origins`` only, basic auth to the start URL's origin
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    http_user: str | None = field(default=None, repr=False)
    http_password: str | None = field(default=None, repr=False)
    cookies: dict[str, str] = field(default_factory=dict, repr=False)
    login_origins: tuple[str, ...] = ()
    seeds: list[str] = field(default_factory=list)
    sitemap_urls: list[str] = field(default_factory=list)
    follow_links: bool = True
    max_documents: int = 0  # linked PDFs fetched (their bytes go to the sink in Document.body)
    max_document_bytes: int = 20 * 1024 * 1024

    def credentials(self) -> Credentials:
        start = origin(self.start_url)
        return Credentials(
            origins=frozenset({start, *self.login_origins}), headers=tuple(self.headers.items()),
            cookies=tuple(self.cookies.items()), basic_origin=start if self.http_user is not None else None,
            basic_user=self.http_user, basic_password=self.http_password,
        )


class CrawlHandle:
    """A running crawl: await :meth:`wait`; feed it links with :meth:`feed`; stop it with :meth:`stop`."""

    def __init__(self, runner, crawler, task):
        self._runner = runner
        self._crawler = crawler
        self.task = task

    @property
    def spider(self):
        return getattr(self._crawler, "spider", None)

    def feed(self, urls: Iterable[str], depth: int, referrer: str | None) -> list[Any]:
        spider = self.spider
        if spider is None or self.task.done():
            return []
        return spider.feed(urls, depth, referrer)

    async def wait(self) -> None:
        # shielded: cancelling the caller must reach the caller, not be absorbed by Scrapy's
        # graceful shutdown of the crawl task (the caller then stops the crawl itself)
        await asyncio.shield(self.task)

    async def stop(self) -> None:
        if not self.task.done():
            await self._runner.stop()

    async def fetch(self, url: str) -> tuple[int | None, bytes | None]:
        """Fetch ``url`` through the crawl's downloader (robots.txt, scope, politeness, retries
        apply): ``(status, body)``, or ``(None, None)`` when it could not be fetched."""
        import scrapy

        engine = _engine(self._crawler)
        if engine is None or self.task.done():
            return None, None
        try:
            response = await engine.download_async(scrapy.Request(url, dont_filter=True, meta={"resource": True}))
        except Exception:
            return None, None
        return response.status, response.body

    def unanswered(self) -> dict[str, dict]:
        spider = self.spider
        return spider.unanswered() if spider is not None else {}


def start_crawl(
    opts: CrawlOptions,
    sink: Callable[[Any], Awaitable[None]],
    keep_alive: Callable[[], bool] | None = None,
    seen: Iterable[str] = (),
    pages_so_far: int = 0,
    resume_urls: Iterable[tuple[str, int, str | None, str]] = (),
    done: set[str] | None = None,
    resume_links: Iterable[tuple[str, int, str]] = (),
    log_level: str | None = None,
) -> CrawlHandle:
    """Start crawling ``opts.start_url``; every item goes to ``sink``.

    Must be called with Scrapy's asyncio reactor installed and running (see
    :func:`audits.engine.runtime.run`). ``keep_alive()`` returning True keeps an idle spider open,
    so links found later (in rendered pages) can still be crawled.
    """
    from scrapy.crawler import AsyncCrawlerRunner

    from .egress import fence_name_resolution
    from .settings import build_settings
    from .spider import SiteSpider

    settings = build_settings(opts, sink, log_level)
    runner = AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(SiteSpider)
    kwargs: dict[str, Any] = dict(
        start_url=opts.start_url, scope=opts.scope, max_pages=opts.max_pages, max_depth=opts.max_depth,
        use_sitemaps=opts.use_sitemaps,
        trap_guard=TrapGuard(per_template=opts.per_template_cap, per_path_queries=opts.query_variants_cap,
                             near_duplicate_cap=opts.near_duplicate_cap),
        seen=seen, pages_so_far=pages_so_far, resume_urls=resume_urls, keep_alive=keep_alive,
        # cookies=None: the login's cookies are added by LoginMiddleware for the login's origins
        # only; cookies given to a Request would enter Scrapy's jar for whatever host it names
        done=done if done is not None else set(), cookies=None, seeds=opts.seeds,
        sitemap_urls=opts.sitemap_urls, follow_links=opts.follow_links, resume_links=list(resume_links),
        max_documents=opts.max_documents, max_document_bytes=opts.max_document_bytes,
    )
    restore = fence_name_resolution(opts.scope)  # before the first connection
    task = runner.crawl(crawler, **kwargs)
    task.add_done_callback(lambda _task: restore())
    return CrawlHandle(runner, crawler, task)


async def finish_if_idle(handle: CrawlHandle) -> bool:
    """Close the crawl now if Scrapy has nothing left to do (saves waiting for its idle heartbeat)."""
    engine = _engine(handle._crawler)
    if engine is None or handle.task.done():
        return False
    try:
        idle = engine.spider_is_idle()
    except Exception:
        return False
    if idle:
        await engine.close_spider_async(reason="finished")
    return idle


def _engine(crawler):
    """The crawler's engine, or None before the crawl has started (Scrapy 2.18 and later raise
    RuntimeError when ``Crawler.engine`` is read that early, earlier versions give None)."""
    try:
        return crawler.engine
    except (AttributeError, RuntimeError):
        return None
