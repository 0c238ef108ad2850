"""Checks across the pages of a run: what axe-core, which sees one page at a time, cannot see.

A pure function of the audited pages' stored facts (gathered in the browser by
:mod:`audits.engine.axe`): :func:`check_site` gives one :class:`SiteFinding` per check, always
(``pass``, ``fail`` or ``not-applicable``), so that a score can count the checks passed.

=========================== ============ ======================================================
check                       WCAG 2.2     fails when
=========================== ============ ======================================================
``consistent-navigation``   3.2.3        a navigation block repeated on several pages lists the
                                         links it shares with the usual order in another order
                                         (pagination blocks, breadcrumb trails, pager and
                                         language-switcher links left out)
``consistent-identification`` 3.2.4      the same navigation block links the same address
                                         under names that do not contain one another
``multiple-ways``           2.4.5        no audited page has a search, a site map or an A-Z
                                         link, and the home page does not link every page
``page-title-empty``        2.4.2        a page has no title, or one of spaces
``page-title-duplicate``    2.4.2        different pages in one declared language share a title
``language-change``         3.1.1, 3.1.2 a page's text, or a passage of it, is in a writing
                                         system its declared language does not use, or the
                                         page reads as another language of a short list
=========================== ============ ======================================================

Few false alarms above all: every rule below leans towards passing when in doubt, and says how.
Nothing in the facts is trusted: types, lengths and counts are checked again here.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

__all__ = ["CHECKS", "SiteFinding", "check_site", "normalise_href", "normalise_name", "pager_link", "same_order"]

PASS, FAIL, NA = "pass", "fail", "not-applicable"

# check id -> WCAG success criteria
CHECKS: dict[str, tuple[str, ...]] = {
    "consistent-navigation": ("3.2.3",),
    "consistent-identification": ("3.2.4",),
    "multiple-ways": ("2.4.5",),
    "page-title-empty": ("2.4.2",),
    "page-title-duplicate": ("2.4.2",),
    "language-change": ("3.1.1", "3.1.2"),
}

MAX_BLOCKS, MAX_LINKS, MAX_TEXT, MAX_PARTS = 12, 60, 120, 20
MAX_EVIDENCE = 10  # offending pages (or groups) given in full in the evidence


@dataclass(frozen=True)
class SiteFinding:
    """The outcome of one check over the run's audited pages."""

    check: str  # e.g. "consistent-navigation" (see CHECKS)
    criteria: tuple[str, ...]  # WCAG success criteria, e.g. ("3.2.3",)
    status: str  # "fail" | "pass" | "not-applicable"
    pages: tuple[str, ...]  # the URLs involved (for a fail: the offending pages)
    detail: str  # one plain sentence with the evidence
    evidence: tuple = ()  # structured evidence (check-specific dicts)

    def as_dict(self) -> dict:
        return {"check": self.check, "criteria": list(self.criteria), "status": self.status,
                "pages": list(self.pages), "detail": self.detail, "evidence": [dict(e) for e in self.evidence]}


# -- untrusted facts, made safe ----------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _text(v: Any, limit: int = MAX_TEXT) -> str:
    return _WS.sub(" ", v).strip()[:limit] if isinstance(v, str) else ""


def _list(v: Any, limit: int) -> list:
    return list(v[:limit]) if isinstance(v, list) else []


def normalise_href(url: Any) -> str:
    """An address as links are compared: no fragment, scheme and host in lower case, no default
    port, no trailing slash or ``index.html``.

    >>> normalise_href("HTTPS://Example.gov.uk:443/Bins/index.html#top")
    'https://example.gov.uk/Bins'
    >>> normalise_href("https://example.gov.uk/") == normalise_href("https://example.gov.uk")
    True
    """
    return _normalise_href(url) if isinstance(url, str) else ""


@lru_cache(maxsize=1 << 16)  # a site's pages repeat the same navigation links
def _normalise_href(url: str) -> str:
    try:
        p = urlsplit(url.strip()[:400])
        host = (p.hostname or "").lower()
        port = p.port
    except ValueError:
        return ""
    scheme = p.scheme.lower()
    if port and not ((scheme, port) in (("http", 80), ("https", 443))):
        host = f"{host}:{port}"
    path = re.sub(r"/(index|default)\.(html?|php|aspx?)$", "/", p.path, flags=re.I).rstrip("/")
    return urlunsplit((scheme, host, path, p.query, ""))


