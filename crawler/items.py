"""What discovery hands on: plain dataclasses, no Scrapy types, so the auditor needs no Scrapy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DiscoveredPage:
    """An HTML page in scope, fetched once by the crawler, to be audited."""

    url: str  # normalised final URL (after redirects): the page's identity in the run
    requested_url: str
    depth: int
    referrer: str | None
    found_via: str  # start | link | sitemap | rendered | resume
    http_status: int
    content_type: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)  # one pair per header line
    body: bytes | None = None  # the HTML the crawler fetched, so the browser need not fetch it again
    redirected: bool = False


@dataclass
class SkippedUrl:
    """A URL that will not be audited, with a reason code (see ``audits.reasons``)."""

    url: str
    status: str  # "skipped" | "failed"
    reason_code: str
    reason: str
    depth: int | None = None
    referrer: str | None = None
    found_via: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None


@dataclass
class Document:
    """A PDF or Office document linked from a page in scope."""

    url: str
    kind: str
    page_url: str | None
    http_status: int | None = None
    content_type: str | None = None
    size: int | None = None
    body: bytes | None = field(default=None, repr=False)  # fetched PDFs only (within the budget)
    fetch_error: str | None = None  # why a PDF within the budget could not be fetched
