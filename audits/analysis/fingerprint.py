"""Finding fingerprints, and the comparison of two runs they make possible.

A fingerprint is a short hash that names one failing element across runs. It is made of four
parts, each normalised so that it survives small DOM changes:

``rule``
    the axe-core rule id, e.g. ``image-alt``.
``page``
    the page URL, normalised by :func:`crawler.urls.normalise_url`, without scheme and port
    (:func:`page_key`).
``selector``
    axe-core's CSS selector without positions and generated names, so a sibling added above the
    element or a framework renumbering its ids does not change it (parsed by cssselect, see
    :func:`audits.analysis.css.stable_selector`)::

        main > div:nth-child(3) > img#hero-4821.css-1x9f.card  ->  main > div > img.card

``snippet``
    the element's HTML with whitespace collapsed, attribute values that look generated (they
    contain a digit, or the attribute is ``style``, ``value``, ``nonce``, ``data-*``, ...)
    reduced to the attribute's name, cut at :data:`SNIPPET_CHARS` characters.

Two identical elements on one page share a fingerprint, so :func:`compare_findings` pairs
findings as counts (two before and three after is one new finding). A finding whose fingerprint
is gone is still paired with one of the same rule on the same page at the same stable selector
(its HTML changed) or with the same HTML (it moved), before it is called fixed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from crawler.urls import normalise_url

from audits.analysis.css import generated, stable_selector, target_selectors

__all__ = [
    "Diff", "DiffFinding", "MATCH_KEYS", "SNIPPET_CHARS", "compare_findings", "finding_fingerprint",
    "normalise_snippet", "page_key", "stable_selector", "target_selectors",
]

SNIPPET_CHARS = 120
VOLATILE_ATTRS = frozenset({"style", "nonce", "integrity", "value", "checked", "aria-activedescendant"})

_ATTRIBUTE = re.compile(r"""([^\s=<>"'/]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_TAG_GAP = re.compile(r">\s+|\s+<")


def normalise_snippet(html: str | None) -> str:
    """Collapse whitespace (none is kept next to a tag), drop generated attribute values, cut to
    :data:`SNIPPET_CHARS`.

    >>> normalise_snippet('<img  id="img-42" src="/a.png"\\n class="hero">')
    '<img id src="/a.png" class="hero">'
    """

    def attr(m: re.Match) -> str:
        name, value = m.group(1), m.group(2)
        volatile = name.lower() in VOLATILE_ATTRS or name.lower().startswith("data-")
        return name if volatile or generated(value) else m.group(0)

    text = _TAG_GAP.sub(lambda m: m.group(0).strip(), " ".join((html or "").split()))
    return _ATTRIBUTE.sub(attr, text)[:SNIPPET_CHARS]


def _page_url(page: Any) -> str:
    return page["url"] if isinstance(page, Mapping) else page.url


def page_key(url: str) -> str:
    """The page part of a fingerprint: the normalised URL without scheme and port, so a move to
    https, or a demo served on another port, keeps every fingerprint.

    >>> page_key("HTTP://Example.gov.uk:8080/a/?utm_source=x&b=2")
    'example.gov.uk/a/?b=2'
    """
    parts = urlsplit(normalise_url(url))
    return f"{parts.hostname or ''}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def finding_fingerprint(row: Mapping[str, Any], page: Any) -> str:
    """The fingerprint of one stored finding (a ``findings`` row) on ``page`` (anything with a
    ``url``: a :class:`~audits.store.PageRecord` or a ``pages`` row). 16 hex characters."""
    parts = (row.get("rule") or "", page_key(_page_url(page)), target_selectors(row.get("target")),
             normalise_snippet(row.get("html")))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


# -- comparing runs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffFinding:
    """One failing element, as a diff lists it."""

    fingerprint: str
    rule: str
    impact: str | None
    url: str
    target: Any
    html: str | None
    selector: str  # stable selector
    snippet: str  # normalised snippet


@dataclass(frozen=True)
class Diff:
    """Violations of run ``run_b`` compared with run ``run_a``, page by page.

    Only pages audited in both runs are compared; findings on a page audited in just one run are
    counted in ``pages_only_a`` / ``pages_only_b`` (they are neither fixed nor new).
    """

    run_a: int
    run_b: int
    site_a: str
    site_b: str
    new: tuple[DiffFinding, ...]
    fixed: tuple[DiffFinding, ...]
    unchanged: tuple[DiffFinding, ...]
    pages_compared: int
    pages_only_a: tuple[str, ...]
    pages_only_b: tuple[str, ...]


def _diff_finding(row: Mapping[str, Any]) -> DiffFinding:
    target = row.get("target")
    if isinstance(target, str):
        try:
            target = json.loads(target)
        except ValueError:
            pass
    return DiffFinding(
        fingerprint=row.get("fingerprint") or finding_fingerprint(row, row), rule=row["rule"],
        impact=row.get("impact"), url=row["url"], target=target, html=row.get("html"),
        selector=target_selectors(row.get("target")), snippet=normalise_snippet(row.get("html")),
    )


# How findings of two runs are paired, strictest first: the same fingerprint; else the same rule
# on the same element of the page whose HTML changed (an attribute added to <html> must not make
# a document-title failure look fixed and new); else the same rule and HTML at a new place.
MATCH_KEYS = (
    lambda f: f.fingerprint,
    lambda f: (f.rule, page_key(f.url), f.selector),
    lambda f: (f.rule, page_key(f.url), f.snippet),
)


def _pair(a: list[DiffFinding], b: list[DiffFinding], key) -> tuple[list, list, list]:
    """Pair findings with equal keys, as counts. Returns (still in b, unpaired a, unpaired b)."""
    pool: dict[Any, list[DiffFinding]] = defaultdict(list)
    for f in a:
        pool[key(f)].append(f)
    kept, rest_b = [], []
    for f in b:
        bucket = pool.get(key(f))
        if bucket:
            bucket.pop(0)
            kept.append(f)
        else:
            rest_b.append(f)
    return kept, [f for fs in pool.values() for f in fs], rest_b


def compare_findings(
    rows_a: Iterable[Mapping[str, Any]], rows_b: Iterable[Mapping[str, Any]]
) -> tuple[list[DiffFinding], list[DiffFinding], list[DiffFinding]]:
    """``(new, fixed, unchanged)`` between two lists of finding rows (each with a ``url``).

    Findings are paired by :data:`MATCH_KEYS`, as counts: with two matching findings before and
    three after, two are unchanged and one is new. Rows without a stored fingerprint get one.
    """
    order = lambda f: (f.url, f.rule, f.fingerprint, f.selector, f.snippet)  # noqa: E731
    fixed = sorted(map(_diff_finding, rows_a), key=order)
    new = sorted(map(_diff_finding, rows_b), key=order)
    unchanged: list[DiffFinding] = []
    for key in MATCH_KEYS:
        kept, fixed, new = _pair(fixed, new, key)
        unchanged += kept
    return sorted(new, key=order), sorted(fixed, key=order), sorted(unchanged, key=order)
