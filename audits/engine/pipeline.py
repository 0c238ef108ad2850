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
from audits.engine.axe import axe_options, axe_rules, axe_version
from audits.engine.browser import BrowserKeeper, find_chromium
from audits.config import AuditConfig
from audits.errors import ConfigError, CrawlError, StoreError
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
        seeds=list(cfg.urls), sitemap_urls=list(cfg.sitemap_urls), follow_links=cfg.follow_links, **auth,
    )


def check_tags(store: Store, axe_version: str, tags: list[str]) -> None:
    """A tag no axe rule carries is almost always a typo: say so rather than run fewer rules."""
    known: set[str] = set()
    for (raw,) in store.db.execute("select tags from rules where axe_version = ?", [axe_version]):
        known.update(json.loads(raw or "[]"))
    unknown = [t for t in tags if t not in known]
    if known and unknown:
        hint = ", ".join(sorted(t for t in known if re.fullmatch(r"wcag2\d?a+", t)))
        raise ConfigError(f"tags: no axe-core {axe_version} rule has the tag(s) {', '.join(unknown)} (WCAG tags: {hint})")


def scope_for(cfg: AuditConfig) -> Scope:
    """The run's scope. Whether the start URL is public (and so the address fence is on) is
    decided by what its host resolves to: an intranet name that resolves to 10.x is private."""
    host = urlsplit(cfg.start_url).hostname or ""
    return Scope.for_start_url(cfg.start_url, cfg.allowed_hosts, cfg.include_subdomains, cfg.include, cfg.exclude,
                               allow_private=host_is_private(host))


async def audit_site(cfg: AuditConfig, store: Store, playwright, progress: Progress | None = None,
                     resume_run: dict | None = None, log_level: str | None = None) -> RunOutcome:
    """Crawl and audit one site into ``store``; returns the run's outcome.

    Raises :class:`CrawlError` when the start URL itself cannot be audited (unreachable, not
    HTML): the run is still stored, with status ``failed`` and the reason.
    """
    progress = progress or NullProgress()
    executable = find_chromium(cfg.chromium)
    t0 = time.monotonic()
    browsers = BrowserKeeper(playwright, executable, cfg.js_heap_mb)
    await browsers.get()  # fail now, before a run is stored, if Chromium cannot start
    log.info("launched %s in %.2f s", executable, time.monotonic() - t0)
    scope = scope_for(cfg)
    egress = start_egress_fence(scope)  # a public start URL: the browser connects through it
    try:
        return await _audit_with_browser(cfg, store, browsers, progress, resume_run, log_level, scope, egress)
    finally:
        await browsers.close()
        if egress is not None:
            egress.close()


def _redirect_hint(rec: PageRecord) -> str:
    """When the start URL redirects to another host (example.gov.uk -> www.example.gov.uk), say
    what to run instead."""
    if rec.reason_code != "out_of_scope" or "redirect" not in (rec.reason or ""):
        return ""
    m = re.search(r" to (\S+)$", rec.reason or "")
    target = m.group(1) if m else rec.final_url
    if not target or not urlsplit(target).hostname:
        return ""
    return f" (audit {target} instead, or add --allow-host {origin_host(target)})"


