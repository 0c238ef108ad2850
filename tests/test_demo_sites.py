"""The fictional council demo sites (audits/demo/councils.py): content, structure, serving.

No browser here: HTML is parsed with ``html.parser`` and a small static checker mirrors the
axe-core rules that the deliberate defects trigger, so ``expected_violations`` stays honest.
"""

from __future__ import annotations

import http.client
import inspect
import json
import re
import socket
import threading
import time
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from audits.demo import councils as ds
from audits.demo.councils import (
    BROKEN_LINKS, CHAT_WIDGET_PATH, DEFECTS, DEMO_KEYS, DISALLOWED_PATH, DYNAMIC_PAGE_PATH,
    LATEST_NEWS_JSON, REDIRECTS, SITEMAP_ONLY_PATH, DemoServer, DemoSite, active_defects,
    build_site, expected_violations, html_paths, serve_demo_sites,
)

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# --------------------------------------------------------------------------- helpers: HTML


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def iter(self, *tags: str):
        for child in self.children:
            if isinstance(child, Node):
                if not tags or child.tag in tags:
                    yield child
                yield from child.iter(*tags)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)


class Doc(HTMLParser):
    """A tiny DOM: enough to find elements, attributes, text and ancestors."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.cur = self.root
        self.doctype = ""
        self.feed(html)
        self.close()

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), parent=self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), parent=self.cur))

    def handle_endtag(self, tag):
        for node in [self.cur, *self.cur.ancestors()]:
            if node.tag == tag:
                self.cur = node.parent or self.root
                return

    def handle_data(self, data):
        self.cur.children.append(data)

    def all(self, *tags: str) -> list[Node]:
        return list(self.root.iter(*tags))

    def one(self, tag: str) -> Node | None:
        return next(self.root.iter(tag), None)

    def by_id(self, ident: str) -> list[Node]:
        return [n for n in self.root.iter() if n.get("id") == ident]

    def links(self) -> list[str]:
        return [a.get("href") for a in self.all("a") if a.get("href")]


def parse(body: bytes) -> Doc:
    return Doc(body.decode("utf-8"))


def accessible_name(node: Node, doc: Doc) -> str:
    if node.get("aria-hidden") == "true":
        return ""
    if node.get("aria-label"):
        return node.get("aria-label").strip()
    if node.get("aria-labelledby"):
        return " ".join(accessible_name(t, doc) or t.text() for i in node.get("aria-labelledby").split()
                        for t in doc.by_id(i)).strip()
    if node.tag == "img":
        return (node.get("alt") or "").strip()
    parts = [c if isinstance(c, str) else accessible_name(c, doc) for c in node.children]
    return " ".join(p.strip() for p in parts if p.strip())


def control_is_labelled(node: Node, doc: Doc) -> bool:
    if any(node.get(a) for a in ("aria-label", "aria-labelledby", "title", "placeholder")):
        return True
    if any(a.tag == "label" for a in node.ancestors()):
        return True
    ident = node.get("id")
    return bool(ident) and any(lab.get("for") == ident for lab in doc.all("label"))


AUTOCOMPLETE_TOKENS = {
    "name", "email", "tel", "postal-code", "address-line1", "address-line2", "street-address",
    "username", "current-password", "new-password", "off", "on",
}


def static_rules(doc: Doc) -> set[str]:
    """The axe rules behind the deliberate defects, checked statically (colour aside)."""
    found: set[str] = set()
    html = doc.one("html")
    if html is None or not html.get("lang"):
        found.add("html-has-lang")
    title = doc.one("title")
    if title is None or not title.text().strip():
        found.add("document-title")
    for meta in doc.all("meta"):
        if meta.get("name") == "viewport" and re.search(r"user-scalable=no|maximum-scale=1\b", meta.get("content", "")):
            found.add("meta-viewport")
    for img in doc.all("img"):
        if img.get("alt") is None:
            found.add("image-alt")
    for frame in doc.all("iframe"):
        if not (frame.get("title") or "").strip():
            found.add("frame-title")
    for a in doc.all("a"):
        if a.get("href") and not accessible_name(a, doc):
            found.add("link-name")
    for button in doc.all("button"):
        if not accessible_name(button, doc):
            found.add("button-name")
    for control in doc.all("input", "select", "textarea"):
        kind = control.get("type", "text")
        if control.tag == "input" and kind == "image":
            if not control.get("alt"):
                found.add("input-image-alt")
            continue
        if kind in ("hidden", "submit", "button", "reset"):
            continue
        if not control_is_labelled(control, doc):
            found.add("select-name" if control.tag == "select" else "label")
        token = control.get("autocomplete")
        if token and token not in AUTOCOMPLETE_TOKENS:
            found.add("autocomplete-valid")
    for table in doc.all("table"):
        ids = {n.get("id") for n in table.iter() if n.get("id")}
        for cell in table.iter("td", "th"):
            if cell.get("headers") and not set(cell.get("headers").split()) <= ids:
                found.add("td-headers-attr")
    referenced = {i for n in doc.all() for i in (n.get("aria-labelledby") or "").split()}
    referenced |= {lab.get("for") for lab in doc.all("label") if lab.get("for")}
    ids = Counter(n.get("id") for n in doc.all() if n.get("id"))
    if any(ids[i] > 1 for i in referenced):
        found.add("duplicate-id-aria")
    faint = {"banner--bright", "site-footer--faint", "review-date--faint"}
    if any(faint & set((n.get("class") or "").split()) for n in doc.all()):
        found.add("color-contrast")
    return found


# --------------------------------------------------------------------------- helpers: HTTP


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ctype(self) -> str:
        return self.headers.get("content-type", "")


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> Resp:
    """One request, no redirects followed, no proxies."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target or "/", body=body, headers=headers or {})
        resp = conn.getresponse()
        return Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def html_files(key: str, variant: str = "before") -> dict[str, bytes]:
    return {p: b for p, (ct, b) in build_site(key, variant).items() if ct.startswith("text/html")}