# words that say which link is the current one, not what it is
_STATE = re.compile(r"\b(current page|current|selected|active|you are here|opens in (a )?new (window|tab))\b")


def normalise_name(name: Any) -> str:
    """A link's accessible name as names are compared: lower case, spaces collapsed, words that
    mark the current item (``current page``) and punctuation left out.

    >>> normalise_name("  Council  Tax (current page) ")
    'council tax'
    """
    return _normalise_name(name) if isinstance(name, str) else ""


@lru_cache(maxsize=1 << 16)
def _normalise_name(name: str) -> str:
    t = _text(name).lower()
    t = _STATE.sub(" ", t)
    t = re.sub(r"\b\d+\b", " ", t)  # counts ("Basket (2)", "Messages 5") change from page to page
    t = re.sub(r"[^\w\s]", " ", t)
    return _WS.sub(" ", t).strip()


_SKIP = re.compile(r"^(skip|jump)( to| over)?\b|^back to top$|^top$")

# Blocks that are no repeated navigation in the 3.2.3 sense: their links depend on the page by
# design. A pagination block ("Previous page" is ?page=3 on page 4, "Older posts" on page 1 is
# "Newer posts" on page 3) and a breadcrumb trail (its last items are the page's own section).
_PER_PAGE_LABEL = re.compile(r"paginat|\bpager\b|\bpaging\b|\bpages? navigation\b|\bposts? navigation\b|^posts$|"
                             r"\bresults pages\b|tudalennu|breadcrumb|briwsion|you are here", re.I)
# links that move through a list, not to a place: "Previous page", "Older posts", "Next ›",
# "« First", "3", "Page 3", "Go to page 3", "Page 3 of 10", Welsh "Tudalen flaenorol", "Nesaf"
_PAGER_LINK = re.compile(r"^\W*(?:(?:previous|prev|next|older|newer|first|last)\b|(?:tudalen\s+)?(?:blaenorol|"
                         r"flaenorol|nesaf|nesa|cyntaf|olaf)\b|(?:go ?to |show )?(?:results\s+)?(?:page|tudalen)?\s*"
                         r"\d+(?:\s*of\s*\d+)?\W*$)", re.I)
# a language switcher's links point to this page in another language: a different address on each page
_LANGUAGE_LINK = re.compile(
    r"^\W*(?:english|saesneg|cymraeg|welsh|gaeilge|irish|g\u00e0idhlig|gaidhlig|gaelic|kernewek|polski|polish|"
    r"rom\u00e2n\u0103|romana|romanian|fran\u00e7ais|francais|deutsch|espa\u00f1ol|espanol|portugu\u00eas|portugues|"
    r"italiano|lietuvi\u0173|latvie\u0161u|sloven\u010dina|\u010de\u0161tina|magyar|t\u00fcrk\u00e7e|soomaali|"
    r"\u0627\u0644\u0639\u0631\u0628\u064a\u0629|\u0627\u0631\u062f\u0648|\u0a2a\u0a70\u0a1c\u0a3e\u0a2c\u0a40|"
    r"\u09ac\u09be\u0982\u09b2\u09be|\u4e2d\u6587|\u0440\u0443\u0441\u0441\u043a\u0438\u0439|"
    r"\u0443\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430)\W*$", re.I)


def pager_link(name: Any) -> bool:
    """Whether a link's name says it moves through a list of pages rather than to a place.

    >>> [pager_link(n) for n in ("Previous page", "Older posts", "\u00ab First", "12", "Page 3 of 10", "Tudalen nesaf")]
    [True, True, True, True, True, True]
    >>> [pager_link(n) for n in ("Bins", "2024 budget", "Council tax", "Later life", "Pages for schools")]
    [False, False, False, False, False]
    """
    return isinstance(name, str) and bool(_PAGER_LINK.search(_text(name)))


