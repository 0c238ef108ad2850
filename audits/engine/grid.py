"""Selenium Grid 4 as a browser backend: the same audit as the Playwright one, in Chromium sessions
that a Grid (a hub or router, and its nodes) hands out.

The pipeline does not know which backend it has: :class:`GridPool` is a browser pool (``get``,
``describe``, ``close``, ``losses``, ``probe``) and :class:`GridAuditor` a page auditor
(``audit(item) -> PageRecord``, ``close``, ``current``), like
:class:`~audits.engine.browser.BrowserKeeper` and :class:`~audits.engine.auditor.PageAuditor`.
A run has ``concurrency`` WebDriver sessions, shared by its auditors; Selenium is synchronous, so
its calls run in daemon threads (GridPool.run), never on the event loop.

What is the same as the Playwright backend, and how:

- axe-core: the one pinned ``axe.min.js`` (:func:`audits.engine.axe.axe_file`), never
  axe-selenium-python's bundled copy: it is present in every document before the page's scripts
  (DevTools ``Page.addScriptToEvaluateOnNewDocument``, with the settle wait's record of scheduled
  work), and where it is not (a frame in another process), axe-selenium-python's
  ``Axe(driver, script_url=axe_file()).inject()`` puts it there.
- the settle wait, page facts and the every-frame audit: the very scripts of
  :mod:`audits.engine.axe` (``runPartial`` in each frame, entered with ``switch_to.frame``, then
  ``finishRun`` in the top frame; ``axe.run`` on a page without frames), with the same limits
  (:class:`~audits.engine.axe.AxeLimits`), as WebDriver script timeouts.
- the document fence: the same :class:`~audits.engine.auditor.DocumentFence` decides on every
  document request, over a DevTools connection to the session's browser through the Grid's
  ``se:cdp`` endpoint (``Fetch`` domain): out-of-scope documents are never requested, the page is
  answered with the crawler's HTML, and the main frame stays on the document under audit.
- the address fence: a public start URL's sessions start Chromium with
  ``--proxy-server=socks5://EGRESS_HOST:PORT`` (the run's :class:`~audits.engine.egress.EgressProxy`)
  and ``--proxy-bypass-list=<-loopback>``, so every connection, loopback included, goes through
  the proxy, which refuses loopback, private and link-local addresses.
- dialogs dismissed ("leave this page?" answered yes), ``window.open`` disabled and other popups
  closed, downloads denied, a crashed tab recorded as ``renderer_crashed``.

Not the same: a login (form or headers) is not supported with Selenium Grid (a clear error), and
service workers are not blocked.

Nothing is lost: a session whose node goes away is counted in ``losses`` and the page is
recorded ``browser_lost``; the pipeline then audits it once more, on a new session (which the
Grid places on a node still there), as for remote Playwright browsers. A full Grid queues new
session requests (Selenium's session queue) rather than failing them; a Grid that does not
answer at the start is a :class:`~audits.errors.BrowserError` (one line, exit 2).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import websocket
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException, TimeoutException, UnexpectedAlertPresentException, WebDriverException,
)
from selenium.webdriver.remote.client_config import ClientConfig

from crawler.items import DiscoveredPage
from crawler.urls import Scope

from audits.config import endpoint_label
from audits.engine.auditor import (
    DocumentFence, audited_record, classify_navigation_error, loaded_page_failure,
)
from audits.engine.axe import (
    COUNT_JS, FACTS_VERSION, FRAME_ELEMENT_JS, MAX_FRAME_URL, MAX_FRAME_URLS, AxeLimits, AxeTimeout, axe_file, call,
    frame_selector, init_script,
)
from audits.engine.browser import GC_FUNCTION, launch_args
from audits.engine.login import SecretInjector
from audits.errors import BrowserError
from audits.store import PageRecord

log = logging.getLogger("a11ycrawl.grid")

# What a WebDriver or DevTools error says when the session itself is gone (its node died, the
# Grid dropped it), as opposed to a fault of the page.
_LOST = (
    "invalid session id", "session deleted", "no such session", "unable to execute request",
    "chrome not reachable", "not connected to devtools", "session not created", "connection refused",
    "max retries exceeded", "remote end closed", "connection aborted", "connection reset",
    "devtools connection closed", "unable to find session", "no such window", "target window already closed",
    "web view not found", "failed to establish a new connection",
)


class SessionLost(Exception):
    """The WebDriver session went away under the page (its node died or the Grid dropped it)."""


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(getattr(exc, "msg", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


def _is_lost(exc: BaseException) -> bool:
    msg = str(getattr(exc, "msg", None) or exc).lower()
    if "net::err_" in msg:
        return False
    return isinstance(exc, (SessionLost, OSError)) or any(k in msg for k in _LOST)


# -- a DevTools connection through the Grid ----------------------------------------------------------

class CdpError(Exception):
    pass


class CdpConnection:
    """A DevTools connection to one session's browser (``se:cdp``), read by a thread of its own.
    ``handlers`` maps an event name to ``fn(params, session_id)``, called on the reader thread."""

    def __init__(self, url: str, timeout: float = 30.0, headers: list[str] | None = None):
        try:
            self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True, header=headers or [])
        except Exception as exc:
            raise SessionLost(f"devtools connection closed: {_first_line(exc)}") from None
        self.ws.settimeout(None)
        self.timeout = timeout
        self.handlers: dict[str, Any] = {}
        self.closed = False
        self._id = 0
        self._lock = threading.Lock()
        self._waiting: dict[int, list] = {}
        self._thread = threading.Thread(target=self._read, name="a11ycrawl-cdp", daemon=True)
        self._thread.start()

    def send(self, method: str, params: dict | None = None, session: str | None = None, wait: bool = True,
             timeout: float | None = None) -> Any:
        msg: dict[str, Any] = {"method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        with self._lock:
            if self.closed:
                raise SessionLost("devtools connection closed")
            self._id += 1
            msg["id"] = self._id
            slot = [threading.Event(), None]
            if wait:
                self._waiting[self._id] = slot
            try:
                self.ws.send(json.dumps(msg))
            except Exception as exc:
                raise SessionLost(f"devtools connection closed: {_first_line(exc)}") from None
        if not wait:
            return None
        if not slot[0].wait(timeout or self.timeout):
            if timeout:
                raise TimeoutException(f"Timeout {timeout:g} s exceeded: no answer to {method}")
            raise SessionLost(f"devtools connection closed: no answer to {method} within {self.timeout:g} s")
        answer = slot[1]
        if answer is None:
            raise SessionLost("devtools connection closed")
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def _read(self) -> None:
        while True:
            try:
                msg = json.loads(self.ws.recv())
            except Exception:
                break
            if "id" in msg:
                with self._lock:
                    slot = self._waiting.pop(msg["id"], None)
                if slot is not None:
                    slot[1] = msg
                    slot[0].set()
                continue
            handler = self.handlers.get(msg.get("method"))
            if handler is not None:
                try:
                    handler(msg.get("params") or {}, msg.get("sessionId"))
                except Exception:  # the page or its request went away meanwhile
                    log.debug("devtools event %s not handled", msg.get("method"), exc_info=True)
        with self._lock:
            self.closed = True
            waiting, self._waiting = self._waiting, {}
        for slot in waiting.values():
            slot[0].set()

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


# -- one WebDriver session ---------------------------------------------------------------------------

def chrome_options(executable: str | None, js_heap_mb: int | None, proxy_server: str | None) -> webdriver.ChromeOptions:
    """The session's Chromium: a11ycrawl's own flags (as for a local or remote Playwright browser),
    headless, and, for a public start URL, every connection through the address fence's proxy."""
    opts = webdriver.ChromeOptions()
    for arg in launch_args(js_heap_mb):
        opts.add_argument(arg)
    opts.add_argument("--headless=new")  # the headless shell is headless anyway
    if proxy_server:
        opts.add_argument(f"--proxy-server={proxy_server}")
        # Chromium would connect to loopback directly (its implicit bypass): through the proxy too
        opts.add_argument("--proxy-bypass-list=<-loopback>")
    if executable:
        opts.binary_location = executable
    opts.page_load_strategy = "eager"  # pages are navigated through DevTools (GridSession.goto)
    opts.unhandled_prompt_behavior = "dismiss"  # our DevTools handler answers first (see _on_dialog)
    return opts