@pytest.fixture(scope="module")
def sites():
    with serve_demo_sites() as served:
        yield {s.key: s for s in served}


# --------------------------------------------------------------------------- API and content


def test_api_shape():
    assert DEMO_KEYS == ("northbrook", "eastmarsh", "westfold")
    site = ds.demo_site("eastmarsh")
    assert (site.key, site.name, site.quality, site.url) == (
        "eastmarsh", "Eastmarsh Borough Council", "middling", "")
    assert [ds.demo_site(k).quality for k in DEMO_KEYS] == ["good", "middling", "poor"]
    assert list(inspect.signature(build_site).parameters)[:2] == ["key", "variant"]
    assert inspect.signature(serve_demo_sites).parameters["host"].default == "127.0.0.1"
    with pytest.raises(ValueError):
        build_site("southwick")
    with pytest.raises(ValueError):
        build_site("northbrook", "during")


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_page_count_and_sizes(key):
    pages = html_files(key)
    assert 30 <= len(pages) <= 60
    assert set(pages) == set(html_paths(key))
    for path, body in pages.items():
        if path != CHAT_WIDGET_PATH:
            assert 4_500 <= len(body) <= 30_000, (path, len(body))
    files = build_site(key)
    assert all(path.startswith("/") for path in files)
    for path, (ctype, body) in files.items():
        assert isinstance(body, bytes) and body, path
        if path.endswith(".png") or path == "/favicon.ico":
            assert ctype == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_deterministic(key):
    first = build_site(key)
    ds._build.cache_clear()
    assert build_site(key) == first
    assert build_site(key, "after") != first


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_council_structure(key):
    pages = html_files(key)
    name = ds.demo_site(key).name
    services = [p for p in pages if re.fullmatch(r"/services/[a-z-]+/", p)]
    news = [p for p in pages if re.fullmatch(r"/news/[a-z0-9-]+/", p)]
    assert len(services) >= 15 and len(news) == 10
    for needed in ("/services/bins-and-recycling/", "/services/council-tax/", "/services/housing-benefit/",
                   "/services/planning-applications/", "/services/libraries/", "/services/parking/",
                   "/forms/report-missed-bin/", "/forms/parking-permit/", "/contact-us/",
                   "/council/committee-papers/", CHAT_WIDGET_PATH, SITEMAP_ONLY_PATH, DISALLOWED_PATH):
        assert needed in pages, needed
    # Westfold has no accessibility statement, and no link to one
    assert ("/accessibility-statement/" in pages) == (key != "westfold")
    az = parse(pages["/services/"])
    assert set(services) <= set(az.links())
    assert set(news) <= set(parse(pages["/news/"]).links())
    for path, body in pages.items():
        doc = parse(body)
        assert doc.doctype.lower() == "doctype html", path
        if path != CHAT_WIDGET_PATH:
            assert len(doc.all("h1")) == 1, path
            assert any(name in (t.text() or "") for t in doc.all("title")) or "search-page-no-title" in active_defects(key)
            assert {"/", "/services/", "/news/", "/contact-us/", DISALLOWED_PATH} <= set(doc.links()), path
    bins = parse(pages["/services/bins-and-recycling/"])
    tax = parse(pages["/services/council-tax/"])
    assert bins.all("table") and tax.all("table")
    assert len(tax.all("tr")) == 9  # header row + bands A to H
    missed_bin = parse(pages["/forms/report-missed-bin/"])
    permit = parse(pages["/forms/parking-permit/"])
    contact = parse(pages["/contact-us/"])
    for form in (missed_bin, permit, contact):
        assert form.all("form") and form.all("select") + form.all("textarea") + form.all("input")
    assert [i for i in missed_bin.all("input") if i.get("type") == "radio"]
    assert [i for i in permit.all("input") if i.get("type") == "radio"]
    assert missed_bin.all("select") and contact.all("select") and contact.all("textarea")
    assert [f.get("src") for f in contact.all("iframe")] == [ds.DEFAULT_CHAT_ORIGIN + CHAT_WIDGET_PATH]