@dataclass(frozen=True)
class _Block:
    kind: str
    label: str
    links: tuple[tuple[str, str], ...]  # (normalised name, normalised href), first of each href
    shown: tuple[str, ...] = ()  # the names as the page gives them (for the evidence)
    hrefs: tuple[str, ...] = ()  # the addresses, in order

    def shown_names(self) -> dict[str, str]:
        return {h: shown or h for (_, h), shown in zip(self.links, self.shown)}


def _blocks(facts: Mapping) -> list[_Block]:
    """The page's navigation blocks as they are compared: without pagination blocks and breadcrumb
    trails (by their label), and, in every block, without skip links, pagination links and a
    language switcher's links, which change from page to page by design. (Links to the page itself
    stay, for the order; their names are not compared, see :func:`_consistent_identification`.)"""
    out = []
    for b in _list(facts.get("nav_blocks"), MAX_BLOCKS):
        if not isinstance(b, Mapping):
            continue
        label = _text(b.get("label")).lower()
        if _PER_PAGE_LABEL.search(label):
            continue
        kind = b.get("kind") if b.get("kind") in ("nav", "header", "footer") else "nav"
        seen, links, shown = set(), [], []
        for item in _list(b.get("links"), MAX_LINKS):
            if not (isinstance(item, list) and len(item) == 2):
                continue
            name, href = normalise_name(item[0]), normalise_href(item[1])
            if not href or href in seen or _SKIP.search(name) or pager_link(item[0]) \
                    or _LANGUAGE_LINK.search(_text(item[0])):
                continue
            seen.add(href)
            links.append((name, href))
            shown.append(_text(item[0]))
        if links:
            out.append(_Block(kind, label, tuple(links), tuple(shown), tuple(h for _, h in links)))
    return out


@dataclass(frozen=True)
class _Page:
    url: str
    title: str | None
    facts: Mapping
    blocks: tuple[_Block, ...]
    lang: str = ""  # the primary language subtag declared ("en", "cy"): pages are compared within one
    own: frozenset = frozenset()  # the page's own addresses, normalised


def _pages(pages: Iterable[Mapping]) -> list[_Page]:
    out, seen = [], set()
    for p in pages:
        if not isinstance(p, Mapping) or not isinstance(p.get("url"), str):
            continue
        url = p.get("final_url") if isinstance(p.get("final_url"), str) else p["url"]
        key = normalise_href(url) or url
        if key in seen:  # two addresses of one page (a redirect): the page once
            continue
        seen.add(key)
        facts = p.get("facts") if isinstance(p.get("facts"), Mapping) else {}
        title = p.get("title") if isinstance(p.get("title"), str) else facts.get("title")
        lang = facts.get("lang")
        lang = lang.strip().lower().replace("_", "-").split("-")[0][:8] if isinstance(lang, str) else ""
        out.append(_Page(p["url"], title if isinstance(title, str) else None, facts, tuple(_blocks(facts)), lang,
                         frozenset({normalise_href(p["url"]), key})))
    return out


# -- navigation blocks across pages --------------------------------------------------------------------

def _families(pages: list[_Page], min_overlap: float = 0.5) -> list[list[tuple[_Page, _Block]]]:
    """The navigation blocks of all pages grouped into families (one block repeated across pages):
    same page language (a Welsh page's menu is not the English one's), kind and label, and more
    than half of their addresses in common (Jaccard) with the family's first block (the most in
    common wins; the earlier family on a tie). Exactly half is not enough: two blocks of two links
    sharing one, or of four sharing two... are as much different blocks as one. One block per page in a
    family. Families are found through an index of their first blocks' addresses, so that blocks
    unique to each page (related links) do not make it quadratic."""
    fams: list[list[tuple[_Page, _Block]]] = []
    sizes: list[int] = []  # addresses of each family's first block
    index: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for page in pages:
        taken: set[int] = set()
        for block in page.blocks:
            mine = set(block.hrefs)
            shared: Counter = Counter()
            for h in mine:
                shared.update(index.get((page.lang, block.kind, block.label, h), ()))
            best, best_j = None, min_overlap
            for i, n in sorted(shared.items()):
                j = n / (len(mine) + sizes[i] - n)
                if i not in taken and j > best_j:
                    best, best_j = i, j
            if best is None:
                best = len(fams)
                fams.append([])
                sizes.append(len(mine))
                for h in mine:
                    index[(page.lang, block.kind, block.label, h)].append(best)
            fams[best].append((page, block))
            taken.add(best)
    return fams


