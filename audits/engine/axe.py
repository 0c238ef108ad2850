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

_SETTLE_WAIT_JS = r"""
// The settle wait. Settled when (1) the load event's handlers have run, (2) nothing the page
// scheduled is still to come (see _SETTLE_JS: fetch/XHR and response bodies, inserted scripts,
// timers due before the cap, animation-frame and idle callbacks), and (3) since the last of that
// work and the last DOM change, `quiet` ms have passed, with at least two of our own turns of the
// event loop and one animation frame among them: on a starved CPU wall-clock time passes without
// the page getting its turn, so time alone proves nothing. A page without scripts that scheduled
// nothing is settled at once. Never longer than `cap` ms: a page still busy then is audited as it
// is, and says so (settled: false, with what it was still waiting for).
async function settled(quiet, cap) {
  const t0 = performance.now();
  const net = window.__a11ycrawlNet;
  const own = net && net.orig && typeof net.orig.setTimeout === 'function' ? net.orig : {
    setTimeout: window.setTimeout, raf: window.requestAnimationFrame, caf: window.cancelAnimationFrame};
  const later = (fn, ms) => own.setTimeout.call(window, fn, ms);
  const nav = performance.getEntriesByType('navigation')[0];
  const loadEnd = () => (nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : (document.readyState === 'complete' ? t0 : 0));
  let obs = null;
  let lastDom = t0;
  if (!net || !net.obs) {  // no init script in this document, or before DOMContentLoaded: watch from now on
    obs = new MutationObserver(() => { lastDom = performance.now(); });
    obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  }
  const waitedFor = [];
  const saw = (k) => { if (!waitedFor.includes(k)) waitedFor.push(k); };
  const pendingNow = (deadline) => {
    const w = [];
    if (!loadEnd()) w.push('load');
    if (!net) return w;
    if (net.pending > 0) w.push('network');
    if (net.scripts > 0) w.push('script');
    for (const due of net.timers.values()) if (due <= deadline) { w.push('timer'); break; }
    if (net.frames.size) w.push('animation-frame');
    if (net.idle.size) w.push('idle-callback');
    return w;
  };
  if (net && net.obs) net.scan(net.obs.takeRecords());
  if (net && net.obs && net.calls === 0 && document.scripts.length === 0 && loadEnd() && net.dom <= net.dcl) {
    net.done = true;
    net.obs.disconnect();
    return {settled: true, capped: false, waited_for: [], pending: []};
  }
  return await new Promise((resolve) => {
    let frameAt = -1, frameId = 0, quietTurns = 0, mark = -1;
    const onFrame = () => { frameAt = performance.now(); frameId = own.raf ? own.raf.call(window, onFrame) : 0; };
    if (own.raf) frameId = own.raf.call(window, onFrame);
    const finish = (out) => {
      if (own.raf && own.caf) own.caf.call(window, frameId);
      if (obs) obs.disconnect();
      if (net) { net.done = true; if (net.obs) net.obs.disconnect(); }
      resolve(out);
    };
    const tick = () => {
      const now = performance.now();
      // changes not yet delivered to the observers' callbacks count too
      if (obs && obs.takeRecords().length) lastDom = now;
      if (net && net.obs) net.scan(net.obs.takeRecords());
      const busy = pendingNow(t0 + cap);
      busy.forEach(saw);
      const dom = Math.max(lastDom, net ? net.dom : 0);
      if (dom > t0) saw('dom');
      const since = Math.max(dom, net ? net.last : 0, loadEnd());
      if (busy.length || since !== mark) { quietTurns = 0; mark = since; } else quietTurns += 1;
      const quietFor = now - since;
      const frameOk = !own.raf || frameAt > since;
      if (!busy.length && quietTurns >= 2 && quietFor >= quiet && frameOk) {
        finish({settled: true, capped: false, waited_for: waitedFor, pending: []});
      } else if (now - t0 >= cap) {
        const left = busy.length ? busy : [quietFor < quiet || quietTurns < 2 ? 'dom' : 'animation-frame'];
        finish({settled: false, capped: true, waited_for: waitedFor, pending: left});
      } else {
        later(tick, Math.max(5, Math.min(quiet - quietFor, 25)));
      }
    };
    tick();
  });
}
"""