def test_good_site_landmarks_and_skip_link():
    for path, body in html_files("northbrook").items():
        if path == CHAT_WIDGET_PATH:
            continue
        doc = parse(body)
        skip = doc.all("a")[0]
        assert skip.get("href") == "#main-content" and "Skip" in skip.text(), path
        assert [m.get("id") for m in doc.all("main")] == ["main-content"], path
        assert doc.all("header") and doc.all("footer") and doc.one("html").get("lang") == "en-GB"
        ids = Counter(n.get("id") for n in doc.all() if n.get("id"))
        assert max(ids.values()) == 1, path


# --------------------------------------------------------------------------- defects


@pytest.mark.parametrize("variant", ds.VARIANTS)
@pytest.mark.parametrize("key", DEMO_KEYS)
def test_expected_violations_match_markup(key, variant):
    """Every page's markup shows exactly the rules expected_violations promises."""
    expected = expected_violations(key, variant, frames=False, dynamic=False, needs_review=True)
    pages = html_files(key, variant)
    assert set(expected) == set(pages)
    for path, body in pages.items():
        assert static_rules(parse(body)) == set(expected[path]), path


def test_violation_inventory():
    nb = expected_violations("northbrook")
    assert {p: r for p, r in nb.items() if r} == {
        "/services/planning-applications/": {"color-contrast"},
        "/forms/parking-permit/": {"autocomplete-valid"},
    }
    em = expected_violations("eastmarsh")
    em_rules = set().union(*em.values())
    assert em_rules == {"color-contrast", "image-alt", "label", "select-name"}
    assert all("color-contrast" in rules for path, rules in em.items() if path != CHAT_WIDGET_PATH)
    wf = expected_violations("westfold", needs_review=True)
    wf_rules = set().union(*wf.values())
    assert {"html-has-lang", "color-contrast", "label", "image-alt", "link-name", "button-name",
            "frame-title", "td-headers-attr", "select-name", "duplicate-id-aria", "meta-viewport",
            "document-title", "input-image-alt"} <= wf_rules
    template_level = {"html-has-lang", "color-contrast", "label", "image-alt", "link-name",
                      "button-name", "frame-title", "meta-viewport", "duplicate-id-aria"}
    for path, rules in wf.items():
        if path != CHAT_WIDGET_PATH:
            assert template_level <= rules, path
    assert "duplicate-id-aria" not in set().union(*expected_violations("westfold").values())


