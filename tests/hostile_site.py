"""A hostile fixture site: one URL per hazard, with the state each must end in.

``EXPECTED`` maps a path (relative to the site root) to ``(status, reason_code)``; a
``None`` reason means audited. ``OTHER`` is a second server standing for "another host": it must
receive no request at all.
"""

from __future__ import annotations

import socket
import time

from audits.engine.static_server import Reply
from fixture_site import PDF, PNG, page


def _calendar(h):
    path = h.path.rstrip("/")
    parts = path.split("/")
    year, month = int(parts[2]), int(parts[3])
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    return Reply(body=page(f"Events {year}-{month:02d}", f'<a href="/calendar/{ny}/{nm}">Next month</a>'))


def _search(h):
    q = h.path.split("q=", 1)[-1]
    n = sum(map(ord, q)) % 1000
    return Reply(body=page("Search", "".join(f'<a href="/search?q=term{n + i}">Result {i}</a>' for i in range(5))))


def _repeat(h):
    return Reply(body=page("Repeat", f'<a href="{h.path.rstrip("/")}/a/b">Deeper</a>'))


def _hang(h):
    time.sleep(60)
    return Reply(body="late")


def _trickle(h):
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.end_headers()
    h.wfile.write(b"<!doctype html><html lang=en><title>Trickle</title><body>")
    for _ in range(60):
        try:
            h.wfile.write(b"<p>.</p>")
            h.wfile.flush()
        except OSError:
            return None
        time.sleep(1)
    return None


def _reset(h):
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    h.connection.close()
    h.close_connection = True
    return None


def _garbage(h):
    h.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
    h.close_connection = True
    return None


