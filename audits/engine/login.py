"""Signed-in audits: HTTP basic auth, extra headers, cookies and a scripted form login.

Secrets are never in the configuration itself: it names environment variables, whose values are
read here, at run time, and never stored or printed.
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any
from urllib.parse import quote, urlsplit

from crawler.credentials import Credentials
from crawler.urls import origin

from audits.config import LoginConfig
from audits.errors import ConfigError, CrawlError


class SecretRedactor:
    """Replaces every secret value the run has read with ``***`` in every log record, whichever
    logger made it (ours, Scrapy's, Twisted's, asyncio's, Playwright's) and whichever handler
    prints it, tracebacks included: it is installed as the log-record factory, so a record is
    scrubbed when it is made, before any handler or formatter sees it.

    The secrets are kept out of log messages at the source too (see
    :class:`crawler.credentials.Credentials`); this is the net under that.
    """

    MASK = "***"

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._installed = False

    def add(self, *values: str | None) -> None:
        for value in values:
            if value:
                self.values.update({value, quote(value, safe="")})
        if self.values and not self._installed:
            self._install()

    def add_basic(self, user: str, password: str) -> None:
        self.add(user, password, base64.b64encode(f"{user}:{password}".encode()).decode())

    def redact(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, self.MASK)
        return text

    def _install(self) -> None:
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs):
            record = previous(*args, **kwargs)
            self._scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        self._installed = True

    def _scrub(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler will report it, with our redaction
            message = f"{record.msg} {record.args}"
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


#: One per process: a secret read once stays redacted for the rest of the process.
REDACTOR = SecretRedactor()


def _env(name: str, what: str, environ=None) -> str:
    environ = os.environ if environ is None else environ
    if name not in environ:
        raise ConfigError(f"login.{what} names the environment variable {name}, which is not set")
    REDACTOR.add(environ[name])
    return environ[name]


def secrets(login: LoginConfig | None, environ=None) -> dict[str, Any]:
    """Resolve the login's environment variables. Returns headers, cookies, basic credentials.

    Every value read is registered with :data:`REDACTOR` before it is returned.
    """
    out: dict[str, Any] = {"headers": {}, "cookies": {}, "http_user": None, "http_password": None}
    if login is None:
        return out
    if login.basic_user_env:
        out["http_user"] = _env(login.basic_user_env, "basic_user_env", environ)
        out["http_password"] = _env(login.basic_password_env, "basic_password_env", environ) if login.basic_password_env else ""
        REDACTOR.add_basic(out["http_user"], out["http_password"])
    out["headers"] = {h: _env(v, f"headers_env.{h}", environ) for h, v in login.headers_env.items()}
    out["cookies"] = {c: _env(v, f"cookies_env.{c}", environ) for c, v in login.cookies_env.items()}
    return out


def login_origins(login: LoginConfig | None, start_url: str) -> tuple[str, ...]:
    """The origins headers and cookies are sent to: the start URL's, and the login form's."""
    origins = [origin(start_url)]
    if login is not None and login.form_url and origin(login.form_url) not in origins:
        origins.append(origin(login.form_url))
    return tuple(origins)


def crawl_auth(login: LoginConfig | None, start_url: str) -> dict[str, Any]:
    """Keyword arguments for :class:`crawler.run.CrawlOptions`."""
    s = secrets(login)
    return {"headers": s["headers"], "cookies": s["cookies"], "http_user": s["http_user"],
            "http_password": s["http_password"], "login_origins": login_origins(login, start_url)}


def browser_credentials(login: LoginConfig | None, start_url: str) -> Credentials:
    """The headers and cookies the browser's request fence adds for the login's origins only
    (basic auth is Playwright's ``http_credentials``, see :func:`context_options`)."""
    s = secrets(login)
    return Credentials(origins=frozenset(login_origins(login, start_url)),
                       headers=tuple(s["headers"].items()), cookies=tuple(s["cookies"].items()))


def context_options(login: LoginConfig | None, start_url: str | None = None) -> dict[str, Any]:
    """Options for Playwright's ``browser.new_context``: basic auth, bound to the start URL's
    origin, so a third party's 401 challenge never receives it.

    Headers and cookies are *not* context options: ``extra_http_headers`` would go to every host
    the page loads from. :class:`SecretInjector` adds them on the login's origins only.
    """
    s = secrets(login)
    opts: dict[str, Any] = {}
    if s["http_user"] is not None:
        opts["http_credentials"] = {"username": s["http_user"], "password": s["http_password"] or ""}
        if start_url:
            opts["http_credentials"]["origin"] = origin(start_url)
    return opts


class SecretInjector:
    """Adds the login's headers and cookies to the browser's requests for the login's origins,
    through Chromium's DevTools ``Fetch`` domain: only requests to those origins are paused
    (``patterns``), so the rest of the page's traffic costs nothing. Chromium does not carry
    headers added here across a redirect; should a request elsewhere carry them anyway, they
    are taken off (``headers_for``)."""

    def __init__(self, credentials: Credentials | None):
        self.credentials = credentials if credentials and (credentials.headers or credentials.cookies) else None

    def patterns(self) -> list[dict]:
        if self.credentials is None:
            return []
        return [{"urlPattern": o + "/*", "requestStage": "Request"} for o in sorted(self.credentials.origins)]

    def headers_for(self, request: dict) -> list[dict] | None:
        """The headers to continue a paused ``request`` with, or None to leave it unchanged."""
        creds = self.credentials
        if creds is None:
            return None
        headers = dict(request.get("headers") or {})
        cookie_key = next((k for k in headers if k.lower() == "cookie"), None)
        if creds.applies_to(request["url"]):
            names = creds.header_names
            headers = {k: v for k, v in headers.items() if k.lower() not in names}
            headers.update(dict(creds.headers))
            cookie = creds.cookie_header(headers.pop(cookie_key) if cookie_key else None)
            if cookie:
                headers["Cookie"] = cookie
        else:
            ours = {f"{k}={v}" for k, v in creds.cookies}
            stripped = {k: v for k, v in headers.items() if k.lower() not in creds.header_names}
            if cookie_key:
                kept = [p.strip() for p in headers[cookie_key].split(";") if p.strip() and p.strip() not in ours]
                stripped.pop(cookie_key, None)
                if kept:
                    stripped[cookie_key] = "; ".join(kept)
            if stripped == headers:
                return None
            headers = stripped
        return [{"name": k, "value": v} for k, v in headers.items()]

    async def attach(self, context, page) -> None:
        """A CDP session of its own on ``page`` (for the login form's throw-away context; the
        auditor's :class:`audits.engine.auditor.DocumentFence` shares its session instead)."""
        if self.credentials is None:
            return
        import asyncio

        session = await context.new_cdp_session(page)

        async def answer(params: dict) -> None:
            msg: dict[str, Any] = {"requestId": params["requestId"]}
            headers = self.headers_for(params["request"])
            if headers is not None:
                msg["headers"] = headers
            try:
                await session.send("Fetch.continueRequest", msg)
            except Exception:
                pass  # the page or its request went away meanwhile

        session.on("Fetch.requestPaused", lambda params: asyncio.ensure_future(answer(params)))
        await session.send("Fetch.enable", {"patterns": self.patterns()})


def _domain_matches(domain: str, host: str) -> bool:
    domain = domain.lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


async def session_cookies(browser, login: LoginConfig | None, start_url: str,
                          context_extra: dict | None = None) -> list[dict]:
    """Sign in with the login form, once, before the crawl: the cookies it leaves, which every
    browser context and the crawler share. Only cookies for the login's hosts are kept (a form
    page's third parties keep theirs); the crawler sends them to the login's origins only.

    ``cookies_env`` cookies are not among them: they are added to each request for the login's
    origins (:class:`SecretInjector`, :class:`crawler.middlewares.LoginMiddleware`).
    ``context_extra``: more context options (the address fence's proxy).
    """
    if login is None or not login.form_url:
        return []
    creds = browser_credentials(login, start_url)
    hosts = {urlsplit(o).hostname for o in creds.origins}
    context = await browser.new_context(**context_options(login, login.form_url), **(context_extra or {}))
    try:
        page = await context.new_page()
        await SecretInjector(creds).attach(context, page)
        await form_login(context, login, page)
        cookies = [c for c in await context.cookies() if any(_domain_matches(c["domain"], h) for h in hosts)]
    finally:
        await context.close()
    # a session's value is a secret too; short values ("1", "en") are not, and masking them would
    # garble every log line
    REDACTOR.add(*(c["value"] for c in cookies if len(c["value"]) >= 6))
    return cookies


async def form_login(context, login: LoginConfig, page=None) -> None:
    """Fill the login form and check for the success text; cookies stay in ``context``.

    Error messages name the form and the selectors, never the values typed in.
    """
    page = page or await context.new_page()
    try:
        await page.goto(login.form_url, wait_until="load")
        for selector, env_name in login.form_fields_env.items():
            await page.fill(selector, _env(env_name, f"form_fields_env.{selector}"))
        if login.form_submit:
            async with page.expect_navigation(wait_until="load"):
                await page.click(login.form_submit)
        if login.success_text and login.success_text not in (await page.content()):
            host = urlsplit(login.form_url).netloc
            raise CrawlError(f"form login at {host} failed: the text {login.success_text!r} did not appear")
    except CrawlError:
        raise
    except Exception as exc:
        reason = REDACTOR.redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise CrawlError(f"form login at {login.form_url} failed: {reason[:200]}") from None
    finally:
        await page.close()
