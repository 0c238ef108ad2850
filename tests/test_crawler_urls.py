"""crawler.urls: normalisation, scope and classification, as pure functions (no Scrapy, no I/O)."""

import pytest

from crawler.urls import (
    MAX_URL_LENGTH, Scope, document_kind, is_asset, is_http_url, is_private_host, normalise_url, origin_host,
    shorten, too_long,
)

# -- normalise_url -------------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("HTTP://Example.org:80/a/../b/?utm_source=x&b=2&a=1#top", "http://example.org/b/?a=1&b=2"),
    ("https://example.org:443", "https://example.org/"),
    ("http://example.org:8080/x", "http://example.org:8080/x"),
    ("http://example.org./x", "http://example.org/x"),
    ("http://example.org/x#frag", "http://example.org/x"),
    ("http://example.org/x?", "http://example.org/x"),
    ("  http://example.org/x  ", "http://example.org/x"),
    # tracking parameters go, whatever their case; others stay, sorted
    ("http://example.org/?UTM_Medium=x&fbclid=1&id=3&gclid=2", "http://example.org/?id=3"),
    ("http://example.org/?b=&a", "http://example.org/?a=&b="),
    # path case and trailing slash are the server's business
    ("http://example.org/A/B/", "http://example.org/A/B/"),
    ("http://example.org/A/B", "http://example.org/A/B"),
    ("http://example.org/a/./b/../c/", "http://example.org/a/c/"),
    # percent-encoding normalised; non-ASCII encoded as UTF-8; other encodings left alone
    ("http://example.org/caf%c3%a9", "http://example.org/caf%C3%A9"),
    ("http://example.org/café", "http://example.org/caf%C3%A9"),
    ("http://example.org/%7euser", "http://example.org/~user"),
    ("http://example.org/a b", "http://example.org/a%20b"),
    ("http://example.org/?q=%E9", "http://example.org/?q=%E9"),
    # IDN hosts in their ASCII form, IPv6 literals kept in brackets
    ("http://Bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
])
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


@pytest.mark.parametrize("url", [
    "HTTP://Example.org:80/a/../b/?utm_source=x&b=2&a=1#top", "http://Bücher.example/café?q=é",
    "http://example.org/?q=%E9&z=1&a=%20", "http://[::1]:8080/x/./y", "https://example.org/%7e/A?B=b",
])
def test_normalise_url_is_idempotent(url):
    once = normalise_url(url)
    assert normalise_url(once) == once


def test_origin_host():
    assert origin_host("HTTP://Example.org:8080/x") == "example.org:8080"
    assert origin_host("https://example.org:443/") == "example.org"
    assert origin_host("http://example.org:443/") == "example.org:443"


# -- classification ------------------------------------------------------------------------


@pytest.mark.parametrize("url, ok", [
    ("https://example.org/a", True), ("http://127.0.0.1:8000/", True), ("http://[::1]/", True),
    ("/relative", False), ("example.org/a", False), ("http://", False), ("http://[::1", False),
    ("ftp://example.org/", False), ("mailto:a@example.org", False), ("javascript:void(0)", False), ("", False),
])
def test_is_http_url(url, ok):
    assert is_http_url(url) is ok


@pytest.mark.parametrize("url, ctype, kind", [
    ("http://x.org/minutes.PDF", None, "pdf"),
    ("http://x.org/a.docx", None, "word"), ("http://x.org/a.rtf", None, "word"), ("http://x.org/a.odt", None, "odf"),
    ("http://x.org/a.xlsx", None, "excel"), ("http://x.org/a.csv", None, "csv"),
    ("http://x.org/a.pptx", None, "powerpoint"),
    ("http://x.org/download?id=3", "application/pdf; charset=binary", "pdf"),
    ("http://x.org/a.pdf", "application/vnd.ms-excel", "excel"),  # the content type wins
    ("http://x.org/a.pdf?x=.html", None, "pdf"),  # the extension of the path, not of the query
    ("http://x.org/page.html", None, None), ("http://x.org/page", "text/html", None), ("http://x.org/", None, None),
])
def test_document_kind(url, ctype, kind):
    assert document_kind(url, ctype) == kind