def _huge(h):
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", str(50 * 1024 * 1024))
    h.end_headers()
    try:
        for _ in range(50):
            h.wfile.write(b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>")
    except OSError:
        pass
    h.close_connection = True
    return None


class Flaky:
    """429 with Retry-After the first time, then the page."""

    def __init__(self):
        self.calls = 0
        self.times: list[float] = []

    def __call__(self, h):
        self.calls += 1
        self.times.append(time.monotonic())
        if self.calls == 1:
            return Reply(429, "slow down", "text/plain", headers={"Retry-After": "1"})
        return Reply(body=page("Busy page", "<p>Now it works.</p>"))


def routes(other: str) -> tuple[dict, dict]:
    """(routes, expected). ``other`` is the base URL of the out-of-scope server."""
    flaky = Flaky()
    links = {
        "calendar/2026/1": "Events", "search?q=start": "Search", "a/b": "Repeat", "redirect-loop": "Loop",
        "many-redirects/0": "Many redirects", "huge": "Huge", "hang": "Hang", "trickle": "Trickle",
        "reset": "Reset", "garbage": "Garbage", "js-forever": "Loops at load", "axe-forever": "Loops after load",
        "crash": "Crash", "dialogs": "Dialogs", "popup": "Popup", "meta-out": "Meta refresh out",
        "redirect-out": "Redirect out", "js-nav-out": "Script navigates out", "frame-out": "Frame out",
        "private": "Members", "download": "Download", "notype": "No type", "latin1": "Latin-1",
        "malformed": "Malformed", "caf%C3%A9": "Café", "spa": "App", "flaky": "Flaky", "always-503": "Down",
        "teapot": "Gone", "gc-hijack": "Replaces our GC", "papers/minutes.docx": "Minutes", "papers/budget.pdf": "Budget",
        "about?utm_source=news&utm_medium=email": "About (tracked)", "about": "About",
        "meta-later": "Refreshes later", "sandboxed": "Sandboxed frame", "restless": "Navigates by itself",
    }
    home_links = "".join(f'<li><a href="/{href}">{text}</a></li>' for href, text in links.items())
    home_links += '<li><a href="javascript:void(0)">Menu</a></li><li><a href="tel:+441234567890">Call</a></li>'
    home_links += f'<li><a href="/{"x" * 2100}">Long</a></li><li><a href="{other}/elsewhere">Partner site</a></li>'
    r = {
        "/": Reply(body=page("Hostile home", f"<ul>{home_links}</ul>")),
        "/about": Reply(body=page("About", "<p>About us.</p>")),
        "/robots.txt": Reply(body="User-agent: *\nDisallow: /private\n", ctype="text/plain"),
        "/logo.png": Reply(body=PNG, ctype="image/png"),
        "/redirect-loop": Reply(302, headers={"Location": "/redirect-loop-2"}),
        "/redirect-loop-2": Reply(302, headers={"Location": "/redirect-loop"}),
        "/hang": _hang,
        "/trickle": _trickle,
        "/reset": _reset,
        "/garbage": _garbage,
        "/huge": _huge,
        "/js-forever": Reply(body=page("Forever", "<p>x</p><script>while (true) {}</script>")),
        "/axe-forever": Reply(body=page("After load", "<p>x</p>", head="""<script>
window.addEventListener('load', () => setTimeout(() => { while (true) {} }, 0));</script>""")),
        "/crash": Reply(body=page("Crash", "<p>x</p>", head="""<script>
const hog = []; window.addEventListener('load', () => { for (;;) hog.push(new Array(1e6).fill(hog.length)); });</script>""")),
        "/dialogs": Reply(body=page("Dialogs", "<p>x</p>", head="""<script>
alert('hello'); confirm('sure?'); window.addEventListener('beforeunload', (e) => { e.preventDefault(); e.returnValue = ''; });
</script>""")),
        "/popup": Reply(body=page("Popup", "<p>x</p>", head=f"<script>window.open('{other}/popup');</script>")),
        "/meta-out": Reply(body=page("Meta", "<p>x</p>", head=f'<meta http-equiv="refresh" content="0;url={other}/meta">')),
        "/redirect-out": Reply(302, headers={"Location": f"{other}/redirected"}),
        "/js-nav-out": Reply(body=page("Nav", "<p>x</p>", head=f"<script>window.addEventListener('load', () => {{ location.href = '{other}/jsnav'; }});</script>")),
        "/frame-out": Reply(body=page("Frame", f'<iframe src="{other}/frame" title="Partner"></iframe>')),
        "/private": Reply(body=page("Private", "<p>x</p>")),
        "/download": Reply(body=b"a,b\n1,2\n", ctype="application/octet-stream",
                           headers={"Content-Disposition": 'attachment; filename="data.csv"'}),
        "/notype": Reply(body=page("No content type", "<p>x</p>"), ctype=None),
        "/latin1": Reply(body=page("Caf\u00e9 d\u00e9j\u00e0 vu", "<p>Cr\u00e8me br\u00fbl\u00e9e</p>").encode("latin-1"),
                         ctype="text/html; charset=iso-8859-1"),
        "/malformed": Reply(body="<html><head><title>Broken<body><p><div><table><tr><td>cell<p>unclosed"),
        "/caf%C3%A9": Reply(body=page("Café", "<p>x</p>")),
        "/spa": Reply(body=page("App", '<div id="app"></div>', head="""<script>
document.addEventListener('DOMContentLoaded', () => { document.getElementById('app').innerHTML =
'<a href="/spa-only">Only in the app</a>'; });</script>""")),
        "/spa-only": Reply(body=page("Reached through the rendered DOM", "<p>x</p>")),
        "/flaky": flaky,
        "/always-503": Reply(503, "down", "text/plain"),
        "/teapot": Reply(410, page("Gone", "<p>gone</p>")),
        # a page that replaces the garbage-collection hook a11ycrawl calls before axe
        "/gc-hijack": Reply(body=page("GC", '<img src="/logo.png">', head="""<script>
globalThis.__a11ycrawlGC = function () { throw new Error('not yours'); };</script>""")),
        # a refresh after a delay is a page (axe's meta-refresh failure), stopped while audited
        "/meta-later": Reply(body=page("Later", "<p>x</p>", head='<meta http-equiv="refresh" content="2; url=/later">')),
        "/later": Reply(body=page("Where the refresh leads", "<p>x</p>")),
        # a frame in which no script can run: listed as unaudited, the page audited
        "/sandboxed": Reply(body=page("Sandboxed", '<iframe sandbox="" src="/framed" title="Form"></iframe>')),
        "/framed": Reply(body=page("In a frame", '<input type="text">')),
        # keeps navigating: stopped while audited, and must not abort the next page's navigation
        "/restless": Reply(body=page("Restless", "<p>x</p>", head="""<script>
setInterval(() => { location.href = '/restless?' + Date.now(); }, 100);</script>""")),
        "/papers/minutes.docx": Reply(body=b"PK\x03\x04", ctype="application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "/papers/budget.pdf": Reply(body=PDF, ctype="application/pdf"),
    }
    r["/calendar/"] = _calendar
    r["/search"] = _search
    r["/a/"] = _repeat
    for i in range(15):
        r[f"/many-redirects/{i}"] = Reply(302, headers={"Location": f"/many-redirects/{i + 1}"})
    expected = {
        "": ("audited", None), "about": ("audited", None),
        "redirect-loop": ("failed", "redirect_loop"),
        "many-redirects/0": ("failed", "too_many_redirects"),
        "huge": ("failed", "too_large"),
        "hang": ("failed", "timeout"), "trickle": ("failed", "timeout"),
        "reset": ("failed", "connection_error"), "garbage": ("failed", "protocol_error"),
        "js-forever": ("failed", "timeout"), "axe-forever": ("failed", "audit_timeout"),
        "crash": ("failed", "renderer_crashed"),
        "dialogs": ("audited", None), "popup": ("audited", None),
        "meta-out": ("skipped", "out_of_scope"), "redirect-out": ("skipped", "out_of_scope"),
        "js-nav-out": ("audited", None), "frame-out": ("audited", None),
        "private": ("skipped", "robots_disallowed"), "download": ("skipped", "download"),
        "notype": ("audited", None), "latin1": ("audited", None), "malformed": ("audited", None),
        "caf%C3%A9": ("audited", None), "spa": ("audited", None), "spa-only": ("audited", None),
        "flaky": ("audited", None), "always-503": ("failed", "http_error"), "teapot": ("skipped", "broken_link"),
        "gc-hijack": ("audited", None),
        "meta-later": ("audited", None), "sandboxed": ("audited", None), "restless": ("audited", None),
        "later": ("audited", None),
        "javascript:void(0)": ("skipped", "non_http_scheme"), "tel:+441234567890": ("skipped", "non_http_scheme"),
        "x" * 2100: ("skipped", "url_too_long"), "OTHER/elsewhere": ("skipped", "out_of_scope"),
    }
    return r, expected, flaky