def test_frames_and_dynamic_flags():
    with_frames = expected_violations("westfold")
    without = expected_violations("westfold", frames=False)
    assert all("input-image-alt" in with_frames[p] for p in without if p != CHAT_WIDGET_PATH)
    assert not any("input-image-alt" in r for p, r in without.items() if p != CHAT_WIDGET_PATH)
    assert with_frames[CHAT_WIDGET_PATH] == {"image-alt", "label", "input-image-alt"}
    assert expected_violations("eastmarsh")[DYNAMIC_PAGE_PATH] == {"color-contrast", "image-alt"}
    assert expected_violations("eastmarsh", dynamic=False)[DYNAMIC_PAGE_PATH] == {"color-contrast"}
    assert expected_violations("northbrook")[CHAT_WIDGET_PATH] == set()
    assert expected_violations("northbrook")["/contact-us/"] == set()


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_chat_widget_frame(key):
    pages = html_files(key)
    widget = parse(pages[CHAT_WIDGET_PATH])
    frame = parse(pages["/contact-us/"]).one("iframe")
    poor = key == "westfold"
    assert frame.get("src") == ds.DEFAULT_CHAT_ORIGIN + CHAT_WIDGET_PATH  # another origin
    assert (frame.get("title") is None) == poor
    assert (widget.one("img").get("alt") is None) == poor
    assert static_rules(widget) == ({"image-alt", "label", "input-image-alt"} if poor else set())
    embedding = {p for p, b in pages.items() if parse(b).all("iframe")}
    assert embedding == ({p for p in pages if p != CHAT_WIDGET_PATH} if poor else {"/contact-us/"})


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_dynamic_latest_news(key):
    files = build_site(key)
    home = parse(files[DYNAMIC_PAGE_PATH][1])
    box = home.by_id("latest-news")[0]
    assert box.get("data-src") == LATEST_NEWS_JSON
    assert not list(box.iter("img")) and box.get("data-loaded") is None  # filled in by JavaScript
    assert "/assets/js/latest-news.js" in [s.get("src") for s in home.all("script")]
    ctype, body = files[LATEST_NEWS_JSON]
    data = json.loads(body)
    assert ctype == "application/json" and len(data["items"]) == 3
    active = active_defects(key)
    assert any(i["alt"] is None for i in data["items"]) == ("latest-news-img-no-alt" in active)
    assert (data["more"]["text"] == "") == ("latest-news-empty-link" in active)
    assert all(i["url"] in files and i["image"] in files for i in data["items"])
    assert b"getElementById(\"latest-news\")" in files["/assets/js/latest-news.js"][1]


def main_menu(body: bytes) -> tuple[tuple[str, str], ...]:
    nav = next(n for n in parse(body).all("nav") if "main-nav" in (n.get("class") or ""))
    return tuple((a.get("href"), a.text().strip()) for a in nav.iter("a"))


@pytest.mark.parametrize("variant", ["before", "after"])
@pytest.mark.parametrize("key", DEMO_KEYS)
def test_navigation_consistent_except_westfold(key, variant):
    """Northbrook and Eastmarsh: one main menu on every page. Westfold: another order on the news
    pages (3.2.3) and /contact-us/ named "Get in touch" on the council pages (3.2.4)."""
    menus = {p: main_menu(b) for p, b in html_files(key, variant).items() if p != CHAT_WIDGET_PATH}
    if key != "westfold":
        assert set(menus.values()) == {ds.NAV}
        return
    news = {p for p in menus if p.startswith("/news/")}
    council = {p for p in menus if p.startswith("/council/")}
    assert len(news) == 11 and len(council) >= 3
    assert {menus[p] for p in news} == {ds.navigation(key, "/news/")}
    assert [h for h, _ in menus["/news/"]] != [h for h, _ in ds.NAV]
    assert sorted(menus["/news/"]) == sorted(ds.NAV)  # the same links, in another order
    assert {dict(menus[p])["/contact-us/"] for p in council} == {"Get in touch"}
    assert {menus[p] for p in set(menus) - news - council} == {ds.NAV}


