"""The audit pipeline: crawl, render, audit and store one site, pages audited while the crawl goes on.

::

    Scrapy (discovery) --items--> sink --DiscoveredPage--> queue --> N PageAuditors --> Store
          ^                                                              |
          +------------------- links found in the rendered DOM ---------+

Each page is committed as soon as it is audited. A run interrupted (Ctrl-C) is marked
``incomplete``; a run killed outright stays ``running`` in the database and is treated as
incomplete. Either can be resumed.
"""

from __future__ import annotations

import asyncio
import json
import re
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from crawler.egress import host_is_private
from crawler.items import DiscoveredPage, Document, SkippedUrl
from crawler.run import CrawlOptions, finish_if_idle, start_crawl
from crawler.urls import Scope, normalise_url, origin_host

from audits import __version__
from audits.engine.auditor import PageAuditor
from audits.engine.axe import axe_options, axe_version
from audits.engine.backend import browser_pool, check_supported, new_auditor, rules as backend_rules
from audits.engine.documents import check_document, document_state
from audits.config import AuditConfig
from audits.errors import BrowserError, ConfigError, CrawlError, StoreError
from audits.engine.incremental import ReusePlanner
from audits.analysis.fingerprint import finding_fingerprint
from audits.engine.egress import context_options as fence_context_options, start_for as start_egress_fence
from audits.engine.login import browser_credentials, context_options, crawl_auth, session_cookies
from audits.reasons import UNFINISHED
from audits.store import PageRecord, Store


log = logging.getLogger("a11ycrawl")


class Progress(Protocol):
    def update(self, **counts: int) -> None: ...


class NullProgress:
    def update(self, **counts: int) -> None:
        pass


@dataclass
class RunOutcome:
    run_id: int
    site: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


def crawl_options(cfg: AuditConfig, scope: Scope) -> CrawlOptions:
    auth = crawl_auth(cfg.login, cfg.start_url)
    return CrawlOptions(
        start_url=cfg.start_url, scope=scope, max_pages=cfg.max_pages, max_depth=cfg.max_depth,
        obey_robots=cfg.obey_robots, use_sitemaps=cfg.sitemaps, user_agent=cfg.user_agent,
        concurrency_per_host=cfg.crawl_concurrency, delay=cfg.crawl_delay, autothrottle=cfg.autothrottle,
        timeout=cfg.page_timeout, max_response_bytes=cfg.max_response_bytes,
        per_template_cap=cfg.per_pattern_cap, query_variants_cap=cfg.query_variants_cap,
        seeds=list(cfg.urls), sitemap_urls=list(cfg.sitemap_urls), follow_links=cfg.follow_links,
        max_documents=cfg.max_documents, max_document_bytes=cfg.max_document_bytes, **auth,
    )


def check_tags(store: Store, axe_version: str, tags: list[str]) -> None:
    """A tag no axe rule carries is almost always a typo: say so rather than run fewer rules."""
    known = store.rule_tags(axe_version)
    unknown = [t for t in tags if t not in known]
    if known and unknown:
        hint = ", ".join(sorted(t for t in known if re.fullmatch(r"wcag2\d?a+", t)))
        raise ConfigError(f"tags: no axe-core {axe_version} rule has the tag(s) {', '.join(unknown)} (WCAG tags: {hint})")


def scope_for(cfg: AuditConfig) -> Scope:
    """The run's scope. Whether the start URL is public (and so the address fence is on) is
    decided by what its host resolves to: an intranet name that resolves to 10.x is private."""
    host = urlsplit(cfg.start_url).hostname or ""
    return Scope.for_start_url(cfg.start_url, cfg.allowed_hosts, cfg.include_subdomains, cfg.include, cfg.exclude,
                               allow_private=host_is_private(host), mode=cfg.scope, seeds=cfg.urls)