def same_order(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether the items ``a`` and ``b`` have in common come in the same relative order.

    >>> same_order(["home", "bins", "tax", "contact"], ["home", "tax", "news", "contact"])
    True
    >>> same_order(["home", "bins", "tax"], ["tax", "home"])
    False
    """
    common = set(a) & set(b)
    return [x for x in a if x in common] == [x for x in b if x in common]


def _block_name(block: _Block) -> str:
    return f"the {block.kind} \u201c{block.label}\u201d" if block.label else f"the {block.kind}"


_NOT_GATHERED = ("The pages were audited before a11ycrawl gathered navigation blocks; audit the site again to "
                 "check.")


def _gathered(pages: list[_Page]) -> bool:
    """Whether the pages' facts hold navigation blocks at all (runs stored before do not: unknown)."""
    return any(isinstance(p.facts.get("nav_blocks"), list) for p in pages)


def _consistent_navigation(pages: list[_Page], fams) -> SiteFinding:
    compared, offenders, evidence = 0, [], []
    for fam in fams:
        if len(fam) < 2:
            continue
        # the usual order: the most common sequence of addresses in the family
        usual, _ = Counter(b.hrefs for _, b in fam).most_common(1)[0]
        ref = next(b for _, b in fam if b.hrefs == usual)
        names = ref.shown_names()
        for page, block in fam:
            common = set(block.hrefs) & set(usual)
            if len(common) < 2:
                continue
            compared += 1
            if not same_order(usual, block.hrefs):
                offenders.append(page.url)
                if len(evidence) < MAX_EVIDENCE:
                    evidence.append({
                        "page": page.url, "block": _block_name(block), "reference_page": next(p.url for p, b in fam if b.hrefs == usual),
                        "expected": [names.get(h) or h for h in usual if h in common],
                        "found": [n for h, n in block.shown_names().items() if h in common]})
    check, crit = "consistent-navigation", CHECKS["consistent-navigation"]
    if pages and not _gathered(pages):
        return SiteFinding(check, crit, NA, (), _NOT_GATHERED)
    if not compared:
        return SiteFinding(check, crit, NA, (), "No navigation block with two or more links appears on two or more "
                                                 "audited pages.")
    if not offenders:
        return SiteFinding(check, crit, PASS, (), f"Repeated navigation blocks keep their order on all {compared} "
                                                   "comparisons.")
    e = evidence[0]
    return SiteFinding(check, crit, FAIL, tuple(dict.fromkeys(offenders)),
                       f"{len(set(offenders))} page(s) list a repeated navigation block in another order; "
                       f"e.g. {e['page']}: {e['block']} has {' / '.join(e['found'])} where other pages have "
                       f"{' / '.join(e['expected'])}.", tuple(evidence))


def _consistent_identification(pages: list[_Page], fams) -> SiteFinding:
    compared, evidence, offenders = 0, [], []
    for fam in fams:
        if len(fam) < 2:
            continue
        names: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for page, block in fam:
            for name, href in block.links:
                # a link without a name is axe's link-name failure, not this one; a link to the page
                # itself is the current item, often named otherwise (by the page's heading, "You are
                # here", or "English" in a language switcher)
                if name and href not in page.own:
                    names[href][name].append(page.url)
        for href, by_name in names.items():
            if sum(len(v) for v in by_name.values()) < 2:
                continue
            compared += 1
            distinct = sorted(by_name)
            # different only when neither name contains the other ("Contact" / "Contact us" pass)
            clash = [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1:] if a not in b and b not in a]
            if not clash:
                continue
            a, b = clash[0]
            minority = min((a, b), key=lambda n: (len(by_name[n]), n))
            offenders += by_name[minority]
            if len(evidence) < MAX_EVIDENCE:
                evidence.append({"href": href, "block": _block_name(fam[0][1]),
                                 "names": {n: sorted(set(by_name[n]))[:MAX_EVIDENCE] for n in distinct}})
    check, crit = "consistent-identification", CHECKS["consistent-identification"]
    if pages and not _gathered(pages):
        return SiteFinding(check, crit, NA, (), _NOT_GATHERED)
    if not compared:
        return SiteFinding(check, crit, NA, (), "No link of a repeated navigation block appears on two or more "
                                                 "audited pages.")
    if not evidence:
        return SiteFinding(check, crit, PASS, (), f"The {compared} links repeated in navigation blocks are named "
                                                   "consistently.")
    e = evidence[0]
    shown = " and ".join(f"\u201c{n}\u201d" for n in list(e["names"])[:3])
    return SiteFinding(check, crit, FAIL, tuple(dict.fromkeys(offenders)),
                       f"{len(evidence)} destination(s) are named differently in the same navigation block on "
                       f"different pages; e.g. {e['href']} is {shown} in {e['block']}.", tuple(evidence))


