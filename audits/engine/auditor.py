"""Render one page in Chromium and audit it with axe-core, turning every failure into data.

A :class:`PageAuditor` owns one browser context and one page and navigates that page from URL
to URL (HTTP cache warm, no context set-up per page), replacing the context every
``recycle_after`` pages, and at once after a timeout or a renderer crash.
"""

from __future__ import annotations

import asyncio
import base64
import time
from html import escape
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from w3lib.html import get_meta_refresh

from crawler.items import DiscoveredPage
from crawler.urls import Scope, is_private_host, normalise_url

from audits.engine.axe import AxeLimits, AxeTimeout, install_axe, run_axe
from audits.engine.incremental import body_hash
from audits.engine.login import SecretInjector
from audits.store import PageRecord

# Chromium's net errors -> our reason codes
NET_ERRORS = (
    ("ERR_TOO_MANY_REDIRECTS", "too_many_redirects"),
    ("ERR_BLOCKED_BY_CLIENT", "out_of_scope"),
    ("ERR_CONNECTION_REFUSED", "connection_error"),
    ("ERR_CONNECTION_RESET", "connection_error"),
    ("ERR_CONNECTION_CLOSED", "connection_error"),
    ("ERR_NAME_NOT_RESOLVED", "connection_error"),
    ("ERR_ADDRESS_UNREACHABLE", "connection_error"),
    ("ERR_EMPTY_RESPONSE", "protocol_error"),
    ("ERR_INVALID_RESPONSE", "protocol_error"),
    ("ERR_CONTENT_LENGTH_MISMATCH", "protocol_error"),
    ("ERR_INCOMPLETE_CHUNKED_ENCODING", "protocol_error"),
    ("ERR_INVALID_HTTP_RESPONSE", "protocol_error"),
    ("ERR_RESPONSE_HEADERS_TOO_BIG", "protocol_error"),
    ("ERR_FILE_TOO_BIG", "too_large"),
    ("Download is starting", "download"),  # Playwright's words for a download, and only those
    ("ERR_ABORTED", "navigation_aborted"),
    ("crash", "renderer_crashed"),
    ("Target closed", "renderer_crashed"),
    ("Timeout", "timeout"),
)


def classify_navigation_error(message: str) -> str:
    for needle, code in NET_ERRORS:
        if needle.lower() in message.lower():
            return code
    return "connection_error"


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