# The page facts that cross-page checks need (audits/analysis/crosspage.py), gathered in the top
# frame after the settle wait. Cheap and bounded: at most 12 navigation blocks of 60 links each,
# names cut to 120 characters and addresses to 400, 20 language samples. Nothing here is trusted
# by the analysis, which checks every type and length again.
_SITE_FACTS_JS = r"""
function siteFacts() {
  const MAX_BLOCKS = 12, MAX_LINKS = 60, NAME = 120, HREF = 400;
  const clean = (s, n) => String(s || '').replace(/\s+/g, ' ').trim().slice(0, n);
  const visible = (el) => { try { return typeof el.checkVisibility !== 'function' || el.checkVisibility(); } catch (e) { return true; } };
  const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((e) => e.textContent).join(' ');
  const name = (el) => {
    const label = el.getAttribute('aria-label');
    if (label && label.trim()) return clean(label, NAME);
    const by = el.getAttribute('aria-labelledby');
    if (by) { const t = byIds(by); if (t.trim()) return clean(t, NAME); }
    let t = clean(el.textContent, NAME);
    if (!t) { const img = el.querySelector('img[alt]'); if (img) t = clean(img.getAttribute('alt'), NAME); }
    return t || clean(el.getAttribute('title'), NAME);
  };
  const href = (a) => { try { return String(a.href).split('#')[0].slice(0, HREF); } catch (e) { return ''; } };
  const NAVS = 'nav, [role="navigation"]';
  const blocks = [];
  const seen = new Set();
  const add = (el, kind) => {
    if (seen.has(el) || blocks.length >= MAX_BLOCKS || !visible(el)) return;
    seen.add(el);
    const links = [];
    for (const a of el.querySelectorAll('a[href]')) {
      // a header's or footer's own links: those of a navigation block inside it are that block's
      if (kind !== 'nav' && a.parentElement && a.parentElement.closest(NAVS) && el.contains(a.parentElement.closest(NAVS))) continue;
      const h = href(a);
      if (!/^https?:/i.test(h) || !visible(a)) continue;
      links.push([name(a), h]);
      if (links.length >= MAX_LINKS) break;
    }
    let label = el.getAttribute('aria-label') || '';
    const by = el.getAttribute('aria-labelledby');
    if (!label.trim() && by) label = byIds(by);
    if (links.length) blocks.push({kind, label: clean(label, NAME), links});
  };
  const landmark = (sel) => Array.from(document.querySelectorAll(sel)).filter((e) => !e.closest('article, aside, main, section') || e.matches('[role]'));
  for (const el of landmark('header, [role="banner"]')) add(el, 'header');
  for (const el of document.querySelectorAll(NAVS)) add(el, 'nav');
  for (const el of landmark('footer, [role="contentinfo"]')) add(el, 'footer');
  const searchy = /search|query|keyword|^q$|^s$/i;
  let search = !!document.querySelector('[role="search"], search, input[type="search"]');
  if (!search) {
    for (const f of Array.from(document.forms).slice(0, 50)) {
      if (searchy.test(f.getAttribute('action') || '') ||
          Array.from(f.querySelectorAll('input')).slice(0, 20).some((i) => searchy.test(i.name || '') || searchy.test(i.id || '') ||
            searchy.test(i.getAttribute('placeholder') || '') || searchy.test(i.getAttribute('aria-label') || ''))) { search = true; break; }
    }
  }
  const mapText = /\bsite\s?-?map\b|\bsite\s+index\b|\ba\s?(-|\u2013|to)\s?z\b/i;
  const mapHref = /(site-?map|site-?index|\/a-?to-?z\b|\/a-z\b)(?!.*\.xml)/i;
  const sitemap_links = [];
  const anchors = document.querySelectorAll('a[href]');
  for (let i = 0; i < anchors.length && i < 5000; i++) {
    const a = anchors[i];
    const raw = (a.getAttribute('href') || '').split(/[?#]/)[0];
    const text = clean(a.textContent, NAME);
    if (!mapText.test(text) && !mapHref.test(raw)) continue;
    const h = href(a);
    if (/^https?:/i.test(h)) { sitemap_links.push({href: h, text}); if (sitemap_links.length >= 5) break; }
  }
  // the writing systems of the page's text, and passages in another one than the page's
  const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Devanagari',
                   'Bengali', 'Gurmukhi', 'Gujarati', 'Tamil', 'Telugu', 'Thai', 'Armenian', 'Georgian', 'Ethiopic'];
  const RES = SCRIPTS.map((s) => [s, new RegExp('\\p{Script=' + s + '}', 'gu')]);
  // letters per script (UTF-16 units: a letter outside the BMP counts twice), without building arrays of matches
  const count = (text) => {
    const out = {};
    for (const [s, re] of RES) { const n = text.length - text.replace(re, '').length; if (n) out[s] = n; }
    return out;
  };
  const root = document.querySelector('main, [role="main"]') || document.body;
  const text_scripts = root ? count(String(root.innerText || '').slice(0, 20000)) : {};
  const top = Object.entries(text_scripts).sort((a, b) => b[1] - a[1]);
  const main = top.length ? top[0][0] : null;
  const lang_parts = [];
  if (main && document.body) {
    const own = (el) => Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data).join(' ');
    const els = document.body.querySelectorAll('p, li, h1, h2, h3, h4, h5, h6, td, th, dd, dt, blockquote, figcaption, a, button, label, option, span');
    const foreign = new RegExp('(?!\\p{Script=' + main + '})\\p{L}', 'u');  // a letter of another script
    for (let i = 0; i < els.length && i < 5000 && lang_parts.length < 20; i++) {
      const t = clean(own(els[i]), 200);
      if (t.length < 4 || !foreign.test(t)) continue;
      const c = count(t);
      const total = Object.values(c).reduce((x, y) => x + y, 0);
      const best = Object.entries(c).sort((a, b) => b[1] - a[1])[0];
      if (!best || best[0] === main || total < 4 || best[1] < 0.8 * total) continue;
      const holder = els[i].closest('[lang]');
      lang_parts.push({text: t.slice(0, 80), script: best[0], letters: total, lang: holder ? clean(holder.getAttribute('lang'), 35) : null});
    }
  }
  // a sample of the main text in the page's own language: text inside an element with a lang of
  // its own is left out (it says what it is), as are scripts and styles
  let text_sample = '';
  if (root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: (n) => {
      const p = n.parentElement;
      if (!p || p.closest('script, style, noscript, template')) return NodeFilter.FILTER_REJECT;
      const holder = p.closest('[lang]');
      return holder && holder !== document.documentElement ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
    }});
    const parts = [];
    let size = 0;
    for (let n = walker.nextNode(), i = 0; n && size < 3000 && i < 20000; n = walker.nextNode(), i++) {
      const t = n.data.replace(/\s+/g, ' ').trim();
      if (t) { parts.push(t); size += t.length + 1; }
    }
    text_sample = parts.join(' ').slice(0, 3000);
  }
  return {nav_blocks: blocks, search, sitemap_links, text_scripts, lang_parts, text_sample};
}
"""

