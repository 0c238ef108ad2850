"""Ask a live page whether an element matches a selector: the part of ``check``'s [[ignore]]
matching that text alone cannot decide (``.legacy-footer *`` covering a link axe-core named
``a[href$="terms"]``). The gate's decisions stay in :mod:`audits.analysis.gate`; this module only
opens the pages in Chromium and answers ``element.matches(selector)``.
"""

from __future__ import annotations

from typing import Iterable

from audits.analysis.gate import Finding, Ignore


_MATCHES_JS = """([path, sel]) => {
  let root = document, el = null;
  for (let i = 0; i < path.length; i++) {
    el = root.querySelector(path[i]);
    if (!el) return false;
    if (i < path.length - 1) { root = el.shadowRoot; if (!root) return false; }
  }
  try { return el.matches(sel); } catch (e) { return false; }
}"""


def dom_selector_matches(pairs: Iterable[tuple[Finding, Ignore]], chromium: str | None = None,
                         timeout: float = 20.0) -> frozenset:
    """Open each page that has candidates (see :func:`selector_candidates`) in Chromium and ask
    the element itself: ``element.matches(selector)``, so ``.legacy-footer *`` matches a link
    inside the footer even when axe-core named it ``a[href$="terms"]``. Returns the
    ``(fingerprint, selector)`` pairs that match. A page that will not load, or an element that
    is gone, matches nothing: the finding stays counted."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from audits.engine.browser import find_chromium, launch_args

    by_page: dict[str, list[tuple[Finding, Ignore]]] = {}
    for f, i in pairs:
        by_page.setdefault(f.url, []).append((f, i))
    if not by_page:
        return frozenset()
    found = set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(chromium), headless=True, args=launch_args())
        try:
            for url, items in by_page.items():
                page = browser.new_page()
                try:
                    page.goto(url, wait_until="load", timeout=timeout * 1000)
                    try:
                        page.wait_for_load_state("networkidle", timeout=3000)
                    except PlaywrightError:
                        pass
                    for f, ignore in items:
                        if _element_matches(page, f.target, ignore.selector):
                            found.add((f.fingerprint, ignore.selector))
                except PlaywrightError:
                    continue
                finally:
                    page.close()
        finally:
            browser.close()
    return frozenset(found)


def _element_matches(page, target: tuple, selector: str) -> bool:
    frame = page.main_frame
    parts = list(target)
    if not parts:
        return False
    for part in parts[:-1]:  # frame levels, outermost first
        if isinstance(part, (list, tuple)):
            return False
        handle = frame.query_selector(part)
        frame = handle.content_frame() if handle is not None else None
        if frame is None:
            return False
    last = parts[-1]
    path = [str(p) for p in last] if isinstance(last, (list, tuple)) else [str(last)]
    return bool(frame.evaluate(_MATCHES_JS, [path, selector]))