class PageAuditor:
    """One worker: a browser context + page, reused across pages."""

    def __init__(self, browsers, cfg, scope: Scope, axe_options: dict[str, Any], context_options: dict | None = None,
                 credentials=None):
        self.browsers = browsers  # a BrowserKeeper: relaunches Chromium if it died
        self.cfg = cfg
        self.scope = scope
        self.axe_options = axe_options
        # new_context options: basic auth bound to its origin, the address fence's proxy
        self.context_options = context_options or {}
        self.credentials = credentials  # headers and cookies for the login's origins only
        self.context = None
        self.page = None
        self.used = 0
        self.crashed = False
        self.phase = "idle"
        self.current: DiscoveredPage | None = None  # the page being audited, if any
        self.limit: asyncio.Timeout | None = None  # the page's deadline (moved for the axe phase)
        self.retried: str | None = None  # why the page's navigation was tried a second time

    async def _open(self) -> None:
        opts = dict(
            viewport={"width": self.cfg.viewport[0], "height": self.cfg.viewport[1]},
            user_agent=self.cfg.user_agent,
            accept_downloads=False,
            bypass_csp=True,  # axe is injected by script; a strict CSP must not stop the audit
            java_script_enabled=True,
            service_workers="block",
        )
        # Local Network Access and the address fence: see audits.engine.egress.context_options
        opts.update(self.context_options)
        browser = await self.browsers.get()
        self.context = await browser.new_context(**opts)
        self.context.on("page", self._on_extra_page)
        # window.open() would start a navigation we cannot fence: popups get nothing to open
        await self.context.add_init_script("window.open = function () { return null; };")
        await install_axe(self.context)
        self.page = await self.context.new_page()
        self.page.on("dialog", self._on_dialog)
        self.page.on("crash", self._on_crash)
        self.fence = DocumentFence(self.scope, SecretInjector(self.credentials))
        await self.fence.attach(self.context, self.page)
        self.crashed = False
        self.used = 0

    def _on_dialog(self, dialog) -> None:
        # alert/confirm/prompt are dismissed; "leave this page?" is answered yes, so we can move on
        action = dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss()
        asyncio.ensure_future(_quietly(action))

    def _on_crash(self, _page) -> None:
        self.crashed = True

    def _on_extra_page(self, page) -> None:
        if page is not self.page and self.page is not None:
            asyncio.ensure_future(_quietly(page.close()))  # popups are closed, never audited

    async def close(self) -> None:
        ctx, self.context, self.page = self.context, None, None
        if ctx is not None:
            try:
                await asyncio.wait_for(ctx.close(), timeout=10)
            except Exception:
                pass

    async def audit(self, item: DiscoveredPage) -> PageRecord:
        """Audit ``item``; never raises for a page's own faults (they become a failed record)."""
        self.current = item
        try:
            return await self._audit_with_limit(item)
        finally:
            self.current = None

    async def _audit_with_limit(self, item: DiscoveredPage) -> PageRecord:
        if self.context is None:
            await self._open()
        base = dict(url=item.url, depth=item.depth, referrer=item.referrer, found_via=item.found_via,
                    http_status=item.http_status, content_type=item.content_type)
        self.phase = "navigate"
        started = time.monotonic()
        try:
            # page_timeout covers loading; the axe phase moves the deadline to fit the page (see _audit)
            async with asyncio.timeout(self.cfg.page_timeout) as self.limit:
                record = await self._audit(item, base)
        except TimeoutError:
            code = "audit_timeout" if self.phase == "axe" else "timeout"
            what = "axe did not finish" if code == "audit_timeout" else "the page did not load"
            record = PageRecord(status="failed", reason_code=code,
                                reason=f"{what} within {time.monotonic() - started:.0f} s", **base)
            await self.close()  # the renderer may be stuck in a loop: start afresh
        except AxeTimeout as exc:
            record = PageRecord(status="failed", reason_code="audit_timeout", reason=str(exc), **base)
            await self.close()  # axe (or the page) may still be running in the renderer
        except PlaywrightError as exc:
            msg = _first_line(exc)
            if self.crashed or "crash" in msg.lower() or "closed" in msg.lower():
                record = PageRecord(status="failed", reason_code="renderer_crashed", reason=msg, **base)
            elif self.phase == "axe" and ("context was destroyed" in msg or "navigat" in msg):
                record = PageRecord(status="failed", reason_code="navigated_away",
                                    reason=f"the page navigated away while it was audited ({msg})", **base)
            elif self.phase == "axe":
                record = PageRecord(status="failed", reason_code="audit_error", reason=msg, **base)
            else:
                code = classify_navigation_error(msg)
                if code == "navigation_aborted":
                    msg = f"the navigation was aborted twice ({msg})"
                record = PageRecord(status="failed", reason_code=code, reason=msg, **base)
            await self.close()
        record.audit_ms = int((time.monotonic() - started) * 1000)
        self.used += 1
        if self.context is not None and (self.used >= self.cfg.recycle_after or self.crashed):
            await self.close()
        if self.context is not None:
            await self._park()
        self.phase = "idle"
        return record

    async def _park(self) -> None:
        """Leave the audited document for an empty one. Until the next page commits, the old
        document lives on, and a timer or meta refresh of its own that starts a navigation then
        cancels ours (``net::ERR_ABORTED``); about:blank has neither."""
        try:
            await self.page.goto("about:blank", wait_until="commit", timeout=5000)
        except Exception:
            await self.close()

    async def _navigate(self, item: DiscoveredPage):
        """``page.goto`` the item, once more if the navigation was aborted: a navigation the
        previous document started as we left it cancels ours (see :meth:`_park`)."""
        for attempt in (1, 2):
            self.fence.expect(item)
            try:
                return await self.page.goto(item.url, wait_until="domcontentloaded",
                                            timeout=self.cfg.page_timeout * 1000)
            except PlaywrightError as exc:
                if attempt == 2 or self.crashed or classify_navigation_error(str(exc)) != "navigation_aborted":
                    raise
                self.retried = _first_line(exc)
                await self._park()
                if self.context is None:
                    raise

    async def _audit(self, item: DiscoveredPage, base: dict) -> PageRecord:
        cfg = self.cfg
        if item.http_status in (204, 205):
            # nothing to render: Chromium aborts the navigation to a "No Content" answer
            return PageRecord(status="skipped", reason_code="not_html",
                              reason=f"HTTP {item.http_status}: the server sent no content", **base)
        page = self.page
        t0 = time.monotonic()
        self.retried = None
        response = await self._navigate(item)
        # From here the page stays on this document until it is audited: navigations it starts
        # itself (a meta refresh, a script) are answered "204 No Content" (see DocumentFence).
        self.fence.hold()
        try:
            await page.wait_for_load_state("load", timeout=max(1000, cfg.page_timeout * 500))
            load_complete = True
        except PlaywrightError:
            load_complete = False  # a hanging image or script: audit what has rendered
        load_ms = int((time.monotonic() - t0) * 1000)
        final_url = page.url
        status = response.status if response is not None else item.http_status
        ctype = (response.headers.get("content-type") if response is not None else None) or item.content_type
        base.update(http_status=status, content_type=ctype)
        unloaded = loaded_page_failure(self.crashed, status, final_url, self.scope, load_ms, base)
        if unloaded is not None:
            return unloaded
        self.phase = "axe"
        loop = asyncio.get_running_loop()
        left = max(1.0, self.limit.when() - loop.time())
        limits = AxeLimits(base_s=left, per_element_s=cfg.axe_ms_per_element / 1000,
                           ceiling_s=max(cfg.axe_timeout_max, left), frame_s=cfg.frame_timeout,
                           settle_s=cfg.settle_cap_ms / 1000)
        # run_axe keeps its own limits, which fit the page; this is only the backstop
        self.limit.reschedule(loop.time() + limits.ceiling_s + 15)
        result = await run_axe(page, self.axe_options, cfg.settle_quiet_ms, cfg.settle_cap_ms, limits=limits)
        if self.crashed:
            raise PlaywrightError("renderer crashed during the audit")
        # A real navigation during axe destroys its execution context and raises (navigated_away);
        # a history.pushState changes the URL but not the document axe audited.
        return audited_record(result, item, final_url, load_ms, load_complete, self.retried, base)


