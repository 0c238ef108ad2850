"""Library entry points behind the CLI: audit one or many sites into a store."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Callable, ContextManager

from audits.engine import runtime
from audits.config import AuditConfig
from audits.errors import CrawlError, StoreError
from audits.engine.backend import browser_pool
from audits.engine.pipeline import NullProgress, RunOutcome, audit_site
from audits.results import score_run
from audits.store import Store


def _null_progress(_label: str) -> ContextManager:
    return contextlib.nullcontext(NullProgress())


def find_resumable(store: Store, cfg: AuditConfig) -> dict | None:
    """The site's latest run, when it did not complete (stopped, killed or interrupted)."""
    latest = store.latest_run(cfg.site_name(), statuses=("running", "incomplete", "complete", "failed"))
    return latest if latest and latest["status"] in ("running", "incomplete") else None


async def audit_sites_async(
    cfgs: list[AuditConfig],
    store: Store,
    progress: Callable[[str], ContextManager] | None = None,
    resume: bool = False,
    log_level: str | None = None,
    keep_going: bool = False,
    after_run: Callable[[RunOutcome], None] | None = None,
    playwright=None,
    parallel: int = 1,
) -> list[RunOutcome]:
    """Audit each site; the coroutine behind :func:`audit_sites`, for callers that already
    run Scrapy's asyncio reactor (tests share one reactor and one Playwright for the session).
    Without ``playwright`` it uses the process's shared driver (see :func:`runtime.start`), else
    starts one for the call.

    ``parallel`` > 1 audits that many sites at once, over one browser pool (made from the first
    site's settings: ``chromium``, ``browser_endpoints``, ``js_heap_mb``), each site with its own
    crawl, ``concurrency`` browser contexts, budgets and run; every store call stays on this
    event loop's thread, so one SQLite writer serves them all. Outcomes come back in ``cfgs``
    order; ``after_run`` is called as each site finishes.

    With ``keep_going`` a site that cannot be audited is reported in its outcome (``error``) and
    the next site is audited; otherwise its :class:`CrawlError` propagates (and sites audited
    alongside it are stopped, as after Ctrl-C).
    """
    progress = progress or _null_progress
    if playwright is None:
        playwright = await runtime.shared_playwright()
    if playwright is None:
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            return await audit_sites_async(cfgs, store, progress, resume, log_level, keep_going, after_run, pw,
                                           parallel)

    async def one(cfg: AuditConfig, browsers) -> RunOutcome:
        resume_run = find_resumable(store, cfg) if resume else None
        if resume and resume_run is None:
            raise StoreError(f"nothing to resume for {cfg.site_name()} in {store.path}: its last run is complete")
        with progress(cfg.site_name()) as prog:
            try:
                outcome = await audit_site(cfg, store, playwright, prog, resume_run=resume_run, log_level=log_level,
                                           browsers=browsers)
            except CrawlError as exc:
                if not keep_going:
                    raise
                run = store.latest_run(cfg.site_name(), statuses=("failed",))
                outcome = RunOutcome(run_id=run["id"] if run else 0, site=cfg.site_name(),
                                     status="failed", error=str(exc))
        if outcome.status != "failed":
            score_run(store, outcome.run_id)
        if after_run is not None:
            after_run(outcome)
        return outcome

    if parallel <= 1 or len(cfgs) <= 1:
        return [await one(cfg, None) for cfg in cfgs]

    browsers = browser_pool(playwright, cfgs[0])
    slots = asyncio.Semaphore(parallel)

    async def in_turn(cfg: AuditConfig) -> RunOutcome:
        async with slots:
            return await one(cfg, browsers)

    tasks = [asyncio.ensure_future(in_turn(cfg)) for cfg in cfgs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # each run records where it stopped
        raise
    finally:
        await browsers.close()


def audit_sites(
    cfgs: list[AuditConfig],
    store: Store,
    progress: Callable[[str], ContextManager] | None = None,
    resume: bool = False,
    log_level: str | None = None,
    keep_going: bool = False,
    after_run: Callable[[RunOutcome], None] | None = None,
    parallel: int = 1,
) -> list[RunOutcome]:
    """Audit each site (``parallel`` at once, one browser pool for all) and return one outcome
    per site: runs Scrapy's asyncio reactor for the duration (once per process; see
    :mod:`.runtime`)."""
    return runtime.run(lambda: audit_sites_async(cfgs, store, progress, resume, log_level, keep_going, after_run,
                                                 parallel=parallel))