# -- multiple ways ---------------------------------------------------------------------------------------

def _multiple_ways(pages: list[_Page], start_url: str | None) -> SiteFinding:
    check, crit = "multiple-ways", CHECKS["multiple-ways"]
    if len(pages) < 2:
        return SiteFinding(check, crit, NA, (), "One page was audited: multiple ways to find pages apply to a set "
                                                 "of pages.")
    if not _gathered(pages):
        # stored before the browser looked for searches and site maps (no ``nav_blocks``): not known
        return SiteFinding(check, crit, NA, (), "The pages were audited before a11ycrawl looked for a search or a "
                                                 "site map; audit the site again to check.")
    search = [p.url for p in pages if p.facts.get("search") is True]
    maps = []
    for p in pages:
        for link in _list(p.facts.get("sitemap_links"), 5):
            if isinstance(link, Mapping) and normalise_href(link.get("href")):
                maps.append({"page": p.url, "href": _text(link.get("href"), 400), "text": _text(link.get("text"))})
    if search or maps:
        ways = ([f"a search on {len(search)} page(s)"] if search else []) + \
               ([f"a site map or A-Z link on {len({m['page'] for m in maps})} page(s)"] if maps else [])
        ev = ([{"way": "search", "pages": search[:MAX_EVIDENCE]}] if search else []) + maps[:MAX_EVIDENCE]
        return SiteFinding(check, crit, PASS, (), f"Besides the navigation there is {' and '.join(ways)}.", tuple(ev))
    # G126: a page linking every other page is a way of its own (small sites)
    home = next((p for p in pages if start_url and normalise_href(p.url) == normalise_href(start_url)), None)
    if home is not None:
        linked = {normalise_href(u) for u in _list(home.facts.get("links"), 5000)}
        if all(normalise_href(p.url) in linked for p in pages if p is not home):
            return SiteFinding(check, crit, PASS, (), f"No search or site map, but the home page links all "
                                                       f"{len(pages) - 1} other audited pages.")
    return SiteFinding(check, crit, FAIL, tuple(p.url for p in pages[:MAX_EVIDENCE]),
                       f"None of the {len(pages)} audited pages has a search, a link to a site map or an A-Z index: "
                       "the navigation is the only way to find a page.")


# -- titles ----------------------------------------------------------------------------------------------

def _title_empty(pages: list[_Page]) -> SiteFinding:
    check, crit = "page-title-empty", CHECKS["page-title-empty"]
    if not pages:
        return SiteFinding(check, crit, NA, (), "No page was audited.")
    empty = [p.url for p in pages if not _text(p.title)]
    if not empty:
        return SiteFinding(check, crit, PASS, (), f"All {len(pages)} audited pages have a title.")
    return SiteFinding(check, crit, FAIL, tuple(empty), f"{len(empty)} of {len(pages)} audited pages have no title.")


_ERROR_TITLE = re.compile(r"\b(404|not found|error|page missing)\b", re.I)


def _variant(url: str) -> str:
    """A page as far as its title goes: its host and path without the query, without a final
    ``/page/N`` or ``/N`` (page 2 of a list, step 3 of a form keep their first page's title), and
    other digit-only segments as ``N``.

    >>> _variant("https://x.gov.uk/news/") == _variant("https://x.gov.uk/news/page/2/") == _variant("https://x.gov.uk/news?page=3")
    True
    >>> _variant("https://X.gov.uk/apply/2"), _variant("https://x.gov.uk/news/2024/bins")
    ('x.gov.uk/apply', 'x.gov.uk/news/N/bins')
    """
    try:
        path = urlsplit(url).path
        host = urlsplit(url).netloc.lower()
    except ValueError:
        return url
    path = re.sub(r"(/page/\d+|/\d+)+$", "", path.rstrip("/"), flags=re.I)
    return host + re.sub(r"/\d+(?=/|$)", "/N", path)


