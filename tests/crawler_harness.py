"""Run one discovery crawl (crawler only: no browser, no store) and print every item it emits,
one JSON object a line. The reactor runs once per process, so tests run this in a subprocess:

    python crawler_harness.py '{"start_url": "http://127.0.0.1:8000/", "per_template_cap": 5}'

The JSON holds :class:`crawler.run.CrawlOptions` fields (``scope`` is built from the start URL),
plus ``include``/``exclude`` patterns, ``scope`` (``path`` or ``host``) and ``allowed_hosts`` for the scope and ``log_level`` for Scrapy's log (stderr).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict


def run_crawl(config: dict) -> list[dict]:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    import asyncio

    from twisted.internet import defer, reactor

    from crawler.run import CrawlOptions, start_crawl
    from crawler.urls import Scope

    config = dict(config)
    log_level = config.pop("log_level", None)  # Scrapy's log, on stderr
    scope = Scope.for_start_url(config["start_url"], include=config.pop("include", ()),
                                exclude=config.pop("exclude", ()), mode=config.pop("scope", "path"),
                                extra_hosts=config.pop("allowed_hosts", ()), seeds=config.get("seeds", ()))
    opts = CrawlOptions(scope=scope, **{"autothrottle": False, "delay": 0.0, **config})
    items: list = []
    outcome: dict = {}

    async def sink(item) -> None:
        items.append(item)

    async def main() -> None:
        handle = start_crawl(opts, sink, log_level=log_level)
        await handle.wait()

    def done(result):
        outcome["result"] = result
        reactor.stop()

    reactor.callWhenRunning(lambda: defer.Deferred.fromFuture(asyncio.ensure_future(main())).addBoth(done))
    reactor.run(installSignalHandlers=False)
    if "result" in outcome and hasattr(outcome["result"], "raiseException"):
        outcome["result"].raiseException()
    out = []
    for item in items:
        row = {"type": type(item).__name__, **asdict(item)}
        row.pop("body", None)
        row.pop("headers", None)
        out.append(row)
    return out


if __name__ == "__main__":
    for row in run_crawl(json.loads(sys.argv[1])):
        print(json.dumps(row))
