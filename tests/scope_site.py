"""A site in two sections, /before/ and /after/, for the scope-by-path tests: links, a sitemap,
redirects and a script-inserted link that cross from one section to the other."""

from __future__ import annotations

from audits.engine.static_server import Reply


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body><main><h1>{title}</h1>{body}</main></body></html>")


def routes(base: str) -> dict:
    """The routes, served at ``base`` (the origin, no trailing slash)."""
    sitemap = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"<url><loc>{base}/before/sitemapped.html</loc></url>"
               f"<url><loc>{base}/after/sitemapped.html</loc></url></urlset>")
    return {
        "/": Reply(body=page("Home", '<a href="/before/home.html">Before</a> <a href="/after/home.html">After</a>')),
        "/sitemap.xml": Reply(body=sitemap, ctype="application/xml"),
        "/before/home.html": Reply(body=page("Before", (
            '<a href="page2.html">Page 2</a> <a href="../after/home.html">After</a> <a href="/">Site home</a> '
            '<a href="/before">This section</a> <a href="/before/out-redirect">Moved out</a> '
            '<a href="/before/in-redirect">Moved in</a> <a href="/other/page.html">Other section</a>'
            '<script>const a = document.createElement("a"); a.href = "/after/scripted.html"; a.textContent = "JS";'
            'document.querySelector("main").append(a);'
            'const b = document.createElement("a"); b.href = "/before/scripted.html"; b.textContent = "JS in";'
            'document.querySelector("main").append(b);</script>'))),
        "/before": Reply(301, headers={"Location": "/before/"}),
        "/before/": Reply(body=page("Before index", '<a href="home.html">Home</a>')),
        "/before/page2.html": Reply(body=page("Before 2", '<a href="sub/deep.html">Deeper</a>')),
        "/before/sub/deep.html": Reply(body=page("Deep", "<p>Deep in the section.</p>")),
        "/before/sitemapped.html": Reply(body=page("Before, from the sitemap", "<p>Listed.</p>")),
        "/before/scripted.html": Reply(body=page("Before, from a script", "<p>Inserted.</p>")),
        "/before/out-redirect": Reply(302, headers={"Location": "/after/moved.html"}),
        "/before/in-redirect": Reply(302, headers={"Location": "/before/moved.html"}),
        "/before/moved.html": Reply(body=page("Moved within", "<p>Here now.</p>")),
        "/before/start": Reply(302, headers={"Location": "/after/home.html"}),
        "/after/home.html": Reply(body=page("After", '<a href="x.html">X</a> <a href="/before/home.html">Before</a>')),
        "/after/x.html": Reply(body=page("After X", "<p>x</p>")),
        "/after/moved.html": Reply(body=page("Moved out", "<p>x</p>")),
        "/after/sitemapped.html": Reply(body=page("After, from the sitemap", "<p>x</p>")),
        "/after/scripted.html": Reply(body=page("After, from a script", "<p>x</p>")),
        "/other/page.html": Reply(body=page("Other", "<p>x</p>")),
    }
