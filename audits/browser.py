"""Finding and driving Chromium through Playwright's async API.

Chromium is looked up in this order: the ``chromium`` config key (or ``--chromium``), the
``A11YCRAWL_CHROMIUM`` environment variable, then the usual install paths and ``$PATH`` names,
then a browser installed by ``playwright install``. When none is found the error says exactly
how to install one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import BrowserError

CANDIDATE_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
CANDIDATE_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: 'sudo apt-get install -y chromium'), or point a11ycrawl at a "
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


def launch_args(js_heap_mb: int | None = None) -> list[str]:
    args = list(CHROMIUM_ARGS)
    if js_heap_mb:
        args.append(f"--js-flags=--max-old-space-size={js_heap_mb}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")  # Chromium refuses to run sandboxed as root
    return args


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

    async def close(self) -> None:
        import asyncio

        if self.browser is not None:
            try:
                await asyncio.wait_for(self.browser.close(), timeout=15)
            except Exception:
                pass
