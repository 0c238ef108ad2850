"""Downloader middlewares: the scope and URL-length fence for every request, the spider's
fences for redirect hops, login secrets only for the login's origins, and Retry-After on
429/503, on top of Scrapy's own retry middleware."""

from __future__ import annotations

import asyncio
import base64
import datetime
import email.utils
import re
import time

from scrapy.exceptions import NotConfigured

from .failures import Fenced
from .urls import MAX_URL_LENGTH, shorten, too_long


class ScopeMiddleware:
    """Drop any request outside the scope or longer than 2048 characters, including redirect
    targets and meta refreshes.

    Runs before robots.txt and redirects are handled, so an out-of-scope host never receives a
    request, not even for its robots.txt.
    """

    def __init__(self, scope):
        self.scope = scope

    @classmethod
    def from_crawler(cls, crawler):
        scope = crawler.settings.get("A11YCRAWL_SCOPE")
        if scope is None:
            raise NotConfigured
        return cls(scope)

    def process_request(self, request, spider=None):
        if too_long(request.url):
            what = "redirects to a URL" if request.meta.get("redirect_urls") else "URL"
            raise Fenced("url_too_long", f"{what} longer than {MAX_URL_LENGTH} characters ({shorten(request.url, 80)})")
        if not self.scope.url_host_allowed(request.url):
            raise Fenced("out_of_scope", f"redirects or refreshes out of scope to {shorten(request.url)}",
                         final_url=request.url)
        return None


class RedirectFenceMiddleware:
    """Put each redirect or meta-refresh hop of a page request through the spider's fences
    (include/exclude patterns, traps, pages recorded already), as links go through them.

    Scrapy's RedirectMiddleware sends a hop back through the downloader middlewares with the
    URLs so far in ``redirect_urls`` and their number in ``redirect_times``; a retried hop keeps
    both, so it is checked (and counted) once.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        meta = request.meta
        if not meta.get("redirect_urls") or "norm" not in meta:
            return None  # not a hop, or not a page (robots.txt, a sitemap, a resource)
        hop = meta.get("redirect_times", len(meta["redirect_urls"]))
        if meta.get("a11y_hop_checked") == hop:
            return None
        meta["a11y_hop_checked"] = hop
        check = getattr(self.crawler.spider, "check_redirect", None)
        if check is not None:
            check(request)  # raises Fenced
        return None


class LoginMiddleware:
    """Add the login's headers, cookies and basic auth to requests for the login's origins, and
    strip them from every other request (a redirect copies the headers of the request it
    follows).

    The secrets live in this middleware, not in Scrapy settings of their own, so Scrapy's
    "Overridden settings" log line shows only :class:`crawler.credentials.Credentials`' repr,
    which names no value. Sits after Scrapy's CookiesMiddleware, which rebuilds the Cookie
    header from its jar: our cookies never enter the jar, so the jar can never send them to
    another host.
    """

    def __init__(self, credentials):
        self.credentials = credentials

    @classmethod
    def from_crawler(cls, crawler):
        credentials = crawler.settings.get("A11YCRAWL_LOGIN")
        if not credentials:
            raise NotConfigured
        return cls(credentials)

    def process_request(self, request, spider=None):
        creds = self.credentials
        headers = request.headers
        if creds.applies_to(request.url):
            for name, value in creds.headers:
                headers[name] = value
            if creds.cookies:
                existing = headers.get("Cookie")
                cookie = creds.cookie_header(existing.decode("latin-1") if existing else None)
                if cookie:
                    headers["Cookie"] = cookie
        else:
            for name, _ in creds.headers:
                headers.pop(name, None)
            if creds.cookies and headers.get("Cookie"):
                ours = {f"{k}={v}" for k, v in creds.cookies}
                kept = [p.strip() for p in headers["Cookie"].decode("latin-1").split(";") if p.strip() not in ours]
                if kept:
                    headers["Cookie"] = "; ".join(p for p in kept if p)
                else:
                    headers.pop("Cookie", None)
        if creds.basic_user is not None:
            if creds.basic_applies_to(request.url):
                token = base64.b64encode(f"{creds.basic_user}:{creds.basic_password or ''}".encode()).decode()
                headers["Authorization"] = "Basic " + token
            elif headers.get("Authorization", b"").startswith(b"Basic "):
                headers.pop("Authorization", None)
        return None


class RetryAfterMiddleware:
    """Back off before Scrapy's RetryMiddleware retries: the server's Retry-After on 429/503
    (capped), else exponential backoff (0.5 s, 1 s, 2 s, ...). Sits just outside RetryMiddleware,
    so the wait happens before the retry is scheduled; other requests carry on meanwhile."""

    MAX_WAIT = 60.0
    BASE = 0.5

    def __init__(self, retry_codes, max_retries: int):
        self.retry_codes = set(retry_codes)
        self.max_retries = max_retries

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler.settings.getlist("RETRY_HTTP_CODES"), crawler.settings.getint("RETRY_TIMES"))

    async def process_response(self, request, response, spider=None):
        if response.status not in self.retry_codes:
            return response
        tries = request.meta.get("retry_times", 0)
        if tries >= request.meta.get("max_retry_times", self.max_retries):
            return response  # no retry will follow: do not wait
        await asyncio.sleep(self.wait_seconds(response.status, response.headers.get(b"Retry-After"), tries))
        return response

    def wait_seconds(self, status: int, retry_after: bytes | str | None, tries: int, now: float | None = None) -> float:
        """How long to wait before retry number ``tries + 1``: the server's Retry-After on 429
        and 503, else exponential backoff; never more than :attr:`MAX_WAIT`."""
        wait = retry_after_seconds(retry_after, now) if status in (429, 503) else None
        if wait is None:
            wait = self.BASE * (2 ** tries)
        return min(wait, self.MAX_WAIT)


_DELTA_SECONDS = re.compile(r"[0-9]+")


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None when
    the header is missing or not valid. A date in the past means no wait.

    >>> retry_after_seconds(b"120"), retry_after_seconds("-5"), retry_after_seconds("soon")
    (120.0, None, None)
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0)
    30.0
    """
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if _DELTA_SECONDS.fullmatch(text):  # ASCII digits only: str.isdigit() accepts "\u00b2"
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # an HTTP date is always in GMT
            when = when.replace(tzinfo=datetime.timezone.utc)
        ts = when.timestamp()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return max(0.0, ts - (now if now is not None else time.time()))