def test_docstring_documents_every_defect():
    doc = ds.__doc__
    for key in DEMO_KEYS:
        for name in active_defects(key, "before") | active_defects(key, "after"):
            assert name in doc, name
            assert all(rule in doc for rule in DEFECTS[name].rules), name


# --------------------------------------------------------------------------- variants


AFTER_CHANGES = {
    "northbrook": lambda pages: {"/services/planning-applications/"},
    "eastmarsh": lambda pages: {p for p in pages if re.fullmatch(r"/services/[a-z-]+/", p)} | {
        "/contact-us/", "/accessibility-statement/", "/council/committee-papers/", "/sitemap.xml",
        "/documents/committee-papers/cabinet-minutes-2025-01-14.pdf",
        "/documents/committee-papers/planning-committee-agenda-2025-02-05.pdf"},
    "westfold": lambda pages: set(pages) - {CHAT_WIDGET_PATH} | {
        "/documents/committee-papers/cabinet-minutes-2025-01-14.pdf"},
}


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_variant_changes_exactly_the_documented_pages(key):
    before, after = build_site(key, "before"), build_site(key, "after")
    assert set(before) == set(after)
    changed = {p for p in before if before[p] != after[p]}
    assert changed == AFTER_CHANGES[key](html_files(key))
    exp_before, exp_after = expected_violations(key, "before"), expected_violations(key, "after")
    assert {p for p in exp_before if exp_before[p] != exp_after[p]} <= changed


def test_eastmarsh_after_fixes_alt_and_adds_unlabelled_input():
    before, after = expected_violations("eastmarsh", "before"), expected_violations("eastmarsh", "after")
    service = "/services/libraries/"
    assert "image-alt" in before[service] and "image-alt" not in after[service]
    assert "label" not in before["/contact-us/"] and "label" in after["/contact-us/"]
    doc = parse(build_site("eastmarsh", "after")["/contact-us/"][1])
    reference = [i for i in doc.all("input") if i.get("name") == "reference"]
    assert len(reference) == 1 and not control_is_labelled(reference[0], doc)


def test_set_variant_while_running():
    with DemoServer("eastmarsh") as server:
        def hero() -> Node:
            doc = parse(fetch(server.url + "services/libraries/").body)
            return next(i for i in doc.all("img") if i.get("class") == "hero-image")

        assert hero().get("alt") is None
        contact_before = fetch(server.url + "contact-us/").body
        server.set_variant("after")
        assert server.variant == "after"
        assert hero().get("alt")
        contact_after = fetch(server.url + "contact-us/").body
        assert b'name="reference"' in contact_after and b'name="reference"' not in contact_before
        assert fetch(server.url + "sitemap.xml").body == build_site("eastmarsh", "after", base_url=server.url)["/sitemap.xml"][1]
        server.set_variant("before")
        assert hero().get("alt") is None
        with pytest.raises(ValueError):
            server.set_variant("later")


# --------------------------------------------------------------------------- serving


