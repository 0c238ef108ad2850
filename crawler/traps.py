"""Crawler-trap detection, so that the budget cannot be eaten by one template or one page.

Pure functions and counters over URLs and page text, no I/O:

- :func:`url_template` folds the variable parts of a URL (numbers, dates written as words,
  ids and random tokens), so a calendar or a generator of random links shares one budget;
- :class:`TrapGuard` counts the URLs it admits per template and query strings per path, and
  refuses the first one over a cap;
- :class:`NearDuplicates` groups pages whose visible text is (nearly) the same, such as a
  "page not found" answered with 200, so that the crawler stops following the links that
  such pages keep inventing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from .urls import shorten

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_RUN = re.compile(r"[A-Za-z0-9]+")
_PART = re.compile(r"[a-z]+|[0-9]+")
_HEX_ID = re.compile(r"[0-9a-f]{8,}")
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
#: Dates written as words: English month and weekday names, full and abbreviated.
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday "
    "mon tue tues wed thu thur thurs fri sat sun".split()
)


def is_random_token(token: str) -> bool:
    """True for a token that looks generated rather than written: a UUID, a long hexadecimal
    id, or letters and digits mixed the way random strings mix them.

    Words with a digit or two (``covid19``, ``a11y``, ``page2``, ``2026nov``) are not random.

    >>> [is_random_token(t) for t in ("x7Gk29Qa", "3f2a9c1b7e", "d4c1e5a0-8b8e-4f0e-9c3b-2a7f1e6d9c00")]
    [True, True, True]
    >>> [is_random_token(t) for t in ("covid19", "a11y", "page2", "2026nov", "november", "20261122")]
    [False, False, False, False, False, False]
    """
    if _UUID.fullmatch(token):
        return True
    if len(token) < 6:
        return False
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    if not letters or not digits or letters + digits != len(token):
        return False
    if len(token) >= 8 and _HEX_ID.fullmatch(token.lower()):
        return True  # a hexadecimal id or hash: 3f2a9c1b
    if len(token) >= 16:
        return True  # a long mix of letters and digits: a session, a token, a base64 id
    kinds = ["d" if c.isdigit() else "a" for c in token]
    switches = sum(a != b for a, b in zip(kinds, kinds[1:]))
    if switches >= 3:
        return True  # x7gk29qa: letters and digits interleaved
    return len(token) >= 8 and any(c.isupper() for c in token) and any(c.islower() for c in token)


def _fold_run(run: str) -> str:
    """Fold one alphanumeric run of a path segment (original case)."""
    if is_random_token(run):
        return "{id}"
    out = []
    prev_number = False
    for part in _PART.findall(run.lower()):
        if part.isdigit():
            out.append("{n}")
            prev_number = True
            continue
        if prev_number and part in _ORDINAL_SUFFIXES:
            prev_number = False
            continue  # 22nd, 1st: the number is folded already
        prev_number = False
        out.append("{month}" if part in MONTHS else "{day}" if part in WEEKDAYS else part)
    return "".join(out)


def _fold_segment(segment: str) -> str:
    segment = _UUID.sub("{id}", segment)
    return _RUN.sub(lambda m: _fold_run(m.group(0)), segment)


def url_template(url: str) -> str:
    """Fold the variable parts of a URL, so that pages which share a template (calendars,
    archives, search results, generated links) share a budget.

    Numbers become ``{n}``, month and weekday names ``{month}`` and ``{day}``, ids and random
    tokens ``{id}``; query values are dropped, query keys kept:

    >>> url_template("http://example.org/events/2026/11/22?page=3")
    'example.org/events/{n}/{n}/{n}?page='
    >>> url_template("http://example.org/calendar/November-2026"), url_template("http://example.org/calendar/dec-2026")
    ('example.org/calendar/{month}-{n}', 'example.org/calendar/{month}-{n}')
    >>> url_template("http://example.org/events/Monday-22nd-November"), url_template("http://example.org/events/sat-1st-may")
    ('example.org/events/{day}-{n}-{month}', 'example.org/events/{day}-{n}-{month}')
    >>> url_template("http://example.org/missing/x7Gk29Qa"), url_template("http://example.org/missing/3f2a9c1b7e")
    ('example.org/missing/{id}', 'example.org/missing/{id}')
    """
    parts = urlsplit(url)
    path = "/".join(_fold_segment(seg) for seg in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{parts.netloc.lower()}{path}" + ("?" + "&".join(f"{k}=" for k in keys) if keys else "")


def repeated_segments(url: str, limit: int = 3) -> bool:
    """True when a path segment (or pair of segments) repeats ``limit`` times.

    >>> repeated_segments("http://example.org/a/b/a/b/a/b"), repeated_segments("http://example.org/a/b/c")
    (True, False)
    """
    segs = [s for s in urlsplit(url).path.split("/") if s]
    if len(segs) < limit:
        return False
    counts = Counter(segs)
    if counts and counts.most_common(1)[0][1] >= limit:
        return True
    pairs = Counter(zip(segs, segs[1:]))
    return bool(pairs) and pairs.most_common(1)[0][1] >= limit


@dataclass
class TrapGuard:
    """Counts the URLs admitted per template and the query strings per path; says when to stop.

    Every URL the crawler will request goes through :meth:`check` once, whichever way it was
    found (start URL, list, sitemap, link, redirect): a cap of 50 lets exactly 50 through.

    >>> guard = TrapGuard(per_template=2)
    >>> [guard.check(f"http://example.org/calendar/2026/{m}") for m in (1, 2, 3)]
    [None, None, 'more than 2 pages share the template example.org/calendar/{n}/{n}']
    >>> guard.check("http://example.org/calendar/2026/1")  # admitted already: not counted twice
    """

    per_template: int = 50
    per_path_queries: int = 10
    max_path_segments: int = 20
    near_duplicate_cap: int = 5
    _templates: Counter = field(default_factory=Counter)
    _queries: dict = field(default_factory=dict)
    _admitted: set = field(default_factory=set)
    similar: "NearDuplicates" = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.similar is None:
            self.similar = NearDuplicates(cap=self.near_duplicate_cap)

    def check(self, url: str, force: bool = False) -> str | None:
        """Admit ``url`` (count it) and return None, or return a human reason why it is a trap.

        ``force`` admits it whatever the caps say (the start URL, a resumed URL), so that it
        still counts towards its template's budget.
        """
        if url in self._admitted:
            return None
        parts = urlsplit(url)
        tpl = url_template(url)
        if not force:
            segs = [s for s in parts.path.split("/") if s]
            if len(segs) > self.max_path_segments:
                return f"path deeper than {self.max_path_segments} segments"
            if repeated_segments(url):
                return "repeating path segments"
            if self._templates[tpl] >= self.per_template:
                return f"more than {self.per_template} pages share the template {shorten(tpl, 120)}"
            if parts.query:
                variants = self._queries.get(f"{parts.netloc}{parts.path}", set())
                if parts.query not in variants and len(variants) >= self.per_path_queries:
                    return f"more than {self.per_path_queries} query strings for {shorten(parts.path, 120)}"
        if parts.query:
            self._queries.setdefault(f"{parts.netloc}{parts.path}", set()).add(parts.query)
        self._templates[tpl] += 1
        self._admitted.add(url)
        return None


# -- near-identical pages -------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_BANDS = 4  # 64-bit signatures in 4 bands of 16 bits: two within 3 bits share a band
_LANE = 32  # bits per counter in simhash(): room for 4 billion shingles
_SPREAD = [sum((b >> i & 1) << (_LANE * i) for i in range(8)) for b in range(256)]  # byte -> 8 lanes


def text_features(text: str, fold: Iterable[str] = ()) -> list[str]:
    """The words of a page's visible text, lower-cased, with numbers, random tokens and the
    words in ``fold`` (those of the page's own URL, which a "not found" page may echo) folded.

    >>> text_features("Page 7Hk2x9Qw3 not found, 22 Nov 2026")
    ['page', '#', 'not', 'found', '#', 'nov', '#']
    >>> text_features("No page at /lost/bakomu", fold=url_words("http://example.org/lost/bakomu"))
    ['no', 'page', 'at', '#', '#']
    """
    fold = frozenset(fold)
    out = []
    for w in _WORD.findall(text):
        low = w.lower()
        if low in fold or any(c.isdigit() for c in w) or is_random_token(w):
            out.append("#")
        else:
            out.append(low)
    return out


def url_words(url: str) -> frozenset[str]:
    """The words of a URL's path and query, lower-cased.

    >>> sorted(url_words("http://example.org/Lost/caf%C3%A9?q=x-y"))
    ['café', 'lost', 'q', 'x', 'y']
    """
    parts = urlsplit(url)
    return frozenset(w.lower() for w in _WORD.findall(unquote(f"{parts.path} {parts.query}")))


def simhash(words: Iterable[str], size: int = 3) -> int:
    """A 64-bit similarity hash (Charikar) of a text's distinct runs of ``size`` words
    (shingles): texts made of the same sentences give hashes at most a few bits apart.

    Each shingle counts once: with counts, the words every page repeats ("you", "the") would
    make different pages look alike.

    >>> simhash("page not found here".split()) == simhash("page not found here".split())
    True
    >>> bin(simhash("page not found here".split()) ^ simhash("our opening hours today".split())).count("1") > 3
    True
    """
    words = list(words)
    feats = {" ".join(words[i:i + size]) for i in range(max(1, len(words) - size + 1))}
    # count, for each of the 64 bits, how many shingle hashes have it set: each hash is spread
    # over 64 lanes of a big integer (one lane per bit), so one addition counts all 64 bits
    total = 0
    for feat in feats:
        h = int.from_bytes(hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest(), "big")
        spread = 0
        for j in range(8):
            spread |= _SPREAD[h >> (8 * j) & 0xFF] << (_LANE * 8 * j)
        total += spread
    mask = (1 << _LANE) - 1
    return sum(1 << bit for bit in range(64) if 2 * (total >> (_LANE * bit) & mask) > len(feats))



@dataclass
class _Group:
    signature: int
    pages: int = 0
    generative: set = field(default_factory=set)  # pages whose links led to new URLs


@dataclass
class NearDuplicates:
    """Groups pages of a site whose visible text is the same once numbers, random tokens and
    the words of the page's URL are folded, or nearly so (simhash within ``max_distance``
    bits), and says when a group is a trap.

    A group is a trap once more than ``cap`` of its pages have each led to new URLs: pages
    that look the same but keep inventing links (a "not found" page answered with 200 whose
    links change on every visit). Pages that look the same and link to the same places (an
    app shell served for every route) never become a trap: their links lead nowhere new.

    >>> nd = NearDuplicates(cap=2)
    >>> text = "Page not found. Sorry, we could not find that page."
    >>> groups = [nd.group("example.org", text + f" Try {token}") for token in ("x7Gk29Qa", "Zp31kQ8v", "b9Xr2Lm4")]
    >>> len(set(groups)), nd.size(groups[0])
    (1, 3)
    >>> for url in ["/a", "/b", "/c"]:
    ...     nd.led_to_new_urls(groups[0], url)
    ...     print(nd.is_trap(groups[0]))
    False
    False
    True
    >>> nd.group("example.org", "Our opening hours: the library opens every weekday morning") == groups[0]
    False
    """

    cap: int = 5
    max_distance: int = 3
    min_words: int = 3  # pages with less text (an app shell) are not grouped
    max_words: int = 5000  # enough to tell pages apart; a 10 MB page costs no more
    _groups: list = field(default_factory=list)
    _bands: dict = field(default_factory=dict)

    def group(self, site: str, text: str, url: str = "") -> int | None:
        """Add a page's visible text (and its URL, whose words it may echo); return its group's
        id, or None when it has too little text to compare."""
        features = text_features(text, url_words(url) if url else ())[: self.max_words]
        if len(features) < self.min_words:
            return None
        sig = simhash(features)
        keys = [(site, band, sig >> (16 * band) & 0xFFFF) for band in range(_BANDS)]
        for key in keys:
            for gid in self._bands.get(key, ()):
                if bin(self._groups[gid].signature ^ sig).count("1") <= self.max_distance:
                    self._groups[gid].pages += 1
                    return gid
        gid = len(self._groups)
        self._groups.append(_Group(sig, pages=1))
        for key in keys:
            self._bands.setdefault(key, []).append(gid)
        return gid

    def size(self, gid: int) -> int:
        """How many pages fell into the group."""
        return self._groups[gid].pages

    def led_to_new_urls(self, gid: int, url: str) -> None:
        """Record that page ``url`` of the group linked to URLs never seen before."""
        self._groups[gid].generative.add(url)

    def is_trap(self, gid: int | None) -> bool:
        """True once more than ``cap`` pages of the group have led to new URLs."""
        return gid is not None and len(self._groups[gid].generative) > self.cap
