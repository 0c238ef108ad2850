"""Pure URL helpers: normalisation, scope and classification. No I/O."""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

DEFAULT_PORTS = {"http": 80, "https": 443}

#: Query parameters that never change a page's content; dropped before de-duplication.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "_ga", "_gl", "yclid", "igshid", "ref_src", "_hsenc", "_hsmi",
    }
)
TRACKING_PREFIXES = ("utm_",)

DOCUMENT_EXTENSIONS = {
    ".pdf": "pdf",
    ".doc": "word", ".docx": "word", ".rtf": "word", ".odt": "odf",
    ".xls": "excel", ".xlsx": "excel", ".csv": "csv", ".ods": "odf",
    ".ppt": "powerpoint", ".pptx": "powerpoint", ".odp": "odf",
}
DOCUMENT_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/msword": "word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word",
    "application/rtf": "word",
    "application/vnd.ms-excel": "excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
    "application/vnd.ms-powerpoint": "powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "powerpoint",
    "application/vnd.oasis.opendocument.text": "odf",
    "application/vnd.oasis.opendocument.spreadsheet": "odf",
    "application/vnd.oasis.opendocument.presentation": "odf",
}
#: Files that are neither pages nor documents worth recording (assets, archives, media).
ASSET_EXTENSIONS = frozenset(
    ".png .jpg .jpeg .gif .svg .webp .ico .bmp .tif .tiff .css .js .mjs .json .xml .txt .zip .gz .tgz "
    ".rar .7z .mp3 .mp4 .m4a .wav .ogg .webm .avi .mov .woff .woff2 .ttf .eot .exe .dmg .iso .apk".split()
)
#: The longest URL the crawler requests or records as a page; longer ones are ``url_too_long``.
MAX_URL_LENGTH = 2048


def too_long(url: str) -> bool:
    """True when ``url`` is longer than :data:`MAX_URL_LENGTH` characters.

    >>> too_long("http://example.org/" + "a" * 2029), too_long("http://example.org/" + "a" * 2030)
    (False, True)
    """
    return len(url) > MAX_URL_LENGTH


def shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut: for URLs
    and server messages inside reasons and log lines.

    >>> shorten("http://example.org/" + "x" * 5000, 30)
    'http://example.org/xxxxxxxxxx…'
    >>> shorten("http://example.org/")
    'http://example.org/'
    """
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host.

    >>> is_http_url("https://example.org/a"), is_http_url("mailto:a@example.org"), is_http_url("/a")
    (True, False, False)
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def normalise_url(url: str) -> str:
    """Return the canonical form used to audit each page once.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters,
    sorts the query and normalises percent-encoding. The path's case and trailing slash are
    kept: only the server can say those variants are one page (by redirecting), and the
    crawler de-duplicates on the final URL after redirects.

    >>> normalise_url("HTTP://Example.org:80/a/../b/?utm_source=x&b=2&a=1#top")
    'http://example.org/b/?a=1&b=2'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or "/"
    if "/./" in path or "/../" in path or path.endswith(("/.", "/..")):
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        if trailing and not path.endswith("/"):
            path += "/"
    # drop tracking parameters on the raw pairs: decoding values here would mangle queries in
    # other encodings (w3lib's canonicalize_url sorts and encodes the rest correctly)
    query = "&".join(
        pair for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote(pair.split("=", 1)[0]).lower())
    )
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")), keep_fragments=False)