class GridSession:
    """One WebDriver session on the Grid, with its DevTools connection and document fence; every
    method is synchronous (run in the pool's threads)."""

    def __init__(self, pool: "GridPool", cfg, scope: Scope, proxy_server: str | None, permissions: list[str],
                 credentials=None):
        self.pool, self.cfg, self.scope = pool, cfg, scope
        self.crashed = False
        self.used = 0
        # the main frame's navigations, as DevTools reports them (browser-side: known even while
        # the page's own script holds its renderer): the latest document's loader, its URL, and
        # the loaders whose load event has fired
        self._nav = threading.Condition()
        self.loader: str | None = None
        self.url: str | None = None
        self.loaded: set[str] = set()
        self.ready: set[str] = set()  # DOMContentLoaded
        self.driver = pool.new_driver(chrome_options(cfg.chromium, cfg.js_heap_mb, proxy_server))
        self.cdp: CdpConnection | None = None
        try:
            self._attach(permissions, credentials)
        except BaseException:
            self.quit()
            raise

    def _attach(self, permissions: list[str], credentials) -> None:
        cfg, driver = self.cfg, self.driver
        self.cdp = cdp = CdpConnection(self.pool.cdp_url(driver.capabilities.get("se:cdp")),
                                       headers=self.pool.auth_headers())
        # chromedriver's window handle is the page's DevTools target id
        sid = cdp.send("Target.attachToTarget", {"targetId": driver.current_window_handle, "flatten": True})["sessionId"]
        self.sid = sid
        self.fence = DocumentFence(self.scope, SecretInjector(credentials))
        self.fence.main_frame_id = cdp.send("Page.getFrameTree", session=sid)["frameTree"]["frame"]["id"]
        cdp.handlers["Fetch.requestPaused"] = self._on_paused
        cdp.handlers["Page.javascriptDialogOpening"] = self._on_dialog
        cdp.handlers["Inspector.targetCrashed"] = self._on_crash
        cdp.handlers["Target.targetCreated"] = self._on_target
        cdp.handlers["Page.frameNavigated"] = self._on_navigated
        cdp.handlers["Page.navigatedWithinDocument"] = self._on_same_document
        cdp.handlers["Page.lifecycleEvent"] = self._on_lifecycle
        cdp.send("Page.enable", session=sid)
        cdp.send("Page.setLifecycleEventsEnabled", {"enabled": True}, sid)
        cdp.send("Inspector.enable", session=sid)
        # window.open() would start a navigation we cannot fence: popups get nothing to open
        cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": "window.open = function () { return null; };"}, sid)
        cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": init_script()}, sid)
        cdp.send("Page.setBypassCSP", {"enabled": True}, sid)  # axe is injected by script
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": cfg.viewport[0], "height": cfg.viewport[1],
                                                         "deviceScaleFactor": 1, "mobile": False}, sid)
        cdp.send("Emulation.setUserAgentOverride", {"userAgent": cfg.user_agent}, sid)
        cdp.send("Browser.setDownloadBehavior", {"behavior": "deny"})
        cdp.send("Target.setDiscoverTargets", {"discover": True})
        if "local-network-access" in permissions:
            _grant_local_network(cdp)
        cdp.send("Fetch.enable", {"patterns": self.fence.patterns()}, sid)
        driver.set_page_load_timeout(cfg.page_timeout)

    # -- DevTools events (on the connection's reader thread) ----------------------------------------
    def _on_paused(self, params: dict, session: str | None) -> None:
        method, msg = self.fence.reply(params)
        self.cdp.send(method, msg, session=session, wait=False)

    def _on_dialog(self, params: dict, session: str | None) -> None:
        # alert/confirm/prompt are dismissed; "leave this page?" is answered yes, so we can move on
        self.cdp.send("Page.handleJavaScriptDialog", {"accept": params.get("type") == "beforeunload"},
                      session=session, wait=False)

    def _on_navigated(self, params: dict, _session: str | None) -> None:
        frame = params.get("frame") or {}
        if frame.get("id") == self.fence.main_frame_id and not frame.get("parentId"):
            with self._nav:
                self.loader, self.url = frame.get("loaderId"), frame.get("url")
                self._nav.notify_all()

    def _on_same_document(self, params: dict, _session: str | None) -> None:
        if params.get("frameId") == self.fence.main_frame_id:
            with self._nav:
                self.url = params.get("url") or self.url

    def _on_lifecycle(self, params: dict, _session: str | None) -> None:
        name = params.get("name")
        if name in ("load", "DOMContentLoaded") and params.get("frameId") == self.fence.main_frame_id:
            with self._nav:
                (self.loaded if name == "load" else self.ready).add(params.get("loaderId"))
                self._nav.notify_all()

    def wait_for_load(self, url: str, timeout: float) -> bool:
        """Until the main frame's document (the one navigated to ``url``, or any other it went
        to) has fired its load event; False after ``timeout`` s."""
        def done() -> bool:
            return (self.loader is not None and self.url not in ("about:blank", None) and self.loader in self.loaded
                    or self.crashed)
        with self._nav:
            return self._nav.wait_for(done, timeout)

    def _on_crash(self, _params: dict, _session: str | None) -> None:
        with self._nav:
            self.crashed = True
            self._nav.notify_all()

    def _on_target(self, params: dict, _session: str | None) -> None:
        info = params.get("targetInfo") or {}
        if info.get("type") == "page" and info.get("openerId"):  # a popup: closed, never audited
            self.cdp.send("Target.closeTarget", {"targetId": info["targetId"]}, wait=False)

    # -- WebDriver calls -----------------------------------------------------------------------------
    def script(self, js: str, timeout: float, *args) -> Any:
        """``execute_script`` within ``timeout`` seconds (:class:`TimeoutException` after)."""
        self._timeout(timeout)
        return self._guarded(lambda: self._retry_alert(lambda: self.driver.execute_script(js, *args)), timeout)

    def evaluate(self, expr: str, timeout: float) -> Any:
        """Await the Promise ``expr`` in the current frame; inject axe first where it is absent."""
        try:
            return self._await(expr, timeout)
        except JavascriptException as exc:
            if "axe is not defined" not in str(exc):
                raise
        self._timeout(timeout)
        Axe(self.driver, script_url=axe_file()).inject()
        return self._await(expr, timeout)

    def _await(self, expr: str, timeout: float) -> Any:
        self._timeout(timeout)
        js = ("const done = arguments[arguments.length - 1]; let p;"
              f"try {{ p = Promise.resolve({expr}); }} catch (e) {{ p = Promise.reject(e); }}"
              "p.then((v) => done({ok: v === undefined ? null : v}),"
              " (e) => done({error: String((e && e.message) || e)}));")
        out = self._guarded(lambda: self._retry_alert(lambda: self.driver.execute_async_script(js)), timeout)
        if not isinstance(out, dict) or ("ok" not in out and "error" not in out):
            raise JavascriptException("the page replaced what the audit script returns")
        if "error" in out:
            raise JavascriptException(str(out["error"]))
        return out["ok"]

    def _guarded(self, fn, timeout: float):
        """``fn()`` (a WebDriver script call), its limit kept even when the page's own script holds
        the renderer: chromedriver's script timeout is a timer in that renderer, which then never
        fires. Past the limit (and a grace second) the page's JavaScript is stopped through
        DevTools (``Runtime.terminateExecution``), which ends the call; it raises
        :class:`TimeoutException`."""
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            try:
                self.cdp.send("Runtime.terminateExecution", session=self.sid, wait=False)
            except Exception:
                pass

        timer = threading.Timer(timeout + 1.0, stop)
        timer.daemon = True
        timer.start()
        try:
            out = fn()
        except WebDriverException as exc:
            if fired.is_set() and not isinstance(exc, TimeoutException):
                raise TimeoutException(f"the script ran past its limit of {timeout:g} s") from None
            raise
        finally:
            timer.cancel()
        if fired.is_set():  # it answered only once the page's own script was stopped
            raise TimeoutException(f"the script ran past its limit of {timeout:g} s")
        return out

    def _timeout(self, seconds: float) -> None:
        ms = max(1, int(seconds * 1000))
        if getattr(self, "_script_ms", None) != ms:
            self.driver.set_script_timeout(ms / 1000)
            self._script_ms = ms

    @staticmethod
    def _retry_alert(fn):
        # a dialog that opened while WebDriver was waiting fails the call; ours answered it
        for attempt in range(3):
            try:
                return fn()
            except UnexpectedAlertPresentException:
                if attempt == 2:
                    raise
                time.sleep(0.05)

    def park(self) -> None:
        """Leave the audited document for an empty one (see PageAuditor._park)."""
        self.goto("about:blank", 5.0, wait_for=None)

    def goto(self, url: str, timeout: float, wait_for: str | None = "DOMContentLoaded") -> None:
        """Navigate the main frame through DevTools (browser-side, like Playwright's ``goto``:
        a page whose script holds its renderer cannot hold this up) and wait for ``wait_for``.
        A failed navigation raises :class:`WebDriverException` with Chromium's net error; no
        ``wait_for`` in time, :class:`TimeoutException`."""
        deadline = time.monotonic() + timeout
        with self._nav:
            self.loader, self.url, self.loaded, self.ready = None, None, set(), set()
        answer = self.cdp.send("Page.navigate", {"url": url}, session=self.sid, timeout=timeout)
        if answer.get("errorText"):
            raise WebDriverException(f"{answer['errorText']} at {url}")
        loader = answer.get("loaderId")
        if wait_for is None or loader is None:
            return
        seen = self.ready if wait_for == "DOMContentLoaded" else self.loaded
        with self._nav:
            if not self._nav.wait_for(lambda: loader in seen or self.crashed, max(0.0, deadline - time.monotonic())):
                raise TimeoutException(f"Timeout {timeout:g} s exceeded navigating to {url}")

    def quit(self) -> None:
        if self.cdp is not None:
            self.cdp.close()
        try:
            self.driver.quit()
        except Exception:
            pass

    # -- one page ------------------------------------------------------------------------------------
    def audit(self, item: DiscoveredPage, axe_options: dict) -> PageRecord:
        """Audit ``item``: a page's own faults become a failed record; a lost session raises
        :class:`SessionLost`."""
        self.axe_options = axe_options
        base = dict(url=item.url, depth=item.depth, referrer=item.referrer, found_via=item.found_via,
                    http_status=item.http_status, content_type=item.content_type)
        started = time.monotonic()
        phase = ["navigate"]
        try:
            record = self._audit(item, base, phase, started)
        except AxeTimeout as exc:
            record = PageRecord(status="failed", reason_code="audit_timeout", reason=str(exc), **base)
            self.crashed = True  # axe (or the page) may still be running in the renderer: a new session
        except TimeoutException:
            code = "audit_timeout" if phase[0] == "axe" else "timeout"
            what = "axe did not finish" if code == "audit_timeout" else "the page did not load"
            record = PageRecord(status="failed", reason_code=code,
                                reason=f"{what} within {time.monotonic() - started:.0f} s", **base)
            self.crashed = True  # the renderer may be stuck in a loop: start afresh
        except WebDriverException as exc:
            msg = _first_line(exc)
            low = msg.lower()
            if "crash" in low or self.crashed:
                record = PageRecord(status="failed", reason_code="renderer_crashed", reason=msg, **base)
                self.crashed = True
            elif _is_lost(exc) or (self.cdp is not None and self.cdp.closed):
                raise SessionLost(msg) from None
            elif phase[0] == "axe" and ("unloaded" in low or "navigat" in low or "context" in low and "destroyed" in low):
                record = PageRecord(status="failed", reason_code="navigated_away",
                                    reason=f"the page navigated away while it was audited ({msg})", **base)
            elif phase[0] == "axe":
                record = PageRecord(status="failed", reason_code="audit_error", reason=msg, **base)
            else:
                code = classify_navigation_error(msg)
                if code == "navigation_aborted":
                    msg = f"the navigation was aborted twice ({msg})"
                record = PageRecord(status="failed", reason_code=code, reason=msg, **base)
        except CdpError as exc:  # DevTools refused a command for this page (an invalid URL...)
            if self.cdp is None or self.cdp.closed:
                raise SessionLost(_first_line(exc)) from None
            msg = _first_line(exc)
            code = "audit_error" if phase[0] == "axe" else classify_navigation_error(msg)
            record = PageRecord(status="failed", reason_code=code, reason=msg, **base)
            self.crashed = True  # start the next page on a fresh session
        record.audit_ms = int((time.monotonic() - started) * 1000)
        self.used += 1
        if not self.crashed:
            try:
                self.park()
            except WebDriverException as exc:
                if _is_lost(exc):
                    raise SessionLost(_first_line(exc)) from None
                self.crashed = True
        return record

    def _navigate(self, item: DiscoveredPage) -> str | None:
        """Navigate to the item, once more if the navigation was aborted; returns why it was
        retried, if it was."""
        retried = None
        for attempt in (1, 2):
            self.fence.expect(item)
            try:
                self.goto(item.url, self.cfg.page_timeout)
                return retried
            except WebDriverException as exc:
                if attempt == 2 or self.crashed or classify_navigation_error(str(exc.msg or exc)) != "navigation_aborted":
                    raise
                retried = _first_line(exc)
                self.park()
        return retried

    def _audit(self, item: DiscoveredPage, base: dict, phase: list, started: float) -> PageRecord:
        cfg = self.cfg
        if item.http_status in (204, 205):
            return PageRecord(status="skipped", reason_code="not_html",
                              reason=f"HTTP {item.http_status}: the server sent no content", **base)
        t0 = time.monotonic()
        retried = self._navigate(item)
        # From here the page stays on this document until it is audited (see DocumentFence)
        self.fence.hold()
        # a hanging image or script: audit what has rendered
        load_complete = self.wait_for_load(item.url, max(1.0, cfg.page_timeout * 0.5))
        load_ms = int((time.monotonic() - t0) * 1000)
        with self._nav:
            final_url = self.url or item.url
        # the document is the crawler's response, handed over by the fence: its status and type
        status = item.http_status
        base.update(http_status=status, content_type=item.content_type)
        unloaded = loaded_page_failure(self.crashed, status, final_url, self.scope, load_ms, base)
        if unloaded is not None:
            return unloaded
        phase[0] = "axe"
        left = max(1.0, cfg.page_timeout - (time.monotonic() - started))
        limits = AxeLimits(base_s=left, per_element_s=cfg.axe_ms_per_element / 1000,
                           ceiling_s=max(cfg.axe_timeout_max, left), frame_s=cfg.frame_timeout,
                           settle_s=cfg.settle_cap_ms / 1000)
        result = self.run_axe(self.axe_options, cfg.settle_quiet_ms, cfg.settle_cap_ms, limits)
        if self.crashed:
            raise WebDriverException("renderer crashed during the audit")
        return audited_record(result, item, final_url, load_ms, load_complete, retried, base)

    # -- axe in every frame (audits.engine.axe.run_axe, through WebDriver) ---------------------------
    def run_axe(self, options: dict, quiet_ms: int, cap_ms: int, limits: AxeLimits, max_links: int = 5000) -> dict:
        t0 = time.monotonic()
        ceiling = t0 + limits.ceiling_s

        def left(budget: float) -> float:
            return min(budget, ceiling - time.monotonic())

        def ran() -> str:
            return f"{time.monotonic() - t0:.1f} s"

        driver = self.driver
        try:
            elements = _number(self.script(f"return ({COUNT_JS})();", left(limits.base_s)))
        except TimeoutException:
            raise AxeTimeout(f"the page did not answer a script within {ran()}") from None
        budget = left(limits.for_document(elements, limits.base_s - limits.settle_s) + limits.settle_s)
        try:
            top = self.evaluate(call("top", {"options": options, "quiet": quiet_ms, "cap": cap_ms,
                                             "maxLinks": max_links, "gc": GC_FUNCTION}), budget)
        except TimeoutException:
            raise AxeTimeout(f"axe ran {ran()} on the page ({elements} elements) without finishing; "
                             f"its limit was {budget:.0f} s") from None
        facts = top["facts"]
        facts["facts_version"] = FACTS_VERSION
        if "result" in top:
            return {**top["result"], "facts": facts, "frames": 1}
        partials: list[Any] = [top["partial"]]
        frame_urls: list[dict] = []
        unaudited: list[dict[str, str]] = []
        count = [1]
        total = [elements]

        def leave(src: str, reason: str) -> None:
            """Note why a frame entered was not audited and go back to its parent."""
            unaudited.append({"src": src, "reason": reason})
            driver.switch_to.parent_frame()

        def audit_frame(fc: dict) -> dict | None:
            """In the parent frame: enter the child, audit it and stay there (returns its answer),
            or note why not and stay in the parent (returns None)."""
            src = _selector(fc["frameSelector"])
            try:
                element = self.script("return axe.utils.shadowSelect(arguments[0]);", limits.frame_s, fc["frameSelector"])
                about = self.script(f"return ({FRAME_ELEMENT_JS})(arguments[0]);", limits.frame_s, element)
                src = about["src"] or src
            except Exception:
                unaudited.append({"src": src, "reason": "the frame could not be reached"})
                return None
            if about["scriptless"]:
                unaudited.append({"src": src, "reason": "sandboxed without allow-scripts: no script (axe's included) can run in it"})
                return None
            try:
                driver.switch_to.frame(element)
            except WebDriverException as exc:
                if _is_lost(exc):
                    raise
                unaudited.append({"src": src, "reason": "the frame has no document"})
                return None
            try:
                n = _number(self.script(f"return ({COUNT_JS})();", left(limits.frame_s)))
            except TimeoutException:
                return leave(src, f"the frame did not answer a script within {limits.frame_s:g} s")
            except WebDriverException as exc:
                if _is_lost(exc):
                    raise
                return leave(src, f"the frame could not run a script ({_first_line(exc, 200)})")
            wait = left(limits.for_document(n, limits.frame_s))
            try:
                res = self.evaluate(call("frame", {"options": options, "context": fc["frameContext"]}), wait)
            except TimeoutException:
                return leave(src, f"axe ran {wait:.0f} s in the frame ({n} elements) without finishing")
            except WebDriverException as exc:
                if _is_lost(exc):
                    raise
                return leave(src, f"axe failed in the frame ({_first_line(exc, 200)})")
            total[0] += n
            return res

        def recurse(frame_contexts: list[dict], parent_partial: Any, path: tuple = ()) -> None:
            for i, fc in enumerate(frame_contexts):
                res = audit_frame(fc)
                if res is None:
                    partials.append(None)
                    continue
                count[0] += 1
                partials.append(res["partial"])
                facts["resources"] = sorted(set(facts.get("resources", [])) | set(res.get("resources") or []))
                # where the frame's document came from (as the Playwright backend records it)
                here = (*path, *frame_selector(parent_partial, i)[-1:])
                if len(frame_urls) < MAX_FRAME_URLS:
                    try:
                        url = self.script("return String(location.href);", limits.frame_s)
                    except WebDriverException as exc:
                        if _is_lost(exc):
                            raise
                        url = ""
                    frame_urls.append({"target": list(here), "url": str(url or "")[:MAX_FRAME_URL]})
                recurse(res["frameContexts"], res["partial"], here)
                driver.switch_to.parent_frame()

        try:
            recurse(top["frameContexts"], top["partial"])
        finally:
            driver.switch_to.default_content()
        if frame_urls:
            facts["frame_urls"] = frame_urls
        if unaudited:
            facts["frames_unaudited"] = unaudited
        budget = left(limits.for_document(total[0], limits.frame_s))
        try:
            result = self._await(call("finish", {"options": options, "partials": partials}), budget)
        except TimeoutException:
            raise AxeTimeout(f"axe ran {ran()} on the page and its frames ({total[0]} elements) without "
                             f"finishing; the limit of its last step (finishRun) was {budget:.0f} s") from None
        return {**result, "facts": facts, "frames": count[0]}