def _title_duplicate(pages: list[_Page]) -> SiteFinding:
    check, crit = "page-title-duplicate", CHECKS["page-title-duplicate"]
    if len(pages) < 2:
        return SiteFinding(check, crit, NA, (), "Fewer than two pages were audited.")
    # titles are compared within one declared language: a bilingual title ("Contact us | Cysylltu
    # â ni") on /en/contact and /cy/cysylltu names one page in two languages
    groups: dict[tuple[str, str], list[_Page]] = defaultdict(list)
    for p in pages:
        t = _text(p.title, 300)
        if t and not _ERROR_TITLE.search(t):
            groups[(p.lang, t.casefold())].append(p)
    dups = []
    for members in groups.values():
        # several addresses of one page (?page=2, ?step=3, /news/page/4) are not different pages
        if len({_variant(p.url) for p in members}) >= 2:
            dups.append(members)
    if not dups:
        return SiteFinding(check, crit, PASS, (), f"The {len({t for _, t in groups})} titles of the audited pages are "
                                                   "distinct (pages that differ only by query or page number are one "
                                                   "page, and pages in different languages are not compared).")
    dups.sort(key=lambda m: (-len(m), _text(m[0].title)))
    ev = tuple({"title": _text(m[0].title, 300), "pages": [p.url for p in m[:MAX_EVIDENCE]], "count": len(m)}
               for m in dups[:MAX_EVIDENCE])
    involved = tuple(p.url for m in dups for p in m)
    return SiteFinding(check, crit, FAIL, involved,
                       f"{len(involved)} pages share {len(dups)} title(s); e.g. \u201c{ev[0]['title']}\u201d is the "
                       f"title of {ev[0]['count']} different pages.", ev)


# -- language ---------------------------------------------------------------------------------------------

# The writing systems each language is written in (primary subtag), for the languages a UK
# council's pages and translations commonly use. A language not listed here is never judged.
LATIN = frozenset({"Latin"})
SCRIPTS_OF: dict[str, frozenset[str]] = {
    **{lang: LATIN for lang in (
        "en cy gd ga kw gv fr de es it pt nl pl ro cs sk sl hr bs sq hu lt lv et fi sv da no nb nn is tr az "
        "so sw yo ig ha ms id tl vi mt eu ca gl lb af zu xh").split()},
    **{lang: frozenset({"Cyrillic"}) for lang in "ru uk bg be mk mn kk ky".split()},
    "sr": frozenset({"Cyrillic", "Latin"}),
    **{lang: frozenset({"Arabic"}) for lang in "ar fa ur ps ku ckb sd".split()},
    "he": frozenset({"Hebrew"}), "yi": frozenset({"Hebrew"}), "el": frozenset({"Greek"}),
    "zh": frozenset({"Han"}), "ja": frozenset({"Han", "Hiragana", "Katakana"}), "ko": frozenset({"Hangul", "Han"}),
    **{lang: frozenset({"Devanagari"}) for lang in "hi mr ne sa".split()},
    "bn": frozenset({"Bengali"}), "as": frozenset({"Bengali"}), "pa": frozenset({"Gurmukhi", "Arabic"}),
    "gu": frozenset({"Gujarati"}), "ta": frozenset({"Tamil"}), "te": frozenset({"Telugu"}), "th": frozenset({"Thai"}),
    "hy": frozenset({"Armenian"}), "ka": frozenset({"Georgian"}), "am": frozenset({"Ethiopic"}),
    "ti": frozenset({"Ethiopic"}),
}
MIN_PAGE_LETTERS = 200  # a page's text is judged only with at least this many letters
PAGE_SHARE = 0.8  # ... and when one writing system has this share of them
MIN_PART_LETTERS = 4  # passages shorter than this are never judged


