"""Signed-in audits: HTTP basic auth, extra headers, cookies and a scripted form login.

Secrets are never in the configuration itself: it names environment variables, whose values are
read here, at run time, and never stored or printed.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from audits.config import LoginConfig
from audits.errors import ConfigError, CrawlError


def _env(name: str, what: str, environ=None) -> str:
    environ = os.environ if environ is None else environ
    if name not in environ:
        raise ConfigError(f"login.{what} names the environment variable {name}, which is not set")
    return environ[name]


def secrets(login: LoginConfig | None, environ=None) -> dict[str, Any]:
    """Resolve the login's environment variables. Returns headers, cookies, basic credentials."""
    out: dict[str, Any] = {"headers": {}, "cookies": {}, "http_user": None, "http_password": None}
    if login is None:
        return out
    if login.basic_user_env:
        out["http_user"] = _env(login.basic_user_env, "basic_user_env", environ)
        out["http_password"] = _env(login.basic_password_env, "basic_password_env", environ) if login.basic_password_env else ""
    out["headers"] = {h: _env(v, f"headers_env.{h}", environ) for h, v in login.headers_env.items()}
    out["cookies"] = {c: _env(v, f"cookies_env.{c}", environ) for c, v in login.cookies_env.items()}
    return out


def crawl_auth(login: LoginConfig | None) -> dict[str, Any]:
    """Keyword arguments for :class:`crawler.run.CrawlOptions`."""
    s = secrets(login)
    return {"headers": s["headers"], "cookies": s["cookies"], "http_user": s["http_user"],
            "http_password": s["http_password"]}


def context_options(login: LoginConfig | None, start_url: str | None = None) -> dict[str, Any]:
    """Options for Playwright's ``browser.new_context`` (basic auth, extra headers).

    Basic-auth credentials are bound to the start URL's origin, so a third party's 401 challenge
    never receives them.
    """
    s = secrets(login)
    opts: dict[str, Any] = {}
    if s["http_user"] is not None:
        opts["http_credentials"] = {"username": s["http_user"], "password": s["http_password"] or ""}
        if start_url:
            parts = urlsplit(start_url)
            opts["http_credentials"]["origin"] = f"{parts.scheme}://{parts.netloc}"
    if s["headers"]:
        opts["extra_http_headers"] = s["headers"]
    return opts


async def session_cookies(browser, login: LoginConfig | None, scope) -> list[dict]:
    """Sign in once, before the crawl: the cookies every browser context and the crawler share.

    Cookies named in ``cookies_env`` are set for every host in scope; with ``form_url`` the login
    form is filled in a throw-away context and the cookies it leaves are kept.
    """
    if login is None or (not login.cookies_env and not login.form_url):
        return []
    s = secrets(login)
    hosts = sorted(h.split(":")[0] for h in scope.hosts)
    cookies = [{"name": k, "value": v, "domain": h, "path": "/"} for k, v in s["cookies"].items() for h in hosts]
    if login.form_url:
        context = await browser.new_context(**context_options(login, login.form_url))
        try:
            if cookies:
                await context.add_cookies(cookies)
            await form_login(context, login)
            cookies = await context.cookies()
        finally:
            await context.close()
    return cookies


async def form_login(context, login: LoginConfig) -> None:
    """Fill the login form and check for the success text; cookies stay in ``context``.

    Error messages name the form and the selectors, never the values typed in.
    """
    page = await context.new_page()
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
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for secret in secrets(login)["cookies"].values():
            reason = reason.replace(secret, "***")
        raise CrawlError(f"form login at {login.form_url} failed: {reason[:200]}") from None
    finally:
        await page.close()
