"""A small fixture council site with known violations, for the end-to-end tests.

Known facts the tests rely on:
- ``/``: one image without alt (image-alt); links to every other page.
- ``/services/``: an iframe (with a title) whose document has an image without alt and an
  unlabelled input: image-alt and label must be found *inside the frame*.
- ``/news/``: a script inserts an image without alt and an empty button after load.
- ``/contact``: an unlabelled text input (label).
- ``/late``: fills a box from JSON that arrives 0.6 s after load: an image without alt.
- ``/about``: clean.
- ``/sitemap-only``: linked from nowhere, listed in sitemap.xml.
- ``/admin/secret``: linked, disallowed by robots.txt.
- ``/missing``: 404. ``/slow``: answers after 20 s. ``/report.pdf``: a PDF.
- ``/old-about``: 301 to ``/about`` (same page, audited once).
"""

from __future__ import annotations

from audits.engine.static_server import Reply

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
                    "c0f01f0005000201a7ddd2b60000000049454e44ae426082")


def page(title: str, body: str, lang: str = "en", head: str = "") -> str:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>a {{ display: inline-block; min-height: 24px; min-width: 24px; padding: 4px; }}</style>{head}</head>
<body><header><a href="/">Fixture Council</a><nav aria-label="Main"><ul>
<li><a href="/about">About</a></li><li><a href="/services/">Services</a></li>
<li><a href="/news/">News</a></li><li><a href="/contact">Contact</a></li></ul></nav></header>
<main><h1>{title}</h1>{body}</main><footer><p>Fixture Council</p></footer></body></html>"""


def routes(slow_seconds: float = 20.0) -> dict:
    sitemap = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/</loc></url><url><loc>{base}/sitemap-only</loc></url></urlset>"""

    def sitemap_route(h):
        host = h.headers.get("Host")
        return Reply(200, sitemap.format(base=f"http://{host}"), "application/xml")

    def robots(h):
        host = h.headers.get("Host")
        return Reply(200, f"User-agent: *\nDisallow: /admin/\nSitemap: http://{host}/sitemap.xml\n", "text/plain")

    return {
        "/": Reply(body=page("Home", """<p>Welcome.</p><img src="/logo.png">
<ul><li><a href="/old-about">Old about</a></li><li><a href="/admin/secret">Admin</a></li>
<li><a href="/missing">Missing</a></li><li><a href="/slow">Slow</a></li>
<li><a href="/report.pdf">Annual report (PDF)</a></li><li><a href="/late">Late news</a></li><li><a href="mailto:info@example.org">Email us</a></li>
<li><a href="http://outside.invalid/page">Elsewhere</a></li><li><a href="/about#team">Team</a></li></ul>""")),
        "/about": Reply(body=page("About", "<p>We are a fixture.</p>")),
        "/services/": Reply(body=page("Services", '<p>Chat with us:</p><iframe src="/widget.html" title="Web chat"></iframe>')),
        "/widget.html": Reply(body="""<!doctype html><html lang="en"><head><title>Chat</title></head>
<body><img src="/logo.png"><input type="text" id="msg"><button type="button">Send</button></body></html>"""),
        "/news/": Reply(body=page("News", '<div id="latest">Loading</div>', head="""<script>
document.addEventListener('DOMContentLoaded', () => setTimeout(() => {
  document.getElementById('latest').innerHTML = '<img src="/logo.png" class="js-img"><button class="js-btn"></button>';
}, 30));</script>""")),
        "/late": Reply(body=page("Late news", '<div id="late">Loading</div>', head="""<script>
document.addEventListener('DOMContentLoaded', () => fetch('/late.json').then(r => r.json()).then(d => {
  document.getElementById('late').innerHTML = d.html; }));</script>""")),
        "/late.json": Reply(body='{"html": "<img src=\\"/logo.png\\" class=\\"late-img\\">"}', ctype="application/json", delay=0.6),
        "/contact": Reply(body=page("Contact", '<form><input type="text" name="q"><button>Send</button></form>')),
        "/sitemap-only": Reply(body=page("Only in the sitemap", "<p>Hidden from navigation.</p>")),
        "/admin/secret": Reply(body=page("Admin", "<p>secret</p>")),
        "/slow": Reply(body=page("Slow", "<p>slow</p>"), delay=slow_seconds),
        "/report.pdf": Reply(body=PDF, ctype="application/pdf"),
        "/old-about": Reply(301, b"", headers={"Location": "/about"}),
        "/logo.png": Reply(body=PNG, ctype="image/png"),
        "/robots.txt": robots,
        "/sitemap.xml": sitemap_route,
    }