async def audit_site(cfg: AuditConfig, store: Store, playwright, progress: Progress | None = None,
                     resume_run: dict | None = None, log_level: str | None = None, browsers=None) -> RunOutcome:
    """Crawl and audit one site into ``store``; returns the run's outcome.

    ``browsers``: a browser pool shared with other runs (see :func:`browser_pool`), which this
    run uses and leaves open; without it the run opens its own from ``cfg`` and closes it.

    Raises :class:`CrawlError` when the start URL itself cannot be audited (unreachable, not
    HTML): the run is still stored, with status ``failed`` and the reason.
    """
    progress = progress or NullProgress()
    scope = scope_for(cfg)
    remote = bool(cfg.browser_endpoints) if browsers is None else browsers.remote
    if remote and not scope.allow_private and not cfg.remote_network_fenced:
        raise ConfigError(
            f"{cfg.start_url} is public, and the address fence (a proxy on this machine's loopback) cannot "
            "guard browsers on other machines: audit it with the local browser, or fence the browser "
            "servers' network yourself (no loopback, private or link-local addresses) and say so with "
            "--remote-network-fenced (remote_network_fenced = true)")
    t0 = time.monotonic()
    own = browsers is None
    if own:
        browsers = browser_pool(playwright, cfg)
    check_supported(browsers, cfg)
    await browsers.get()  # fail now, before a run is stored, if Chromium cannot start or be reached
    log.info("browser ready in %.2f s: %s", time.monotonic() - t0, await browsers.describe())
    # a public start URL: the local browser connects through the fence; remote browsers are fenced
    # by their own network (remote_network_fenced), since they cannot reach this machine's loopback
    egress = None if remote else start_egress_fence(scope, cfg.egress_host)
    try:
        return await _audit_with_browser(cfg, store, browsers, progress, resume_run, log_level, scope, egress)
    finally:
        if own:
            await browsers.close()
        if egress is not None:
            egress.close()


def _left_scope(rec: PageRecord) -> bool:
    """True when a URL's record says it redirects (or refreshes) out of the scope."""
    return rec.reason_code == "out_of_scope" and "redirect" in (rec.reason or "")


def _redirect_hint(rec: PageRecord, scope: Scope | None = None) -> str:
    """When the start URL redirects to another host (example.gov.uk -> www.example.gov.uk), or
    out of its own directory (/old/ -> /new/), say what to run instead.

    The scope stays what the start URL as given says: a redirect never moves it, so that the
    same command audits the same part of a site every time (and a site that starts redirecting
    elsewhere is told, not silently audited somewhere else)."""
    if not _left_scope(rec):
        return ""
    m = re.search(r" to (\S+)$", rec.reason or "")
    target = m.group(1) if m else rec.final_url
    if not target or not urlsplit(target).hostname:
        return ""
    if scope is not None and scope.url_host_allowed(target) and not scope.in_directory(normalise_url(target)):
        return f" (outside the start URL's directory: audit {target} instead, or add --scope host)"
    if scope is not None and scope.directories:
        # an allowed host is crawled whole: --allow-host would widen a crawl kept in a directory
        return f" (audit {target} instead)"
    return f" (audit {target} instead, or add --allow-host {origin_host(target)})"


async def _audit_with_browser(cfg, store, browsers, progress, resume_run, log_level, scope, egress) -> RunOutcome:
    run = SiteRun(cfg, store, browsers, progress, log_level, scope, egress)
    await run.prepare(resume_run)
    return await run.execute()


#: What a page in flight reports when its (remote) browser goes away under it.
_MAYBE_LOST = frozenset({"renderer_crashed", "audit_error", "browser_lost", "timeout", "audit_timeout"})