# Function words that set each language apart (a word two of these languages share, such as
# "a", "i", "y", "la", "de", "to", "do", "es", "se", "con", "un", is in neither list). With enough
# running text, a language's own function words far outnumber any other's: that is all the
# same-script check relies on.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of is for you your with this that are be or by we our from will have can it not if "
                    "about which they their".split()),
    "cy": frozenset("yn yr mae ac eich ein gyda gan wedi ydych hyn neu sydd bod fel hefyd rhaid drwy trwy gyfer "
                    "cyngor ar dros rhwng nid oes".split()),
    "fr": frozenset("le les est et une pour dans qui sur pas vous nous avec au aux cette sont".split()),
    "de": frozenset("der die das und ist nicht mit sie ein eine den dem zu von für auf auch sich wir ihre werden oder "
                    "bei nach aus".split()),
    "es": frozenset("el los las del sus está pero más también puede usted ustedes muy hay esta este cuando donde"
                    .split()),
    "pl": frozenset("nie się jest na że od jak dla przez są lub oraz może tym jego które który która".split()),
}
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in FUNCTION_WORDS.items():
    for _w in _words:
        _LANGUAGES_OF[_w] = (*_LANGUAGES_OF.get(_w, ()), _lang)
LANGUAGE_NAMES = {"en": "English", "cy": "Welsh", "fr": "French", "de": "German", "es": "Spanish", "pl": "Polish"}
MIN_SAMPLE_WORDS = 80  # a text sample is judged only with at least this many words...
MIN_HITS = 20  # ...this many function words of the language it seems to be in...
MARGIN = 4  # ...at least this many times those of the language declared...
MIN_SHARE = 0.15  # ...and at least this share of its words


def guess_language(text: Any) -> tuple[str | None, dict[str, int], int]:
    """``(language, function words found per language, words)`` for a text sample: the language
    whose function words are most frequent, when there are at least :data:`MIN_HITS` of them,
    :data:`MARGIN` times as many as of any other and :data:`MIN_SHARE` of the words; else None.

    >>> guess_language("Mae'r cyngor yn casglu eich biniau bob wythnos. " * 10)[0]
    'cy'
    >>> guess_language("The council collects your bins every week. " * 12)[0]
    'en'
    >>> guess_language("The council collects your bins. Mae'r cyngor yn casglu eich biniau. " * 10)[0] is None
    True
    """
    words = re.findall(r"[^\W\d_]+", text.lower()[:5000]) if isinstance(text, str) else []
    hits = dict.fromkeys(FUNCTION_WORDS, 0)
    for w in words:
        for lang in _LANGUAGES_OF.get(w, ()):
            hits[lang] += 1
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    (best, n), (_, runner_up) = ranked[0], ranked[1]
    if len(words) < MIN_SAMPLE_WORDS or n < MIN_HITS or n < MARGIN * max(runner_up, 1) or n < MIN_SHARE * len(words):
        return None, hits, len(words)
    return best, hits, len(words)


def _scripts_of(lang: Any) -> frozenset[str] | None:
    if not isinstance(lang, str) or not lang.strip():
        return None
    return SCRIPTS_OF.get(lang.strip().lower().replace("_", "-").split("-")[0])