def _grant_local_network(cdp: CdpConnection) -> None:
    """Chromium's Local Network Access check off for a private start URL (see
    :func:`audits.engine.egress.context_options`); its permission has had several names."""
    for names in (["localNetworkAccess", "localNetwork", "loopbackNetwork"], ["localNetwork", "loopbackNetwork"],
                  ["localNetworkAccess"]):
        try:
            cdp.send("Browser.grantPermissions", {"permissions": names})
            return
        except CdpError:
            continue


def _number(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and value >= 0 else 0


def _selector(frame_selector: Any) -> str:
    if isinstance(frame_selector, list):
        return " ".join(p if isinstance(p, str) else " ".join(p) for p in frame_selector)
    return str(frame_selector)


# -- the pool and the auditor -----------------------------------------------------------------------

class GridPool:
    """A Selenium Grid 4 (its router or hub URL) as the run's browser pool.

    ``remote`` is False: the Grid's Chromium connects through the address fence's proxy (which
    listens on ``egress_host``), so a public start URL is fenced without ``remote_network_fenced``.
    """

    remote = False
    #: how long a new session request is sent again while the Grid still routes it to a dead node
    #: (its health check runs every 120 s by default)
    RETRY_DEAD_NODE_S = 150.0

    def __init__(self, url: str, cfg, session_wait: float = 600.0):
        self.url = url.rstrip("/")
        self.label = endpoint_label(url).rstrip("/")
        self.cfg = cfg
        self.session_wait = session_wait  # how long a new session may wait in the Grid's queue
        self.losses = 0
        self.version: str | None = None
        self.rules: list[dict] | None = None
        self.checked = False
        self.sessions: set[GridSession] = set()
        self._sets: dict[tuple, SessionSet] = {}
        self._closing = False

    async def run(self, fn, *args):
        """``fn(*args)`` in a thread of its own, awaited. Daemon threads, not an executor's: a
        session request queued in a full Grid may block for minutes, and must not hold up the
        end of the process (an executor's threads are joined at exit)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(ok: bool, value) -> None:
            if not future.done():
                (future.set_result if ok else future.set_exception)(value)

        def work() -> None:
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                outcome = (False, exc)
            else:
                outcome = (True, result)
            try:
                loop.call_soon_threadsafe(settle, *outcome)
            except RuntimeError:  # the loop is gone: nobody is waiting any more
                pass

        threading.Thread(target=work, name="a11ycrawl-grid", daemon=True).start()
        return await future

    # -- the browser-pool interface ---------------------------------------------------------------
    async def get(self) -> "GridPool":
        """Check that the Grid answers (once); a Grid that does not is a :class:`BrowserError`."""
        if not self.checked:
            await self.run(self.status)
            self.checked = True
        return self

    def status(self) -> dict:
        try:
            with urllib.request.urlopen(f"{self.url}/status", timeout=10) as resp:
                data = json.loads(resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            raise BrowserError(f"Selenium Grid at {self.label} answered /status with HTTP {exc.code}: is it a Selenium Grid 4?") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BrowserError(f"Selenium Grid at {self.label} is not reachable ({reason}); start it or check --webdriver") from None
        except ValueError:
            raise BrowserError(f"Selenium Grid at {self.label} did not answer /status with JSON: is it a Selenium Grid 4?") from None
        value = data.get("value") if isinstance(data, dict) else None
        if not isinstance(value, dict) or "ready" not in value:
            raise BrowserError(f"Selenium Grid at {self.label} did not answer /status as a Selenium Grid 4 does")
        if not value.get("ready"):
            log.warning("Selenium Grid at %s has no node ready yet: sessions wait in its queue", self.label)
        return value

    async def describe(self) -> str:
        """e.g. ``selenium grid chrome 156.0.8078.108 via http://10.0.0.5:4444/``."""
        await self._learn()
        return f"selenium grid chrome {self.version} via {self.label}/"

    async def axe_rules(self) -> list[dict]:
        await self._learn()
        return self.rules or []

    async def probe(self) -> int:
        return self.losses

    def new_auditor(self, cfg, scope: Scope, axe_options: dict, context_options: dict | None = None,
                    credentials=None) -> "GridAuditor":
        opts = context_options or {}
        proxy_server = (opts.get("proxy") or {}).get("server")
        permissions = list(opts.get("permissions") or [])
        key = (id(scope), proxy_server, tuple(permissions))
        sessions = self._sets.get(key)
        if sessions is None:
            sessions = self._sets[key] = SessionSet(self, key, cfg, scope, proxy_server, permissions, credentials)
        return GridAuditor(self, sessions, cfg, axe_options)

    def forget(self, sessions: "SessionSet") -> None:
        if self._sets.get(sessions.key) is sessions:
            del self._sets[sessions.key]

    async def close(self) -> None:
        self._closing = True
        for session in list(self.sessions):
            await self.run(session.quit)
        self.sessions.clear()

    # -- sessions ----------------------------------------------------------------------------------
    def new_driver(self, options) -> webdriver.Remote:
        """A new session: waits in the Grid's queue while every slot is busy (up to
        ``session_wait`` s); a Grid gone meanwhile is :class:`SessionLost`."""
        timeout = int(max(self.session_wait, self.cfg.page_timeout + self.cfg.axe_timeout_max + 60))
        config = ClientConfig(remote_server_addr=self.url, timeout=timeout, keep_alive=True)
        deadline = time.monotonic() + self.RETRY_DEAD_NODE_S
        while True:
            try:
                return webdriver.Remote(command_executor=self.url, options=options, client_config=config)
            except WebDriverException as exc:
                # A node that died is listed as up until the Grid's next health check, and a
                # session request sent there fails at once ("Connection error"): ask again, the
                # Grid then picks another node (or the one that replaced it).
                msg = str(exc.msg or exc).lower()
                unreachable = any(k in msg for k in ("connection error", "failed to execute request",
                                                     "unable to execute request", "connection refused"))
                if unreachable and time.monotonic() < deadline and not self._closing:
                    time.sleep(0.5)
                    continue
                raise SessionLost(f"the Grid gave no session: {_first_line(exc)}") from None
            except Exception as exc:  # urllib3: the Grid itself went away
                raise SessionLost(f"the Grid gave no session: {_first_line(exc)}") from None

    def cdp_url(self, advertised: str | None) -> str:
        """The session's DevTools endpoint, through the Grid address we were given (a hub
        advertises the address it sees for itself, which this machine may not reach)."""
        if not advertised:
            raise SessionLost("the Grid gave no se:cdp endpoint: a11ycrawl needs Selenium Grid 4 with Chromium")
        ours, theirs = urlsplit(self.url), urlsplit(advertised)
        scheme = "wss" if ours.scheme == "https" else "ws"
        prefix = ours.path.rstrip("/")
        path = theirs.path if theirs.path.startswith(prefix + "/") else prefix + theirs.path
        netloc = ours.hostname if ":" not in (ours.hostname or "") else f"[{ours.hostname}]"
        if ours.port:
            netloc += f":{ours.port}"
        return urlunsplit((scheme, netloc, path, theirs.query, ""))

    def auth_headers(self) -> list[str]:
        """A Grid behind basic authentication (``http://user:password@host:4444``): the same
        credentials for its DevTools endpoint."""
        parts = urlsplit(self.url)
        if not parts.username:
            return []
        token = base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()).decode()
        return [f"Authorization: Basic {token}"]

    def open_session(self, cfg, scope, proxy_server, permissions, credentials) -> GridSession:
        session = GridSession(self, cfg, scope, proxy_server, permissions, credentials)
        self.sessions.add(session)
        if self.version is None:
            self.version = session.driver.capabilities.get("browserVersion")
        return session

    def end_session(self, session: GridSession) -> None:
        self.sessions.discard(session)
        session.quit()

    async def _learn(self) -> None:
        """The browser's version and axe's rules, from one short session."""
        if self.version is not None and self.rules is not None:
            return

        def learn() -> None:
            try:
                driver = self.new_driver(chrome_options(self.cfg.chromium, self.cfg.js_heap_mb, None))
            except SessionLost as exc:
                raise BrowserError(f"Selenium Grid at {self.label}: {exc}") from None
            try:
                self.version = self.version or driver.capabilities.get("browserVersion")
                if self.rules is None:
                    driver.get("about:blank")
                    Axe(driver, script_url=axe_file()).inject()
                    self.rules = driver.execute_script("return axe.getRules();")
            finally:
                try:
                    driver.quit()
                except Exception:
                    pass

        await self.run(learn)