def loaded_page_failure(crashed: bool, status: int | None, final_url: str, scope, load_ms: int,
                        base: dict) -> PageRecord | None:
    """Why a page the browser has loaded is not audited, on every backend: its renderer crashed,
    the browser got an HTTP error (401/407 ``auth_required``; 404/410 a ``broken_link``, skipped;
    else ``http_error``), or it was taken out of scope; None when it is to be audited."""
    if crashed:
        return PageRecord(status="failed", reason_code="renderer_crashed", reason="renderer crashed while loading",
                          final_url=final_url, load_ms=load_ms, **base)
    if status is not None and status >= 400:
        code = "auth_required" if status in (401, 407) else "broken_link" if status in (404, 410) else "http_error"
        return PageRecord(status="failed" if code == "http_error" else "skipped", reason_code=code,
                          reason=f"HTTP {status} in the browser", final_url=final_url, load_ms=load_ms, **base)
    if scope.check(normalise_url(final_url)):
        return PageRecord(status="failed", reason_code="navigated_away",
                          reason=f"the browser was taken out of scope to {final_url}", final_url=final_url,
                          load_ms=load_ms, **base)
    return None


def audited_record(result: dict, item, final_url: str, load_ms: int, load_complete: bool, retried,
                   base: dict) -> PageRecord:
    """The record of an audited page from axe's ``result`` (with the page facts), on every backend."""
    facts = result["facts"]
    facts["load_complete"] = load_complete
    if retried:
        facts["navigation_retried"] = retried
    target = refresh_target(facts.get("meta_refresh"), final_url)
    if target:
        # the refresh was stopped (the page is audited as it is): where it leads is a link
        facts["meta_refresh_target"] = target
        if target not in facts.setdefault("links", []):
            facts["links"].append(target)
    return PageRecord(
        status="audited", final_url=final_url, title=facts.get("title"), lang=facts.get("lang"),
        load_ms=load_ms, frames=result["frames"], content_hash=body_hash(item.body), facts=facts,
        violations=result["violations"], incomplete=result["incomplete"], **base,
    )


def refresh_target(content: str | None, base_url: str) -> str | None:
    """The absolute URL a ``<meta http-equiv="refresh" content="...">`` leads to, if it names one."""
    if not content:
        return None
    _delay, url = get_meta_refresh(f'<meta http-equiv="refresh" content="{escape(content)}">', base_url)
    return url


async def _quietly(aw) -> None:
    try:
        await aw
    except Exception:
        pass


# Response headers that describe the transfer, not the content: Scrapy has already decoded it.
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