def test_sites_served_on_own_localhost_ports(sites):
    ports = set()
    for key, site in sites.items():
        assert isinstance(site, DemoSite) and site.server is not None
        parts = urlsplit(site.url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.path == "/"
        assert site.server.address == ("127.0.0.1", parts.port)
        ports.add(parts.port)
        home = fetch(site.url)
        assert home.status == 200 and home.ctype == "text/html; charset=utf-8"
        assert site.name in parse(home.body).one("h1").text()
    assert len(ports) == 3


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_internal_links_resolve(sites, key):
    """Crawl everything reachable from the home page (a, link, img, script, iframe)."""
    site = sites[key]
    origin = site.url.rstrip("/")
    pages = html_files(key)
    seen: dict[str, int] = {}
    queue = deque(["/"])
    external: set[str] = set()
    other_origins: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        resp = fetch(origin + path)
        seen[path] = resp.status
        if resp.status == 301:
            target = urlsplit(urljoin(origin + path, resp.headers["location"])).path
            queue.append(target)
            continue
        if resp.status != 200 or not resp.ctype.startswith("text/html"):
            continue
        doc = parse(resp.body)
        refs = [n.get(attr) for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"),
                                              ("script", "src"), ("iframe", "src"), ("input", "src"))
                for n in doc.all(tag) if n.get(attr)]
        for ref in refs:
            absolute = urljoin(origin + path, ref)
            parts = urlsplit(absolute)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                if parts.hostname == "127.0.0.1":
                    other_origins.add(f"{parts.scheme}://{parts.netloc}{parts.path}")
                else:
                    external.add(parts.hostname)
                continue
            if parts.path not in seen:
                queue.append(parts.path)
    broken = {p for p, status in seen.items() if status == 404}
    assert broken == set(BROKEN_LINKS[key])
    assert {p for p, s in seen.items() if s not in (200, 301, 404)} == set()
    assert {p for p, s in seen.items() if s == 301} == set(REDIRECTS)
    reached_pages = {p for p in seen if p in pages}
    assert reached_pages == set(pages) - {SITEMAP_ONLY_PATH, CHAT_WIDGET_PATH}
    assert external and all(h.endswith(".example") for h in external), external
    # the web chat comes from the vendor's origin (another port), which serves it; the council's
    # own server does not
    assert other_origins == {site.server.chat_origin + CHAT_WIDGET_PATH}
    assert site.server.chat_origin != origin
    chat = fetch(site.server.chat_origin + CHAT_WIDGET_PATH)
    assert chat.status == 200 and chat.body == pages[CHAT_WIDGET_PATH]
    for path in ds.CHAT_FILES:
        assert fetch(origin + path).status == 404
        assert fetch(site.server.chat_origin + path).status == 200
    assert fetch(site.server.chat_origin + "/").status == 404
    assert any(p.endswith(".pdf") for p in seen)


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_sitemap_only_page_is_not_linked(key):
    files = build_site(key)
    linked = set()
    for path, (ctype, body) in files.items():
        if ctype.startswith("text/html"):
            linked |= {urlsplit(urljoin("http://x" + path, h)).path
                       for h in parse(body).links() if not h.startswith("#")}
    assert SITEMAP_ONLY_PATH in files and SITEMAP_ONLY_PATH not in linked
    assert DISALLOWED_PATH in linked


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_robots_txt(sites, key):
    site = sites[key]
    resp = fetch(site.url + "robots.txt")
    assert resp.status == 200 and resp.ctype.startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser(site.url + "robots.txt")
    robots.parse(resp.body.decode().splitlines())
    assert not robots.can_fetch("a11ycrawl", site.url_for(DISALLOWED_PATH))
    assert not robots.can_fetch("a11ycrawl", site.url_for(DISALLOWED_PATH + "pages/edit"))
    assert robots.can_fetch("a11ycrawl", site.url_for("/news/"))
    assert robots.can_fetch("a11ycrawl", site.url_for(SITEMAP_ONLY_PATH))
    assert not robots.can_fetch("BadBot", site.url_for("/news/"))
    assert robots.site_maps() == [site.url + "sitemap.xml"]
    assert fetch(site.url_for(DISALLOWED_PATH)).status == 200  # disallowed, not forbidden


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_sitemap_xml(sites, key):
    site = sites[key]
    resp = fetch(site.url + "sitemap.xml")
    assert resp.status == 200 and resp.ctype == "application/xml"
    root = ET.fromstring(resp.body)
    assert root.tag == f"{SITEMAP_NS}urlset"
    entries = root.findall(f"{SITEMAP_NS}url")
    locs = [e.findtext(f"{SITEMAP_NS}loc") for e in entries]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", e.findtext(f"{SITEMAP_NS}lastmod")) for e in entries)
    assert len(locs) == len(set(locs)) >= 30
    assert all(loc.startswith(site.url) for loc in locs)
    paths = {urlsplit(loc).path for loc in locs}
    assert SITEMAP_ONLY_PATH in paths
    assert DISALLOWED_PATH not in paths and CHAT_WIDGET_PATH not in paths
    assert paths <= set(html_files(key))
    for loc in locs:
        got = fetch(loc)
        assert got.status == 200 and got.ctype.startswith("text/html"), loc


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_committee_papers_are_pdfs(sites, key):
    site = sites[key]
    doc = parse(fetch(site.url_for("/council/committee-papers/")).body)
    pdfs = [h for h in doc.links() if h.endswith(".pdf")]
    assert 3 <= len(pdfs) <= 5
    for href in pdfs:
        head = fetch(site.url_for(href), method="HEAD")
        assert head.status == 200 and head.ctype == "application/pdf" and head.body == b""
        resp = fetch(site.url_for(href))
        body = resp.body
        assert resp.ctype == "application/pdf" and int(resp.headers["content-length"]) == len(body)
        assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
        startxref = int(re.search(rb"startxref\n(\d+)\n", body).group(1))
        assert body[startxref:].startswith(b"xref")
        offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", body)]
        assert [body[o:].split(b" ", 1)[0] for o in offsets] == [str(i).encode() for i in range(1, len(offsets) + 1)]
        assert (b"/Title (" in body) == (ds.document_plan(key)[href] != "untitled")