async def _audit_with_browser(cfg, store, browsers, progress, resume_run, log_level, scope, egress) -> RunOutcome:
    version = axe_version()
    options = axe_options(cfg.tags, cfg.disable_rules)
    # Everything that can fail for a user's mistake happens before a run is stored.
    if not store.db.execute("select 1 from rules where axe_version = ? limit 1", [version]).fetchone():
        page = await (await browsers.get()).new_page()
        try:
            store.save_rules(version, await axe_rules(page))
        finally:
            await page.close()
    check_tags(store, version, cfg.tags)
    fence_opts = fence_context_options(egress)
    cookies = await session_cookies(await browsers.get(), cfg.login, cfg.start_url, fence_opts)
    ctx_opts = {**context_options(cfg.login, cfg.start_url), **fence_opts}
    credentials = browser_credentials(cfg.login, cfg.start_url)
    if cookies:
        ctx_opts["storage_state"] = {"cookies": cookies, "origins": []}
    if resume_run:
        run_id = resume_run["id"]
        store.mark_resumed(run_id)
    else:
        run_id = store.create_run(
            site=cfg.site_name(), start_url=cfg.start_url, tool_version=__version__, axe_version=version,
            config=cfg.public_dict(), config_hash=cfg.config_hash(), max_pages=cfg.max_pages,
            browser=await browsers.describe(),
        )
    started = time.monotonic()
    auditors = [PageAuditor(browsers, cfg, scope, options, ctx_opts, credentials) for _ in range(cfg.concurrency)]
    queue: asyncio.Queue[DiscoveredPage | None] = asyncio.Queue()
    counts = {"discovered": 0, "audited": 0, "failed": 0, "skipped": 0, "documents": 0, "reused": 0}
    busy = [0]
    background: set[asyncio.Future] = set()  # resource hashing for the next run's re-audit
    previous = None if cfg.full else store.comparable_run_before(run_id, cfg.site_name(), cfg.config_hash(), version)
    planner: ReusePlanner | None = None
    start_norm = normalise_url(cfg.start_url)
    start_state: dict[str, Any] = {}

    done_urls: set[str] = set()
    resume_urls: list[tuple[str, int, str | None, str]] = []
    resume_links: list[tuple[str, int, str]] = []
    pages_so_far = 0
    if resume_run:
        for p in store.pages(run_id):
            if p["reason_code"] in UNFINISHED:
                resume_urls.append((p["url"], p["depth"] or 0, p["referrer"], p["found_via"] or "resume"))
                continue  # cut short by the budget or Ctrl-C: audited this time
            done_urls.add(p["url"])
            counts[p["status"]] = counts.get(p["status"], 0) + 1
            if p["status"] == "audited":
                for link in json.loads(p["facts"] or "{}").get("links") or []:
                    resume_links.append((link, (p["depth"] or 0) + 1, p["url"]))
        counts["discovered"] = counts["audited"] + counts["failed"]
        pages_so_far = store.frontier_done(run_id)
        resume_urls = [(cfg.start_url, 0, None, "start")] + resume_urls + [
            (f["url"], f["depth"] or 0, f["referrer"], f["found_via"] or "resume") for f in store.pending(run_id)
        ]
    progress.update(**counts)

    def record(rec: PageRecord) -> None:
        if rec.url in done_urls:
            return
        done_urls.add(rec.url)
        store.save_page(run_id, rec, fingerprint=finding_fingerprint)
        counts[rec.status] = counts.get(rec.status, 0) + 1
        if rec.url == start_norm or rec.url == normalise_url(cfg.start_url):
            start_state.setdefault("record", rec)
        progress.update(**counts)

    def record_item(item: Any) -> None:
        if isinstance(item, SkippedUrl):
            rec = PageRecord(url=item.url, status=item.status, reason_code=item.reason_code, reason=item.reason,
                             depth=item.depth, referrer=item.referrer, found_via=item.found_via,
                             final_url=item.final_url, http_status=item.http_status, content_type=item.content_type)
            if item.url == start_norm:
                start_state["record"] = rec
            record(rec)
        elif isinstance(item, Document):
            store.save_document(run_id, {"url": item.url, "kind": item.kind, "page_url": item.page_url,
                                         "http_status": item.http_status, "content_type": item.content_type,
                                         "size": item.size})
            counts["documents"] += 1
            if item.url == start_norm:
                start_state["document"] = item
            progress.update(**counts)

    def feed_links(links: list[str], depth: int, referrer: str) -> None:
        if links:
            for extra in handle.feed(links, depth + 1, referrer):
                record_item(extra)

    def reuse(item: DiscoveredPage, old: dict) -> None:
        done_urls.add(item.url)
        store.reuse_page(run_id, old["id"], depth=item.depth, referrer=item.referrer, found_via=item.found_via)
        for key in ("discovered", "audited", "reused"):
            counts[key] += 1
        progress.update(**counts)
        feed_links(json.loads(old["facts"] or "{}").get("links") or [], item.depth, item.url)

    async def sink(item: Any) -> None:
        if isinstance(item, DiscoveredPage):
            if item.url in done_urls:
                return
            if previous is not None and planner is not None:
                old = await planner.reusable(item.url, item.body)
                if old is not None and item.url not in done_urls:
                    reuse(item, old)
                    return
            store.enqueue(run_id, item.url, item.depth, item.referrer, item.found_via)
            counts["discovered"] += 1
            progress.update(**counts)
            await queue.put(item)
        else:
            record_item(item)

    def keep_alive() -> bool:
        return busy[0] > 0 or not queue.empty() or bool(background)

    crawl_opts = crawl_options(cfg, scope)
    crawl_opts.cookies.update({c["name"]: c["value"] for c in cookies})
    handle = start_crawl(crawl_opts, sink, keep_alive=keep_alive, seen=(),
                         pages_so_far=pages_so_far, resume_urls=resume_urls, resume_links=resume_links,
                         done=done_urls, log_level=log_level)
    planner = ReusePlanner(store, run_id, previous, handle.fetch)

    async def worker(auditor: PageAuditor) -> None:
        while True:
            item = await queue.get()
            if item is None:
                queue.task_done()
                return
            busy[0] += 1
            try:
                try:
                    rec = await auditor.audit(item)
                except (asyncio.CancelledError, StoreError):
                    raise
                except Exception as exc:  # a bug or a dying browser must not stall the run
                    log.exception("auditing %s failed", item.url)
                    await auditor.close()
                    rec = PageRecord(url=item.url, status="failed", reason_code="audit_error",
                                     reason=f"{type(exc).__name__}: {exc}"[:300], depth=item.depth,
                                     referrer=item.referrer, found_via=item.found_via)
                log.info("%s %s in %d ms (%.2f s)", rec.status, rec.url, rec.audit_ms or 0, time.monotonic() - started)
                record(rec)
                if rec.status == "audited":
                    feed_links((rec.facts or {}).get("links") or [], item.depth, item.url)
                    task = asyncio.ensure_future(planner.record_resources((rec.facts or {}).get("resources") or []))
                    background.add(task)
                    task.add_done_callback(_finished_background)
            finally:
                busy[0] -= 1
                queue.task_done()
            await _maybe_finish()

    def _finished_background(task) -> None:
        background.discard(task)
        asyncio.ensure_future(_maybe_finish())

    async def _maybe_finish() -> None:
        if busy[0] == 0 and queue.empty() and not background:
            await finish_if_idle(handle)

    log.info("crawl started %.2f s after the run", time.monotonic() - started)
    workers = [asyncio.create_task(worker(a)) for a in auditors]
    status, error = "complete", None
    try:
        run_for = cfg.max_time or None
        try:
            await asyncio.wait_for(_drain(handle, queue, workers), timeout=run_for)
            log.info("crawl and audits done %.2f s after the run", time.monotonic() - started)
        except asyncio.TimeoutError:
            status, error = "incomplete", f"time budget of {cfg.max_time:g} s ran out"
            _drop_queue(queue, record, "time_budget", "the run's time budget ran out")
            for w, auditor in zip(workers, auditors):
                w.cancel()
                if auditor.current is not None:
                    cut = auditor.current
                    record(PageRecord(url=cut.url, status="skipped", reason_code="time_budget",
                                      reason="the run's time budget ran out while it was audited",
                                      depth=cut.depth, referrer=cut.referrer, found_via=cut.found_via))
            await _stop_quietly(handle)
    except asyncio.CancelledError:
        status, error = "incomplete", "interrupted"
        _drop_queue(queue, None, "", "")
        for w in workers:
            w.cancel()
        await _stop_quietly(handle)
        store.finish_run(run_id, status, discovered=counts["discovered"], error=error)
        await _close_all(auditors)
        raise
    finally:
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers, return_exceptions=True)
        await _close_all(auditors)
    # URLs Scrapy had scheduled but never answered (budget or time ran out first)
    for url, meta in handle.unanswered().items():
        code = "time_budget" if status == "incomplete" else "page_budget"
        record(PageRecord(url=url, status="skipped", reason_code=code,
                          reason="not fetched before the run's budget was used up", **meta))
    start_rec = start_state.get("record")
    audited = store.update_counts(run_id)["pages_audited"]
    if audited == 0 and not resume_run:
        if start_state.get("document") is not None:
            error = f"the start URL {cfg.start_url} is a document ({start_state['document'].kind}), not an HTML page"
        elif start_rec is not None and start_rec.status != "audited":
            error = f"the start URL {cfg.start_url} could not be audited: {start_rec.reason_code}: {start_rec.reason}"
            error += _redirect_hint(start_rec)
        else:
            error = f"no page of {cfg.start_url} could be audited"
        store.finish_run(run_id, "failed", discovered=counts["discovered"], error=error)
        raise CrawlError(error)
    store.finish_run(run_id, status, discovered=counts["discovered"], error=error)
    return RunOutcome(run_id=run_id, site=cfg.site_name(), status=status, counts=dict(counts),
                      seconds=time.monotonic() - started, error=error)


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
