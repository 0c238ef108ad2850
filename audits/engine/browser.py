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
