"""Finding and driving Chromium through Playwright's async API.

Chromium is looked up in this order: the ``chromium`` config key (or ``--chromium``), the
``A11YCRAWL_CHROMIUM`` environment variable, then the usual install paths and ``$PATH`` names,
then a browser installed by ``playwright install``. When none is found the error says exactly
how to install one.

Among the usual paths, Chromium's headless shell comes first (Debian: ``chromium-headless-shell``;
it is also what Playwright itself runs for headless Chromium): the same engine without the
desktop browser's user interface, measured here at a third less memory and less CPU per page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from audits.config import endpoint_label
from audits.errors import BrowserError

CANDIDATE_PATHS = (
    "/usr/lib/chromium/chromium-headless-shell",  # Debian's chromium-headless-shell (the binary, not its sh wrapper)
    "/usr/bin/chromium-headless-shell",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
CANDIDATE_NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

INSTALL_HINT = (
    "install Chromium (Debian: 'sudo apt-get install -y chromium-headless-shell chromium'; "
    "Ubuntu: 'sudo snap install chromium'), or point a11ycrawl at a "
    "Chrome/Chromium binary with A11YCRAWL_CHROMIUM=/path/to/chromium or --chromium PATH"
)

CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--disable-quic",
    # WebRTC may send UDP straight to any address a page names (STUN/TURN to 10.0.0.1), past the
    # address fence's proxy: keep it to proxied connections (measured: 8 STUN packets to a
    # loopback port without this flag, none with it)
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # The GPU thread runs inside the browser process: one process fewer (about 80 MB) and no
    # IPC for compositing; with --disable-gpu there is no GPU to isolate.
    "--in-process-gpu",
    # No --disable-features here: Chromium keeps only the last one given, and Playwright's own
    # list (PaintHolding, MediaRouter, Translate, ...) must stay in force.
]


def find_chromium(configured: str | None = None, environ: dict[str, str] | None = None) -> str:
    """Return the path of a Chromium/Chrome executable, or raise :class:`BrowserError`."""
    environ = os.environ if environ is None else environ
    for source, value in (("chromium setting", configured), ("A11YCRAWL_CHROMIUM", environ.get("A11YCRAWL_CHROMIUM"))):
        if value:
            if Path(value).is_file() and os.access(value, os.X_OK):
                return value
            raise BrowserError(f"{source} points to {value!r}, which is not an executable file; {INSTALL_HINT}")
    for p in CANDIDATE_PATHS:
        if Path(p).is_file() and os.access(p, os.X_OK):
            return p
    for name in CANDIDATE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    bundled = _playwright_chromium()
    if bundled:
        return bundled
    raise BrowserError(f"no Chromium found: {INSTALL_HINT}")


def _playwright_chromium() -> str | None:
    """A Chromium downloaded by 'playwright install chromium', if any."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    if not root.is_dir():
        return None
    for exe in sorted(root.glob("chromium*/chrome-linux*/chrome"), reverse=True):
        if os.access(exe, os.X_OK):
            return str(exe)
    return None


# Exposes V8's full garbage collection to our own scripts under a name no site uses; the audit
# script calls it once per page before axe runs (see axe.py), when the previous page's document
# has just become garbage. Measured here: a renderer stays at about 235 MB instead of climbing
# to 450-690 MB between V8's own collections, at no extra CPU per page.
GC_FUNCTION = "__a11ycrawlGC"


def launch_args(js_heap_mb: int | None = None) -> list[str]:
    js_flags = [f"--expose-gc-as={GC_FUNCTION}"]
    if js_heap_mb:
        js_flags.append(f"--max-old-space-size={js_heap_mb}")
    # Playwright starts Chromium without its sandbox unless told otherwise (and Chromium refuses
    # the sandbox as root): --no-sandbox says so explicitly. Without the sandbox the zygote
    # processes serve no purpose: --no-zygote saves two processes (about 95 MB of RSS).
    return ["--no-sandbox", "--no-zygote", *CHROMIUM_ARGS, "--js-flags=" + " ".join(js_flags)]  # one --js-flags


async def launch_browser(playwright, executable: str, js_heap_mb: int | None = None):
    """Launch headless Chromium or raise :class:`BrowserError` with the reason."""
    try:
        return await playwright.chromium.launch(executable_path=executable, headless=True, args=launch_args(js_heap_mb))
    except Exception as exc:  # Playwright raises its generic Error with a long log
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BrowserError(f"Chromium at {executable} would not start: {first}") from None


class BrowserKeeper:
    """One Chromium for a run, launched again if it dies (the run goes on)."""

    remote = False  # the address fence's loopback proxy can reach it

    def __init__(self, playwright, executable: str, js_heap_mb: int | None = None):
        self.playwright = playwright
        self.executable = executable
        self.js_heap_mb = js_heap_mb
        self.browser = None
        self._lock = None

    async def get(self):
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.browser is None or not self.browser.is_connected():
                self.browser = await launch_browser(self.playwright, self.executable, self.js_heap_mb)
            return self.browser

    async def describe(self) -> str:
        """e.g. ``chromium-headless-shell 156.0.8078.79``: recorded with each run."""
        browser = await self.get()
        return f"{Path(self.executable).name} {browser.version}"

    async def close(self) -> None:
        import asyncio

        if self.browser is not None:
            try:
                await asyncio.wait_for(self.browser.close(), timeout=15)
            except Exception:
                pass