_TOP_FRAME_JS = r"""
async (args) => {
  const t0 = performance.now();
  // cap 0: not waited for, so whether it had settled is not known (null)
  const settle = args.cap > 0 ? await settled(args.quiet, args.cap) : {settled: null, capped: false, waited_for: [], pending: []};
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
    settled: settle.settled,
    settle_capped: settle.capped,
    settle_waited_for: settle.waited_for,
    settle_pending: settle.pending,
  };
  facts.resources = loadedResources();
  // the accessibility statement (analysis/statement.py): links that name it, and its text
  const a11y = /accessib/i;
  facts.statement_links = Array.from(document.querySelectorAll('a[href]')).filter(a => a11y.test(a.textContent || '') || a11y.test(a.getAttribute('href') || '')).slice(0, 20).map(a => ({href: a.href, text: (a.textContent || '').trim().slice(0, 200)}));
  if (a11y.test(location.pathname) || a11y.test(document.title)) facts.statement_text = (document.body ? document.body.innerText : '').slice(0, 100000);
  // what the cross-page checks compare (a page that breaks the collection loses only these)
  const ts = performance.now();
  try { Object.assign(facts, siteFacts()); } catch (e) { facts.site_facts_error = String(e).slice(0, 200); }
  facts.site_facts_ms = Math.round(performance.now() - ts);
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


#: The scripts another backend (Selenium Grid, audits.engine.grid) runs, by name: the same text
#: as the Playwright backend's, through :func:`call`.
SCRIPTS = {"top": _TOP_FRAME_JS, "frame": _FRAME_JS, "finish": _FINISH_JS, "rules": _RULES_JS}
COUNT_JS = _COUNT_JS
FRAME_ELEMENT_JS = _FRAME_ELEMENT_JS


def call(name: str, args: dict[str, Any]) -> str:
    """The expression (a Promise) that runs the script ``name`` of :data:`SCRIPTS` with ``args``
    in a document where axe-core is already present."""
    return _call(SCRIPTS[name], args, False)


def init_script() -> str:
    """What runs in every document before the page's own scripts: the record of scheduled work
    that the settle wait reads, then axe-core (see :func:`install_axe`)."""
    return _SETTLE_JS + "\n;" + axe_source()


def axe_file() -> str:
    """The path of the pinned ``axe.min.js`` (for tools that read the file themselves, such as
    axe-selenium-python's ``Axe(script_url=...)``)."""
    path = resources.files(AXE_PACKAGE).joinpath(AXE_FILE)
    if not path.is_file():
        axe_source()  # raises the install hint
    return str(path)


def _call(js: str, args: dict[str, Any], inject: bool) -> str:
    """One expression that (optionally) injects axe and calls ``js`` with ``args``."""
    prefix = axe_source() + "\n;" if inject else ""
    return f"{prefix}(() => {{ {_RESOURCES_JS}; {_SETTLE_WAIT_JS}; {_SITE_FACTS_JS}; return ({js})({json.dumps(args)}); }})()"


async def _evaluate(frame, js: str, args: dict[str, Any]) -> Any:
    """Call ``js`` in ``frame``, where axe is normally present already (see :func:`install_axe`);
    inject it first in a frame where it is not (e.g. one the init script could not reach)."""
    try:
        return await frame.evaluate(_call(js, args, False))
    except Exception as exc:
        if "axe is not defined" not in str(exc):
            raise
    return await frame.evaluate(_call(js, args, True))


# Runs in every document before the page's own scripts: records the work the page schedules, so
# that the settle wait (_SETTLE_WAIT_JS) audits a page only once that work has had its turn.
# Tracked until the wait ends: fetch() and XMLHttpRequest in flight, and a fetched response's
# body being read (a fetch() resolves when the headers arrive: the JSON, and the page's callbacks
# that use it, come later); <script src> elements inserted after DOMContentLoaded, until they have
# run; one-shot timers with their due times (the wait ignores those due after its cap);
# animation-frame and idle callbacks; and the time of the last DOM change, from DOMContentLoaded
# on. Loops are bounded: a callback (same code, same delay) that has already run is waited for
# again only if its delay is at most LOOP_MAX ms, and only REPEAT times (a poller), never when it
# is slower (a clock, a carousel); a setInterval only when it is that fast, for its first REPEAT
# runs. ``calls`` counts the page's calls to all of these: a page without scripts that made none
# is settled at once.
_SETTLE_JS = r"""
(() => {
  if (window.__a11ycrawlNet) return;
  const now = () => performance.now();
  const REPEAT = 5;
  const LOOP_MAX = 250;
  const TIMER_MAX = 60000;  // longer timers are not even recorded (the cap decides the rest)
  const orig = Object.freeze({
    setTimeout: window.setTimeout, clearTimeout: window.clearTimeout,
    raf: window.requestAnimationFrame, caf: window.cancelAnimationFrame,
  });
  const net = {
    pending: 0, scripts: 0, last: 0, dom: 0, dcl: 0, obs: null, calls: 0, done: false,
    timers: new Map(), frames: new Map(), idle: new Map(), orig,
  };
  Object.defineProperty(window, '__a11ycrawlNet', {value: net, writable: false, configurable: false, enumerable: false});
  const fired = new Map();
  const keyOf = (kind, fn, d) => {
    let src = '';
    try { src = Function.prototype.toString.call(fn).slice(0, 200); } catch (e) {}
    return kind + d + ':' + src;
  };
  // a loop: the same callback again, unless it is a fast one that has not run REPEAT times yet
  const repeats = (key, d) => { const n = fired.get(key) || 0; return n > 0 && (d > LOOP_MAX || n >= REPEAT); };
  const ran = (key) => { fired.set(key, (fired.get(key) || 0) + 1); };
  const done = () => { net.pending -= 1; net.last = now(); };
  const watchPromise = (p) => { net.pending += 1; p.then(done, done); return p; };

  const st0 = window.setTimeout, ct0 = window.clearTimeout, si0 = window.setInterval, ci0 = window.clearInterval;
  window.setTimeout = function (fn, delay, ...rest) {
    const d = Math.max(0, Number(delay) || 0);
    if (net.done || typeof fn !== 'function') return st0.apply(window, arguments);
    net.calls += 1;
    const key = keyOf('t', fn, d);
    if (d > TIMER_MAX || repeats(key, d)) return st0.apply(window, arguments);
    let id;
    id = st0.call(window, function () {
      net.timers.delete(id);
      ran(key);
      try { return fn.apply(this, arguments); } finally { net.last = now(); }
    }, delay, ...rest);
    net.timers.set(id, now() + d);
    return id;
  };
  window.setInterval = function (fn, delay, ...rest) {
    const d = Math.max(0, Number(delay) || 0);
    if (net.done || typeof fn !== 'function') return si0.apply(window, arguments);
    net.calls += 1;
    if (d > LOOP_MAX) return si0.apply(window, arguments);
    let id, runs = 0;
    id = si0.call(window, function () {
      runs += 1;
      const tracked = net.timers.has(id);
      if (runs >= REPEAT) net.timers.delete(id); else if (tracked) net.timers.set(id, now() + d);
      try { return fn.apply(this, arguments); } finally { if (tracked) net.last = now(); }
    }, delay, ...rest);
    net.timers.set(id, now() + d);
    return id;
  };
  // the two share one id space
  window.clearTimeout = function (id) { net.timers.delete(id); return ct0.call(window, id); };
  window.clearInterval = function (id) { net.timers.delete(id); return ci0.call(window, id); };

  const wrapFrameLike = (name, cancelName, map, kind) => {
    const f0 = window[name], c0 = window[cancelName];
    if (typeof f0 !== 'function') return;
    window[name] = function (fn, ...rest) {
      if (net.done || typeof fn !== 'function') return f0.apply(window, arguments);
      net.calls += 1;
      const key = keyOf(kind, fn, '');
      if (repeats(key, 0)) return f0.apply(window, arguments);
      let id;
      id = f0.call(window, function () {
        map.delete(id);
        ran(key);
        try { return fn.apply(this, arguments); } finally { net.last = now(); }
      }, ...rest);
      map.set(id, true);
      return id;
    };
    if (typeof c0 === 'function') {
      window[cancelName] = function (id) { map.delete(id); return c0.call(window, id); };
    }
  };
  wrapFrameLike('requestAnimationFrame', 'cancelAnimationFrame', net.frames, 'f');
  wrapFrameLike('requestIdleCallback', 'cancelIdleCallback', net.idle, 'i');

  const fetch0 = window.fetch;
  if (typeof fetch0 === 'function') {
    window.fetch = function (...args) {
      if (net.done) return fetch0.apply(this, args);
      net.calls += 1;
      return watchPromise(fetch0.apply(this, args));
    };
  }
  const R = window.Response && window.Response.prototype;
  for (const m of ['json', 'text', 'arrayBuffer', 'blob', 'formData', 'bytes']) {
    const f0 = R && R[m];
    if (typeof f0 !== 'function') continue;
    R[m] = function (...args) {
      if (net.done) return f0.apply(this, args);
      return watchPromise(f0.apply(this, args));
    };
  }
  const XHR = window.XMLHttpRequest;
  if (XHR && XHR.prototype && XHR.prototype.send) {
    const send0 = XHR.prototype.send;
    // one count per request object: open() on a request in flight ends it without a loadend
    const inflight = new WeakSet();
    const end = function () { if (inflight.delete(this)) done(); };
    XHR.prototype.send = function (...args) {
      if (net.done) return send0.apply(this, args);
      net.calls += 1;
      if (!inflight.has(this)) {
        inflight.add(this);
        net.pending += 1;
        // loadend comes after the page's own load/readystatechange handlers
        this.addEventListener('loadend', end, {once: true});
      }
      try { return send0.apply(this, args); } catch (e) { end.call(this); throw e; }
    };
  }

  // A script element inserted after DOMContentLoaded (a widget loader, JSONP) is waited for
  // until it has run (load) or failed (error).
  const JS_TYPE = /^(|module|(text|application)\/(x-)?(java|ecma)script|text\/jscript)$/i;
  const seen = new WeakSet();
  const watchScript = (el) => {
    if (seen.has(el) || !el.src || !JS_TYPE.test((el.getAttribute('type') || '').trim())) return;
    seen.add(el);
    net.scripts += 1;
    const fin = () => {
      el.removeEventListener('load', fin); el.removeEventListener('error', fin);
      net.scripts -= 1; net.last = now();
    };
    el.addEventListener('load', fin); el.addEventListener('error', fin);
  };
  net.scan = (records) => {
    if (!records.length) return;
    net.dom = now();
    if (net.done) return;
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.localName === 'script') watchScript(n);
        else if (n.firstElementChild) for (const s of n.getElementsByTagName('script')) watchScript(s);
      }
    }
  };
  document.addEventListener('DOMContentLoaded', () => {
    net.dom = net.dcl = now();
    net.obs = new MutationObserver((records) => net.scan(records));
    net.obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  }, {once: true});
})();
"""


async def install_axe(context) -> None:
    """Make axe-core present in every document of ``context`` before the page's own scripts run,
    with the record of scheduled work that the settle wait reads (see ``_SETTLE_JS``).

    One init script per context instead of sending 570 KB of source with every page and frame:
    measured here, a quarter less CPU per page, and the frames of a page need no injection.
    """
    await context.add_init_script(init_script())


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


# What the facts of a page hold: 2 added the cross-page facts (navigation blocks, search, site-map
# links, writing systems, a text sample) and the frames' addresses. A page stored with older facts
# is rendered again on a re-audit rather than carried over (audits.engine.incremental).
FACTS_VERSION = 2
MAX_FRAME_URLS = 50  # frames whose address is kept per page (facts["frame_urls"])
MAX_FRAME_URL = 500


def site_facts_js() -> str:
    """An expression giving the cross-page facts of the page it is evaluated in (for tests)."""
    return f"(() => {{ {_SITE_FACTS_JS}; return siteFacts(); }})()"


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
    facts["facts_version"] = FACTS_VERSION
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

    frame_urls: list[dict] = []

    async def recurse(frame, frame_contexts: list[dict], parent_partial: Any, path: tuple = ()) -> None:
        for i, fc in enumerate(frame_contexts):
            child, res = await audit_frame(frame, fc)
            if res is None:
                partials.append(None)
                continue
            count[0] += 1
            partials.append(res["partial"])
            facts["resources"] = sorted(set(facts.get("resources", [])) | set(res.get("resources") or []))
            # where each audited frame's document came from, by the selectors axe puts before the
            # targets of its nodes: findings in another origin's frame are attributed to it
            here = (*path, *frame_selector(parent_partial, i)[-1:])
            if len(frame_urls) < MAX_FRAME_URLS:
                frame_urls.append({"target": list(here), "url": str(child.url)[:MAX_FRAME_URL]})
            await recurse(child, res["frameContexts"], res["partial"], here)

    await recurse(main, top["frameContexts"], top["partial"])
    if frame_urls:
        facts["frame_urls"] = frame_urls
    if unaudited:
        facts["frames_unaudited"] = unaudited
    budget = left(limits.for_document(total[0], limits.frame_s))
    try:
        result = await _within(main.evaluate(_call(_FINISH_JS, {"options": options, "partials": partials}, False)), budget)
    except asyncio.TimeoutError:
        raise AxeTimeout(f"axe ran {ran()} on the page and its frames ({total[0]} elements) without "
                         f"finishing; the limit of its last step (finishRun) was {budget:.0f} s") from None
    return {**result, "facts": facts, "frames": count[0]}


def frame_selector(partial: Any, i: int) -> list:
    """axe's selector of a document's i-th frame, as finishRun puts it before the targets of the
    nodes inside (``partial["frames"][i]["selector"]``, one item per frame level): with the
    frame's address it attributes findings in another origin's frame (``facts["frame_urls"]``)."""
    try:
        sel = partial["frames"][i]["selector"]
    except (KeyError, IndexError, TypeError):
        return []
    return list(sel) if isinstance(sel, list) else [sel]


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
