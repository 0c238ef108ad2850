"""Scrapy settings built in code from :class:`crawler.run.CrawlOptions`."""

from __future__ import annotations

from typing import Any

from .urls import MAX_URL_LENGTH


def build_settings(opts, sink, log_level: str | None = None) -> dict[str, Any]:
    """Settings for one site's crawl. ``sink`` is an async callable receiving every item."""
    return {
        "BOT_NAME": "a11ycrawl",
        "USER_AGENT": opts.user_agent,
        "ROBOTSTXT_OBEY": opts.obey_robots,
        "ROBOTSTXT_USER_AGENT": opts.user_agent,
        "CONCURRENT_REQUESTS": max(8, opts.concurrency_per_host),
        "CONCURRENT_REQUESTS_PER_DOMAIN": opts.concurrency_per_host,
        "DOWNLOAD_DELAY": opts.delay,
        # AutoThrottle adapts the delay to the server's latency; start from the configured delay
        # rather than Scrapy's 5 s default so a fast site is not crawled at a crawl.
        "AUTOTHROTTLE_ENABLED": opts.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(opts.delay, 0.05),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(opts.concurrency_per_host),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 1,  # once: a hanging page must not cost three timeouts
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": opts.timeout,
        "DOWNLOAD_MAXSIZE": opts.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DEPTH_LIMIT": 0,  # the spider enforces --max-depth itself and records what it cuts
        "DEPTH_PRIORITY": 0,
        "REDIRECT_MAX_TIMES": 10,
        # Scrapy's own limit (2083 by default) for requests from callbacks, made ours; the
        # spider records the links it refuses, and the middlewares fence redirects
        "URLLENGTH_LIMIT": MAX_URL_LENGTH,
        "METAREFRESH_ENABLED": True,
        # Only an immediate refresh (under 1 s) is a redirect; one after a delay is a page to
        # audit (axe's meta-refresh rule, WCAG 2.2.1), whose target the browser reports as a link.
        "METAREFRESH_MAXDELAY": 1,
        "HTTPERROR_ALLOW_ALL": True,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # no listening ports of our own during an audit
        "LOG_ENABLED": log_level is not None,
        "LOG_LEVEL": log_level or "ERROR",
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.ScopeMiddleware": 50,
            "crawler.middlewares.RedirectFenceMiddleware": 60,
            "crawler.middlewares.RetryAfterMiddleware": 560,
            # after CookiesMiddleware (700), which rebuilds the Cookie header from its jar
            "crawler.middlewares.LoginMiddleware": 720,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.SinkPipeline": 100},
        "A11YCRAWL_SINK": sink,
        "A11YCRAWL_SCOPE": opts.scope,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-GB,en;q=0.8",
        },
        # Login secrets go only to the login's origins, through LoginMiddleware. They are never
        # Scrapy settings of their own (HTTPAUTH_PASS, DEFAULT_REQUEST_HEADERS): Scrapy logs
        # every overridden setting at INFO; this object's repr names no value.
        "A11YCRAWL_LOGIN": opts.credentials(),
    }