class DocumentFence:
    """Every document request of the page (main frame, iframes, redirects, meta refreshes, script
    navigations) passes through here, through Chromium's DevTools ``Fetch`` domain filtered to
    documents, so sub-resources keep the HTTP cache and cost nothing:

    - a page document out of scope (another host, or a private address when the start URL is
      public) is refused before any request leaves the browser; a frame's document may come from
      another host (third-party widgets are part of the page and audited with it), never from a
      private address when the start URL is public (:meth:`frame_allowed`);
    - the page being audited is answered with the HTML the crawler already fetched, so each page
      is fetched once, not twice;
    - with a login, every request to the login's origins (any type) passes here too, and gets the
      login's headers and cookies (:class:`audits.engine.login.SecretInjector`); no other
      request does.

    Connections to loopback, private and link-local addresses, whatever asks for them, are
    refused below this, by the context's proxy (:mod:`audits.engine.egress`).
    - once the page's document has arrived, the main frame stays on it until the audit is over:
      its own navigations (a meta refresh after a delay, a script) are answered like an
      out-of-scope one, so the document axe audits is the one that was loaded.
    """

    def __init__(self, scope: Scope, injector: SecretInjector | None = None):
        self.scope = scope
        self.injector = injector or SecretInjector(None)
        self.item: DiscoveredPage | None = None
        self.holding = False
        self.main_frame_id: str | None = None
        self.session = None

    async def attach(self, context, page) -> None:
        self.session = await context.new_cdp_session(page)
        tree = await self.session.send("Page.getFrameTree")
        self.main_frame_id = tree["frameTree"]["frame"]["id"]
        self.session.on("Fetch.requestPaused", self._on_paused)
        await self.session.send("Fetch.enable", {"patterns": self.patterns()})

    def patterns(self) -> list[dict]:
        """The requests Chromium pauses for :meth:`reply` (``Fetch.enable``'s patterns)."""
        return [{"urlPattern": "*", "resourceType": "Document", "requestStage": "Request"}, *self.injector.patterns()]

    def expect(self, item: DiscoveredPage | None) -> None:
        """The page is about to navigate to ``item``: answer it with the crawler's HTML."""
        self.item = item
        self.holding = False

    def hold(self) -> None:
        """The page's document has arrived: until the next :meth:`expect`, the main frame stays on
        it (its own navigations get "204 No Content", so a meta refresh or a script cannot replace
        the document under audit); frames still navigate as the fence allows."""
        self.item = None
        self.holding = True

    def frame_allowed(self, url: str, main: bool) -> bool:
        """Whether a document may load: the page itself only in scope; a frame of it (a web
        chat, a payment form, a map, a video player) from any host, as it is part of the page and
        is audited with it (the crawler does not follow it), but not from a loopback, private or
        link-local address when the start URL is public (the proxy refuses those connections too)."""
        in_scope = self.scope.url_host_allowed(url)
        if main or in_scope:
            return in_scope
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        return self.scope.allow_private or not is_private_host(parts.hostname)

    def _on_paused(self, params: dict) -> None:
        asyncio.ensure_future(self._answer(params))

    async def _answer(self, params: dict) -> None:
        try:
            method, msg = self.reply(params)
            await self.session.send(method, msg)
        except Exception:
            pass  # the page or its request went away meanwhile

    def reply(self, params: dict) -> tuple[str, dict[str, Any]]:
        """The fence's whole decision on one paused request (a ``Fetch.requestPaused`` event's
        params): the DevTools command that answers it and its params. Shared by every backend
        that speaks DevTools (Playwright's CDP session here, Selenium Grid's ``se:cdp``)."""
        url = params["request"]["url"]
        rid = params["requestId"]
        item = self.item
        document = params.get("resourceType") == "Document"
        if (document and item is not None and item.body is not None and params["request"].get("method", "GET") == "GET"
                and normalise_url(url) == item.url and not params.get("redirectedRequestId")):
            self.item = None  # once: a reload or a script navigation is not the page we fetched
            self.holding = True
            headers = [{"name": k, "value": v} for k, v in item.headers if k not in _HOP_HEADERS]
            return "Fetch.fulfillRequest", {
                "requestId": rid, "responseCode": item.http_status or 200, "responseHeaders": headers,
                "body": base64.b64encode(item.body).decode("ascii"),
            }
        # only the main frame's own navigations are held; its sub-resources go on as usual
        main = params.get("frameId") == self.main_frame_id
        held = document and self.holding and main
        if held or (document and not url.startswith(("about:", "data:", "blob:")) and not self.frame_allowed(url, main)):
            # 204 No Content: the frame stays where it is, with no error page replacing the
            # document under audit, and no request leaves the browser.
            return "Fetch.fulfillRequest", {"requestId": rid, "responseCode": 204, "responseHeaders": []}
        msg: dict[str, Any] = {"requestId": rid}
        headers = self.injector.headers_for(params["request"])
        if headers is not None:
            msg["headers"] = headers
        return "Fetch.continueRequest", msg