@pytest.mark.parametrize("url, asset", [
    ("http://x.org/logo.PNG", True), ("http://x.org/app.js", True), ("http://x.org/feed.xml", True),
    ("http://x.org/page.html", False), ("http://x.org/report.pdf", False), ("http://x.org/png", False),
])
def test_is_asset(url, asset):
    assert is_asset(url) is asset


@pytest.mark.parametrize("host, private", [
    ("10.0.0.1", True), ("192.168.1.1", True), ("172.16.0.1", True), ("169.254.1.1", True), ("127.0.0.1", True),
    ("::1", True), ("[::1]", True), ("fc00::1", True), ("fe80::1", True), ("0.0.0.0", True),
    ("localhost", True), ("app.localhost", True), ("LOCALHOST", True),
    ("8.8.8.8", False), ("2001:4860:4860::8888", False), ("example.org", False), ("localhost.example.org", False),
])
def test_is_private_host(host, private):
    assert is_private_host(host) is private


# -- URL length ------------------------------------------------------------------------------


def test_too_long_is_exact():
    base = "http://example.org/"
    assert not too_long(base + "a" * (MAX_URL_LENGTH - len(base)))
    assert too_long(base + "a" * (MAX_URL_LENGTH - len(base) + 1))
    assert MAX_URL_LENGTH == 2048


def test_shorten():
    url = "http://example.org/" + "x" * 5000
    assert len(shorten(url)) == 200 and shorten(url).endswith("\u2026") and url.startswith(shorten(url)[:-1])
    assert shorten(url, 20) == url[:19] + "\u2026"
    assert shorten("short") == "short"
    assert shorten("x" * 200) == "x" * 200


# -- Scope -------------------------------------------------------------------------------------


def test_scope_hosts_and_ports():
    scope = Scope.for_start_url("https://Example.org/start")
    assert scope.check("https://example.org/a") is None
    assert scope.check("http://example.org/a") is None  # the scheme is not part of the scope
    assert scope.check("https://EXAMPLE.ORG./a") is None
    # a host in the scope without a port (the start URL's port is the default) covers its ports
    assert scope.check("https://example.org:8443/a") is None
    assert scope.check("https://www.example.org/a") == "out_of_scope"
    assert scope.check("https://evil-example.org/a") == "out_of_scope"
    assert scope.check("https://example.org.evil.com/a") == "out_of_scope"


def test_scope_port_of_the_start_url():
    scope = Scope.for_start_url("http://127.0.0.1:8000/")
    assert scope.url_host_allowed("http://127.0.0.1:8000/x")
    assert not scope.url_host_allowed("http://127.0.0.1:8001/x")
    assert not scope.url_host_allowed("http://127.0.0.1/x")


def test_scope_subdomains():
    scope = Scope.for_start_url("https://example.org/", include_subdomains=True)
    assert scope.check("https://www.example.org/a") is None
    assert scope.check("https://a.b.example.org/a") is None
    assert scope.check("https://notexample.org/a") == "out_of_scope"
    assert scope.check("https://example.org.evil.com/a") == "out_of_scope"


def test_scope_extra_hosts_idn():
    scope = Scope.for_start_url("https://example.org/", extra_hosts=["Bücher.example", "docs.example.org"])
    assert scope.check(normalise_url("https://bücher.example/a")) is None
    assert scope.check("https://xn--bcher-kva.example/a") is None
    assert scope.check("https://docs.example.org/a") is None
    assert scope.check("https://other.example.org/a") == "out_of_scope"


def test_scope_include_exclude():
    scope = Scope.for_start_url("https://example.org/", include=[r"/services/", r"/news/"], exclude=[r"/news/archive"])
    assert scope.check("https://example.org/services/bins") is None
    assert scope.check("https://example.org/news/today") is None
    assert scope.check("https://example.org/news/archive/2001") == "out_of_scope"
    assert scope.check("https://example.org/about") == "out_of_scope"
    # the host is checked whatever the patterns say
    assert scope.check("https://other.org/services/") == "out_of_scope"


def test_scope_schemes_and_length():
    scope = Scope.for_start_url("https://example.org/")
    for url in ("mailto:a@example.org", "tel:+441234", "javascript:void(0)", "ftp://example.org/a", "data:text/html,x"):
        assert scope.check(url) == "non_http_scheme", url
    base = "https://example.org/"
    assert scope.check(base + "a" * (MAX_URL_LENGTH - len(base))) is None
    assert scope.check(base + "a" * (MAX_URL_LENGTH - len(base) + 1)) == "url_too_long"
    assert scope.check("http://[::1") == "out_of_scope"  # unparseable


