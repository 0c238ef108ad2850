"""A tiny site of crawler traps, for the crawl-level tests of ``crawler/``.

- ``/lost/...``: a "soft 404": every URL below it answers 200 "Page not found" with two new
  random relative links, made of letters only (so no URL template folds them together).
- ``/nf/...``: the same, with random letters-and-digits tokens (which the URL template folds).
- ``/calendar/2026/1``: next and previous links as paths; ``/diary/january-2026``: months as
  words; ``/cal?month=2026-01``: the month in the query string.
- ``/events/2026/1``: next and previous are ``/events/next?from=...`` and
  ``/events/prev?from=...``, which redirect to the month's page.
- ``/chain/0``: redirects to ``/chain/1``, which redirects to ``/chain/2``, and so on.
- ``/app/...``: an app shell, the same HTML for every route, with the same links on each page:
  near-identical pages that are not a trap.
- URLs of exactly 2048 and of 2049 characters as links and in the sitemap, a redirect to a
  2,062-character URL, and a sitemap index listing sitemap URLs of 2049 and 5,000 characters.
"""

from __future__ import annotations

import random
import string

from audits.engine.static_server import Reply

MAX = 2048


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body><main><h1>{title}</h1>{body}</main></body></html>")


def _month(y: int, m: int, step: int) -> tuple[int, int]:
    m += step
    return (y + (m - 1) // 12, (m - 1) % 12 + 1)


MONTHS = "january february march april may june july august september october november december".split()


def long_path(base: str, length: int, letter: str) -> str:
    """A path that makes ``base + path`` exactly ``length`` characters long."""
    return "/" + letter * (length - len(base) - 1)


SECTIONS = ("lost", "nf", "calendar", "diary", "cal", "events", "chain", "app", "long")


def routes(base: str, sections: tuple[str, ...] = SECTIONS, seed: int = 1) -> dict:
    """The site's routes, served at ``base``; the home page links to the given sections only
    (the sitemap, with its long URLs, belongs to "long")."""
    rng = random.Random(seed)

    def word() -> str:  # pronounceable, letters only: "bakomu"
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    def token() -> str:  # letters and digits interleaved: "k3x9q2m7"
        return "".join(rng.choice(string.ascii_lowercase) + rng.choice(string.digits) for _ in range(5))

    def lost(h):
        return Reply(body=page("Page not found", "<p>Sorry, we could not find that page. It may have moved.</p>"
                               f'<p><a href="{word()}">Try this page</a> or <a href="{word()}">this one</a>.</p>'))

    def nf(h):
        return Reply(body=page("Nothing here", "<p>This address leads nowhere. Please check it and try again.</p>"
                               f'<p><a href="{token()}">Try this page</a> or <a href="{token()}">this one</a>.</p>'))

    def calendar(h):
        y, m = map(int, h.path.split("/")[2:4])
        (ny, nm), (py, pm) = _month(y, m, 1), _month(y, m, -1)
        return Reply(body=page(f"Calendar {y}-{m:02d}", "<p>No events this month.</p>"
                               f'<a href="/calendar/{ny}/{nm}">Next</a> <a href="/calendar/{py}/{pm}">Previous</a>'))

    def diary(h):
        name, y = h.path.split("/")[2].split("-")
        m = MONTHS.index(name) + 1
        (ny, nm), (py, pm) = _month(int(y), m, 1), _month(int(y), m, -1)
        return Reply(body=page(f"Diary {name} {y}", "<p>Nothing planned.</p>"
                               f'<a href="/diary/{MONTHS[nm - 1]}-{ny}">Next</a> '
                               f'<a href="/diary/{MONTHS[pm - 1]}-{py}">Previous</a>'))

    def cal(h):
        y, m = map(int, h.path.split("month=")[1].split("-"))
        (ny, nm), (py, pm) = _month(y, m, 1), _month(y, m, -1)
        return Reply(body=page(f"Cal {y}-{m:02d}", f'<a href="/cal?month={ny}-{nm:02d}">Next</a> '
                                                   f'<a href="/cal?month={py}-{pm:02d}">Previous</a>'))

    def events(h):
        y, m = map(int, h.path.split("/")[2:4])
        return Reply(body=page(f"Events {y}-{m:02d}", f'<a href="/events/next?from={y}-{m}">Next</a> '
                                                      f'<a href="/events/prev?from={y}-{m}">Previous</a>'))

    def events_step(step):
        def handler(h):
            y, m = map(int, h.path.split("from=")[1].split("-"))
            ny, nm = _month(y, m, step)
            return Reply(302, headers={"Location": f"/events/{ny}/{nm}"})
        return handler

    def chain(h):
        return Reply(302, headers={"Location": f"/chain/{int(h.path.split('/')[2]) + 1}"})

    app_nav = "".join(f'<li><a href="/app/{r}">{r.title()}</a></li>' for r in "abcdefgh")
    app_shell = Reply(body=page("Council app", f"<nav><ul>{app_nav}</ul></nav>"
                                               "<div id=app>Loading the app, please wait.</div>"))

    link_ok, link_long = long_path(base, MAX, "a"), long_path(base, MAX + 1, "b")
    map_ok, map_long = long_path(base, MAX, "c"), long_path(base, MAX + 1, "d")
    redirect_long = long_path(base, 2062, "e")
    entries = {"lost": ["/lost/start"], "nf": ["/nf/start"], "calendar": ["/calendar/2026/1"],
               "diary": ["/diary/january-2026"], "cal": ["/cal?month=2026-01"], "events": ["/events/2026/1"],
               "chain": ["/chain/0"], "app": ["/app/"], "long": ["/long-redirect", link_ok, link_long]}
    links = [u for name in sections for u in entries[name]]
    home = page("Trap site", "<ul>" + "".join(f'<li><a href="{u}">{u[:40]}</a></li>' for u in links) + "</ul>")
    sitemap = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"<url><loc>{base}{map_ok}</loc></url><url><loc>{base}{map_long}</loc></url></urlset>")
    index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<sitemap><loc>{base}/sitemap.xml</loc></sitemap>"
             f"<sitemap><loc>{base}{long_path(base, 5000, 'f')}</loc></sitemap>"
             f"<sitemap><loc>{base}{long_path(base, MAX + 1, 'g')}</loc></sitemap></sitemapindex>")
    return {
        "/": Reply(body=home),
        "/robots.txt": Reply(body="User-agent: *\nDisallow:\n" + (f"Sitemap: {base}/sitemap-index.xml\n"
                                                                  if "long" in sections else ""),
                             ctype="text/plain"),
        **({"/sitemap-index.xml": Reply(body=index, ctype="application/xml"),
            "/sitemap.xml": Reply(body=sitemap, ctype="application/xml")} if "long" in sections else {}),
        "/lost/": lost,
        "/nf/": nf,
        "/calendar/": calendar,
        "/diary/": diary,
        "/cal": cal,
        "/events/next": events_step(1),
        "/events/prev": events_step(-1),
        "/events/": events,
        "/chain/": chain,
        "/app/": app_shell,
        **{f"/app/{r}": app_shell for r in "abcdefgh"},
        "/long-redirect": Reply(302, headers={"Location": redirect_long}),
        link_ok: Reply(body=page("Long but allowed", "<p>2048 characters exactly.</p>")),
        link_long: Reply(body=page("Too long", "<p>2049 characters.</p>")),
        map_ok: Reply(body=page("Long but allowed (sitemap)", "<p>2048 characters exactly.</p>")),
        map_long: Reply(body=page("Too long (sitemap)", "<p>2049 characters.</p>")),
        redirect_long: Reply(body=page("Redirected too far", "<p>2062 characters.</p>")),
    }
