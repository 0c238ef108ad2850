"""The browser backends behind one interface, so that the pipeline does not know which it has.

A *pool* (:func:`browser_pool`) is what a run audits with: ``get()`` (fails early when the
browser cannot be had), ``describe()`` (recorded with the run), ``close()``, ``remote``, and for
the remote kinds ``losses`` and ``probe()`` (a browser lost with a page in flight). An *auditor*
(:func:`new_auditor`) audits one page at a time: ``audit(item) -> PageRecord``, ``close()``,
``current``.

=====================================  =========================================================
backend                                pool / auditor
=====================================  =========================================================
local Chromium (default)               :class:`~.browser.BrowserKeeper` / :class:`~.auditor.PageAuditor`
Playwright browser servers             :class:`~.browser.RemoteBrowserPool` / :class:`~.auditor.PageAuditor`
Selenium Grid 4 (``webdriver``)        :class:`~.grid.GridPool` / :class:`~.grid.GridAuditor`
=====================================  =========================================================
"""

from __future__ import annotations

from audits.engine import browser
from audits.engine.auditor import PageAuditor
from audits.engine.axe import axe_rules
from audits.engine.grid import GridPool
from audits.errors import ConfigError


def browser_pool(playwright, cfg):
    """The run's browser pool, from its configuration: ``webdriver`` (Selenium Grid), else
    ``browser_endpoints`` (Playwright browser servers), else Chromium launched here."""
    if cfg.webdriver:
        if cfg.browser_endpoints:
            raise ConfigError("give either webdriver (Selenium Grid) or browser_endpoints (Playwright browser "
                              "servers), not both")
        return GridPool(cfg.webdriver, cfg)
    return browser.browser_pool(playwright, cfg)


def check_supported(pool, cfg) -> None:
    """What a backend cannot do is a configuration error before the run, not a run of failures."""
    if isinstance(pool, GridPool) and cfg.login is not None:
        raise ConfigError("login: a login is not supported with Selenium Grid (webdriver) yet; audit a site "
                          "that needs one with the local browser or --browser-endpoint")


def new_auditor(pool, cfg, scope, axe_options, context_options=None, credentials=None):
    """One page auditor on ``pool``."""
    if isinstance(pool, GridPool):
        return pool.new_auditor(cfg, scope, axe_options, context_options, credentials)
    return PageAuditor(pool, cfg, scope, axe_options, context_options, credentials)


async def rules(pool) -> list[dict]:
    """axe-core's rule metadata, from the pool's own browser."""
    if isinstance(pool, GridPool):
        return await pool.axe_rules()
    page = await (await pool.get()).new_page()
    try:
        return await axe_rules(page)
    finally:
        await page.close()