def _language(pages: list[_Page]) -> SiteFinding:
    check, crit = "language-change", CHECKS["language-change"]
    judged, offenders, evidence = 0, [], []
    for p in pages:
        declared = p.facts.get("lang")
        expected = _scripts_of(declared)
        counts = p.facts.get("text_scripts")
        counts = {k: v for k, v in counts.items() if isinstance(k, str) and isinstance(v, int) and v > 0} \
            if isinstance(counts, Mapping) else {}
        total = sum(counts.values())
        if expected is not None and total >= MIN_PAGE_LETTERS:
            judged += 1
            script, n = max(counts.items(), key=lambda kv: kv[1])
            if n >= PAGE_SHARE * total and script not in expected:
                offenders.append(p.url)
                evidence.append({"page": p.url, "criterion": "3.1.1", "declared": _text(declared, 35),
                                 "script": script, "letters": n})
                continue
        primary = declared.strip().lower().replace("_", "-").split("-")[0] if isinstance(declared, str) else ""
        if primary in FUNCTION_WORDS:
            found, hits, words = guess_language(p.facts.get("text_sample"))
            if words >= MIN_SAMPLE_WORDS:
                judged += 1
            if found is not None and found != primary:
                offenders.append(p.url)
                if len(evidence) < MAX_EVIDENCE:
                    evidence.append({"page": p.url, "criterion": "3.1.1", "declared": _text(declared, 35),
                                     "language": found, "words": words, "function_words": {found: hits[found],
                                                                                          primary: hits[primary]}})
                continue
        for part in _list(p.facts.get("lang_parts"), MAX_PARTS):
            if not isinstance(part, Mapping) or not isinstance(part.get("letters"), int):
                continue
            lang = part.get("lang") if isinstance(part.get("lang"), str) else declared
            scripts = _scripts_of(lang)
            script = part.get("script")
            # Latin words in a page of another script are mostly names, acronyms, addresses and
            # terms ("PDF", "info@council.gov.uk"), which WCAG exempts: never judged
            if scripts is None or not isinstance(script, str) or script == "Latin" \
                    or part["letters"] < MIN_PART_LETTERS:
                continue
            judged += 1
            if script not in scripts:
                offenders.append(p.url)
                if len(evidence) < MAX_EVIDENCE:
                    evidence.append({"page": p.url, "criterion": "3.1.2", "declared": _text(lang, 35),
                                     "script": script, "text": _text(part.get("text"), 80)})
    if not judged:
        return SiteFinding(check, crit, NA, (), "No audited page declares a language whose writing system is known "
                                                 "and has enough text to judge.")
    if not offenders:
        return SiteFinding(check, crit, PASS, (), "The text of the audited pages is in the writing system of the "
                                                   "language each declares.")
    e = evidence[0]
    if "language" in e:
        what = (f"the text reads as {LANGUAGE_NAMES.get(e['language'], e['language'])} (by its function words) "
                f"but the page declares lang=\u201c{e['declared']}\u201d")
    elif e["criterion"] == "3.1.1":
        what = f"the page is in {e['script']} script but declares lang=\u201c{e['declared']}\u201d"
    else:
        what = f"\u201c{e['text']}\u201d is in {e['script']} script inside lang=\u201c{e['declared']}\u201d"
    return SiteFinding(check, crit, FAIL, tuple(dict.fromkeys(offenders)),
                       f"{len(set(offenders))} page(s) have text in another language than the one declared for it; "
                       f"e.g. "
                       f"on {e['page']} {what}.", tuple(evidence))


# -- all of them ------------------------------------------------------------------------------------------

def check_site(pages: Sequence[Mapping], start_url: str | None = None) -> list[SiteFinding]:
    """Every cross-page check over the audited pages of a run, in the order of :data:`CHECKS`.

    ``pages``: ``{"url", "title", "facts"}`` (and optionally ``final_url``) per audited page, the
    facts as :mod:`audits.engine.axe` stores them. ``start_url``: the run's start URL (the home page
    of the multiple-ways check).

    >>> nav = lambda *names: {"nav_blocks": [{"kind": "nav", "label": "Main",
    ...     "links": [[n, "https://x.gov.uk/" + n.lower()] for n in names]}]}
    >>> pages = [{"url": "https://x.gov.uk/", "title": "Home", "facts": nav("Bins", "Tax", "Parking")},
    ...          {"url": "https://x.gov.uk/bins", "title": "Bins", "facts": nav("Tax", "Bins", "Parking")},
    ...          {"url": "https://x.gov.uk/tax", "title": "Bins", "facts": nav("Bins", "Tax", "Parking")}]
    >>> [(f.check, f.status, f.pages) for f in check_site(pages)][:2]
    [('consistent-navigation', 'fail', ('https://x.gov.uk/bins',)), ('consistent-identification', 'pass', ())]
    >>> next(f.pages for f in check_site(pages) if f.check == "page-title-duplicate")
    ('https://x.gov.uk/bins', 'https://x.gov.uk/tax')
    """
    ps = _pages(pages)
    fams = _families(ps)
    return [_consistent_navigation(ps, fams), _consistent_identification(ps, fams), _multiple_ways(ps, start_url),
            _title_empty(ps), _title_duplicate(ps), _language(ps)]