# -- remote browsers ------------------------------------------------------------------------------
#
# A browser pool hands a worker a connected Browser (``get``), says what the run used
# (``describe``) and closes what it opened (``close``). BrowserKeeper above is the local pool; the
# pool below spreads workers over Playwright browser servers (``playwright run-server``) on other
# machines. Both give PageAuditor the same Browser object, so the same axe file, settle wait,
# every-frame audit, document fence (a CDP session, which Playwright carries over its connection
# for Chromium) and per-page time limit apply.

LAUNCH_OPTIONS_HEADER = "x-playwright-launch-options"


def remote_launch_options(executable: str | None, js_heap_mb: int | None = None) -> dict:
    """What the browser server is asked to launch: a11ycrawl's own Chromium flags and, when given,
    the Chromium binary on the server's machine. ``playwright run-server`` applies ``args`` and
    ``executablePath`` only when started with ``--unsafe``; without it, it launches its own
    Playwright Chromium with Playwright's defaults (see the README, "Remote browsers")."""
    opts: dict = {"headless": True, "args": launch_args(js_heap_mb)}
    if executable:
        opts["executablePath"] = executable
    return opts


class RemoteBrowserPool:
    """Browsers on Playwright browser servers, one connection per endpoint; each ``get`` hands out
    the next connected browser in turn (round robin), so workers' contexts are spread over the
    endpoints. A browser that disconnects is counted in ``losses`` and skipped from then on; when
    none is left, every endpoint is tried once more, and :class:`BrowserError` says why none
    answered."""

    remote = True  # on other machines: the loopback address fence cannot reach them

    def __init__(self, playwright, endpoints: list[str], executable: str | None = None,
                 js_heap_mb: int | None = None, connect_timeout: float = 30.0):
        if not endpoints:
            raise BrowserError("no browser endpoints given")
        self.playwright = playwright
        self.endpoints = list(endpoints)
        self.launch_options = remote_launch_options(executable, js_heap_mb)
        self.connect_timeout = connect_timeout
        self.browsers: dict[str, object] = {}  # endpoint -> connected Browser
        self.losses = 0  # browsers that disconnected during the run
        self._next = 0
        self._lock = None
        self._closing = False

    async def _connect(self, endpoint: str):
        import json

        headers = {LAUNCH_OPTIONS_HEADER: json.dumps(self.launch_options)}
        try:
            browser = await self.playwright.chromium.connect(endpoint, timeout=self.connect_timeout * 1000,
                                                             headers=headers)
        except Exception as exc:  # Playwright's generic Error, with a long log after the first line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BrowserError(f"cannot connect to browser endpoint {endpoint_label(endpoint)}: {first}") from None
        browser.on("disconnected", lambda _b, ep=endpoint: self._on_disconnected(ep, _b))
        self.browsers[endpoint] = browser
        return browser

    def _on_disconnected(self, endpoint: str, browser) -> None:
        if self.browsers.get(endpoint) is browser:
            del self.browsers[endpoint]
            if not self._closing:
                self.losses += 1

    async def start(self) -> None:
        """Connect to every endpoint; the first that does not answer ends the run before it starts."""
        for endpoint in self.endpoints:
            if endpoint not in self.browsers:
                await self._connect(endpoint)

    async def probe(self, timeout: float = 5.0) -> int:
        """Ask every connected browser for its version over the wire and drop those that do not
        answer; returns ``losses``. A page that failed as its server died may report the failure
        before the connection's end reaches us: this settles which it was."""
        import asyncio

        async def answers(browser) -> bool:
            try:
                session = await asyncio.wait_for(browser.new_browser_cdp_session(), timeout)
                await asyncio.wait_for(session.send("Browser.getVersion"), timeout)
                await asyncio.wait_for(session.detach(), timeout)
                return True
            except Exception:
                return False

        for endpoint, browser in list(self.browsers.items()):
            if not browser.is_connected() or not await answers(browser):
                self._on_disconnected(endpoint, browser)
                asyncio.ensure_future(_close_quietly(browser))
        return self.losses

    async def get(self):
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self.browsers:
                if self.losses == 0 and not self._closing:
                    await self.start()
                else:
                    await self._reconnect_any()
            order = [ep for ep in self.endpoints if ep in self.browsers]
            endpoint = order[self._next % len(order)]
            self._next += 1
            return self.browsers[endpoint]

    async def _reconnect_any(self) -> None:
        reasons = []
        for endpoint in self.endpoints:
            try:
                await self._connect(endpoint)
            except BrowserError as exc:
                reasons.append(str(exc))
        if not self.browsers:
            raise BrowserError("every browser endpoint was lost: " + "; ".join(reasons))

    async def describe(self) -> str:
        """e.g. ``remote chromium 156.0.8078.108 via ws://10.0.0.5:3000/, ws://10.0.0.6:3000/``."""
        browser = await self.get()
        where = ", ".join(endpoint_label(ep) for ep in self.endpoints)
        return f"remote chromium {browser.version} via {where}"

    async def close(self) -> None:
        import asyncio

        self._closing = True
        for browser in list(self.browsers.values()):
            try:
                await asyncio.wait_for(browser.close(), timeout=15)
            except Exception:
                pass
        self.browsers.clear()


def browser_pool(playwright, cfg):
    """The run's browser pool: remote browser servers when ``browser_endpoints`` lists any, else
    Chromium launched here. With endpoints, ``chromium`` (when set) is the path of Chromium on the
    servers' machines."""
    if cfg.browser_endpoints:
        return RemoteBrowserPool(playwright, cfg.browser_endpoints, cfg.chromium, cfg.js_heap_mb)
    return BrowserKeeper(playwright, find_chromium(cfg.chromium), cfg.js_heap_mb)


async def _close_quietly(browser) -> None:
    try:
        await browser.close()
    except Exception:
        pass