def test_scope_private_addresses_from_a_public_start():
    scope = Scope.for_start_url("https://example.org/", extra_hosts=["127.0.0.1", "10.0.0.5", "localhost"])
    assert not scope.allow_private
    for url in ("http://127.0.0.1/", "http://10.0.0.5/", "http://localhost/"):
        assert not scope.url_host_allowed(url), url  # listed, but a public audit never goes there
        assert scope.check(url) == "out_of_scope"


def test_scope_private_addresses_from_a_private_start():
    scope = Scope.for_start_url("http://127.0.0.1:8000/")
    assert scope.allow_private
    assert scope.check("http://127.0.0.1:8000/a") is None
    assert scope.check("http://10.0.0.5:8000/a") == "out_of_scope"  # another host all the same
    assert Scope.for_start_url("http://localhost:3000/").check("http://localhost:3000/x") is None


# -- scope by path (the start URL's directory, as wget --no-parent) -------------------------------


def test_url_directory_as_wget_takes_it():
    from crawler.urls import url_directory

    assert url_directory("https://host/before/home.html") == "/before/"
    assert url_directory("https://host/a/b") == "/a/"  # no trailing slash: b is a file in /a/
    assert url_directory("https://host/a/b/") == "/a/b/"
    assert url_directory("https://host/before?x=1") == "/"
    assert url_directory("https://host") == "/"


def test_scope_path_keeps_the_start_urls_directory():
    scope = Scope.for_start_url("https://example.org/before/home.html")
    assert scope.mode == "path"
    assert scope.check("https://example.org/before/page2.html") is None
    assert scope.check("https://example.org/before/sub/deep.html") is None
    assert scope.check("http://example.org/before/x") is None  # the scheme is not part of the scope
    assert scope.check("https://example.org/before") is None  # the directory itself, without its slash
    assert scope.check("https://example.org/before/?q=1") is None
    for url in ("https://example.org/", "https://example.org/after/home.html", "https://example.org/beforehand/x",
                "https://example.org/other/before/x", "https://example.org/Before/x"):
        assert scope.check(url) == "out_of_scope", url
    # the host check is the host check: the browser's document fence (frames, resources) asks it
    assert scope.url_host_allowed("https://example.org/after/frame.html")


def test_scope_host_widens_to_the_whole_host():
    scope = Scope.for_start_url("https://example.org/before/home.html", mode="host")
    assert scope.mode == "host"
    assert scope.check("https://example.org/after/home.html") is None
    with pytest.raises(ValueError):
        Scope.for_start_url("https://example.org/before/", mode="site")


def test_scope_path_at_the_root_is_the_whole_host():
    for start in ("https://example.org/", "https://example.org/index.html", "https://example.org/before"):
        scope = Scope.for_start_url(start)
        assert scope.mode == "host", start
        assert scope.check("https://example.org/after/x") is None


def test_scope_path_other_hosts_are_whole_and_patterns_only_narrow():
    scope = Scope.for_start_url("https://example.org/before/", extra_hosts=["docs.example.org"],
                                include_subdomains=True, include=[r"/before/|/guides/"], exclude=[r"/before/old/"])
    assert scope.check("https://docs.example.org/guides/a") is None  # --allow-host: the whole host
    assert scope.check("https://www.example.org/guides/a") is None  # a subdomain: the whole host
    assert scope.check("https://example.org/guides/a") == "out_of_scope"  # --include does not widen
    assert scope.check("https://example.org/before/a") is None
    assert scope.check("https://example.org/before/old/a") == "out_of_scope"
    # a port: the directory holds on every port of a host given without one
    assert scope.check("https://example.org:8443/after/") == "out_of_scope"


def test_scope_path_listed_urls_bring_their_directories():
    scope = Scope.for_start_url("https://example.org/before/home.html", seeds=["https://example.org/after/list.html"])
    assert scope.check("https://example.org/after/other.html") is None
    assert scope.check("https://example.org/before/x") is None
    assert scope.check("https://example.org/other/x") == "out_of_scope"
    assert scope.roots() == ["example.org/after/", "example.org/before/"]