def test_not_found_redirects_and_methods(sites):
    site = sites["westfold"]
    missing = fetch(site.url_for("/no-such-page/"))
    assert missing.status == 404 and missing.ctype.startswith("text/html")
    assert "Page not found" in parse(missing.body).one("h1").text()
    assert fetch(site.url_for("/no-such-page/"), method="HEAD").body == b""
    assert fetch(site.url_for(BROKEN_LINKS["westfold"][0])).status == 404
    bins = fetch(site.url_for("/bins/"))
    assert bins.status == 301 and bins.headers["location"] == REDIRECTS["/bins/"]
    slashless = fetch(site.url_for("/news") + "?page=2")
    assert slashless.status == 301 and slashless.headers["location"] == "/news/?page=2"
    assert fetch(site.url_for("/news/?utm_source=x")).status == 200
    thanks = fetch(site.url_for("/contact-us/"), method="POST", body=b"name=A&message=Hi",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert thanks.status == 200 and "Thank you" in parse(thanks.body).one("h1").text()
    assert fetch(site.url_for("/news/"), method="POST", body=b"x=1").status == 405


def test_request_counts_and_log():
    with DemoServer("northbrook") as server:
        fetch(server.url + "news/")
        fetch(server.url + "news/")
        fetch(server.url + "news/", method="HEAD")
        fetch(server.url + "news/?utm_source=mail")
        fetch(server.url + "nope/", headers={"User-Agent": "a11ycrawl-test"})
        threads = [threading.Thread(target=fetch, args=(server.url + "services/",)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert server.requests["/news/"] == 3
        assert server.requests["/news/?utm_source=mail"] == 1
        assert server.requests["/services/"] == 6
        assert server.requests["/admin/"] == 0
        assert [(r.method, r.target, r.status) for r in server.log[:5]] == [
            ("GET", "/news/", 200), ("GET", "/news/", 200), ("HEAD", "/news/", 200),
            ("GET", "/news/?utm_source=mail", 200), ("GET", "/nope/", 404)]
        assert server.log[4].user_agent == "a11ycrawl-test"
        assert 1 <= server.max_in_flight <= 6
        server.reset_stats()
        assert not server.requests and not server.log and server.max_in_flight == 0


def test_servers_are_quiet(capfd):
    with DemoServer("westfold") as server:
        fetch(server.url)
        fetch(server.url + "missing")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"NONSENSE\r\n\r\n")
            sock.recv(4096)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # then hang up mid-response
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_servers_stop_on_exit():
    before = set(threading.enumerate())
    with serve_demo_sites(["northbrook", "eastmarsh"]) as served:
        servers = [s.server for s in served]
        ports = [s.server.port for s in served]
        fetch(served[0].url)
        # an idle connection (like a browser preconnect) must not block shutdown
        idle = socket.create_connection(("127.0.0.1", ports[0]), timeout=5)
        ours = set(threading.enumerate()) - before
        assert {"demo-site-northbrook", "demo-site-eastmarsh"} <= {t.name for t in ours}
        assert all(t.daemon for t in ours)
        started = time.monotonic()
    assert time.monotonic() - started < 3
    idle.close()
    for server, port in zip(servers, ports):
        assert not server.running
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    deadline = time.monotonic() + 3
    while any(t.is_alive() for t in ours) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [t.name for t in ours if t.is_alive()]
    servers[0].stop()  # idempotent