def origin_host(url: str) -> str:
    """'host' or 'host:port' (port only where it is not the scheme's default), lower-cased."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port is None or DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        return host
    return f"{host}:{port}"


def _is_tracking(key: str) -> bool:
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def document_kind(url: str, content_type: str | None = None) -> str | None:
    """'pdf', 'word', 'excel', 'powerpoint', 'odf', 'csv' for documents, else None.

    The content type wins over the extension:

    >>> document_kind("http://example.org/minutes.PDF"), document_kind("http://example.org/a", "application/pdf")
    ('pdf', 'pdf')
    >>> document_kind("http://example.org/page.html") is None
    True
    """
    if content_type:
        ct = content_type.split(";")[0].strip().lower()
        if ct in DOCUMENT_CONTENT_TYPES:
            return DOCUMENT_CONTENT_TYPES[ct]
    ext = posixpath.splitext(urlsplit(url).path.lower())[1]
    return DOCUMENT_EXTENSIONS.get(ext)


def is_asset(url: str) -> bool:
    return posixpath.splitext(urlsplit(url).path.lower())[1] in ASSET_EXTENSIONS


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_private_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for every address a public site must not make us contact: loopback, private,
    link-local (169.254.169.254, the cloud metadata service), carrier-grade NAT, unspecified,
    reserved, documentation and multicast ranges, and IPv6 addresses that embed such an IPv4
    address (``::ffff:10.0.0.1``, 6to4, Teredo, NAT64).

    Every fence (the crawler's scope and name resolver, the browser's document fence and egress
    proxy) asks this one function, so a test can substitute it as a whole.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and is_private_ip(embedded):
            return True
    return not ip.is_global or ip.is_multicast or ip.is_unspecified


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address an IP-literal host stands for, else None. Accepts the legacy IPv4 forms that
    browsers and ``getaddrinfo`` accept too (``127.1``, ``0x7f.0.0.1``, ``2130706433``)."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_private_host(host: str) -> bool:
    """True for 'localhost' names and IP literals that :func:`is_private_ip` refuses.

    A DNS name is judged by the addresses it resolves to, which only the fences that connect can
    see (:mod:`crawler.egress`); this function does no I/O.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = parse_ip(host)
    return ip is not None and is_private_ip(ip)