class SiteRun:
    """One run of one site: the queue between the crawl and the browser workers, the counts,
    and the stop logic (budgets, Ctrl-C, the start URL's own failure).

    :meth:`prepare` does everything that can fail for a user's mistake before a run is stored
    (axe rules, tags, login) and creates or reopens the run; :meth:`execute` crawls and audits.
    Each page is committed as soon as it is audited (:meth:`record`).
    """

    def __init__(self, cfg: AuditConfig, store: Store, browsers, progress: Progress,
                 log_level: str | None = None, scope: Scope | None = None, egress=None):
        self.cfg, self.store, self.browsers, self.progress, self.log_level = cfg, store, browsers, progress, log_level
        self.scope = scope or scope_for(cfg)
        self.egress = egress  # the address fence's proxy, for a public start URL
        self.axe_version = axe_version()
        self.axe_options = axe_options(cfg.tags, cfg.disable_rules)
        self.queue: asyncio.Queue[DiscoveredPage | None] = asyncio.Queue()
        self.counts = {"discovered": 0, "audited": 0, "failed": 0, "skipped": 0, "documents": 0, "reused": 0}
        self.busy = 0
        self.background: set[asyncio.Future] = set()  # resource hashing for the next run's re-audit
        self.done_urls: set[str] = set()
        self.start_norm = normalise_url(cfg.start_url)
        self.start_record: PageRecord | None = None
        self.start_document: Document | None = None
        self.start_left = False  # the start URL redirected out of the scope
        self.stopper: asyncio.Future | None = None
        self.resume_run: dict | None = None
        self.resume_urls: list[tuple[str, int, str | None, str]] = []
        self.resume_links: list[tuple[str, int, str]] = []
        self.pages_so_far = 0
        self.cookies: list[dict] = []
        self.context_options: dict[str, Any] = {}
        self.credentials = None
        self.run_id = 0
        self.previous: dict | None = None
        self.planner: ReusePlanner | None = None
        self.handle = None
        self.started = time.monotonic()

    # -- before the run ----------------------------------------------------------------------
    async def prepare(self, resume_run: dict | None = None) -> None:
        cfg, store = self.cfg, self.store
        if not store.has_rules(self.axe_version):
            store.save_rules(self.axe_version, await backend_rules(self.browsers))
        check_tags(store, self.axe_version, cfg.tags)
        fence_opts = fence_context_options(self.egress, self.scope)
        self.cookies = await session_cookies(await self.browsers.get(), cfg.login, cfg.start_url, fence_opts)
        self.context_options = {**context_options(cfg.login, cfg.start_url), **fence_opts}
        self.credentials = browser_credentials(cfg.login, cfg.start_url)
        if self.cookies:
            self.context_options["storage_state"] = {"cookies": self.cookies, "origins": []}
        self.resume_run = resume_run
        if resume_run:
            self.run_id = resume_run["id"]
            store.mark_resumed(self.run_id)
            self._load_resume()
        else:
            self.run_id = store.create_run(
                site=cfg.site_name(), start_url=cfg.start_url, tool_version=__version__,
                axe_version=self.axe_version, config=cfg.public_dict(), config_hash=cfg.config_hash(),
                max_pages=cfg.max_pages, browser=await self.browsers.describe(),
            )
        self.started = time.monotonic()
        self.previous = None if cfg.full else store.comparable_run_before(
            self.run_id, cfg.site_name(), cfg.config_hash(), self.axe_version)
        self.progress.update(**self.counts)

    def _load_resume(self) -> None:
        """What the interrupted run already did: its pages are kept, its unfinished URLs and the
        links of its audited pages go back to the crawl."""
        counts = self.counts
        for p in self.store.pages(self.run_id):
            if p["reason_code"] in UNFINISHED:
                self.resume_urls.append((p["url"], p["depth"] or 0, p["referrer"], p["found_via"] or "resume"))
                continue  # cut short by the budget or Ctrl-C: audited this time
            self.done_urls.add(p["url"])
            counts[p["status"]] = counts.get(p["status"], 0) + 1
            if p["status"] == "audited":
                for link in json.loads(p["facts"] or "{}").get("links") or []:
                    self.resume_links.append((link, (p["depth"] or 0) + 1, p["url"]))
        counts["discovered"] = counts["audited"] + counts["failed"]
        self.pages_so_far = self.store.frontier_done(self.run_id)
        self.resume_urls = [(self.cfg.start_url, 0, None, "start")] + self.resume_urls + [
            (f["url"], f["depth"] or 0, f["referrer"], f["found_via"] or "resume") for f in self.store.pending(self.run_id)
        ]

    # -- recording ---------------------------------------------------------------------------
    def record(self, rec: PageRecord) -> None:
        """Commit one URL's outcome (once per URL and run)."""
        if rec.url in self.done_urls:
            return
        self.done_urls.add(rec.url)
        self.store.save_page(self.run_id, rec, fingerprint=finding_fingerprint)
        self.counts[rec.status] = self.counts.get(rec.status, 0) + 1
        if rec.url == self.start_norm and self.start_record is None:
            self.start_record = rec
        self.progress.update(**self.counts)

    def record_item(self, item: Any, checked: dict | None = None) -> None:
        """A crawler item that is not a page to audit: a skipped URL or a document."""
        if isinstance(item, SkippedUrl):
            rec = PageRecord(url=item.url, status=item.status, reason_code=item.reason_code, reason=item.reason,
                             depth=item.depth, referrer=item.referrer, found_via=item.found_via,
                             final_url=item.final_url, http_status=item.http_status, content_type=item.content_type)
            if item.url == self.start_norm:
                self.start_record = rec
                if _left_scope(rec) and not self.resume_run and self.handle is not None:
                    # the start URL lands outside the scope: what else the crawl finds (a sitemap's
                    # pages) is not what was asked for, so the run stops and fails with the hint
                    self.start_left = True
                    self.stopper = asyncio.ensure_future(_stop_quietly(self.handle))
            self.record(rec)
        elif isinstance(item, Document):
            self.store.save_document(self.run_id, {
                "url": item.url, "kind": item.kind, "page_url": item.page_url, "http_status": item.http_status,
                "content_type": item.content_type, "size": item.size, **(checked or document_state(item))})
            self.counts["documents"] += 1
            if item.url == self.start_norm:
                self.start_document = item
            self.progress.update(**self.counts)

    def feed_links(self, links: list[str], depth: int, referrer: str) -> None:
        """Links found in a rendered page go back to the crawl."""
        if links:
            for extra in self.handle.feed(links, depth + 1, referrer):
                self.record_item(extra)

    def reuse(self, item: DiscoveredPage, old: dict) -> None:
        """Keep an unchanged page's results from the previous run instead of rendering it."""
        self.done_urls.add(item.url)
        self.store.reuse_page(self.run_id, old["id"], depth=item.depth, referrer=item.referrer,
                              found_via=item.found_via)
        for key in ("discovered", "audited", "reused"):
            self.counts[key] += 1
        self.progress.update(**self.counts)
        self.feed_links(json.loads(old["facts"] or "{}").get("links") or [], item.depth, item.url)

    async def sink(self, item: Any) -> None:
        """Every crawler item arrives here: pages are reused or queued for the browser."""
        if not isinstance(item, DiscoveredPage):
            checked = None
            if isinstance(item, Document) and item.body is not None:
                # pypdf is pure Python: a long PDF would stall the event loop (and the browsers)
                checked = await asyncio.to_thread(check_document, item)
            self.record_item(item, checked)
            return
        if item.url in self.done_urls:
            return
        if self.previous is not None and self.planner is not None:
            old = await self.planner.reusable(item.url, item.body)
            if old is not None and item.url not in self.done_urls:
                self.reuse(item, old)
                return
        self.store.enqueue(self.run_id, item.url, item.depth, item.referrer, item.found_via)
        self.counts["discovered"] += 1
        self.progress.update(**self.counts)
        await self.queue.put(item)

    # -- the browser workers -----------------------------------------------------------------
    def keep_alive(self) -> bool:
        """The crawl must not close while pages are audited: their links may add more."""
        return self.busy > 0 or not self.queue.empty() or bool(self.background)

    async def worker(self, auditor: PageAuditor) -> None:
        while True:
            item = await self.queue.get()
            if item is None:
                self.queue.task_done()
                return
            self.busy += 1
            try:
                rec = await self._audit_one(auditor, item)
                self.record(rec)
                if rec.status == "audited":
                    facts = rec.facts or {}
                    self.feed_links(facts.get("links") or [], item.depth, item.url)
                    task = asyncio.ensure_future(self.planner.record_resources(facts.get("resources") or []))
                    self.background.add(task)
                    task.add_done_callback(self._finished_background)
            finally:
                self.busy -= 1
                self.queue.task_done()
            await self._maybe_finish()

    async def _audit_one(self, auditor: PageAuditor, item: DiscoveredPage) -> PageRecord:
        losses = getattr(self.browsers, "losses", 0)
        context = auditor.context
        if context is not None and context.browser is not None and not context.browser.is_connected():
            await auditor.close()  # its browser went away while it was idle: open on one still there
        rec = await self._audit_once(auditor, item)
        if rec.reason_code in _MAYBE_LOST and hasattr(self.browsers, "probe") and await self.browsers.probe() > losses:
            # a remote browser went away with the page in flight: once more, on another endpoint
            log.warning("browser lost while auditing %s; auditing it again on another browser", item.url)
            losses = self.browsers.losses
            rec = await self._audit_once(auditor, item)
            if rec.reason_code in _MAYBE_LOST and await self.browsers.probe() > losses:
                rec.reason_code = "browser_lost"
                rec.reason = f"the browser was lost twice with the page in flight ({rec.reason})"[:300]
        return rec

    async def _audit_once(self, auditor: PageAuditor, item: DiscoveredPage) -> PageRecord:
        try:
            rec = await auditor.audit(item)
        except (asyncio.CancelledError, StoreError):
            raise
        except BrowserError as exc:  # no browser left to audit with (every endpoint lost)
            await auditor.close()
            rec = PageRecord(url=item.url, status="failed", reason_code="browser_lost", reason=str(exc)[:300],
                             depth=item.depth, referrer=item.referrer, found_via=item.found_via)
        except Exception as exc:  # a bug or a dying browser must not stall the run
            log.exception("auditing %s failed", item.url)
            await auditor.close()
            rec = PageRecord(url=item.url, status="failed", reason_code="audit_error",
                             reason=f"{type(exc).__name__}: {exc}"[:300], depth=item.depth,
                             referrer=item.referrer, found_via=item.found_via)
        log.info("%s %s in %d ms (%.2f s)", rec.status, rec.url, rec.audit_ms or 0, time.monotonic() - self.started)
        return rec

    def _finished_background(self, task) -> None:
        self.background.discard(task)
        asyncio.ensure_future(self._maybe_finish())

    async def _maybe_finish(self) -> None:
        if self.busy == 0 and self.queue.empty() and not self.background:
            await finish_if_idle(self.handle)

    # -- the run -----------------------------------------------------------------------------
    async def execute(self) -> RunOutcome:
        cfg = self.cfg
        auditors = [new_auditor(self.browsers, cfg, self.scope, self.axe_options, self.context_options,
                                self.credentials) for _ in range(cfg.concurrency)]
        crawl_opts = crawl_options(cfg, self.scope)
        crawl_opts.cookies.update({c["name"]: c["value"] for c in self.cookies})
        # Scrapy deep-copies its settings, where the sink travels: hand it a plain function, not
        # a bound method (which would copy this run, store and all).
        self.handle = start_crawl(crawl_opts, lambda item: self.sink(item), keep_alive=lambda: self.keep_alive(), seen=(),
                                  pages_so_far=self.pages_so_far, resume_urls=self.resume_urls,
                                  resume_links=self.resume_links, done=self.done_urls, log_level=self.log_level)
        self.planner = ReusePlanner(self.store, self.run_id, self.previous, self.handle.fetch)
        log.info("crawl started %.2f s after the run", time.monotonic() - self.started)
        workers = [asyncio.create_task(self.worker(a)) for a in auditors]
        status, error = "complete", None
        try:
            try:
                await asyncio.wait_for(_drain(self.handle, self.queue, workers), timeout=cfg.max_time or None)
                log.info("crawl and audits done %.2f s after the run", time.monotonic() - self.started)
            except asyncio.TimeoutError:
                status, error = "incomplete", f"time budget of {cfg.max_time:g} s ran out"
                self._out_of_time(workers, auditors)
                await _stop_quietly(self.handle)
        except asyncio.CancelledError:
            _drop_queue(self.queue, None, "", "")
            for w in workers:
                w.cancel()
            await _stop_quietly(self.handle)
            self._record_interrupted()
            self.store.finish_run(self.run_id, "incomplete", discovered=self.counts["discovered"], error="interrupted")
            await _close_all(auditors)
            raise
        finally:
            for _ in workers:
                self.queue.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            await _close_all(auditors)
        self._record_unanswered(status)
        return self._finish(status, error)

    def _out_of_time(self, workers: list[asyncio.Task], auditors: list[PageAuditor]) -> None:
        """The time budget ran out: queued pages and pages in the browser are recorded as cut."""
        _drop_queue(self.queue, self.record, "time_budget", "the run's time budget ran out")
        for w, auditor in zip(workers, auditors):
            w.cancel()
            if auditor.current is not None:
                cut = auditor.current
                self.record(PageRecord(url=cut.url, status="skipped", reason_code="time_budget",
                                       reason="the run's time budget ran out while it was audited",
                                       depth=cut.depth, referrer=cut.referrer, found_via=cut.found_via))

    def _record_interrupted(self) -> None:
        """Ctrl-C: URLs Scrapy had scheduled but not fetched are recorded as ``interrupted`` (those
        already queued for the browser stay in the frontier), so the stopped run still lists every
        URL it knew of, and --resume audits them."""
        try:
            for url, meta in self.handle.unanswered().items():
                self.record(PageRecord(url=url, status="skipped", reason_code="interrupted",
                                       reason="the run was stopped before this URL was fetched", **meta))
        except Exception:  # never let bookkeeping stop the run from closing
            log.exception("could not record the URLs left when the run was stopped")

    def _record_unanswered(self, status: str) -> None:
        """URLs Scrapy had scheduled but never answered (budget or time ran out first)."""
        code = "time_budget" if status == "incomplete" else "page_budget"
        reason = "not fetched before the run's budget was used up"
        if self.start_left:
            code, reason = "interrupted", "not fetched: the run stopped when its start URL redirected out of scope"
        for url, meta in self.handle.unanswered().items():
            self.record(PageRecord(url=url, status="skipped", reason_code=code, reason=reason, **meta))

    def _finish(self, status: str, error: str | None) -> RunOutcome:
        """Close the run; a run that audited nothing at all fails with the start URL's reason."""
        cfg = self.cfg
        audited = self.store.update_counts(self.run_id)["pages_audited"]
        if (audited == 0 or self.start_left) and not self.resume_run:
            start = self.start_record
            if self.start_document is not None:
                error = f"the start URL {cfg.start_url} is a document ({self.start_document.kind}), not an HTML page"
            elif start is not None and start.status != "audited":
                error = f"the start URL {cfg.start_url} could not be audited: {start.reason_code}: {start.reason}"
                error += _redirect_hint(start, self.scope)
            else:
                error = f"no page of {cfg.start_url} could be audited"
            self.store.finish_run(self.run_id, "failed", discovered=self.counts["discovered"], error=error)
            raise CrawlError(error, run_id=self.run_id)
        self.store.finish_run(self.run_id, status, discovered=self.counts["discovered"], error=error)
        return RunOutcome(run_id=self.run_id, site=cfg.site_name(), status=status, counts=dict(self.counts),
                          seconds=time.monotonic() - self.started, error=error)


async def _drain(handle, queue: asyncio.Queue, workers: list[asyncio.Task]) -> None:
    """Wait for the crawl and the audits; a worker that dies (a store error) ends the run."""
    async def crawl_and_queue() -> None:
        await handle.wait()
        await queue.join()

    main = asyncio.ensure_future(crawl_and_queue())
    try:
        while not main.done():
            done, _ = await asyncio.wait([main, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not main and not task.cancelled() and task.exception() is not None:
                    raise task.exception()
        await main
    finally:
        main.cancel()


def _drop_queue(queue: asyncio.Queue, record, code: str, reason: str) -> None:
    while not queue.empty():
        item = queue.get_nowait()
        queue.task_done()
        if item is not None and record is not None:
            record(PageRecord(url=item.url, status="skipped", reason_code=code, reason=reason,
                              depth=item.depth, referrer=item.referrer, found_via=item.found_via))


async def _stop_quietly(handle) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(handle.stop()), timeout=5)
    except BaseException:
        pass


async def _close_all(auditors) -> None:
    await asyncio.gather(*(a.close() for a in auditors), return_exceptions=True)
