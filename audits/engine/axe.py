"""axe-core: where its source comes from, its version, and how we run it in every frame.

axe-core is not vendored. Its ``axe.min.js`` is read at run time from the pinned PyPI package
``axe-playwright-python`` (used only as the carrier of that file). We inject and run it ourselves,
frame by frame, with ``axe.runPartial`` in each frame and ``axe.finishRun`` in the top frame, as
axe-core's own integrations do, so violations inside iframes (chat widgets, maps, forms) count;
a page without frames gets ``axe.run`` itself (the same results, much faster on large pages).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
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
  // Free the previous page's document and axe run now (see browser.GC_FUNCTION), so a renderer
  // does not hold pages' worth of garbage until V8 decides to collect. A page that replaced the
  // function only loses the saving.
  try { if (typeof globalThis[args.gc] === 'function') globalThis[args.gc](); } catch (e) {}
  const tg = performance.now();
  facts.gc_ms = Math.round(tg - t1);
  const ctx = args.context || document;
  const frameContexts = axe.utils.getFrameContexts(ctx, args.options);
  if (frameContexts.length === 0) {
    // One document: axe.run itself, which gives what runPartial + finishRun give, without
    // runPartial serialising every node of every rule, passes included (measured: 4x slower
    // on a page of 10,000 links)
    const result = await axe.run(ctx, args.options);
    facts.axe_ms = Math.round(performance.now() - tg);
    return {facts, frameContexts, result: compactResults(result)};
  }
  const partial = await axe.runPartial(ctx, args.options);
  facts.axe_ms = Math.round(performance.now() - tg);
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

# How many elements a document has: asked before axe runs there, to size axe's time limit, and to
# tell a frame that can run a script (answers at once) from one that cannot (no answer).
_COUNT_JS = r"""() => { try { return document.getElementsByTagName('*').length; } catch (e) { return 0; } }"""

# Asked of an <iframe>/<frame> element in its parent: its address, and whether its sandbox lets
# scripts run (without allow-scripts, axe cannot run inside it, and axe.run skips it too).
_FRAME_ELEMENT_JS = r"""(f) => ({
  src: f.getAttribute('src') ? f.src : (f.hasAttribute('srcdoc') ? 'about:srcdoc' : (f.src || 'about:blank')),
  scriptless: f.hasAttribute('sandbox') && !(f.sandbox && f.sandbox.contains('allow-scripts')),
})"""

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


@dataclass(frozen=True)
class AxeLimits:
    """How long axe may run on one page: each document (the page, then each frame) gets
    ``max(base, elements x per_element)`` seconds, the whole page never more than ``ceiling``.

    ``base_s`` is what a small page gets (the rest of the page's time limit); ``frame_s`` is what a
    small frame gets, and how long a frame has to answer at all before it is recorded as
    unaudited. The element count is asked of each document before axe runs in it.
    """

    base_s: float = 30.0
    per_element_s: float = 0.01
    ceiling_s: float = 300.0
    frame_s: float = 10.0
    settle_s: float = 3.0

    def for_document(self, elements: int, floor: float) -> float:
        return max(floor, elements * self.per_element_s)


class AxeTimeout(Exception):
    """axe did not finish in a document within its limit; the message says where and how long."""


async def _within(aw, seconds: float):
    """``await aw``, or raise :class:`asyncio.TimeoutError` after ``seconds``."""
    return await asyncio.wait_for(aw, timeout=max(0.001, seconds))


async def run_axe(page, options: dict[str, Any], quiet_ms: int, cap_ms: int, max_links: int = 5000,
                  limits: AxeLimits | None = None) -> dict:
    """Audit ``page`` and all its frames. Returns ``{"violations", "incomplete", "facts", "frames"}``.

    Frames are audited depth-first with ``runPartial``, each within its own limit (see
    :class:`AxeLimits`); a frame that cannot be audited (sandboxed without ``allow-scripts``, no
    answer in time, detached, crashed) contributes ``null``, which ``finishRun`` accepts, and is
    listed in ``facts["frames_unaudited"]`` as ``{"src", "reason"}``: the rest of the page stands.
    Raises :class:`AxeTimeout` when the page itself (or ``finishRun``) runs out of time.
    """
    limits = limits or AxeLimits()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    ceiling = t0 + limits.ceiling_s

    def left(budget: float) -> float:
        return min(budget, ceiling - loop.time())

    def ran() -> str:
        return f"{loop.time() - t0:.1f} s"

    main = page.main_frame
    try:
        elements = _number(await _within(main.evaluate(_COUNT_JS), left(limits.base_s)))
    except asyncio.TimeoutError:
        raise AxeTimeout(f"the page did not answer a script within {ran()}") from None
    budget = left(limits.for_document(elements, limits.base_s - limits.settle_s) + limits.settle_s)
    try:
        top = await _within(_evaluate(
            main, _TOP_FRAME_JS,
            {"options": options, "quiet": quiet_ms, "cap": cap_ms, "maxLinks": max_links, "gc": GC_FUNCTION},
        ), budget)
    except asyncio.TimeoutError:
        raise AxeTimeout(f"axe ran {ran()} on the page ({elements} elements) without finishing; "
                         f"its limit was {budget:.0f} s") from None
    facts = top["facts"]
    if "result" in top:
        return {**top["result"], "facts": facts, "frames": 1}
    partials: list[Any] = [top["partial"]]
    unaudited: list[dict[str, str]] = []
    count = [1]
    total = [elements]

    async def audit_frame(frame, fc: dict) -> tuple[Any, dict | None]:
        """``(child frame, its runPartial answer)``, or ``(None, None)`` after noting why not."""
        src, why = _selector(fc["frameSelector"]), ""
        try:
            handle = await frame.locator(_selector(fc["frameSelector"])).first.element_handle(timeout=2000)
            about = await _within(handle.evaluate(_FRAME_ELEMENT_JS), limits.frame_s)
            src = about["src"] or src
            child = await handle.content_frame()
        except Exception:  # detached meanwhile, or its element does not answer
            unaudited.append({"src": src, "reason": "the frame could not be reached"})
            return None, None
        if about["scriptless"]:
            why = "sandboxed without allow-scripts: no script (axe's included) can run in it"
        elif child is None:
            why = "the frame has no document"
        if why:
            unaudited.append({"src": src, "reason": why})
            return None, None
        try:
            n = _number(await _within(child.evaluate(_COUNT_JS), left(limits.frame_s)))
        except asyncio.TimeoutError:
            unaudited.append({"src": src, "reason": f"the frame did not answer a script within {limits.frame_s:g} s"})
            return None, None
        except Exception as exc:
            unaudited.append({"src": src, "reason": f"the frame could not run a script ({_first_line(exc)})"})
            return None, None
        wait = left(limits.for_document(n, limits.frame_s))
        try:
            res = await _within(_evaluate(child, _FRAME_JS, {"options": options, "context": fc["frameContext"]}), wait)
        except asyncio.TimeoutError:
            unaudited.append({"src": src, "reason": f"axe ran {wait:.0f} s in the frame ({n} elements) without finishing"})
            return None, None
        except Exception as exc:
            unaudited.append({"src": src, "reason": f"axe failed in the frame ({_first_line(exc)})"})
            return None, None
        total[0] += n
        return child, res

    async def recurse(frame, frame_contexts: list[dict]) -> None:
        for fc in frame_contexts:
            child, res = await audit_frame(frame, fc)
            if res is None:
                partials.append(None)
                continue
            count[0] += 1
            partials.append(res["partial"])
            facts["resources"] = sorted(set(facts.get("resources", [])) | set(res.get("resources") or []))
            await recurse(child, res["frameContexts"])

    await recurse(main, top["frameContexts"])
    if unaudited:
        facts["frames_unaudited"] = unaudited
    budget = left(limits.for_document(total[0], limits.frame_s))
    try:
        result = await _within(main.evaluate(_call(_FINISH_JS, {"options": options, "partials": partials}, False)), budget)
    except asyncio.TimeoutError:
        raise AxeTimeout(f"axe ran {ran()} on the page and its frames ({total[0]} elements) without "
                         f"finishing; the limit of its last step (finishRun) was {budget:.0f} s") from None
    return {**result, "facts": facts, "frames": count[0]}


def _number(value: Any) -> int:
    """An element count from a page, which may have replaced what we call."""
    return int(value) if isinstance(value, (int, float)) and value >= 0 else 0


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


def _selector(frame_selector: Any) -> str:
    """axe gives a selector string, or a list for shadow DOM; Playwright's CSS pierces shadow roots."""
    if isinstance(frame_selector, list):
        parts = [p if isinstance(p, str) else " ".join(p) for p in frame_selector]
        return " ".join(parts)
    return str(frame_selector)


async def axe_rules(page) -> list[dict]:
    """Rule metadata of the injected axe (for the ``rules`` table)."""
    return await page.evaluate(_call(_RULES_JS, {}, True))
