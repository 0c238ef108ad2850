"""Incremental re-audits: an unchanged page is not rendered again; its last result is carried over.

A page counts as unchanged when, compared with the site's previous run under the same
configuration hash and the same axe-core version,

- its HTML (as the crawler fetched it) hashes the same, and
- every script, stylesheet, frame document, CSS-loaded file and fetch()/XHR response it loaded
  (from the browser's Resource Timing entries, frames included) hashes the same now.

A page stored with facts of another version (:data:`~audits.engine.axe.FACTS_VERSION`) is
rendered again, so that every page of a run has the facts the cross-page checks read.
Images and media are not compared by content: axe-core's results depend on their presence and
attributes, which are in the HTML. Each resource is fetched once per run, through the crawler
(so robots.txt, scope and politeness apply) and only when a page's reuse depends on it.
``--full`` turns all of this off.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Awaitable, Callable

from audits.engine.axe import FACTS_VERSION

Fetch = Callable[[str], Awaitable[tuple[int | None, bytes | None]]]


def body_hash(body: bytes | None) -> str | None:
    return hashlib.sha256(body).hexdigest()[:32] if body is not None else None


class ReusePlanner:
    """Decides, page by page, whether the previous run's result can be carried over."""

    def __init__(self, store, run_id: int, previous_run: dict | None, fetch: Fetch):
        self.store = store
        self.run_id = run_id
        self.fetch = fetch
        self.previous = store.audited_pages_by_url(previous_run["id"]) if previous_run else {}
        self.old_hashes = store.resource_hashes(previous_run["id"]) if previous_run else {}
        self._current: dict[str, asyncio.Future] = {}

    async def resource_hash(self, url: str) -> str | None:
        """This run's hash of ``url``, fetched once and stored."""
        fut = self._current.get(url)
        if fut is None:
            fut = self._current[url] = asyncio.ensure_future(self._hash(url))
        return await fut

    async def _hash(self, url: str) -> str | None:
        status, body = await self.fetch(url)
        digest = body_hash(body) if status is not None and status < 400 else None
        self.store.save_resource(self.run_id, url, digest, status)
        return digest

    async def reusable(self, url: str, body: bytes | None) -> dict | None:
        """The previous page row to carry over, or None when the page must be rendered."""
        old = self.previous.get(url)
        if old is None or old["content_hash"] is None or old["content_hash"] != body_hash(body):
            return None
        facts = json.loads(old["facts"] or "{}") or {}
        if facts.get("settled") is False:
            return None  # audited before it settled: a partial result is rendered again, never carried over
        if facts.get("facts_version", 1) != FACTS_VERSION:
            return None  # stored before this version's page facts (cross-page checks need them)
        resources = facts.get("resources") or []
        for res in resources:
            before = self.old_hashes.get(res)
            if before is None or await self.resource_hash(res) != before:
                return None
        return old

    async def record_resources(self, urls: list[str]) -> None:
        """Hash what a freshly audited page loaded, so the next run can compare."""
        await asyncio.gather(*(self.resource_hash(u) for u in urls))
