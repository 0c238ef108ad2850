"""Crawler-trap detection: pure functions over URLs, so the budget cannot be eaten by one template."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

_NUMBER = re.compile(r"\d+")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b", re.I)


def url_template(url: str) -> str:
    """Fold the variable parts of a URL: ``/events/2026/11/22?page=3`` -> ``/events/{n}/{n}/{n}?page=``.

    Pages that share a template (calendars, archives, search results) share a budget.
    """
    parts = urlsplit(url)
    path = _NUMBER.sub("{n}", _HEX.sub("{h}", parts.path.lower()))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{parts.netloc}{path}" + ("?" + "&".join(f"{k}=" for k in keys) if keys else "")


def repeated_segments(url: str, limit: int = 3) -> bool:
    """True when a path segment (or pair of segments) repeats ``limit`` times: ``/a/b/a/b/a/b``."""
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
    """Counts pages per template and query variants per path; says when to stop."""

    per_template: int = 50
    per_path_queries: int = 10
    max_path_segments: int = 20
    _templates: Counter = field(default_factory=Counter)
    _queries: dict = field(default_factory=dict)

    def check(self, url: str) -> str | None:
        """Record ``url`` and return None, or return a human reason why it is a trap."""
        parts = urlsplit(url)
        segs = [s for s in parts.path.split("/") if s]
        if len(segs) > self.max_path_segments:
            return f"path deeper than {self.max_path_segments} segments"
        if repeated_segments(url):
            return "repeating path segments"
        tpl = url_template(url)
        if self._templates[tpl] >= self.per_template:
            return f"more than {self.per_template} pages share the template {tpl}"
        if parts.query:
            key = f"{parts.netloc}{parts.path}"
            variants = self._queries.setdefault(key, set())
            if parts.query not in variants and len(variants) >= self.per_path_queries:
                return f"more than {self.per_path_queries} query strings for {parts.path}"
            variants.add(parts.query)
        self._templates[tpl] += 1
        return None