class SessionSet:
    """The WebDriver sessions of one run (``concurrency`` of them), shared by its auditors: each
    page borrows an idle session, or one is asked of the Grid while fewer than ``concurrency``
    are alive (a full Grid queues the request). Shared, not one per auditor, so that when a node
    dies the pages in flight on it are audited again on the sessions still alive as soon as one is
    free, rather than waiting for the Grid to make room for new ones."""

    def __init__(self, pool: "GridPool", key, cfg, scope: Scope, proxy_server: str | None, permissions: list[str],
                 credentials):
        self.pool, self.key, self.cfg, self.scope = pool, key, cfg, scope
        self.proxy_server, self.permissions, self.credentials = proxy_server, permissions, credentials
        self.target = cfg.concurrency
        self.idle: list[GridSession] = []
        self.live = 0  # sessions idle or in use
        self.creating = 0
        self.failure: str | None = None
        self.users = 0  # auditors using the set
        self._cond: asyncio.Condition | None = None

    @property
    def cond(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def acquire(self) -> GridSession:
        """An idle session, or a new one; :class:`SessionLost` when none is alive and the Grid
        gave none."""
        async with self.cond:
            while True:
                if self.idle:
                    return self.idle.pop()
                if self.failure is not None and self.live == 0 and self.creating == 0:
                    failure, self.failure = self.failure, None
                    raise SessionLost(failure)
                if self.live + self.creating < self.target:
                    self.creating += 1
                    asyncio.ensure_future(self._create())
                await self.cond.wait()

    async def _create(self) -> None:
        try:
            session = await self.pool.run(self.pool.open_session, self.cfg, self.scope, self.proxy_server,
                                          self.permissions, self.credentials)
        except Exception as exc:
            async with self.cond:
                self.creating -= 1
                self.failure = _first_line(exc)
                self.cond.notify_all()
            return
        async with self.cond:
            self.creating -= 1
            self.failure = None
            if self.users == 0:  # the run ended meanwhile
                asyncio.ensure_future(self.pool.run(self.pool.end_session, session))
                return
            self.live += 1
            self.idle.append(session)
            self.cond.notify_all()

    async def release(self, session: GridSession, keep: bool) -> None:
        async with self.cond:
            if keep and self.users > 0:
                self.idle.append(session)
            else:
                self.live -= 1
                asyncio.ensure_future(self.pool.run(self.pool.end_session, session))
            self.cond.notify_all()

    async def close(self) -> None:
        async with self.cond:
            idle, self.idle = self.idle, []
            self.live -= len(idle)
        for session in idle:
            await self.pool.run(self.pool.end_session, session)


class GridAuditor:
    """One worker on the Grid. Each page borrows a session of its run's :class:`SessionSet`; a
    session is replaced every ``recycle_after`` pages, after a timeout or a crash, and when its
    node is lost."""

    context = None  # no Playwright context: a session lost while idle shows on its next page

    def __init__(self, pool: GridPool, sessions: SessionSet, cfg, axe_options: dict):
        self.pool, self.sessions, self.cfg, self.axe_options = pool, sessions, cfg, axe_options
        self.current: DiscoveredPage | None = None
        self.joined = False

    async def audit(self, item: DiscoveredPage) -> PageRecord:
        """Audit ``item``; never raises for a page's own faults. A session lost with the page in
        flight (or none to be had from the Grid) is recorded ``browser_lost`` and counted in the
        pool's ``losses``, so the pipeline audits the page once more, on another session."""
        self.current = item
        cfg = self.cfg
        if not self.joined:
            self.joined = True
            self.sessions.users += 1
        base = dict(url=item.url, depth=item.depth, referrer=item.referrer, found_via=item.found_via,
                    http_status=item.http_status, content_type=item.content_type)
        started = time.monotonic()
        try:
            session = await self.sessions.acquire()
            # the session keeps its own limits (page load, scripts); this is only the backstop
            backstop = cfg.page_timeout + max(cfg.axe_timeout_max, cfg.page_timeout) + 30
            try:
                record = await asyncio.wait_for(self.pool.run(session.audit, item, self.axe_options), backstop)
            except asyncio.TimeoutError:
                await self.sessions.release(session, keep=False)
                record = PageRecord(status="failed", reason_code="timeout",
                                    reason=f"the browser did not answer within {time.monotonic() - started:.0f} s", **base)
            except BaseException:
                await self.sessions.release(session, keep=False)
                raise
            else:
                await self.sessions.release(session, keep=not session.crashed and session.used < cfg.recycle_after)
        except SessionLost as exc:
            self.pool.losses += 1
            record = PageRecord(status="failed", reason_code="browser_lost",
                                reason=f"the Selenium Grid session was lost: {exc}"[:300], **base)
        finally:
            self.current = None
        if record.audit_ms is None:
            record.audit_ms = int((time.monotonic() - started) * 1000)
        return record

    async def close(self) -> None:
        """This auditor is done (for now): the last of a run's auditors to close ends its sessions."""
        if self.joined:
            self.joined = False
            self.sessions.users -= 1
            if self.sessions.users == 0:
                await self.sessions.close()
                self.pool.forget(self.sessions)
