"""A fixture site whose pages are finished by their scripts after load, each in a different way,
for the settle wait's tests. Every piece of late content carries one known violation, so a page
audited too early is missing that finding.

- ``/``: no scripts at all (the settle wait's fast path); links to every page. Clean.
- ``/about``: no scripts. Clean.
- ``/news-box``: the demo's own ``latest-news.js`` (fetch on DOMContentLoaded, then
  ``response.json()``), with the feed's body sent 0.4 s after its headers: the race the demo hit
  on a busy machine, made to happen every time. image-alt.
- ``/load-chain``: a ``load`` handler -> a 100 ms timer -> a promise -> a fetch the server
  answers after 0.4 s -> ``json()`` -> an image without alt. image-alt.
- ``/load-timer``: a ``load`` handler -> a 300 ms timer -> an empty button. button-name.
- ``/load-frame``: a ``load`` handler -> a promise -> two animation frames -> an unlabelled
  input. label.
- ``/load-script``: a ``load`` handler inserts ``<script src=/widget.js>`` (served after 0.4 s),
  which adds an empty link. link-name.
- ``/xhr``: a ``load`` handler -> XMLHttpRequest answered after 0.4 s -> a 0 ms timer -> an image
  without alt. image-alt.
- ``/idle``: a ``load`` handler -> ``requestIdleCallback`` -> a 200 ms timer -> an unlabelled
  select. select-name.
- ``/busy``: an image without alt, and a counter that changes every 20 ms for ever: never quiet,
  so it is audited at the cap and marked unsettled. image-alt.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import audits.demo
from fixture_site import PNG, page
from audits.engine.static_server import Reply

LATEST_NEWS_JS = (Path(audits.demo.__file__).parent / "templates" / "latest-news.js").read_bytes()

# path -> the rules axe must report once the page has settled
EXPECTED = {
    "/": set(),
    "/about": set(),
    "/news-box": {"image-alt"},
    "/load-chain": {"image-alt"},
    "/load-timer": {"button-name"},
    "/load-frame": {"label"},
    "/load-script": {"link-name"},
    "/xhr": {"image-alt"},
    "/idle": {"select-name"},
    "/busy": {"image-alt"},
}
# path -> what the settle wait must say it waited for (at least): only where that work is still
# pending for 0.3 s or more after load (two animation frames may well be over before the wait starts)
WAITED_FOR = {
    "/news-box": {"network"},
    "/load-chain": {"network"},
    "/load-timer": {"timer"},
    "/load-script": {"script"},
    "/xhr": {"network"},
}
LATE = 0.4  # seconds: how late the slow responses come

FEED = {
    "items": [{"title": "Bin collections over the holidays", "url": "/about", "date": "2026-12-01",
               "image": "/logo.png", "alt": None}],
    "more": {"url": "/about", "text": "All news"},
}


def _late_body(body: bytes, ctype: str):
    """A handler that sends the headers at once and the body LATE seconds later."""

    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        h.wfile.flush()
        time.sleep(LATE)
        h.wfile.write(body)
        return None

    return handler


def _script(js: str) -> str:
    return f"<script>{js}</script>"


def routes() -> dict:
    links = "".join(f'<li><a href="{p}">{p.strip("/")} page</a></li>' for p in EXPECTED if p != "/")
    late = dict(ctype="application/json", delay=LATE, headers={"Cache-Control": "no-store"})
    return {
        "/": Reply(body=page("Settle fixture", f"<ul>{links}</ul>")),
        "/about": Reply(body=page("About", "<p>About us.</p>")),
        "/logo.png": Reply(body=PNG, ctype="image/png"),
        "/robots.txt": Reply(404),
        "/news-box": Reply(body=page("News box", """<section id="latest-news" data-src="/feed.json"
aria-labelledby="latest-news-heading"><h2 id="latest-news-heading">Latest news</h2>
<p class="latest-news__status">Loading the latest news</p></section>""",
                                     head='<script src="/latest-news.js" defer></script>')),
        "/latest-news.js": Reply(body=LATEST_NEWS_JS, ctype="text/javascript"),
        "/feed.json": _late_body(json.dumps(FEED).encode(), "application/json"),
        "/load-chain": Reply(body=page("Load chain", '<div id="box"></div>', head=_script("""
addEventListener('load', () => setTimeout(() => {
  Promise.resolve().then(() => fetch('/slow.json')).then((r) => r.json()).then((d) => {
    document.getElementById('box').innerHTML = d.html; });
}, 100));"""))),
        "/slow.json": Reply(body=json.dumps({"html": '<img src="/logo.png">'}), **late),
        "/load-timer": Reply(body=page("Load timer", '<div id="box"></div>', head=_script("""
addEventListener('load', () => setTimeout(() => {
  document.getElementById('box').innerHTML = '<button type="button"></button>'; }, 300));"""))),
        "/load-frame": Reply(body=page("Load frame", '<div id="box"></div>', head=_script("""
addEventListener('load', () => Promise.resolve().then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
  document.getElementById('box').innerHTML = '<input type="text">'; }))));"""))),
        "/load-script": Reply(body=page("Load script", '<div id="box"></div>', head=_script("""
addEventListener('load', () => { const s = document.createElement('script'); s.src = '/widget.js';
  document.head.appendChild(s); });"""))),
        "/widget.js": Reply(body="document.getElementById('box').innerHTML = '<a href=\"/about\"></a>';",
                            ctype="text/javascript", delay=LATE, headers={"Cache-Control": "no-store"}),
        "/xhr": Reply(body=page("XHR", '<div id="box"></div>', head=_script("""
addEventListener('load', () => { const x = new XMLHttpRequest(); x.open('GET', '/slow.json');
  x.onload = () => setTimeout(() => { document.getElementById('box').innerHTML = JSON.parse(x.responseText).html; }, 0);
  x.send(); });"""))),
        "/idle": Reply(body=page("Idle", '<div id="box"></div>', head=_script("""
addEventListener('load', () => requestIdleCallback(() => setTimeout(() => {
  document.getElementById('box').innerHTML = '<select><option>One</option></select>'; }, 200)));"""))),
        "/busy": Reply(body=page("Busy", '<img src="/logo.png"><p>Visitors: <span id="n">0</span></p>', head=_script("""
let n = 0; setInterval(() => { document.getElementById('n').textContent = String(++n); }, 20);"""))),
    }
