"""axe-core: where its source comes from, its version, and how we run it in every frame.

axe-core is not vendored. Its ``axe.min.js`` is read at run time from the pinned PyPI package
``axe-playwright-python`` (used only as the carrier of that file). We inject and run it ourselves,
frame by frame, with ``axe.runPartial`` in each frame and ``axe.finishRun`` in the top frame, as
axe-core's own integrations do, so violations inside iframes (chat widgets, maps, forms) count.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from audits.engine.browser import GC_FUNCTION
from audits.errors import BrowserError

AXE_PACKAGE = "axe_playwright_python"
AXE_FILE = "axe.min.js"


@lru_cache(maxsize=1)
def axe_source() -> str:
    try:
        return resources.files(AXE_PACKAGE).joinpath(AXE_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        raise BrowserError(
            "axe-core was not found: install it with 'pip install axe-playwright-python==0.1.8' "
            "(or reinstall a11ycrawl)"
        ) from None


@lru_cache(maxsize=1)
def axe_version() -> str:
    m = re.search(r"axe v(\d+\.\d+\.\d+)", axe_source()[:400])
    return m.group(1) if m else "unknown"


def axe_options(tags: list[str], disable_rules: list[str] = ()) -> dict[str, Any]:
    """The options we pass to axe: WCAG tags, disabled rules, and only the result types we keep."""
    opts: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": list(tags)},
        # passes/inapplicable are summarised to one node each by axe: we keep only these two.
        "resultTypes": ["violations", "incomplete"],
    }
    if disable_rules:
        opts["rules"] = {r: {"enabled": False} for r in disable_rules}
    return opts


# Runs in the top frame after injection: wait for the DOM to be quiet (with a cap), collect the
# page facts that site-level checks need, list child frames and run axe's partial audit. When
# there are no frames it finishes the run in the same call, saving a round trip.
# What a page loaded that can change axe's results: scripts, stylesheets, frames, CSS-loaded files
# and fetched data (not images or media). Used to tell unchanged pages on a re-audit.
_RESOURCES_JS = r"""
function compactResults(result) {
  // only what the store keeps: the check-by-check detail of every node is not sent to Python
  const pick = (list) => list.map((r) => ({
    id: r.id, impact: r.impact, tags: r.tags, help: r.help, helpUrl: r.helpUrl,
    nodes: r.nodes.map((n) => ({target: n.target, html: n.html, impact: n.impact, failureSummary: n.failureSummary})),
  }));
  return {violations: pick(result.violations), incomplete: pick(result.incomplete)};
}
function loadedResources() {
  const kinds = new Set(['script', 'link', 'css', 'iframe', 'frame', 'fetch', 'xmlhttprequest']);
  const out = new Set();
  for (const e of performance.getEntriesByType('resource')) {
    if (kinds.has(e.initiatorType) && /^https?:/.test(e.name)) out.add(e.name.split('#')[0]);
  }
  return [...out];
}
"""

_TOP_FRAME_JS = r"""
async (args) => {
  const t0 = performance.now();
  if (args.cap > 0) {
    // Settled: no fetch()/XHR in flight (counted by _NETWORK_JS) and no DOM change for
    // args.quiet ms (changes are tracked from DOMContentLoaded on, so a page quiet since then
    // is audited at once); never longer than args.cap ms.
    await new Promise((resolve) => {
      const net = window.__a11ycrawlNet || {pending: 0, last: 0, dom: 0, obs: null};
      let own = null;
      if (!net.obs) {  // no init script in this document: watch from now on
        net.dom = t0;
        own = new MutationObserver(() => { net.dom = performance.now(); });
        own.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
      }
      const finish = () => { if (own) own.disconnect(); if (net.obs) net.obs.disconnect(); resolve(); };
      const tick = () => {
        const now = performance.now();
        // changes not yet delivered to the observers' callbacks count too
        for (const o of [own, net.obs]) if (o && o.takeRecords().length) net.dom = now;
        const quietFor = now - Math.max(net.dom, net.last);
        if (now - t0 >= args.cap || (net.pending <= 0 && quietFor >= args.quiet)) finish();
        else setTimeout(tick, Math.max(10, Math.min(args.quiet - quietFor, 50)));
      };
      tick();
    });
  }
  const t1 = performance.now();
  const links = [];
  const seen = new Set();
  for (const a of document.querySelectorAll('a[href], area[href]')) {
    const href = a.href;
    if (typeof href === 'string' && href && !seen.has(href)) { seen.add(href); links.push(href); if (links.length >= args.maxLinks) break; }
  }
  const frames = [];
  for (const f of document.querySelectorAll('iframe[src], frame[src]')) {
    if (f.src && !seen.has(f.src)) frames.push(f.src);
  }
  const refresh = document.querySelector('meta[http-equiv="refresh" i]');
  const facts = {
    title: document.title,
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length,
    links, frame_srcs: frames,
    meta_refresh: refresh ? refresh.getAttribute('content') : null,
    nodes: document.getElementsByTagName('*').length,
    settle_ms: Math.round(t1 - t0),
  };
  facts.resources = loadedResources();
  // the accessibility statement (analysis/statement.py): links that name it, and its text
  const a11y = /accessib/i;
  facts.statement_links = Array.from(document.querySelectorAll('a[href]')).filter(a => a11y.test(a.textContent || '') || a11y.test(a.getAttribute('href') || '')).slice(0, 20).map(a => ({href: a.href, text: (a.textContent || '').trim().slice(0, 200)}));
  if (a11y.test(location.pathname) || a11y.test(document.title)) facts.statement_text = (document.body ? document.body.innerText : '').slice(0, 100000);
  // Free the previous page's document and axe run now (see browser.GC_FUNCTION), so a renderer
  // does not hold pages' worth of garbage until V8 decides to collect. A page that replaced the
  // function only loses the saving.
  try { if (typeof globalThis[args.gc] === 'function') globalThis[args.gc](); } catch (e) {}
  const tg = performance.now();
  facts.gc_ms = Math.round(tg - t1);
  const ctx = args.context || document;
  const frameContexts = axe.utils.getFrameContexts(ctx, args.options);
  const partial = await axe.runPartial(ctx, args.options);
  const t2 = performance.now();
  facts.axe_ms = Math.round(t2 - tg);
  if (frameContexts.length === 0) {
    const result = await axe.finishRun([partial], args.options);
    return {facts, frameContexts, result: compactResults(result)};
  }
  return {facts, frameContexts, partial};
}
"""

_FRAME_JS = r"""
async (args) => {
  const frameContexts = axe.utils.getFrameContexts(args.context, args.options);
  const partial = await axe.runPartial(args.context, args.options);
  return {frameContexts, partial, resources: loadedResources()};
}
"""

_FINISH_JS = r"""
async (args) => {
  const result = await axe.finishRun(args.partials, args.options);
  return compactResults(result);
}
"""

_RULES_JS = r"""() => axe.getRules()"""


def _call(js: str, args: dict[str, Any], inject: bool) -> str:
    """One expression that (optionally) injects axe and calls ``js`` with ``args``."""
    prefix = axe_source() + "\n;" if inject else ""
    return f"{prefix}(() => {{ {_RESOURCES_JS}; return ({js})({json.dumps(args)}); }})()"


async def _evaluate(frame, js: str, args: dict[str, Any]) -> Any:
    """Call ``js`` in ``frame``, where axe is normally present already (see :func:`install_axe`);
    inject it first in a frame where it is not (e.g. one the init script could not reach)."""
    try:
        return await frame.evaluate(_call(js, args, False))
    except Exception as exc:
        if "axe is not defined" not in str(exc):
            raise
    return await frame.evaluate(_call(js, args, True))


# Counts the page's fetch() and XMLHttpRequest calls in flight, so that the settle wait does not
# audit a page whose content is still on its way (a "latest news" box filled from JSON).
_NETWORK_JS = r"""
(() => {
  if (window.__a11ycrawlNet) return;
  const net = window.__a11ycrawlNet = {pending: 0, last: 0, dom: 0, obs: null};
  // The DOM's last change since the document was parsed, so that the settle wait can tell a
  // page that has been quiet since it loaded (no waiting) from one still being filled in.
  document.addEventListener('DOMContentLoaded', () => {
    net.dom = performance.now();
    net.obs = new MutationObserver(() => { net.dom = performance.now(); });
    net.obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  }, {once: true});
  const done = () => { net.pending -= 1; net.last = performance.now(); };
  const fetch0 = window.fetch;
  if (typeof fetch0 === 'function') {
    window.fetch = function (...args) {
      net.pending += 1;
      let p;
      try { p = fetch0.apply(this, args); } catch (e) { done(); throw e; }
      p.then(done, done);
      return p;
    };
  }
  const XHR = window.XMLHttpRequest;
  if (XHR && XHR.prototype && XHR.prototype.send) {
    const send0 = XHR.prototype.send;
    XHR.prototype.send = function (...args) {
      net.pending += 1;
      this.addEventListener('loadend', done, {once: true});
      try { return send0.apply(this, args); } catch (e) { done(); throw e; }
    };
  }
})();
"""


async def install_axe(context) -> None:
    """Make axe-core present in every document of ``context`` before the page's own scripts run,
    with the network counter the settle wait reads.

    One init script per context instead of sending 570 KB of source with every page and frame:
    measured here, a quarter less CPU per page, and the frames of a page need no injection.
    """
    await context.add_init_script(_NETWORK_JS + "\n;" + axe_source())


async def run_axe(page, options: dict[str, Any], quiet_ms: int, cap_ms: int, max_links: int = 5000) -> dict:
    """Audit ``page`` and all its frames. Returns ``{"violations", "incomplete", "facts", "frames"}``.

    Frames are audited depth-first with ``runPartial``; a frame that cannot be reached (detached,
    crashed, cross-origin without a target) contributes ``null``, which ``finishRun`` accepts.
    """
    top = await _evaluate(
        page.main_frame, _TOP_FRAME_JS,
        {"options": options, "quiet": quiet_ms, "cap": cap_ms, "maxLinks": max_links, "gc": GC_FUNCTION},
    )
    facts = top["facts"]
    if "result" in top:
        return {**top["result"], "facts": facts, "frames": 1}
    partials: list[Any] = [top["partial"]]
    count = [1]

    async def recurse(frame, frame_contexts: list[dict]) -> None:
        for fc in frame_contexts:
            try:
                handle = await frame.locator(_selector(fc["frameSelector"])).first.element_handle(timeout=2000)
                child = await handle.content_frame() if handle else None
            except Exception:
                child = None
            if child is None:
                partials.append(None)
                continue
            try:
                res = await _evaluate(child, _FRAME_JS, {"options": options, "context": fc["frameContext"]})
            except Exception:
                partials.append(None)
                continue
            count[0] += 1
            partials.append(res["partial"])
            facts["resources"] = sorted(set(facts.get("resources", [])) | set(res.get("resources") or []))
            await recurse(child, res["frameContexts"])

    await recurse(page.main_frame, top["frameContexts"])
    result = await page.main_frame.evaluate(_call(_FINISH_JS, {"options": options, "partials": partials}, False))
    return {**result, "facts": facts, "frames": count[0]}


def _selector(frame_selector: Any) -> str:
    """axe gives a selector string, or a list for shadow DOM; Playwright's CSS pierces shadow roots."""
    if isinstance(frame_selector, list):
        parts = [p if isinstance(p, str) else " ".join(p) for p in frame_selector]
        return " ".join(parts)
    return str(frame_selector)


async def axe_rules(page) -> list[dict]:
    """Rule metadata of the injected axe (for the ``rules`` table)."""
    return await page.evaluate(_call(_RULES_JS, {}, True))