def origin(url: str) -> str:
    """``scheme://host[:port]`` as browsers write it (lower-case, IDNA, default port left out)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = _ascii_host((parts.hostname or "").rstrip("."))
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" if port is None or DEFAULT_PORTS.get(scheme) == port else f"{scheme}://{host}:{port}"


def _ascii_host(host: str) -> str:
    try:
        return host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return host.lower()


def url_directory(url: str) -> str:
    """The directory a URL's path lies in, as wget's ``--no-parent`` takes it: the path up to its
    last ``/`` (a path without a trailing slash names a file, whose directory is its parent).

    >>> url_directory("https://host/before/home.html"), url_directory("https://host/a/b")
    ('/before/', '/a/')
    >>> url_directory("https://host/before/"), url_directory("https://host/before"), url_directory("https://host")
    ('/before/', '/', '/')
    """
    path = urlsplit(normalise_url(url)).path or "/"
    return path[: path.rindex("/") + 1]


#: ``scope`` values: stay in the start URL's directory (the default), or take the whole host.
SCOPE_MODES = ("path", "host")


@dataclass(frozen=True)
class Scope:
    """Which URLs belong to an audit. Pure; built once from the configuration, and the one object
    every fence asks (the crawler's spider and middlewares, the browser's document fence, the
    links fed back from rendered pages), so the crawler and the browser always agree.

    ``directories`` maps a host (as :func:`origin_host` writes it) to the directories its URLs
    must lie in (``/before/``); a host not in it is in scope whole. Only the start URL's host
    (and the hosts of the listed ``urls``) get directories: hosts added with ``--allow-host`` and
    subdomains are whole-host. The include/exclude patterns then narrow what is left; they never
    widen it.
    """

    hosts: frozenset[str]
    include_subdomains: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_private: bool = False
    directories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _include_re: tuple[re.Pattern, ...] = field(default=(), compare=False, repr=False)
    _exclude_re: tuple[re.Pattern, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def for_start_url(
        cls,
        start_url: str,
        extra_hosts: tuple[str, ...] | list[str] = (),
        include_subdomains: bool = False,
        include: tuple[str, ...] | list[str] = (),
        exclude: tuple[str, ...] | list[str] = (),
        allow_private: bool | None = None,
        mode: str = "path",
        seeds: tuple[str, ...] | list[str] = (),
    ) -> "Scope":
        """``allow_private``: whether the start URL is itself on a loopback, private or
        link-local address (then so may the rest of the audit be). None: judged from the start
        URL's host alone; the engine passes what the host resolves to.

        ``mode``: ``"path"`` keeps the crawl in the directory of the start URL (and of each URL in
        ``seeds``, the listed ``urls``) on its host, like wget's ``--no-parent``; ``"host"``
        takes the whole host. A start URL whose directory is ``/`` is whole-host either way.
        """
        if mode not in SCOPE_MODES:
            raise ValueError(f"scope must be one of {', '.join(SCOPE_MODES)}, not {mode!r}")
        host = (urlsplit(start_url).hostname or "").lower()
        directories: dict[str, set[str]] = {}
        if mode == "path":
            for url in (start_url, *seeds):
                directories.setdefault(origin_host(normalise_url(url)), set()).add(url_directory(url))
        return cls(
            # normalised, so that an internationalised host is compared in its ASCII (IDNA) form
            hosts=frozenset({origin_host(normalise_url(start_url)), *(_ascii_host(h) for h in extra_hosts)}),
            include_subdomains=include_subdomains,
            include=tuple(include),
            exclude=tuple(exclude),
            allow_private=is_private_host(host) if allow_private is None else allow_private,
            # a host with "/" among its directories is in scope whole
            directories=tuple(sorted((h, tuple(sorted(d))) for h, d in directories.items() if "/" not in d)),
            _include_re=tuple(re.compile(p) for p in include),
            _exclude_re=tuple(re.compile(p) for p in exclude),
        )

    @property
    def mode(self) -> str:
        """``"path"`` when some host is limited to directories, else ``"host"``."""
        return "path" if self.directories else "host"

    def roots(self) -> list[str]:
        """Where the audit may go, for people: ``host/before/`` for a directory, ``host`` for a
        whole host (``*.host`` with subdomains)."""
        limited = dict(self.directories)
        out = [f"{h}{d}" for h, dirs in self.directories for d in dirs]
        out += [h for h in sorted(self.hosts) if h not in limited]
        if self.include_subdomains:
            out += [f"*.{h}" for h in sorted(self.hosts)]
        return out

    def in_directory(self, url: str) -> bool:
        """True when ``url`` (normalised) is not on a host limited to directories, or lies in
        one of its directories (the directory's own URL without its trailing slash included)."""
        if not self.directories:
            return True
        try:
            netloc = origin_host(url)
            parts = urlsplit(url)
            hostname = (parts.hostname or "").lower().rstrip(".")
            path = parts.path or "/"
        except ValueError:
            return False
        for host, dirs in self.directories:
            if host in (netloc, hostname):  # a host given without a port covers its ports
                return any(path.startswith(d) or path == d.rstrip("/") for d in dirs)
        return True

    def url_host_allowed(self, url: str) -> bool:
        """True when the URL's host (and port, where not the default) is in scope."""
        try:
            netloc = origin_host(url)
            host = (urlsplit(url).hostname or "").lower().rstrip(".")
        except ValueError:
            return False
        if not host:
            return False
        if netloc in self.hosts or host in self.hosts:
            ok = True
        elif self.include_subdomains:
            ok = any(netloc.endswith("." + h) or host.endswith("." + h) for h in self.hosts)
        else:
            ok = False
        if ok and is_private_host(host) and not self.allow_private:
            return False
        return ok

    def check(self, url: str) -> str | None:
        """Return None when ``url`` is in scope, else the reason code why not."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return "out_of_scope"
        if parts.scheme not in ("http", "https"):
            return "non_http_scheme"
        if too_long(url):
            return "url_too_long"
        if not self.url_host_allowed(url):
            return "out_of_scope"
        if not self.in_directory(url):
            return "out_of_scope"
        if self._include_re and not any(r.search(url) for r in self._include_re):
            return "out_of_scope"
        if any(r.search(url) for r in self._exclude_re):
            return "out_of_scope"
        return None
